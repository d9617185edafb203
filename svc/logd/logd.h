/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * logd: the log bus of the gateway tree.  Every process sends its log
 * lines as IPC_LOG_EVENT; logd keeps the last RING_SIZE in memory (for
 * `openshell admin logd dump`) and appends each as a line to the log
 * file the parent opened for it.
 *
 * It also keeps the sandbox log rings (control-plane.md 2.4): per
 * sandbox the last LOGBUS_RING SandboxLogLines, gateway and sandbox
 * lines together, persisted in <state>/logs/<sandbox id>.log as
 * msgpack records so that they survive a restart (architecture.md 6),
 * and the subscriptions of gatewayd's WatchSandbox streams.
 */

#ifndef LOGD_H
#define LOGD_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_pack.h"
#include "subs.h"

#define RING_SIZE		4096
#define LOGD_PROC_MAX		32
#define LOGD_LEVEL_MAX		8
#define LOGD_DUMP_MAX		1000		/* events in one dump reply */
#define LOGD_DUMP_BUDGET	(192 * 1024)	/* bytes of text in one dump */

struct ring_event {
	int64_t		 re_time;	/* ms since the epoch */
	char		 re_proc[LOGD_PROC_MAX];
	uint32_t	 re_pid;
	char		 re_level[LOGD_LEVEL_MAX];
	char		*re_msg;
};

struct ring {
	struct ring_event	*r_ev;
	size_t			 r_size;
	size_t			 r_head;	/* next slot written */
	size_t			 r_count;
	uint64_t		 r_total;	/* events ever pushed */
};

/* ring.c */
void	 ring_init(struct ring *, size_t);
struct ring_event *ring_push(struct ring *, int64_t, const char *, uint32_t,
	    const char *, const char *);
/* i-th oldest of the buffered events, 0 <= i < r_count */
const struct ring_event *ring_get(const struct ring *, size_t);
void	 ring_free(struct ring *);

#define LOGBUS_RING		2000	/* lines kept per sandbox */
#define LOGBUS_COMPACT		(2 * LOGBUS_RING) /* records before rewrite */
#define LOGBUS_IDMAX		SUBS_IDMAX
#define LOGBUS_RESULT_BUDGET	(256 * 1024)	/* bytes per RESULT frame */
#define LOGBUS_MAXSIZE		(4 * 1024 * 1024) /* gatewayd channel frames */
#define LOGBUS_MAXQUEUE		(32 * 1024 * 1024)
#define LOGBUS_SUFFIX		".log"
#define LOGBUS_TMPSUFFIX	".tmp"

/* Level ranks (2.4): ERROR 0 ... TRACE 4, anything else 5. */
#define LOGRANK_OTHER		5

struct logfield {
	char		*lf_key;
	char		*lf_value;
};

/* A SandboxLogLine without its sandbox id (the bus names it). */
struct logline {
	int64_t		 ll_time;
	char		*ll_level;
	char		*ll_target;
	char		*ll_message;
	char		*ll_source;
	struct logfield	*ll_fields;
	uint32_t	 ll_nfields;
};

/* The filters of GetSandboxLogs and WatchSandbox. */
struct logfilter {
	int64_t		 lf_since;	/* 0: none */
	char		**lf_sources;	/* none: every source */
	uint32_t	 lf_nsources;
	int		 lf_minrank;	/* LOGRANK_OTHER: every level */
};

/* A subscriber: a WatchSandbox stream's log part. */
struct logsub {
	struct subs_sub		 ls_sub;	/* first: subs.c's part */
	struct logfilter	 ls_filter;
};

struct logbus {
	struct subs_bus		 lb_bus;	/* first: subs.c's part */
	int			 lb_persist;	/* id is a safe file name */
	struct logline		**lb_ring;	/* LOGBUS_RING slots */
	size_t			 lb_head;	/* next slot written */
	size_t			 lb_count;
	uint64_t		 lb_infile;	/* records in its file */
};

/* Frames to gatewayd go through lbs_subs's send function. */
struct logbuses {
	struct subs		 lbs_subs;
	int			 lbs_dirfd;	/* -1: nothing persisted */
	uint64_t		 lbs_lines;	/* lines ever pushed */
	uint64_t		 lbs_errors;	/* failed file operations */
};

/* logline.c */
void	 logline_free(struct logline *);
struct logline *logline_read(struct ipc_rd *, char *, size_t);
void	 logline_write(struct ipc_wr *, const char *, const struct logline *);
size_t	 logline_size(const struct logline *);
int	 logfilter_rank(const char *);
int	 logfilter_read(struct ipc_rd *, struct logfilter *);
void	 logfilter_clear(struct logfilter *);
int	 logfilter_match(const struct logfilter *, const struct logline *,
	    int);

/* logbus.c */
void	 logbus_init(struct logbuses *, int (*)(void *, uint32_t, uint32_t,
	    struct ipc_wr *), void *);
struct logbus *logbus_get(struct logbuses *, const char *, int);
const struct logline *logbus_line(const struct logbus *, size_t);
int	 logbus_append(struct logbuses *, struct logbus *,
	    struct logline **, size_t);
void	 logbus_restore(struct logbus *, struct logline *);
void	 logbus_query(struct logbuses *, uint32_t, const char *, uint32_t,
	    const struct logfilter *);
int	 logbus_subscribe(struct logbuses *, uint32_t, const char *,
	    uint32_t, struct logfilter *);
void	 logbus_drop(struct logbuses *, const char *);
void	 logbus_clear(struct logbuses *);

/* logstore.c */
int	 logstore_idok(const char *);
void	 logstore_load(struct logbuses *);
int	 logstore_append(struct logbuses *, struct logbus *,
	    struct logline *const *, size_t);
void	 logstore_compact(struct logbuses *, struct logbus *);
void	 logstore_remove(struct logbuses *, const char *);

#endif /* LOGD_H */
