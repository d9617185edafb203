/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd's side of the watch bus (watchd) and the log bus (logd).
 * Every query and subscription gets an id of its own, sent as the
 * frame's peerid; replies come back with it and are routed to the
 * struct bus_ops of the waiting RPC.
 *
 * Either daemon may restart: a new watchd or logd says IPC_*_RESET
 * first, and every subscription that lived in the old one ends with
 * UNAVAILABLE.  Our own first frame on each channel is IPC_*_RESET
 * too, for the daemon to forget a previous gatewayd's subscriptions.
 */

#include <sys/tree.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatewayd.h"
#include "libgrpc/grpc_wire.h"
#include "log.h"

#define BUS_MAXSIZE	(4 * 1024 * 1024)	/* frames on both channels */
#define BUS_MAXQUEUE	(32 * 1024 * 1024)
#define BUS_LINE_FIELDS	7
#define BUS_LOG_MAX	4096			/* bytes of a bus_log text */

/* libbsd's static tree macros expect BSD's __unused. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

struct bus_sub {
	RB_ENTRY(bus_sub)	 bs_node;
	uint32_t		 bs_id;
	int			 bs_peer;	/* PROC_WATCH or PROC_LOG */
	const struct bus_ops	*bs_ops;
	void			*bs_arg;
};

RB_HEAD(bus_tree, bus_sub);

struct bus {
	struct gatewayd		*b_gd;
	uint32_t		 b_next;	/* last id handed out */
	struct bus_tree		 b_subs;
	int			 b_reset[PROC_MAX];	/* RESET sent */
};

static int	 bus_cmp(struct bus_sub *, struct bus_sub *);
static void	 bus_hello(struct gatewayd *, int);
static int	 bus_send(struct gatewayd *, int, uint32_t, uint32_t,
		    struct ipc_wr *);
static int	 bus_dispatch(struct proc_self *, int, struct ipc_msg *);
static void	 bus_sub_drop(struct gatewayd *, struct bus_sub *);
static struct bus_sub *bus_sub_open(struct gatewayd *, int, uint32_t,
		    struct ipc_wr *, const struct bus_ops *, void *);
static struct bus_sub *bus_sub_new(struct gatewayd *, int,
		    const struct bus_ops *, void *);
static struct bus_sub *bus_find(struct gatewayd *, uint32_t);
static void	 bus_sub_end(struct gatewayd *, struct bus_sub *, int,
		    const char *);
static void	 bus_peer_reset(struct gatewayd *, int);
static void	 bus_event(struct gatewayd *, struct ipc_msg *);
static void	 bus_end(struct gatewayd *, int, struct ipc_msg *);
static void	 bus_line(struct gatewayd *, struct ipc_msg *);
static void	 bus_result(struct gatewayd *, struct ipc_msg *);
static void	 bus_pushed(struct gatewayd *, struct ipc_msg *);
static int	 bus_push_frame(struct gatewayd *, uint32_t, const char *,
		    const char *, Openshell__V1__SandboxLogLine *const *,
		    size_t);
static Openshell__V1__SandboxLogLine *bus_line_read(struct ipc_rd *);
static void	 bus_line_write(struct ipc_wr *, const char *, const char *,
		    const Openshell__V1__SandboxLogLine *);
static void	 bus_filter_write(struct ipc_wr *, const char *, uint32_t,
		    const struct bus_logfilter *);
static int64_t	 bus_now_ms(void);

RB_PROTOTYPE_STATIC(bus_tree, bus_sub, bs_node, bus_cmp);
RB_GENERATE_STATIC(bus_tree, bus_sub, bs_node, bus_cmp)

/*
 * Called once the channels to watchd and logd are open (setup done):
 * their frames are ours to dispatch from now on.
 */
