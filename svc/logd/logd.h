/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * logd: the log bus of the gateway tree.  Every process sends its log
 * lines as IPC_LOG_EVENT; logd keeps the last RING_SIZE in memory (for
 * `openshell admin logd dump`) and appends each as a line to the log
 * file the parent opened for it.
 */

#ifndef LOGD_H
#define LOGD_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* LOGD_H */
