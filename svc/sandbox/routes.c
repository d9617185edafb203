/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * routerd's routes (sandbox.md §6.3, cluster source), gateway mode
 * only.  At startup, before the agent exists, one synchronous
 * GetInferenceBundle: if it fails, inference stays off for the
 * sandbox's life (routerd closes inference.local tunnels); if it
 * answers, even with no routes, routing is on.  Then every
 * OPENSHELL_ROUTE_REFRESH_INTERVAL_SECS (default 5) an asynchronous
 * fetch: a new revision replaces the table in routerd, a failure keeps
 * the table it has.  At every start of routerd: the trust anchors,
 * then the table.
 */

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "libgrpc/grpc_aclient.h"
#include "libgrpc/grpc_client.h"
#include "log.h"
#include "proto/inference.pb-c.h"
#include "supervisor.h"

#define ROUTES_PATH	"/openshell.inference.v1.Inference/GetInferenceBundle"
#define ROUTES_REFRESH	5	/* s */
#define ROUTES_TIMEOUT	10000	/* ms */

typedef Openshell__Inference__V1__GetInferenceBundleResponse	 Bundle;

struct routes {
	struct sandbox		*r_sb;
	int			 r_on;		/* the startup fetch answered */
	Bundle			*r_bundle;	/* what routerd has */
	Bundle			*r_resp;	/* of the fetch in flight */
	struct grpc_acall	*r_inflight;
	struct grpc_aclient	*r_ac;
	struct event		*r_tick;
};

static void	 routes_tick(int, short, void *);
static void	 routes_msg(struct grpc_acall *, const uint8_t *, size_t,
		    void *);
static void	 routes_done(struct grpc_acall *, const struct grpc_status *,
		    void *);
static void	 routes_table(struct routes *, struct proc_tree *);
static int	 routes_system(const Openshell__Inference__V1__ResolvedRoute *);
static Bundle	*routes_unpack(const uint8_t *, size_t);

/*
 * Startup: the first bundle through the synchronous client c.  A
 * refusal ("permission denied", "not found") is the gateway saying
 * there is no inference for us, not worth a warning.
 */
void
routes_fetch(struct sandbox *sb, struct grpc_client *c)
{
	struct routes		*r;
	struct grpc_status	 st;
	uint8_t			*resp;
	size_t			 rlen;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->r_sb = sb;
	sb->sb_routes = r;
	memset(&st, 0, sizeof(st));
	if (grpc_client_unary(c, ROUTES_PATH, "", 0, &resp, &rlen,
	    ROUTES_TIMEOUT, &st) != GRPC_OK) {
		if (strcasestr(st.message, "permission denied") != NULL ||
		    strcasestr(st.message, "not found") != NULL)
			log_info("inference disabled: %s", st.message);
		else
			log_warnx("inference disabled: %s", st.message);
		return;
	}
	r->r_bundle = routes_unpack(resp, rlen);
	free(resp);
	if (r->r_bundle == NULL) {
		log_warnx("inference disabled: cannot decode the bundle");
		return;
	}
	r->r_on = 1;
	log_info("inference: %zu routes (revision %s)",
	    r->r_bundle->n_routes, r->r_bundle->revision);
}

/* The event loop exists: refresh on the gateway link's async client. */
void
routes_start(struct sandbox *sb, struct event_base *base,
    struct grpc_aclient *ac)
{
	struct routes	*r = sb->sb_routes;
	struct timeval	 tv = { ROUTES_REFRESH, 0 };
	const char	*v, *errstr;

	if (r == NULL || !r->r_on)
		return;
	r->r_ac = ac;
	if ((v = getenv("OPENSHELL_ROUTE_REFRESH_INTERVAL_SECS")) != NULL) {
		tv.tv_sec = strtonum(v, 1, 86400, &errstr);
		if (errstr != NULL) {
			log_warnx("OPENSHELL_ROUTE_REFRESH_INTERVAL_SECS %s: "
			    "%s, using %d", v, errstr, ROUTES_REFRESH);
			tv.tv_sec = ROUTES_REFRESH;
		}
	}
	if ((r->r_tick = event_new(base, -1, EV_PERSIST, routes_tick, r)) ==
	    NULL || event_add(r->r_tick, &tv) == -1)
		fatalx("%s: event", __func__);
}

