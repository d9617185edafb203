/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The Inference service (control-plane.md §1.3 "Inference"): cluster
 * routes inference.local and sandbox-system name a provider and a
 * model; the bundle resolves them to endpoints and raw API keys at
 * read time.  SetClusterInference checks the upstream unless told not
 * to (probe.c); mock:// bases pass without the network.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd.h"
#include "log.h"
#include "probe.h"
#include "proto/inference.pb-c.h"
#include "store.h"

#define INF	"/openshell.inference.v1.Inference/"

#define INF_ROUTE_LOCAL		"inference.local"
#define INF_ROUTE_SYSTEM	"sandbox-system"
#define INF_TYPE_MAX		16

typedef Openshell__Datamodel__V1__Provider		Provider;
typedef Openshell__Inference__V1__InferenceRoute	Route;

struct pv_kv {
	ProtobufCMessage	 base;
	char			*key;
	char			*value;
};

/* A SetClusterInference waiting for its upstream check. */
struct inf_pending {
	struct gatewayd		*ip_gd;
	struct grpc_call	*ip_call;
	struct probe		*ip_probe;
	Openshell__Inference__V1__SetClusterInferenceRequest *ip_req;
	const char		*ip_route;
};

/* A provider resolved for inference; strings point into ir_p. */
struct inf_res {
	Provider	*ir_p;
	char		 ir_type[INF_TYPE_MAX];
	const char	*ir_key;
	const char	*ir_base;
};

static const struct {
	const char	*type;
	const char	*key;
	const char	*base_var;
	const char	*base;
} inf_types[] = {
	{ "openai", "OPENAI_API_KEY", "OPENAI_BASE_URL",
	    "https://api.openai.com/v1" },
	{ "anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
	    "https://api.anthropic.com/v1" },
	{ "nvidia", "NVIDIA_API_KEY", "NVIDIA_BASE_URL",
	    "https://integrate.api.nvidia.com/v1" },
};

#define NTYPES	(sizeof(inf_types) / sizeof(inf_types[0]))

static char *const inf_proto_openai[] = { "openai_chat_completions",
    "openai_completions", "openai_responses", "model_discovery" };
static char *const inf_proto_anthropic[] = { "anthropic_messages",
    "model_discovery" };

static grpc_handler_fn	 inf_set;
static grpc_handler_fn	 inf_get;
static grpc_handler_fn	 inf_bundle;
static const char	*inf_route(const char *);
static int	 inf_blank(const char *);
static int	 inf_resolve(struct gatewayd *, struct grpc_call *,
		    const char *, struct inf_res *);
static const char *inf_kv(size_t, void *const *, const char *);
static const char *inf_first_key(const Provider *);
static char	*inf_mock_url(const struct inf_res *, const char **);
static void	 inf_commit(struct gatewayd *, struct grpc_call *,
		    const Openshell__Inference__V1__SetClusterInferenceRequest *,
		    const char *, const char *, const char *);
static int	 inf_probe(struct gatewayd *, struct grpc_call *,
		    Openshell__Inference__V1__SetClusterInferenceRequest *,
		    const char *, const struct inf_res *);
static probe_done_fn	 inf_probed;
static grpc_cancel_fn	 inf_cancel;
static void	 inf_pending_free(struct inf_pending *);
static int	 inf_route_get(struct gatewayd *, const char *, Route **);
static int	 inf_route_put(struct gatewayd *, const Route *);
static int	 inf_bundle_route(struct gatewayd *, struct grpc_call *,
		    const char *, Openshell__Inference__V1__ResolvedRoute *,
		    struct inf_res *, int *);
static uint64_t	 inf_hash(uint64_t, const char *);

void
rpc_inference_register(struct gatewayd *gd)
{
	rpc_method(gd, INF "SetClusterInference", inf_set);
	rpc_method(gd, INF "GetClusterInference", inf_get);
	rpc_method(gd, INF "GetInferenceBundle", inf_bundle);
}

/* The canonical route name, or NULL. */
static const char *
inf_route(const char *name)
{
	if (name[0] == '\0' || strcmp(name, INF_ROUTE_LOCAL) == 0)
		return INF_ROUTE_LOCAL;
	if (strcmp(name, INF_ROUTE_SYSTEM) == 0)
		return INF_ROUTE_SYSTEM;
	return NULL;
}

