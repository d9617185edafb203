/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The per-sandbox watch buses: subscriptions and the platform event
 * ring.  A bus is created on the first event or subscription and
 * dropped when the sandbox is deleted (its subscribers then end with
 * CANCELLED "stream closed", control-plane.md 2.5).  A subscriber
 * whose frame cannot be queued has lagged: it ends with
 * RESOURCE_EXHAUSTED as soon as that can be said, and never holds up
 * the others.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libgrpc/grpc_wire.h"
#include "log.h"
#include "msgs.h"
#include "watchd.h"

/* libbsd's static tree macros expect BSD's __unused. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

static int	 watchbus_cmp(struct watchbus *, struct watchbus *);
static int	 watchsub_cmp(struct watchsub *, struct watchsub *);
static struct watchbus *watchbus_get(struct watchbuses *, const char *, int);
static void	 watchbus_free(struct watchbuses *, struct watchbus *);
static int	 watchbus_send(struct watchbuses *, struct watchsub *,
		    uint32_t, uint32_t, const void *, size_t);
static int	 watchbus_deliver(struct watchbuses *, struct watchsub *,
		    uint32_t, uint32_t, const void *, size_t);
static int	 watchbus_end(struct watchbuses *, struct watchsub *, int,
		    const char *);
static void	 watchbus_subfree(struct watchbuses *, struct watchsub *);

RB_PROTOTYPE_STATIC(watchbus_tree, watchbus, wb_node, watchbus_cmp);
RB_GENERATE_STATIC(watchbus_tree, watchbus, wb_node, watchbus_cmp)
RB_PROTOTYPE_STATIC(watchsub_tree, watchsub, ws_node, watchsub_cmp);
RB_GENERATE_STATIC(watchsub_tree, watchsub, ws_node, watchsub_cmp)

void
watchbus_init(struct watchbuses *wbs, int (*send)(void *, uint32_t,
    uint32_t, struct ipc_wr *), void *arg)
{
	memset(wbs, 0, sizeof(*wbs));
	RB_INIT(&wbs->wbs_buses);
	RB_INIT(&wbs->wbs_subs);
	wbs->wbs_send = send;
	wbs->wbs_arg = arg;
}

static int
watchbus_cmp(struct watchbus *a, struct watchbus *b)
{
	return strcmp(a->wb_id, b->wb_id);
}

static int
watchsub_cmp(struct watchsub *a, struct watchsub *b)
{
	return a->ws_id < b->ws_id ? -1 : a->ws_id > b->ws_id;
}

static struct watchbus *
watchbus_get(struct watchbuses *wbs, const char *id, int create)
{
	struct watchbus	 key, *wb;

	if (strlcpy(key.wb_id, id, sizeof(key.wb_id)) >= sizeof(key.wb_id))
		return NULL;
	if ((wb = RB_FIND(watchbus_tree, &wbs->wbs_buses, &key)) != NULL ||
	    !create)
		return wb;
	if ((wb = calloc(1, sizeof(*wb))) == NULL)
		fatal("%s", __func__);
	strlcpy(wb->wb_id, id, sizeof(wb->wb_id));
	TAILQ_INIT(&wb->wb_subs);
	RB_INSERT(watchbus_tree, &wbs->wbs_buses, wb);
	return wb;
}

static void
watchbus_free(struct watchbuses *wbs, struct watchbus *wb)
{
	size_t	 i;

	RB_REMOVE(watchbus_tree, &wbs->wbs_buses, wb);
	for (i = 0; i < WATCHBUS_EVENTS; i++)
		free(wb->wb_ring[i].we_buf);
	free(wb);
}

/* [u32 kind, u32 phase, bin event] for one subscriber. */
static int
watchbus_send(struct watchbuses *wbs, struct watchsub *ws, uint32_t kind,
    uint32_t phase, const void *buf, size_t len)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_u32(&w, kind);
	ipc_wr_u32(&w, phase);
	ipc_wr_bin(&w, buf, len);
	return wbs->wbs_send(wbs->wbs_arg, IPC_WATCH_EVENT, ws->ws_id, &w);
}

/*
 * 0 sent; -1 lost (counted); 1 the subscription is over and freed
 * (it had lagged and now learnt so).
 */
static int
watchbus_deliver(struct watchbuses *wbs, struct watchsub *ws, uint32_t kind,
    uint32_t phase, const void *buf, size_t len)
{
	char	 msg[128];

	if (ws->ws_dropped == 0) {
		if (watchbus_send(wbs, ws, kind, phase, buf, len) == 0)
			return 0;
		ws->ws_dropped++;
		wbs->wbs_dropped++;
		return -1;
	}
	ws->ws_dropped++;
	wbs->wbs_dropped++;
	snprintf(msg, sizeof(msg), "watch stream lagged; dropped %llu "
	    "messages", (unsigned long long)ws->ws_dropped);
	if (watchbus_end(wbs, ws, GRPC_RESOURCE_EXHAUSTED, msg) == -1)
		return -1;
	watchbus_subfree(wbs, ws);
	return 1;
}

