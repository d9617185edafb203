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

#include <stddef.h>
#include <stdint.h>

#include "ipc_pack.h"
#include "subs.h"

#define WATCHBUS_EVENTS		50	/* platform events replayed */
#define WATCHBUS_IDMAX		SUBS_IDMAX
#define WATCHBUS_MAXSIZE	(4 * 1024 * 1024) /* gatewayd channel frames */
#define WATCHBUS_MAXQUEUE	(32 * 1024 * 1024)

/* IPC_WATCH_EVENT kinds: SandboxStreamEvent's payload field numbers. */
#define WATCH_KIND_SANDBOX	1
#define WATCH_KIND_PLATFORM	3

#define WATCH_PHASE_READY	2	/* SANDBOX_PHASE_READY */

struct watchsub {
	struct subs_sub		 ws_sub;	/* first: subs.c's part */
	int			 ws_status;	/* follow_status */
	int			 ws_events;	/* follow_events */
	int			 ws_stop;	/* stop_on_terminal */
};

struct watchevent {
	uint8_t			*we_buf;
	size_t			 we_len;
};

struct watchbus {
	struct subs_bus		 wb_bus;	/* first: subs.c's part */
	struct watchevent	 wb_ring[WATCHBUS_EVENTS];
	size_t			 wb_head;
	size_t			 wb_count;
};

/* Frames to gatewayd go through wbs_subs's send function. */
struct watchbuses {
	struct subs		 wbs_subs;
	uint64_t		 wbs_snapshots;
	uint64_t		 wbs_events;
};

/* watchbus.c */
void	 watchbus_init(struct watchbuses *, int (*)(void *, uint32_t,
	    uint32_t, struct ipc_wr *), void *);
void	 watchbus_snapshot(struct watchbuses *, const char *, uint32_t,
	    const void *, size_t);
void	 watchbus_platform(struct watchbuses *, const char *, const void *,
	    size_t);
int	 watchbus_subscribe(struct watchbuses *, uint32_t, const char *, int,
	    int, int);

#endif /* WATCHD_H */