static int
inf_blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

static void
inf_set(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__Inference__V1__SetClusterInferenceRequest *req;
	struct inf_res				 ir;
	const char				*route, *proto;
	char					*url = NULL;

	memset(&ir, 0, sizeof(ir));
	req = openshell__inference__v1__set_cluster_inference_request__unpack(
	    NULL, len, msg);
	if (req == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if ((route = inf_route(req->route_name)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "route_name must be "
		    "'%s' or '%s'", INF_ROUTE_LOCAL, INF_ROUTE_SYSTEM);
		goto done;
	}
	if (inf_blank(req->provider_name) || inf_blank(req->model_id)) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "%s is required",
		    inf_blank(req->provider_name) ? "provider_name" :
		    "model_id");
		goto done;
	}
	if (inf_resolve(gd, call, req->provider_name, &ir) == -1)
		goto done;
	if (req->no_verify)
		inf_commit(gd, call, req, route, NULL, NULL);
	else if (strncmp(ir.ir_base, "mock://", 7) == 0) {
		if ((url = inf_mock_url(&ir, &proto)) == NULL)
			rpc_error(call, GRPC_INTERNAL, "out of memory");
		else
			inf_commit(gd, call, req, route, url, proto);
	} else if (inf_probe(gd, call, req, route, &ir) == 0)
		req = NULL;	/* the probe's now */
 done:
	free(url);
	if (ir.ir_p != NULL)
		openshell__datamodel__v1__provider__free_unpacked(ir.ir_p,
		    NULL);
	if (req != NULL)
		openshell__inference__v1__set_cluster_inference_request__free_unpacked(
		    req, NULL);
}

/*
 * Stores the route (same id, version + 1) and answers.  url and proto
 * name the verified endpoint, NULL when verification was skipped.
 */
static void
inf_commit(struct gatewayd *gd, struct grpc_call *call,
    const Openshell__Inference__V1__SetClusterInferenceRequest *req,
    const char *route, const char *url, const char *proto)
{
	Openshell__Inference__V1__SetClusterInferenceResponse res =
	    OPENSHELL__INFERENCE__V1__SET_CLUSTER_INFERENCE_RESPONSE__INIT;
	Openshell__Inference__V1__ValidatedEndpoint ve =
	    OPENSHELL__INFERENCE__V1__VALIDATED_ENDPOINT__INIT, *vep = &ve;
	Openshell__Inference__V1__ClusterInferenceConfig cfg =
	    OPENSHELL__INFERENCE__V1__CLUSTER_INFERENCE_CONFIG__INIT;
	Route					 nr =
	    OPENSHELL__INFERENCE__V1__INFERENCE_ROUTE__INIT, *old = NULL;
	char					 id[GD_UUID_LEN];

	if (inf_route_get(gd, route, &old) == STORE_ERR) {
		rpc_error(call, GRPC_INTERNAL, "cannot read the route");
		return;
	}
	if (old == NULL)
		rpc_uuid(id);
	nr.id = old != NULL ? old->id : id;
	nr.name = (char *)route;
	nr.version = old != NULL ? old->version + 1 : 1;
	cfg.provider_name = req->provider_name;
	cfg.model_id = req->model_id;
	cfg.timeout_secs = req->timeout_secs;
	nr.config = &cfg;
	if (inf_route_put(gd, &nr) != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "cannot store the route");
	else {
		if (url != NULL) {
			ve.url = (char *)url;
			ve.protocol = (char *)proto;
			res.validation_performed = 1;
			res.validated_endpoints = &vep;
			res.n_validated_endpoints = 1;
		}
		res.provider_name = req->provider_name;
		res.model_id = req->model_id;
		res.version = nr.version;
		res.route_name = (char *)route;
		res.timeout_secs = req->timeout_secs;
		rpc_reply(call, &res.base);
	}
	if (old != NULL)
		openshell__inference__v1__inference_route__free_unpacked(old,
		    NULL);
}

