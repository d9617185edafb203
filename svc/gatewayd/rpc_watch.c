/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * WatchSandbox (control-plane.md 2.5): the stored snapshot first, then
 * whatever the request follows -- snapshots and platform events from
 * watchd, log lines from logd -- until the client leaves, the sandbox
 * is deleted (CANCELLED), the stream falls behind (RESOURCE_EXHAUSTED)
 * or stop_on_terminal sees READY (OK).
 *
 * A stream that cannot take a message, because its queue is full (the
 * server's per-stream limit) or holds WATCH_QUEUE_MAX bytes, has
 * lagged: it ends at once, so that a slow reader never holds up the
 * buses or the other streams.
 *
 * Besides the CLI, a sandbox's supervisor watches its own sandbox's
 * status (auth_watch()): every snapshot tells it to fetch its config,
 * which is how a new policy revision reaches it at once (gwlink.c).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd.h"
#include "log.h"
#include "store.h"

#define WATCH_TAIL_DEFAULT	200		/* log_tail_lines 0 */
#define WATCH_QUEUE_MAX		(1024 * 1024)	/* bytes queued per stream */

#define PHASE_READY	OPENSHELL__DATAMODEL__V1__SANDBOX_PHASE__SANDBOX_PHASE_READY

struct watch {
	struct gatewayd		*w_gd;
	struct grpc_call	*w_call;
	struct bus_sub		*w_wsub;	/* watchd: status, events */
	struct bus_sub		*w_lsub;	/* logd: log lines */
};

static grpc_handler_fn	 rpc_watch;
static int	 rpc_watch_start(struct watch *,
		    const Openshell__V1__WatchSandboxRequest *);
static int	 rpc_watch_snapshot(struct watch *, const char *, int);
static int	 rpc_watch_send(struct watch *, const uint8_t *, size_t);
static void	 rpc_watch_finish(struct watch *, int, const char *);
static void	 rpc_watch_line(void *, Openshell__V1__SandboxLogLine *);
static void	 rpc_watch_event(void *, uint32_t, uint32_t, const uint8_t *,
		    size_t);
static void	 rpc_watch_wend(void *, int, const char *);
static void	 rpc_watch_lend(void *, int, const char *);
static void	 rpc_watch_cancel(struct grpc_call *, void *);

static const struct bus_ops rpc_watch_wops = {
	NULL,
	rpc_watch_event,
	NULL,
	rpc_watch_wend,
};

static const struct bus_ops rpc_watch_lops = {
	rpc_watch_line,
	NULL,
	NULL,
	rpc_watch_lend,
};

void
rpc_watch_register(struct gatewayd *gd)
{
	rpc_method(gd, "/openshell.v1.OpenShell/WatchSandbox", rpc_watch);
}

static void
rpc_watch(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__WatchSandboxRequest	*req;
	Openshell__Datamodel__V1__Sandbox	*sb = NULL;
	struct watch				*w;
	int					 rc;

	if ((req = openshell__v1__watch_sandbox_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->id[0] == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "id is required");
		goto done;
	}
	if (auth_watch(gd, call, req->id, req->follow_logs ||
	    req->follow_events) == -1)
		goto done;
	/* No bus for an unknown id: the existence check comes first. */
	if ((rc = rpc_sandbox_get(gd, req->id, NULL, &sb)) != STORE_OK) {
		rpc_error(call, rc == STORE_NOTFOUND ? GRPC_NOT_FOUND :
		    GRPC_INTERNAL, rc == STORE_NOTFOUND ? "sandbox not found" :
		    "cannot read the sandbox");
		goto done;
	}
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->w_gd = gd;
	w->w_call = call;
	if (rpc_watch_start(w, req) == 0)
		grpc_call_on_cancel(call, rpc_watch_cancel, w);
 done:
	openshell__v1__watch_sandbox_request__free_unpacked(req, NULL);
}

/*
 * Subscribe first, then read and send the snapshot (2.5 steps 3-4):
 * a change in between reaches us through the bus.  The replays (steps
 * 5-6) come from the daemons after the snapshot.  -1 if the call is
 * over (and w freed).
 */
static int
rpc_watch_start(struct watch *w, const Openshell__V1__WatchSandboxRequest *req)
{
	struct bus_logfilter	 bf;

	if ((req->follow_status || req->follow_events) &&
	    (w->w_wsub = bus_watch_subscribe(w->w_gd, req->id,
	    req->follow_status, req->follow_events, req->stop_on_terminal,
	    &rpc_watch_wops, w)) == NULL) {
		rpc_watch_finish(w, GRPC_UNAVAILABLE, "watch bus unavailable");
		return -1;
	}
	if (req->follow_logs) {
		memset(&bf, 0, sizeof(bf));
		bf.bf_since = req->log_since_ms;
		bf.bf_sources = req->log_sources;
		bf.bf_nsources = req->n_log_sources;
		bf.bf_min_level = req->log_min_level;
		if ((w->w_lsub = bus_log_subscribe(w->w_gd, req->id,
		    req->log_tail_lines == 0 ? WATCH_TAIL_DEFAULT :
		    req->log_tail_lines, &bf, &rpc_watch_lops, w)) == NULL) {
			rpc_watch_finish(w, GRPC_UNAVAILABLE,
			    "log bus unavailable");
			return -1;
		}
	}
	return rpc_watch_snapshot(w, req->id, req->stop_on_terminal);
}

/* The stored record as the first event, always (2.5 step 4). */
static int
rpc_watch_snapshot(struct watch *w, const char *id, int stop)
{
	Openshell__V1__SandboxStreamEvent	 ev =
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	Openshell__Datamodel__V1__Sandbox	*sb = NULL;
	uint8_t					*buf;
	size_t					 len;
	int					 rc, ready;

	if ((rc = rpc_sandbox_get(w->w_gd, id, NULL, &sb)) != STORE_OK) {
		rpc_watch_finish(w, rc == STORE_NOTFOUND ? GRPC_NOT_FOUND :
		    GRPC_INTERNAL, rc == STORE_NOTFOUND ? "sandbox not found" :
		    "cannot read the sandbox");
		return -1;
	}
	ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX;
	ev.sandbox = sb;
	ready = sb->phase == PHASE_READY;
	len = openshell__v1__sandbox_stream_event__get_packed_size(&ev);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		fatal("%s", __func__);
	openshell__v1__sandbox_stream_event__pack(&ev, buf);
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	rc = rpc_watch_send(w, buf, len);
	free(buf);
	if (rc == -1)
		return -1;
	if (stop && ready) {
		rpc_watch_finish(w, GRPC_OK, NULL);
		return -1;
	}
	return 0;
}

/* -1 if the stream lagged and is over (w freed). */
static int
rpc_watch_send(struct watch *w, const uint8_t *buf, size_t len)
{
	if (grpc_call_queued(w->w_call) + len <= WATCH_QUEUE_MAX &&
	    grpc_call_send(w->w_call, buf, len) == 0)
		return 0;
	rpc_watch_finish(w, GRPC_RESOURCE_EXHAUSTED,
	    "watch stream lagged; dropped 1 messages");
	return -1;
}

/* Ends the call and every subscription; w is freed. */
static void
rpc_watch_finish(struct watch *w, int code, const char *msg)
{
	if (w->w_wsub != NULL)
		bus_unsubscribe(w->w_gd, w->w_wsub);
	if (w->w_lsub != NULL)
		bus_unsubscribe(w->w_gd, w->w_lsub);
	grpc_call_finish(w->w_call, code, msg);
	free(w);
}

/* A live or replayed line: logd applied the filters. */
static void
rpc_watch_line(void *arg, Openshell__V1__SandboxLogLine *ll)
{
	struct watch				*w = arg;
	Openshell__V1__SandboxStreamEvent	 ev =
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	uint8_t					*buf;
	size_t					 len;

	ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG;
	ev.log = ll;
	len = openshell__v1__sandbox_stream_event__get_packed_size(&ev);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		fatal("%s", __func__);
	openshell__v1__sandbox_stream_event__pack(&ev, buf);
	bus_line_free(ll);
	rpc_watch_send(w, buf, len);
	free(buf);
}

/* Snapshots and platform events come encoded, ready to send. */
static void
rpc_watch_event(void *arg, uint32_t kind, uint32_t phase, const uint8_t *buf,
    size_t len)
{
	struct watch	*w = arg;

	(void)kind;
	(void)phase;
	rpc_watch_send(w, buf, len);
}

/* watchd ended it: deleted, lagged, or READY with stop_on_terminal. */
static void
rpc_watch_wend(void *arg, int code, const char *msg)
{
	struct watch	*w = arg;

	w->w_wsub = NULL;
	rpc_watch_finish(w, code, msg);
}

/*
 * logd ended it.  A deletion reaches logd and watchd at once; when the
 * stream also follows watchd, the end comes from there, after the
 * DELETING snapshot that must not be lost.
 */
static void
rpc_watch_lend(void *arg, int code, const char *msg)
{
	struct watch	*w = arg;

	w->w_lsub = NULL;
	if (code == GRPC_CANCELLED && w->w_wsub != NULL)
		return;
	rpc_watch_finish(w, code, msg);
}

/* The client left: nothing more to send, the subscriptions go. */
static void
rpc_watch_cancel(struct grpc_call *call, void *arg)
{
	struct watch	*w = arg;

	(void)call;
	if (w->w_wsub != NULL)
		bus_unsubscribe(w->w_gd, w->w_wsub);
	if (w->w_lsub != NULL)
		bus_unsubscribe(w->w_gd, w->w_lsub);
	free(w);
}