struct bus *
bus_init(struct gatewayd *gd)
{
	struct bus	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("%s", __func__);
	b->b_gd = gd;
	/* Frames of a previous gatewayd's subscriptions may still come
	 * before the daemons see our RESET: let their ids not be ours. */
	b->b_next = arc4random();
	RB_INIT(&b->b_subs);
	gd->gd_bus = b;
	proc_child_handler(&gd->gd_ps, PROC_WATCH, bus_dispatch);
	proc_child_handler(&gd->gd_ps, PROC_LOG, bus_dispatch);
	/* Snapshots and query results exceed libipc's default frames. */
	proc_child_limits(&gd->gd_ps, PROC_WATCH, BUS_MAXSIZE, BUS_MAXQUEUE);
	proc_child_limits(&gd->gd_ps, PROC_LOG, BUS_MAXSIZE, BUS_MAXQUEUE);
	bus_hello(gd, PROC_WATCH);
	bus_hello(gd, PROC_LOG);
	return b;
}

static int
bus_cmp(struct bus_sub *a, struct bus_sub *b)
{
	return a->bs_id < b->bs_id ? -1 : a->bs_id > b->bs_id;
}

/* The writer is consumed.  -1 if the peer is down or its queue full. */
static int
bus_send(struct gatewayd *gd, int peer, uint32_t type, uint32_t peerid,
    struct ipc_wr *w)
{
	struct bus	*b = gd->gd_bus;

	if (!b->b_reset[peer])
		bus_hello(gd, peer);
	if (proc_child_compose_wr(&gd->gd_ps, peer, type, peerid, -1, w) ==
	    -1) {
		log_warn("%s: %s to %s", __func__, ipc_type_str(type),
		    proc_name(peer));
		return -1;
	}
	return 0;
}

/* Our first frame to a daemon: forget the previous gatewayd. */
static void
bus_hello(struct gatewayd *gd, int peer)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 0);
	if (proc_child_compose_wr(&gd->gd_ps, peer, peer == PROC_WATCH ?
	    IPC_WATCH_RESET : IPC_LOGBUS_RESET, 0, -1, &w) == 0)
		gd->gd_bus->b_reset[peer] = 1;
}

static struct bus_sub *
bus_sub_new(struct gatewayd *gd, int peer, const struct bus_ops *ops,
    void *arg)
{
	struct bus	*b = gd->gd_bus;
	struct bus_sub	*bs;

	if ((bs = calloc(1, sizeof(*bs))) == NULL)
		fatal("%s", __func__);
	do
		bs->bs_id = ++b->b_next;
	while (bs->bs_id == 0 || RB_FIND(bus_tree, &b->b_subs, bs) != NULL);
	bs->bs_peer = peer;
	bs->bs_ops = ops;
	bs->bs_arg = arg;
	RB_INSERT(bus_tree, &b->b_subs, bs);
	return bs;
}

/* Forgets bs (no callback, nothing sent). */
static void
bus_sub_drop(struct gatewayd *gd, struct bus_sub *bs)
{
	RB_REMOVE(bus_tree, &gd->gd_bus->b_subs, bs);
	free(bs);
}

/*
 * A new subscription whose request w goes to peer as type, under the
 * subscription's id.  NULL if the bus is down or the request cannot
 * be queued (then nothing of it stays).
 */
static struct bus_sub *
bus_sub_open(struct gatewayd *gd, int peer, uint32_t type,
    struct ipc_wr *w, const struct bus_ops *ops, void *arg)
{
	struct bus_sub	*bs;

	bs = bus_sub_new(gd, peer, ops, arg);
	if (bus_send(gd, peer, type, bs->bs_id, w) == -1) {
		bus_sub_drop(gd, bs);
		return NULL;
	}
	return bs;
}

static struct bus_sub *
bus_find(struct gatewayd *gd, uint32_t id)
{
	struct bus_sub	 key;

	key.bs_id = id;
	return RB_FIND(bus_tree, &gd->gd_bus->b_subs, &key);
}

/* The last callback; bs is gone afterwards. */
static void
bus_sub_end(struct gatewayd *gd, struct bus_sub *bs, int code,
    const char *msg)
{
	const struct bus_ops	*ops = bs->bs_ops;
	void			*arg = bs->bs_arg;

	bus_sub_drop(gd, bs);
	ops->bo_end(arg, code, msg);
}

void
bus_unsubscribe(struct gatewayd *gd, struct bus_sub *bs)
{
	struct ipc_wr	 w;
	int		 peer = bs->bs_peer;
	uint32_t	 id = bs->bs_id;

	bus_sub_drop(gd, bs);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 0);
	bus_send(gd, peer, peer == PROC_WATCH ? IPC_WATCH_UNSUB :
	    IPC_LOGBUS_UNSUB, id, &w);
}