/*
 * The upstream check runs while the loop goes on; the call is answered
 * from inf_probed().  0 if it started (req is then the probe's).
 */
static int
inf_probe(struct gatewayd *gd, struct grpc_call *call,
    Openshell__Inference__V1__SetClusterInferenceRequest *req,
    const char *route, const struct inf_res *ir)
{
	struct inf_pending	*ip;

	if ((ip = calloc(1, sizeof(*ip))) == NULL) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	ip->ip_gd = gd;
	ip->ip_call = call;
	ip->ip_req = req;
	ip->ip_route = route;
	ip->ip_probe = probe_start(gd, ir->ir_type, ir->ir_base, ir->ir_key,
	    req->model_id, inf_probed, ip);
	if (ip->ip_probe == NULL) {
		free(ip);
		rpc_error(call, GRPC_FAILED_PRECONDITION, "failed to verify "
		    "inference endpoint for provider '%s': cannot probe '%s'; "
		    "retry with '--no-verify' to skip validation",
		    req->provider_name, ir->ir_base);
		return -1;
	}
	grpc_call_on_cancel(call, inf_cancel, ip);
	return 0;
}

static void
inf_probed(int ok, const char *url, const char *proto, const char *detail,
    void *arg)
{
	struct inf_pending	*ip = arg;

	grpc_call_on_cancel(ip->ip_call, NULL, NULL);
	if (ok)
		inf_commit(ip->ip_gd, ip->ip_call, ip->ip_req, ip->ip_route,
		    url, proto);
	else
		rpc_error(ip->ip_call, GRPC_FAILED_PRECONDITION, "failed to "
		    "verify inference endpoint for provider '%s' (%s): %s; "
		    "retry with '--no-verify' to skip validation",
		    ip->ip_req->provider_name, url, detail);
	inf_pending_free(ip);
}

/* The client went away: the probe is dropped, the call is not ours. */
static void
inf_cancel(struct grpc_call *call, void *arg)
{
	struct inf_pending	*ip = arg;

	(void)call;
	probe_cancel(ip->ip_probe);
	inf_pending_free(ip);
}

static void
inf_pending_free(struct inf_pending *ip)
{
	openshell__inference__v1__set_cluster_inference_request__free_unpacked(
	    ip->ip_req, NULL);
	free(ip);
}

/*
 * Provider, type, API key and base URL for a route; -1 after finishing
 * the call.  ir->ir_p is the caller's to free in every case.
 */
static int
inf_resolve(struct gatewayd *gd, struct grpc_call *call, const char *name,
    struct inf_res *ir)
{
	size_t	 i;
	int	 rc;

	if ((rc = rpc_provider_get(gd, name, &ir->ir_p)) != STORE_OK) {
		rpc_error(call, rc == STORE_NOTFOUND ?
		    GRPC_FAILED_PRECONDITION : GRPC_INTERNAL,
		    rc == STORE_NOTFOUND ? "provider '%s' not found" :
		    "cannot read provider '%s'", name);
		return -1;
	}
	for (i = 0; i < sizeof(ir->ir_type) - 1 && ir->ir_p->type[i] != '\0';
	    i++)
		ir->ir_type[i] = tolower((unsigned char)ir->ir_p->type[i]);
	ir->ir_type[i] = '\0';
	for (i = 0; i < NTYPES; i++)
		if (strcmp(ir->ir_type, inf_types[i].type) == 0)
			break;
	if (i == NTYPES || ir->ir_p->type[strlen(ir->ir_type)] != '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "provider '%s' has type "
		    "'%s'; cluster inference supports openai, anthropic and "
		    "nvidia", name, ir->ir_p->type);
		return -1;
	}
	ir->ir_key = inf_kv(ir->ir_p->n_credentials,
	    (void *const *)ir->ir_p->credentials, inf_types[i].key);
	if (ir->ir_key == NULL || inf_blank(ir->ir_key))
		ir->ir_key = inf_first_key(ir->ir_p);
	if (ir->ir_key == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "provider '%s' has no "
		    "API key credential", name);
		return -1;
	}
	ir->ir_base = inf_kv(ir->ir_p->n_config,
	    (void *const *)ir->ir_p->config, inf_types[i].base_var);
	if (ir->ir_base == NULL || inf_blank(ir->ir_base))
		ir->ir_base = inf_types[i].base;
	return 0;
}