static int
watchbus_end(struct watchbuses *wbs, struct watchsub *ws, int code,
    const char *msg)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_u32(&w, (uint32_t)code);
	ipc_wr_str(&w, msg);
	return wbs->wbs_send(wbs->wbs_arg, IPC_WATCH_END, ws->ws_id, &w);
}

static void
watchbus_subfree(struct watchbuses *wbs, struct watchsub *ws)
{
	RB_REMOVE(watchsub_tree, &wbs->wbs_subs, ws);
	TAILQ_REMOVE(&ws->ws_bus->wb_subs, ws, ws_entry);
	free(ws);
}

/*
 * A changed sandbox, to every follow_status subscriber.  READY ends
 * the stop_on_terminal ones (OK); ERROR does not (2.5).
 */
void
watchbus_snapshot(struct watchbuses *wbs, const char *id, uint32_t phase,
    const void *buf, size_t len)
{
	struct watchbus	*wb;
	struct watchsub	*ws, *tmp;

	wbs->wbs_snapshots++;
	if ((wb = watchbus_get(wbs, id, 0)) == NULL)
		return;
	TAILQ_FOREACH_SAFE(ws, &wb->wb_subs, ws_entry, tmp) {
		if (!ws->ws_status)
			continue;
		if (watchbus_deliver(wbs, ws, WATCH_KIND_SANDBOX, phase, buf,
		    len) != 0)
			continue;
		if (ws->ws_stop && phase == WATCH_PHASE_READY &&
		    watchbus_end(wbs, ws, GRPC_OK, NULL) == 0)
			watchbus_subfree(wbs, ws);
	}
}

/* A platform event: into the ring, then to follow_events subscribers. */
void
watchbus_platform(struct watchbuses *wbs, const char *id, const void *buf,
    size_t len)
{
	struct watchbus		*wb;
	struct watchsub		*ws, *tmp;
	struct watchevent	*we;

	if ((wb = watchbus_get(wbs, id, 1)) == NULL)
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
	TAILQ_FOREACH_SAFE(ws, &wb->wb_subs, ws_entry, tmp)
		if (ws->ws_events)
			watchbus_deliver(wbs, ws, WATCH_KIND_PLATFORM, 0, buf,
			    len);
}

/* The sandbox is gone: its bus is dropped and its streams close. */
void
watchbus_gone(struct watchbuses *wbs, const char *id)
{
	struct watchbus	*wb;
	struct watchsub	*ws;

	if ((wb = watchbus_get(wbs, id, 0)) == NULL)
		return;
	while ((ws = TAILQ_FIRST(&wb->wb_subs)) != NULL) {
		watchbus_end(wbs, ws, GRPC_CANCELLED, "stream closed");
		watchbus_subfree(wbs, ws);
	}
	watchbus_free(wbs, wb);
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

	if ((wb = watchbus_get(wbs, id, 1)) == NULL)
		return -1;
	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		fatal("%s", __func__);
	ws->ws_id = subid;
	if (RB_INSERT(watchsub_tree, &wbs->wbs_subs, ws) != NULL) {
		free(ws);
		return -1;
	}
	ws->ws_bus = wb;
	ws->ws_status = status;
	ws->ws_events = events;
	ws->ws_stop = stop;
	TAILQ_INSERT_TAIL(&wb->wb_subs, ws, ws_entry);
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

void
watchbus_unsubscribe(struct watchbuses *wbs, uint32_t subid)
{
	struct watchsub	 key, *ws;

	key.ws_id = subid;
	if ((ws = RB_FIND(watchsub_tree, &wbs->wbs_subs, &key)) != NULL)
		watchbus_subfree(wbs, ws);
}

/* A new gatewayd: the old one's subscriptions died with it. */
void
watchbus_reset(struct watchbuses *wbs)
{
	struct watchsub	*ws;

	while ((ws = RB_MIN(watchsub_tree, &wbs->wbs_subs)) != NULL)
		watchbus_subfree(wbs, ws);
}

/* Everything, as at exit (tests look for leaks). */
void
watchbus_clear(struct watchbuses *wbs)
{
	struct watchbus	*wb;

	watchbus_reset(wbs);
	while ((wb = RB_MIN(watchbus_tree, &wbs->wbs_buses)) != NULL)
		watchbus_free(wbs, wb);
}

size_t
watchbus_nsubs(const struct watchbuses *wbs)
{
	struct watchsub	*ws;
	size_t		 n = 0;

	RB_FOREACH(ws, watchsub_tree, (struct watchsub_tree *)&wbs->wbs_subs)
		n++;
	return n;
}

size_t
watchbus_nbuses(const struct watchbuses *wbs)
{
	struct watchbus	*wb;
	size_t		 n = 0;

	RB_FOREACH(wb, watchbus_tree,
	    (struct watchbus_tree *)&wbs->wbs_buses)
		n++;
	return n;
}