static int
bus_dispatch(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct gatewayd	*gd = ps->ps_arg;

	switch (ipc_type(msg)) {
	case IPC_WATCH_RESET:
	case IPC_LOGBUS_RESET:
		if (proc_msg_empty(msg) == -1)
			proc_badmsg(ps, peer, msg);
		bus_peer_reset(gd, peer);
		break;
	case IPC_WATCH_EVENT:
		bus_event(gd, msg);
		break;
	case IPC_WATCH_END:
	case IPC_LOGBUS_END:
		bus_end(gd, peer, msg);
		break;
	case IPC_LOGBUS_LINE:
		bus_line(gd, msg);
		break;
	case IPC_LOGBUS_RESULT:
		bus_result(gd, msg);
		break;
	case IPC_LOGBUS_PUSHED:
		bus_pushed(gd, msg);
		break;
	default:
		return -1;
	}
	return 0;
}

/*
 * A new watchd or logd: whatever we had there is lost.  Each end may
 * unsubscribe others (an RPC drops all it holds), so the search starts
 * over every time.
 */
static void
bus_peer_reset(struct gatewayd *gd, int peer)
{
	struct bus_sub	*bs;

	log_warnx("%s restarted: ending its subscriptions", proc_name(peer));
	for (;;) {
		RB_FOREACH(bs, bus_tree, &gd->gd_bus->b_subs)
			if (bs->bs_peer == peer)
				break;
		if (bs == NULL)
			break;
		bus_sub_end(gd, bs, GRPC_UNAVAILABLE, "event bus restarted");
	}
}

/* [u32 kind, u32 phase, bin event] */
static void
bus_event(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct bus_sub	*bs;
	const void	*buf = NULL;
	size_t		 len = 0;
	uint32_t	 n = 0, kind = 0, phase = 0;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 3) {
		ipc_rd_u32(&r, &kind);
		ipc_rd_u32(&r, &phase);
		ipc_rd_bin(&r, &buf, &len);
	}
	if (n != 3 || ipc_rd_error(&r)) {
		ipc_rd_end(&r);
		proc_badmsg(&gd->gd_ps, PROC_WATCH, msg);
	}
	/* Frames for a subscription we just ended are still on the way. */
	if ((bs = bus_find(gd, ipc_peerid(msg))) != NULL &&
	    bs->bs_peer == PROC_WATCH)
		bs->bs_ops->bo_event(bs->bs_arg, kind, phase, buf, len);
	ipc_rd_end(&r);
}

/* [u32 code, str message] */
static void
bus_end(struct gatewayd *gd, int peer, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct bus_sub	*bs;
	char		 text[GRPC_MESSAGE_MAX];
	uint32_t	 n = 0, code = GRPC_INTERNAL;

	text[0] = '\0';
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_u32(&r, &code);
		if (!ipc_rd_isnil(&r))
			ipc_rd_strbuf(&r, text, sizeof(text));
	}
	if (ipc_rd_end(&r) == -1 || n != 2)
		proc_badmsg(&gd->gd_ps, peer, msg);
	if ((bs = bus_find(gd, ipc_peerid(msg))) != NULL &&
	    bs->bs_peer == peer)
		bus_sub_end(gd, bs, (int)code, text[0] != '\0' ? text : NULL);
}

/* [line] */
static void
bus_line(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct ipc_rd			 r;
	struct bus_sub			*bs;
	Openshell__V1__SandboxLogLine	*ll;

	ipc_rd_init(&r, msg);
	ll = bus_line_read(&r);
	if (ipc_rd_end(&r) == -1 || ll == NULL) {
		bus_line_free(ll);
		proc_badmsg(&gd->gd_ps, PROC_LOG, msg);
	}
	if ((bs = bus_find(gd, ipc_peerid(msg))) != NULL &&
	    bs->bs_peer == PROC_LOG)
		bs->bs_ops->bo_line(bs->bs_arg, ll);
	else
		bus_line_free(ll);
}

