/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * routerd's routes (sandbox.md §6.3).  Without a gateway they come
 * from the routes file (routefile.c), read once: an error is fatal,
 * no routes means no inference.  With a gateway, at startup, before
 * the agent exists, one synchronous GetInferenceBundle: if it fails,
 * inference stays off for the sandbox's life (routerd closes
 * inference.local tunnels); if it answers, even with no routes,
 * routing is on.  Then every OPENSHELL_ROUTE_REFRESH_INTERVAL_SECS
 * (default 5) an asynchronous fetch: a new revision replaces the table
 * in routerd, a failure keeps the table it has.  "sandbox-system"
 * routes are the supervisor's own and never reach routerd.  At every
 * start of routerd: the trust anchors, then the table.
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
	int			 r_on;		/* routing on */
	struct sroute		*r_v;		/* what routerd has */
	size_t			 r_n;
	char			*r_rev;		/* the bundle's revision */
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
static struct routes *routes_new(struct sandbox *);
static void	 routes_take(struct routes *, const Bundle *);
static Bundle	*routes_unpack(const uint8_t *, size_t);
static char	*routes_strdup(const char *);

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
	Bundle			*b;
	uint8_t			*resp;
	size_t			 rlen;

	r = routes_new(sb);
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
	b = routes_unpack(resp, rlen);
	free(resp);
	if (b == NULL) {
		log_warnx("inference disabled: cannot decode the bundle");
		return;
	}
	r->r_on = 1;
	routes_take(r, b);
	openshell__inference__v1__get_inference_bundle_response__free_unpacked(
	    b, NULL);
}

static struct routes *
routes_new(struct sandbox *sb)
{
	struct routes	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->r_sb = sb;
	sb->sb_routes = r;
	return r;
}

/* No gateway: the routes file, if any; its errors are fatal. */
void
routes_file(struct sandbox *sb)
{
	struct routes	*r;
	char		 err[512];
	size_t		 i;

	if (sb->sb_routes_file == NULL)
		return;
	r = routes_new(sb);
	if (routefile_load(sb->sb_routes_file, &r->r_v, &r->r_n, err,
	    sizeof(err)) == -1)
		fatalx("--inference-routes: %s", err);
	/* The agent's environment and the daemons' are made from ours. */
	for (i = 0; i < r->r_n; i++)
		if (r->r_v[i].sr_env != NULL && unsetenv(r->r_v[i].sr_env) == -1)
			fatal("unsetenv %s", r->r_v[i].sr_env);
	r->r_on = r->r_n > 0;
	log_info("inference: %zu routes from %s", r->r_n, sb->sb_routes_file);
}

/* The event loop exists: refresh on the gateway link's async client. */
void
routes_start(struct sandbox *sb, struct event_base *base,
    struct grpc_aclient *ac)
{
	struct routes	*r = sb->sb_routes;
	struct timeval	 tv = { ROUTES_REFRESH, 0 };
	const char	*v, *errstr;

	if (r == NULL || !r->r_on || r->r_rev == NULL)
		return;		/* no gateway, or inference off for good */
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
	if (st->code != GRPC_OK || b == NULL)
		log_debug("inference refresh: %s", st->message);
	else if (strcmp(b->revision, r->r_rev) != 0) {
		routes_take(r, b);
		/* routerd down: it gets the table when it starts again. */
		if (r->r_sb->sb_tree.pt_children[PROC_ROUTER].pc_evopen)
			routes_table(r, &r->r_sb->sb_tree);
	}
	if (b != NULL)
		openshell__inference__v1__get_inference_bundle_response__free_unpacked(
		    b, NULL);
}

/*
 * The bundle's routes but "sandbox-system", copied into r's table (the
 * bundle stays the caller's).
 */
static void
routes_take(struct routes *r, const Bundle *b)
{
	Openshell__Inference__V1__ResolvedRoute	*rt;
	struct sroute				*v;
	size_t					 i, j, n = 0;

	if ((v = calloc(b->n_routes + 1, sizeof(*v))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < b->n_routes; i++) {
		rt = b->routes[i];
		if (strcmp(rt->name, "sandbox-system") == 0)
			continue;
		v[n].sr_name = routes_strdup(rt->name);
		v[n].sr_url = routes_strdup(rt->base_url);
		v[n].sr_key = routes_strdup(rt->api_key);
		v[n].sr_model = routes_strdup(rt->model_id);
		v[n].sr_type = routes_strdup(rt->provider_type);
		v[n].sr_timeout = rt->timeout_secs > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)rt->timeout_secs;
		if ((v[n].sr_protos = calloc(rt->n_protocols + 1,
		    sizeof(char *))) == NULL)
			fatal("%s", __func__);
		for (j = 0; j < rt->n_protocols; j++)
			v[n].sr_protos[j] = routes_strdup(rt->protocols[j]);
		v[n++].sr_nprotos = rt->n_protocols;
	}
	routefile_free(r->r_v, r->r_n);
	free(r->r_rev);
	r->r_v = v;
	r->r_n = n;
	r->r_rev = routes_strdup(b->revision);
	log_info("inference: %zu routes (revision %s)", n, r->r_rev);
}

/* IPC_ROUTER_ROUTES: the whole table, keys included (for routerd). */
static void
routes_table(struct routes *r, struct proc_tree *pt)
{
	struct ipc_wr	 w;
	struct sroute	*v;
	size_t		 i, j;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_bool(&w, r->r_on);
	ipc_wr_array(&w, (uint32_t)r->r_n);
	for (i = 0; i < r->r_n; i++) {
		v = &r->r_v[i];
		ipc_wr_array(&w, 7);
		ipc_wr_str(&w, v->sr_name);
		ipc_wr_str(&w, v->sr_url);
		ipc_wr_array(&w, (uint32_t)v->sr_nprotos);
		for (j = 0; j < v->sr_nprotos; j++)
			ipc_wr_str(&w, v->sr_protos[j]);
		ipc_wr_str(&w, v->sr_key);
		ipc_wr_str(&w, v->sr_model);
		ipc_wr_str(&w, v->sr_type);
		ipc_wr_u32(&w, v->sr_timeout);
	}
	if (proc_compose_wr(pt, PROC_ROUTER, IPC_ROUTER_ROUTES, 0, -1,
	    &w) == -1)
		log_warn("routerd: routes");
}

static char *
routes_strdup(const char *s)
{
	char	*d;

	if ((d = strdup(s != NULL ? s : "")) == NULL)
		fatal("%s", __func__);
	return d;
}

static Bundle *
routes_unpack(const uint8_t *msg, size_t len)
{
	return openshell__inference__v1__get_inference_bundle_response__unpack(
	    NULL, len, msg);
}