static const char *
inf_kv(size_t n, void *const *v, const char *key)
{
	const struct pv_kv	*kv;
	size_t			 i;

	for (i = 0; i < n; i++) {
		kv = v[i];
		if (strcmp(kv->key, key) == 0)
			return kv->value;
	}
	return NULL;
}

/* The first non-blank credential in sorted key order. */
static const char *
inf_first_key(const Provider *p)
{
	const struct pv_kv	*kv, *best = NULL;
	size_t			 i;

	for (i = 0; i < p->n_credentials; i++) {
		kv = (const struct pv_kv *)p->credentials[i];
		if (!inf_blank(kv->value) &&
		    (best == NULL || strcmp(kv->key, best->key) < 0))
			best = kv;
	}
	return best != NULL ? best->value : NULL;
}

/* mock:// bases verify without the network: the endpoint it names. */
static char *
inf_mock_url(const struct inf_res *ir, const char **proto)
{
	const char	*path;
	char		*url;
	size_t		 n = strlen(ir->ir_base);

	if (strcmp(ir->ir_type, "anthropic") == 0) {
		path = "/v1/messages";
		*proto = "anthropic_messages";
	} else {
		path = "/v1/chat/completions";
		*proto = "openai_chat_completions";
	}
	while (n > 0 && ir->ir_base[n - 1] == '/')
		n--;
	/* A trailing /v1 on the base is not repeated. */
	if (n >= 3 && strncmp(ir->ir_base + n - 3, "/v1", 3) == 0)
		n -= 3;
	if (asprintf(&url, "%.*s%s", (int)n, ir->ir_base, path) == -1)
		return NULL;
	return url;
}

/* *out is NULL if the route is not configured. */
static int
inf_route_get(struct gatewayd *gd, const char *route, Route **out)
{
	struct store_object	 obj;
	int			 rc;

	*out = NULL;
	memset(&obj, 0, sizeof(obj));
	rc = store_get_by_name(gd->gd_store, STORE_T_INFERENCE, route, &obj);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	*out = openshell__inference__v1__inference_route__unpack(NULL,
	    obj.so_len, obj.so_payload);
	store_object_clear(&obj);
	return *out != NULL ? STORE_OK : STORE_ERR;
}

static int
inf_route_put(struct gatewayd *gd, const Route *r)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rc;

	len = protobuf_c_message_get_packed_size(&r->base);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		return STORE_ERR;
	protobuf_c_message_pack(&r->base, buf);
	rc = store_put(gd->gd_store, STORE_T_INFERENCE, r->id, r->name, buf,
	    len, rpc_now_ms());
	free(buf);
	return rc;
}