/* [u32 buffer_total, bool last, [line...]] */
static void
bus_result(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct ipc_rd			 r;
	struct bus_sub			*bs;
	Openshell__V1__SandboxLogLine	*ll;
	uint32_t			 n = 0, total = 0, count = 0, i;
	int				 last = 0;

	bs = bus_find(gd, ipc_peerid(msg));
	if (bs != NULL && bs->bs_peer != PROC_LOG)
		bs = NULL;
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 3) {
		ipc_rd_u32(&r, &total);
		ipc_rd_bool(&r, &last);
		ipc_rd_array(&r, &count);
	}
	for (i = 0; n == 3 && i < count && !ipc_rd_error(&r); i++) {
		if ((ll = bus_line_read(&r)) == NULL)
			break;
		if (bs != NULL)
			bs->bs_ops->bo_line(bs->bs_arg, ll);
		else
			bus_line_free(ll);
	}
	if (n == 3 && i == count)
		ipc_rd_leave(&r);
	if (ipc_rd_end(&r) == -1 || n != 3 || i != count)
		proc_badmsg(&gd->gd_ps, PROC_LOG, msg);
	if (bs != NULL && last) {
		RB_REMOVE(bus_tree, &gd->gd_bus->b_subs, bs);
		bs->bs_ops->bo_done(bs->bs_arg, total);
		free(bs);
	}
}

/*
 * [str sandbox_id, i64 timestamp_ms, str level, str target,
 *  str message, str source, map<str,str> fields] into a message that
 * openshell__v1__sandbox_log_line__free_unpacked() can free.
 */
