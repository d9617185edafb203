/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * watchd: the watch bus of the gateway tree (control-plane.md 2.4,
 * 2.5).  Per sandbox: the subscribers of gatewayd's WatchSandbox
 * streams, and a ring of the last WATCHBUS_EVENTS platform events.
 * Sandbox snapshots and platform events arrive from gatewayd already
 * encoded as SandboxStreamEvent messages; watchd only fans them out.
 */

#ifndef WATCHD_H
#define WATCHD_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include "ipc_pack.h"

#define WATCHBUS_EVENTS		50	/* platform events replayed */
#define WATCHBUS_IDMAX		128
#define WATCHBUS_MAXSIZE	(4 * 1024 * 1024) /* gatewayd channel frames */
#define WATCHBUS_MAXQUEUE	(32 * 1024 * 1024)

/* IPC_WATCH_EVENT kinds: SandboxStreamEvent's payload field numbers. */
#define WATCH_KIND_SANDBOX	1
#define WATCH_KIND_PLATFORM	3

#define WATCH_PHASE_READY	2	/* SANDBOX_PHASE_READY */

struct watchbus;

struct watchsub {
	RB_ENTRY(watchsub)	 ws_node;	/* wbs_subs, by id */
	TAILQ_ENTRY(watchsub)	 ws_entry;	/* wb_subs */
	uint32_t		 ws_id;		/* gatewayd's peerid */
	struct watchbus		*ws_bus;
	int			 ws_status;	/* follow_status */
	int			 ws_events;	/* follow_events */
	int			 ws_stop;	/* stop_on_terminal */
	uint64_t		 ws_dropped;
};

struct watchevent {
	uint8_t			*we_buf;
	size_t			 we_len;
};

struct watchbus {
	RB_ENTRY(watchbus)	 wb_node;
	char			 wb_id[WATCHBUS_IDMAX + 1];
	struct watchevent	 wb_ring[WATCHBUS_EVENTS];
	size_t			 wb_head;
	size_t			 wb_count;
	TAILQ_HEAD(, watchsub)	 wb_subs;
};

RB_HEAD(watchbus_tree, watchbus);
RB_HEAD(watchsub_tree, watchsub);

/* As struct logbuses: frames to gatewayd go through wbs_send. */
struct watchbuses {
	struct watchbus_tree	 wbs_buses;
	struct watchsub_tree	 wbs_subs;
	int			(*wbs_send)(void *, uint32_t, uint32_t,
				    struct ipc_wr *);
	void			*wbs_arg;
	uint64_t		 wbs_snapshots;
	uint64_t		 wbs_events;
	uint64_t		 wbs_dropped;
};

/* watchbus.c */
void	 watchbus_init(struct watchbuses *, int (*)(void *, uint32_t,
	    uint32_t, struct ipc_wr *), void *);
void	 watchbus_snapshot(struct watchbuses *, const char *, uint32_t,
	    const void *, size_t);
void	 watchbus_platform(struct watchbuses *, const char *, const void *,
	    size_t);
void	 watchbus_gone(struct watchbuses *, const char *);
int	 watchbus_subscribe(struct watchbuses *, uint32_t, const char *, int,
	    int, int);
void	 watchbus_unsubscribe(struct watchbuses *, uint32_t);
void	 watchbus_reset(struct watchbuses *);
void	 watchbus_clear(struct watchbuses *);
size_t	 watchbus_nsubs(const struct watchbuses *);
size_t	 watchbus_nbuses(const struct watchbuses *);

#endif /* WATCHD_H */