/* At every start of routerd, before IPC_SETUP_DONE. */
void
routes_configure(struct sandbox *sb, struct proc_tree *pt)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, sb->sb_trust_pem != NULL ? sb->sb_trust_pem : "");
	if (proc_compose_wr(pt, PROC_ROUTER, IPC_ROUTER_TRUST, 0, -1,
	    &w) == -1)
		log_warn("routerd: trust");
	if (sb->sb_routes != NULL)
		routes_table(sb->sb_routes, pt);
}

static void
routes_tick(int fd, short ev, void *arg)
{
	struct routes	*r = arg;

	(void)fd;
	(void)ev;
	if (r->r_inflight != NULL)
		return;
	r->r_inflight = grpc_aclient_call(r->r_ac, ROUTES_PATH, "", 0,
	    ROUTES_TIMEOUT, routes_msg, routes_done, r);
}

static void
routes_msg(struct grpc_acall *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct routes	*r = arg;

	(void)call;
	if (r->r_resp == NULL)
		r->r_resp = routes_unpack(msg, len);
}

/* A new revision replaces the table; an error keeps it (stale). */
static void
routes_done(struct grpc_acall *call, const struct grpc_status *st,
    void *arg)
{
	struct routes	*r = arg;
	Bundle		*b = r->r_resp;

	(void)call;
	r->r_inflight = NULL;
	r->r_resp = NULL;
	if (st->code != GRPC_OK || b == NULL) {
		log_debug("inference refresh: %s", st->message);
	} else if (strcmp(b->revision, r->r_bundle->revision) != 0) {
		openshell__inference__v1__get_inference_bundle_response__free_unpacked(
		    r->r_bundle, NULL);
		r->r_bundle = b;
		b = NULL;
		log_info("inference: %zu routes (revision %s)",
		    r->r_bundle->n_routes, r->r_bundle->revision);
		/* Down: it gets the table when it starts again. */
		if (r->r_sb->sb_tree.pt_children[PROC_ROUTER].pc_evopen)
			routes_table(r, &r->r_sb->sb_tree);
	}
	if (b != NULL)
		openshell__inference__v1__get_inference_bundle_response__free_unpacked(
		    b, NULL);
}

/*
 * IPC_ROUTER_ROUTES: the whole table, api keys included (routerd puts
 * them on the wire; the agent never sees them).  "sandbox-system"
 * routes are the supervisor's own (§6.3): never the agent's.
 */
static void
routes_table(struct routes *r, struct proc_tree *pt)
{
	struct ipc_wr					 w;
	Openshell__Inference__V1__ResolvedRoute		*rt;
	size_t						 i, j, n = 0;

	for (i = 0; r->r_on && i < r->r_bundle->n_routes; i++)
		n += !routes_system(r->r_bundle->routes[i]);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_bool(&w, r->r_on);
	ipc_wr_array(&w, (uint32_t)n);
	for (i = 0; r->r_on && i < r->r_bundle->n_routes; i++) {
		rt = r->r_bundle->routes[i];
		if (routes_system(rt))
			continue;
		ipc_wr_array(&w, 7);
		ipc_wr_str(&w, rt->name);
		ipc_wr_str(&w, rt->base_url);
		ipc_wr_array(&w, (uint32_t)rt->n_protocols);
		for (j = 0; j < rt->n_protocols; j++)
			ipc_wr_str(&w, rt->protocols[j]);
		ipc_wr_str(&w, rt->api_key);
		ipc_wr_str(&w, rt->model_id);
		ipc_wr_str(&w, rt->provider_type);
		ipc_wr_u32(&w, rt->timeout_secs > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)rt->timeout_secs);
	}
	if (proc_compose_wr(pt, PROC_ROUTER, IPC_ROUTER_ROUTES, 0, -1,
	    &w) == -1)
		log_warn("routerd: routes");
}

static int
routes_system(const Openshell__Inference__V1__ResolvedRoute *rt)
{
	return strcmp(rt->name, "sandbox-system") == 0;
}

static Bundle *
routes_unpack(const uint8_t *msg, size_t len)
{
	return openshell__inference__v1__get_inference_bundle_response__unpack(
	    NULL, len, msg);
}