static Openshell__V1__SandboxLogLine *
bus_line_read(struct ipc_rd *r)
{
	Openshell__V1__SandboxLogLine		*ll;
	Openshell__V1__SandboxLogLine__FieldsEntry *fe;
	uint32_t				 n = 0, nf = 0, i;

	if ((ll = malloc(sizeof(*ll))) == NULL)
		fatal("%s", __func__);
	openshell__v1__sandbox_log_line__init(ll);
	ipc_rd_array(r, &n);
	if (n != BUS_LINE_FIELDS) {
		free(ll);
		return NULL;
	}
	ipc_rd_str(r, &ll->sandbox_id);
	ipc_rd_i64(r, &ll->timestamp_ms);
	ipc_rd_str(r, &ll->level);
	ipc_rd_str(r, &ll->target);
	ipc_rd_str(r, &ll->message);
	ipc_rd_str(r, &ll->source);
	ipc_rd_map(r, &nf);
	if (nf > 0 && !ipc_rd_error(r) &&
	    (ll->fields = calloc(nf, sizeof(*ll->fields))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < nf && !ipc_rd_error(r); i++) {
		if ((fe = malloc(sizeof(*fe))) == NULL)
			fatal("%s", __func__);
		openshell__v1__sandbox_log_line__fields_entry__init(fe);
		ll->fields[ll->n_fields++] = fe;
		ipc_rd_str(r, &fe->key);
		ipc_rd_str(r, &fe->value);
	}
	ipc_rd_leave(r);
	ipc_rd_leave(r);
	if (ipc_rd_error(r)) {
		bus_line_free(ll);
		return NULL;
	}
	return ll;
}

/*
 * protobuf-c frees a string unless it is its shared empty default; a
 * field the reader could not fill is NULL, which it frees harmlessly.
 */
void
bus_line_free(Openshell__V1__SandboxLogLine *ll)
{
	if (ll != NULL)
		openshell__v1__sandbox_log_line__free_unpacked(ll, NULL);
}

static void
bus_line_write(struct ipc_wr *w, const char *id, const char *source,
    const Openshell__V1__SandboxLogLine *ll)
{
	size_t	 i;

	ipc_wr_array(w, BUS_LINE_FIELDS);
	ipc_wr_str(w, id);
	ipc_wr_i64(w, ll->timestamp_ms);
	ipc_wr_str(w, ll->level != NULL ? ll->level : "");
	ipc_wr_str(w, ll->target != NULL ? ll->target : "");
	ipc_wr_str(w, ll->message != NULL ? ll->message : "");
	ipc_wr_str(w, source);
	ipc_wr_map(w, (uint32_t)ll->n_fields);
	for (i = 0; i < ll->n_fields; i++) {
		ipc_wr_str(w, ll->fields[i]->key != NULL ?
		    ll->fields[i]->key : "");
		ipc_wr_str(w, ll->fields[i]->value != NULL ?
		    ll->fields[i]->value : "");
	}
}

static int
bus_push_frame(struct gatewayd *gd, uint32_t peerid, const char *id,
    const char *source, Openshell__V1__SandboxLogLine *const *lines, size_t n)
{
	struct ipc_wr	 w;
	size_t		 i;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_str(&w, id);
	ipc_wr_array(&w, (uint32_t)n);
	for (i = 0; i < n; i++)
		bus_line_write(&w, id, source, lines[i]);
	return bus_send(gd, PROC_LOG, IPC_LOGBUS_PUSH, peerid, &w);
}

/* Fire and forget: the gateway's own lines. */
int
bus_push(struct gatewayd *gd, const char *id, const char *source,
    Openshell__V1__SandboxLogLine *const *lines, size_t n)
{
	if (gd->gd_bus == NULL || n == 0)
		return 0;
	return bus_push_frame(gd, 0, id, source, lines, n);
}

/*
 * PushSandboxLogs: bo_done(code) once logd has written the lines to
 * their file (GRPC_OK), bo_end if logd went away first.  NULL if logd
 * cannot be asked.
 */
struct bus_sub *
bus_push_wait(struct gatewayd *gd, const char *id, const char *source,
    Openshell__V1__SandboxLogLine *const *lines, size_t n,
    const struct bus_ops *ops, void *arg)
{
	struct bus_sub	*bs;

	if (gd->gd_bus == NULL)
		return NULL;
	bs = bus_sub_new(gd, PROC_LOG, ops, arg);
	if (bus_push_frame(gd, bs->bs_id, id, source, lines, n) == -1) {
		bus_sub_drop(gd, bs);
		return NULL;
	}
	return bs;
}

/* [u32 code]: a push is on disk. */
static void
bus_pushed(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct bus_sub	*bs;
	uint32_t	 n = 0, code = GRPC_INTERNAL;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_u32(&r, &code);
	if (ipc_rd_end(&r) == -1 || n != 1)
		proc_badmsg(&gd->gd_ps, PROC_LOG, msg);
	if ((bs = bus_find(gd, ipc_peerid(msg))) == NULL ||
	    bs->bs_peer != PROC_LOG)
		return;
	RB_REMOVE(bus_tree, &gd->gd_bus->b_subs, bs);
	bs->bs_ops->bo_done(bs->bs_arg, code);
	free(bs);
}

/* The gateway's own line about a sandbox (2.4 source (a)). */
void
bus_log(struct gatewayd *gd, const char *id, const char *level,
    const char *target, const char *fmt, ...)
{
	Openshell__V1__SandboxLogLine	 ll =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	Openshell__V1__SandboxLogLine	*lp = &ll;
	char				 text[BUS_LOG_MAX];
	va_list				 ap;

	if (gd->gd_bus == NULL || id == NULL || id[0] == '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ll.timestamp_ms = bus_now_ms();
	ll.level = (char *)level;
	ll.target = (char *)target;
	ll.message = text;
	bus_push(gd, id, "gateway", &lp, 1);
}

static int64_t
bus_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* [str sandbox_id, u32 phase, bin SandboxStreamEvent{sandbox}] */
void
bus_sandbox_changed(struct gatewayd *gd,
    const Openshell__Datamodel__V1__Sandbox *sb)
{
	Openshell__V1__SandboxStreamEvent	 ev =
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	struct ipc_wr				 w;
	uint8_t					*buf;
	size_t					 len;

	if (gd->gd_bus == NULL || sb == NULL || sb->id == NULL)
		return;
	ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX;
	ev.sandbox = (Openshell__Datamodel__V1__Sandbox *)sb;
	len = openshell__v1__sandbox_stream_event__get_packed_size(&ev);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		fatal("%s", __func__);
	openshell__v1__sandbox_stream_event__pack(&ev, buf);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_str(&w, sb->id);
	ipc_wr_u32(&w, (uint32_t)sb->phase);
	ipc_wr_bin(&w, buf, len);
	free(buf);
	bus_send(gd, PROC_WATCH, IPC_WATCH_SNAPSHOT, 0, &w);
}

/* [str sandbox_id] to both: the streams end, the log ring goes. */
void
bus_sandbox_deleted(struct gatewayd *gd, const char *id)
{
	struct ipc_wr	 w;

	if (gd->gd_bus == NULL || id == NULL)
		return;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, id);
	bus_send(gd, PROC_WATCH, IPC_WATCH_GONE, 0, &w);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, id);
	bus_send(gd, PROC_LOG, IPC_LOGBUS_DROP, 0, &w);
}