static void
inf_get(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__Inference__V1__GetClusterInferenceRequest *req;
	Openshell__Inference__V1__GetClusterInferenceResponse res =
	    OPENSHELL__INFERENCE__V1__GET_CLUSTER_INFERENCE_RESPONSE__INIT;
	Route					*r = NULL;
	const char				*route;

	req = openshell__inference__v1__get_cluster_inference_request__unpack(
	    NULL, len, msg);
	if (req == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if ((route = inf_route(req->route_name)) == NULL)
		rpc_error(call, GRPC_INVALID_ARGUMENT, "route_name must be "
		    "'%s' or '%s'", INF_ROUTE_LOCAL, INF_ROUTE_SYSTEM);
	else if (inf_route_get(gd, route, &r) != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "cannot read the route");
	else if (r == NULL)
		rpc_error(call, GRPC_NOT_FOUND, "inference route '%s' is not "
		    "configured; set it with 'openshell inference set'", route);
	else if (r->config == NULL || inf_blank(r->config->provider_name) ||
	    inf_blank(r->config->model_id))
		rpc_error(call, GRPC_FAILED_PRECONDITION, "inference route "
		    "'%s' has no provider or model", route);
	else {
		res.provider_name = r->config->provider_name;
		res.model_id = r->config->model_id;
		res.version = r->version;
		res.route_name = (char *)route;
		res.timeout_secs = r->config->timeout_secs;
		rpc_reply(call, &res.base);
	}
	if (r != NULL)
		openshell__inference__v1__inference_route__free_unpacked(r,
		    NULL);
	openshell__inference__v1__get_cluster_inference_request__free_unpacked(
	    req, NULL);
}

static void
inf_bundle(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	static const char *const names[2] = { INF_ROUTE_LOCAL,
	    INF_ROUTE_SYSTEM };
	struct gatewayd				*gd = arg;
	Openshell__Inference__V1__GetInferenceBundleResponse res =
	    OPENSHELL__INFERENCE__V1__GET_INFERENCE_BUNDLE_RESPONSE__INIT;
	Openshell__Inference__V1__ResolvedRoute	 rr[2], *rp[2];
	struct inf_res				 ir[2];
	char					 rev[17];
	uint64_t				 h = 0xcbf29ce484222325ULL;
	size_t					 i;
	int					 have;

	(void)msg;
	(void)len;
	memset(ir, 0, sizeof(ir));
	for (i = 0; i < 2; i++) {
		openshell__inference__v1__resolved_route__init(&rr[i]);
		rr[i].model_id = NULL;
	}
	for (i = 0; i < 2; i++) {
		if (inf_bundle_route(gd, call, names[i], &rr[i], &ir[i],
		    &have) == -1)
			goto done;
		if (!have)
			continue;
		rp[res.n_routes++] = &rr[i];
		h = inf_hash(h, rr[i].name);
		h = inf_hash(h, rr[i].base_url);
		h = inf_hash(h, rr[i].api_key);
		h = inf_hash(h, rr[i].model_id);
		h = inf_hash(h, rr[i].provider_type);
		h ^= rr[i].timeout_secs;
		h *= 0x100000001b3ULL;
	}
	snprintf(rev, sizeof(rev), "%016llx", (unsigned long long)h);
	res.routes = rp;
	res.revision = rev;
	res.generated_at_ms = rpc_now_ms();
	rpc_reply(call, &res.base);
 done:
	for (i = 0; i < 2; i++) {
		free(rr[i].model_id);
		if (ir[i].ir_p != NULL)
			openshell__datamodel__v1__provider__free_unpacked(
			    ir[i].ir_p, NULL);
	}
}

/* rr borrows from ir (and owns model_id); -1 after finishing the call. */
static int
inf_bundle_route(struct gatewayd *gd, struct grpc_call *call,
    const char *name, Openshell__Inference__V1__ResolvedRoute *rr,
    struct inf_res *ir, int *have)
{
	Route	*r;
	int	 anthropic;

	*have = 0;
	rr->model_id = NULL;
	if (inf_route_get(gd, name, &r) != STORE_OK) {
		rpc_error(call, GRPC_INTERNAL, "cannot read the routes");
		return -1;
	}
	if (r == NULL)
		return 0;
	if (r->config == NULL || inf_resolve(gd, call,
	    r->config->provider_name, ir) == -1) {
		if (r->config == NULL)
			rpc_error(call, GRPC_FAILED_PRECONDITION,
			    "inference route '%s' has no provider", name);
		openshell__inference__v1__inference_route__free_unpacked(r,
		    NULL);
		return -1;
	}
	anthropic = strcmp(ir->ir_type, "anthropic") == 0;
	rr->name = (char *)name;
	rr->base_url = (char *)ir->ir_base;
	rr->protocols = (char **)(anthropic ? inf_proto_anthropic :
	    inf_proto_openai);
	rr->n_protocols = anthropic ? 2 : 4;
	rr->api_key = (char *)ir->ir_key;
	rr->model_id = strdup(r->config->model_id);
	rr->provider_type = ir->ir_type;
	rr->timeout_secs = r->config->timeout_secs;
	openshell__inference__v1__inference_route__free_unpacked(r, NULL);
	if (rr->model_id == NULL) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	*have = 1;
	return 0;
}

/* FNV-1a, with a separator so that field boundaries count. */
static uint64_t
inf_hash(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;
	return h * 0x100000001b3ULL;
}
