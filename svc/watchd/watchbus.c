/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The per-sandbox watch buses: what each subscriber follows and the
 * platform event ring.  The subscriptions themselves, lag and deletion
 * (CANCELLED "stream closed", control-plane.md 2.5) are libipc/subs.c's.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libgrpc/grpc_wire.h"
#include "log.h"
#include "msgs.h"
#include "watchd.h"

static void	 watchbus_free(struct subs_bus *);
static int	 watchbus_deliver(struct watchbuses *, struct watchsub *,
		    uint32_t, uint32_t, const void *, size_t);

static const struct subs_ops watchbus_ops = {
	sizeof(struct watchbus),
	sizeof(struct watchsub),
	watchbus_free,
	NULL,
	IPC_WATCH_END,
	IPC_WATCH_RESET,
	IPC_WATCH_UNSUB,
};

void
watchbus_init(struct watchbuses *wbs, int (*send)(void *, uint32_t,
    uint32_t, struct ipc_wr *), void *arg)
{
	memset(wbs, 0, sizeof(*wbs));
	subs_init(&wbs->wbs_subs, &watchbus_ops, send, arg);
}

static void
watchbus_free(struct subs_bus *sb)
{
	struct watchbus	*wb = (struct watchbus *)sb;
	size_t		 i;

	for (i = 0; i < WATCHBUS_EVENTS; i++)
		free(wb->wb_ring[i].we_buf);
}

/*
 * [u32 kind, u32 phase, bin event] for one subscriber.  0 sent; -1 lost
 * (counted); 1 the subscription is over and freed (it had lagged and
 * now learnt so).
 */
static int
watchbus_deliver(struct watchbuses *wbs, struct watchsub *ws, uint32_t kind,
    uint32_t phase, const void *buf, size_t len)
{
	struct ipc_wr	 w;
	int		 rc;

	if ((rc = subs_lagging(&wbs->wbs_subs, &ws->ws_sub)) != 0)
		return rc;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_u32(&w, kind);
	ipc_wr_u32(&w, phase);
	ipc_wr_bin(&w, buf, len);
	return subs_deliver(&wbs->wbs_subs, &ws->ws_sub, IPC_WATCH_EVENT, &w);
}

/*
 * A changed sandbox, to every follow_status subscriber.  READY ends
 * the stop_on_terminal ones (OK); ERROR does not (2.5).
 */
void
watchbus_snapshot(struct watchbuses *wbs, const char *id, uint32_t phase,
    const void *buf, size_t len)
{
	struct subs_bus	*sb;
	struct subs_sub	*ss, *tmp;
	struct watchsub	*ws;

	wbs->wbs_snapshots++;
	if ((sb = subs_bus(&wbs->wbs_subs, id, 0)) == NULL)
		return;
	TAILQ_FOREACH_SAFE(ss, &sb->sb_subs, ss_entry, tmp) {
		ws = (struct watchsub *)ss;
		if (!ws->ws_status || watchbus_deliver(wbs, ws,
		    WATCH_KIND_SANDBOX, phase, buf, len) != 0)
			continue;
		if (ws->ws_stop && phase == WATCH_PHASE_READY &&
		    subs_end(&wbs->wbs_subs, ss->ss_id, GRPC_OK, NULL) == 0)
			subs_subfree(&wbs->wbs_subs, ss);
	}
}

/* A platform event: into the ring, then to follow_events subscribers. */
void
watchbus_platform(struct watchbuses *wbs, const char *id, const void *buf,
    size_t len)
{
	struct watchbus		*wb;
	struct subs_sub		*ss, *tmp;
	struct watchevent	*we;

	if ((wb = (struct watchbus *)subs_bus(&wbs->wbs_subs, id, 1)) == NULL)
		return;
	wbs->wbs_events++;
	we = &wb->wb_ring[wb->wb_head];
	free(we->we_buf);
	if ((we->we_buf = malloc(len == 0 ? 1 : len)) == NULL)
		fatal("%s", __func__);
	memcpy(we->we_buf, buf, len);
	we->we_len = len;
	wb->wb_head = (wb->wb_head + 1) % WATCHBUS_EVENTS;
	if (wb->wb_count < WATCHBUS_EVENTS)
		wb->wb_count++;
	TAILQ_FOREACH_SAFE(ss, &wb->wb_bus.sb_subs, ss_entry, tmp)
		if (((struct watchsub *)ss)->ws_events)
			watchbus_deliver(wbs, (struct watchsub *)ss,
			    WATCH_KIND_PLATFORM, 0, buf, len);
}

/*
 * A WatchSandbox stream's subscription; with follow_events the
 * buffered platform events are replayed first (all of them: event_tail
 * is ignored, 2.5).  -1 if subid is taken.
 */
int
watchbus_subscribe(struct watchbuses *wbs, uint32_t subid, const char *id,
    int status, int events, int stop)
{
	struct watchbus		*wb;
	struct watchsub		*ws;
	const struct watchevent	*we;
	size_t			 i, first;

	if ((wb = (struct watchbus *)subs_bus(&wbs->wbs_subs, id, 1)) ==
	    NULL || (ws = (struct watchsub *)subs_add(&wbs->wbs_subs,
	    &wb->wb_bus, subid)) == NULL)
		return -1;
	ws->ws_status = status;
	ws->ws_events = events;
	ws->ws_stop = stop;
	if (!events)
		return 0;
	first = (wb->wb_head + WATCHBUS_EVENTS - wb->wb_count) %
	    WATCHBUS_EVENTS;
	for (i = 0; i < wb->wb_count; i++) {
		we = &wb->wb_ring[(first + i) % WATCHBUS_EVENTS];
		if (watchbus_deliver(wbs, ws, WATCH_KIND_PLATFORM, 0,
		    we->we_buf, we->we_len) == 1)
			break;
	}
	return 0;
}