/* [str sandbox_id, bin SandboxStreamEvent{event}] */
void
bus_platform_event(struct gatewayd *gd, const char *id,
    const Openshell__V1__PlatformEvent *pe)
{
	Openshell__V1__SandboxStreamEvent	 ev =
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	struct ipc_wr				 w;
	uint8_t					*buf;
	size_t					 len;

	if (gd->gd_bus == NULL || id == NULL || pe == NULL)
		return;
	ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_EVENT;
	ev.event = (Openshell__V1__PlatformEvent *)pe;
	len = openshell__v1__sandbox_stream_event__get_packed_size(&ev);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		fatal("%s", __func__);
	openshell__v1__sandbox_stream_event__pack(&ev, buf);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_str(&w, id);
	ipc_wr_bin(&w, buf, len);
	free(buf);
	bus_send(gd, PROC_WATCH, IPC_WATCH_PLATFORM, 0, &w);
}

/* ..., [str source...], str min_level: the tail of QUERY and SUB. */
static void
bus_filter_write(struct ipc_wr *w, const char *id, uint32_t lines,
    const struct bus_logfilter *bf)
{
	size_t	 i;

	ipc_wr_array(w, 5);
	ipc_wr_str(w, id);
	ipc_wr_u32(w, lines);
	ipc_wr_i64(w, bf->bf_since);
	ipc_wr_array(w, (uint32_t)bf->bf_nsources);
	for (i = 0; i < bf->bf_nsources; i++)
		ipc_wr_str(w, bf->bf_sources[i]);
	ipc_wr_str(w, bf->bf_min_level != NULL ? bf->bf_min_level : "");
}

/*
 * GetSandboxLogs: bo_line for every line, then bo_done.  NULL if logd
 * cannot be asked.
 */
struct bus_sub *
bus_log_query(struct gatewayd *gd, const char *id, uint32_t lines,
    const struct bus_logfilter *bf, const struct bus_ops *ops, void *arg)
{
	struct ipc_wr	 w;

	if (gd->gd_bus == NULL)
		return NULL;
	ipc_wr_init(&w);
	bus_filter_write(&w, id, lines, bf);
	return bus_sub_open(gd, PROC_LOG, IPC_LOGBUS_QUERY, &w, ops, arg);
}

/* WatchSandbox's log lines: the last `tail' lines, then live ones. */
struct bus_sub *
bus_log_subscribe(struct gatewayd *gd, const char *id, uint32_t tail,
    const struct bus_logfilter *bf, const struct bus_ops *ops, void *arg)
{
	struct ipc_wr	 w;

	if (gd->gd_bus == NULL)
		return NULL;
	ipc_wr_init(&w);
	bus_filter_write(&w, id, tail, bf);
	return bus_sub_open(gd, PROC_LOG, IPC_LOGBUS_SUB, &w, ops, arg);
}

/* WatchSandbox's snapshots and platform events. */
struct bus_sub *
bus_watch_subscribe(struct gatewayd *gd, const char *id, int status,
    int events, int stop, const struct bus_ops *ops, void *arg)
{
	struct ipc_wr	 w;

	if (gd->gd_bus == NULL)
		return NULL;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 4);
	ipc_wr_str(&w, id);
	ipc_wr_bool(&w, status);
	ipc_wr_bool(&w, events);
	ipc_wr_bool(&w, stop);
	return bus_sub_open(gd, PROC_WATCH, IPC_WATCH_SUB, &w, ops, arg);
}
