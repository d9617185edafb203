/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Gateway mode (sandbox.md §1.9, control-plane.md §1.2): the
 * supervisor's calls to the gateway with its own client certificate.
 *
 * At startup, before the agent exists, synchronously: GetSandboxConfig;
 * no policy yet (version 0) -> the image's /etc/openshell/policy.yaml
 * or the restrictive default, pushed back with UpdateConfig and fetched
 * again; baseline paths the enrichment added are synced back the same
 * way; then GetSandboxProviderEnvironment (secrets to proxyd only) and
 * GetInferenceBundle (routerd's routes, routes.c).
 *
 * Once the agent runs the supervisor never blocks: everything goes
 * through one async client, which also carries the log stream
 * (logpush.c).  A new revision is heard of at once, not at the next
 * poll (sandbox.md §1.9 polls every 10 s): the supervisor keeps a
 * WatchSandbox stream open on its own sandbox (follow_status, which
 * the gateway allows a sandbox for itself only), and the gateway sends
 * a snapshot whenever UpdateConfig stores a revision of this sandbox's
 * policy or changes the global one.  Every snapshot -- also the stream's
 * first, which covers whatever happened while it was down, and those
 * of unrelated changes -- asks for one GetSandboxConfig: at most one
 * in flight and one pending, so a burst costs two.  The stream comes
 * back after a backoff (WATCH_BACKOFF_*) whenever it ends; while it is
 * not up, GetSandboxConfig is polled every
 * OPENSHELL_POLICY_POLL_INTERVAL_SECS as before (an older gateway that
 * refuses the stream to a sandbox gets exactly the reference's poll),
 * and while it is, WATCH_POLL_EVERY times less often.
 *
 * A config whose policy_hash is new goes through the whole pipeline
 * and, if it passes, to proxyd, which swaps its engine and closes the
 * tunnels the new policy no longer allows; ReportPolicyStatus says
 * LOADED or FAILED with the pipeline's error (the last good policy
 * stays).  LOADED goes out with the policy, not after proxyd's swap:
 * proxyd compiles what the pipeline compiled already, and has no
 * answer to wait for.  Only revisions of the sandbox's own policy are
 * reported.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "libgrpc/grpc_aclient.h"
#include "libgrpc/grpc_client.h"
#include "libpolicy/policy.h"
#include "libpolicy/policy_proto.h"
#include "log.h"
#include "proto/openshell.pb-c.h"
#include "supervisor.h"
#include "libgrpc/tls.h"

#define GW_OS			"/openshell.v1.OpenShell/"
#define GW_TIMEOUT_MS		10000
#define GW_CONNECT_TRIES	10
#define GW_POLL_DEFAULT		10
#define WATCH_BACKOFF_MIN	500	/* ms */
#define WATCH_BACKOFF_MAX	30000
#define WATCH_POLL_EVERY	6	/* poll ticks while the watch is up */
#define GW_DISK_POLICY		"/etc/openshell/policy.yaml"
#define GW_DISK_POLICY_OLD	"/etc/navigator/policy.yaml"

typedef Openshell__Sandbox__V1__GetSandboxConfigResponse	 GwConfig;
typedef Openshell__Sandbox__V1__SandboxPolicy			 GwPolicy;

struct gwlink {
	struct sandbox		*gl_sb;
	char			 gl_host[256];
	char			 gl_port[16];
	SSL_CTX			*gl_ctx;
	struct grpc_client	*gl_sync;
	struct grpc_aclient	*gl_ac;
	struct event		*gl_poll;
	struct grpc_acall	*gl_inflight;
	GwConfig		*gl_resp;	/* of the fetch in flight */
	int			 gl_pending;	/* one more fetch after it */
	int			 gl_interval;	/* s */
	struct grpc_acall	*gl_watch;	/* WatchSandbox, or NULL */
	int			 gl_watch_up;	/* it delivered a snapshot */
	struct event		*gl_watch_ev;	/* its restart */
	int			 gl_backoff;	/* ms */
	unsigned int		 gl_ticks;	/* poll ticks, watch up */
	uint64_t		 gl_revision;
	char			*gl_hash;
	uint32_t		 gl_version;
	uint32_t		 gl_tag;	/* of the last policy sent */
	uint32_t		 gl_wait_tag;	/* its DONE, 0 if none due */
	uint32_t		 gl_wait_version; /* reported on that DONE */
	int			 gl_source;
};

static void	 gwlink_endpoint(struct gwlink *, const char *);
static void	 gwlink_connect(struct gwlink *);
static void	*gwlink_unary(struct gwlink *, const char *,
		    const ProtobufCMessage *, const ProtobufCMessageDescriptor *,
		    struct grpc_status *);
static GwConfig	*gwlink_get_config(struct gwlink *);
static void	 gwlink_backfill(struct gwlink *);
static struct policy *gwlink_disk_policy(void);
static int	 gwlink_update(struct gwlink *, const struct policy *);
static void	 gwlink_record(struct gwlink *, const GwConfig *);
static void	 gwlink_providers(struct gwlink *);
static int	 gwlink_prepare(struct sandbox *, const GwPolicy *,
		    struct policy **, int *, char **);
static void	 gwlink_tick(int, short, void *);
static void	 gwlink_refresh(struct gwlink *);
static void	 gwlink_watch(int, short, void *);
static void	 gwlink_watch_msg(struct grpc_acall *, const uint8_t *,
		    size_t, void *);
static void	 gwlink_watch_done(struct grpc_acall *,
		    const struct grpc_status *, void *);
static void	 gwlink_poll_msg(struct grpc_acall *, const uint8_t *, size_t,
		    void *);
static void	 gwlink_poll_done(struct grpc_acall *,
		    const struct grpc_status *, void *);
static void	 gwlink_apply(struct gwlink *, const GwConfig *);
static void	 gwlink_report(struct gwlink *, uint32_t, int, const char *);
static void	 gwlink_report_done(struct grpc_acall *,
		    const struct grpc_status *, void *);

/*
 * Startup, synchronous.  On return sb_policy, sb_policy_yaml, sb_hard
 * and the provider credentials are set; failures are fatal (the driver
 * reports the exit).
 */
void
gwlink_fetch(struct sandbox *sb)
{
	struct gwlink	*gl;
	GwConfig	*cfg;
	struct policy	*p;
	char		*yaml, *err = NULL;
	int		 changed;

	if (sb->sb_id == NULL)
		fatalx("gateway mode needs --sandbox-id");
	if (sb->sb_tls_ca == NULL || sb->sb_tls_cert == NULL ||
	    sb->sb_tls_key == NULL)
		fatalx("gateway mode needs --tls-ca, --tls-cert and --tls-key");
	if ((gl = calloc(1, sizeof(*gl))) == NULL)
		fatal("%s", __func__);
	gl->gl_sb = sb;
	sb->sb_gw = gl;
	gwlink_endpoint(gl, sb->sb_endpoint);
	if ((gl->gl_ctx = tls_client_ctx(sb->sb_tls_ca, sb->sb_tls_cert,
	    sb->sb_tls_key, TLS_ALPN_H2)) == NULL)
		fatalx("cannot load the sandbox's TLS credentials");
	gwlink_connect(gl);
	if ((cfg = gwlink_get_config(gl))->policy == NULL &&
	    cfg->version == 0) {
		openshell__sandbox__v1__get_sandbox_config_response__free_unpacked(
		    cfg, NULL);
		gwlink_backfill(gl);
		cfg = gwlink_get_config(gl);
		if (cfg->policy == NULL)
			fatalx("the gateway has no policy for this sandbox");
	}
	if (gwlink_prepare(sb, cfg->policy, &p, &changed, &err) == -1)
		fatalx("policy version %u: %s", cfg->version, policy_s(err));
	if (changed && sb->sb_name != NULL && gwlink_update(gl, p) == 0) {
		openshell__sandbox__v1__get_sandbox_config_response__free_unpacked(
		    cfg, NULL);
		cfg = gwlink_get_config(gl);
	}
	/* After the update: the gateway's copy has no aliases. */
	if ((yaml = config_proxy_yaml(sb, p)) == NULL)
		fatalx("cannot encode the policy");
	gwlink_record(gl, cfg);
	openshell__sandbox__v1__get_sandbox_config_response__free_unpacked(cfg,
	    NULL);
	sb->sb_policy = p;
	sb->sb_policy_yaml = yaml;
	sb->sb_hard = p->landlock_compat != NULL &&
	    strcmp(p->landlock_compat, "hard_requirement") == 0;
	gwlink_providers(gl);
	routes_fetch(sb, gl->gl_sync);
	grpc_client_close(gl->gl_sync);
	gl->gl_sync = NULL;
	log_info("policy version %u loaded from the gateway (hash %.12s)",
	    gl->gl_version, gl->gl_hash);
}

/* "https://host:port", "host:port" or "[v6]:port". */
static void
gwlink_endpoint(struct gwlink *gl, const char *ep)
{
	const char	*h = ep, *colon;
	size_t		 hl;

	if (strncmp(h, "https://", 8) == 0)
		h += 8;
	else if (strncmp(h, "http://", 7) == 0)
		fatalx("--endpoint %s: the gateway is only spoken to over TLS",
		    ep);
	if (*h == '[') {
		h++;
		if ((colon = strstr(h, "]:")) == NULL)
			fatalx("--endpoint %s: no port", ep);
		hl = (size_t)(colon - h);
		colon++;
	} else if ((colon = strrchr(h, ':')) == NULL)
		fatalx("--endpoint %s: no port", ep);
	else
		hl = (size_t)(colon - h);
	if (hl == 0 || hl >= sizeof(gl->gl_host) ||
	    strlcpy(gl->gl_port, colon + 1, sizeof(gl->gl_port)) >=
	    sizeof(gl->gl_port) || strcspn(gl->gl_port, "/") == 0)
		fatalx("--endpoint %s: bad host or port", ep);
	gl->gl_port[strcspn(gl->gl_port, "/")] = '\0';
	memcpy(gl->gl_host, h, hl);
	gl->gl_host[hl] = '\0';
}

/* Before the agent exists waiting is fine: a few tries, 1 s apart. */
static void
gwlink_connect(struct gwlink *gl)
{
	char	 err[256];
	int	 i;

	for (i = 0; i < GW_CONNECT_TRIES; i++) {
		if ((gl->gl_sync = grpc_client_connect(gl->gl_host, gl->gl_port,
		    gl->gl_ctx, GW_TIMEOUT_MS, err, sizeof(err))) != NULL)
			return;
		log_warnx("gateway %s:%s: %s", gl->gl_host, gl->gl_port, err);
		sleep(1);
	}
	fatalx("cannot reach the gateway");
}

/* The unpacked response (caller frees), or NULL with st set. */
static void *
gwlink_unary(struct gwlink *gl, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
    struct grpc_status *st)
{
	uint8_t		*buf, *resp;
	size_t		 len, rlen;
	void		*m = NULL;
	char		 path[128];

	snprintf(path, sizeof(path), GW_OS "%s", method);
	len = protobuf_c_message_get_packed_size(req);
	if ((buf = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	protobuf_c_message_pack(req, buf);
	if (grpc_client_unary(gl->gl_sync, path, buf, len, &resp, &rlen,
	    GW_TIMEOUT_MS, st) == GRPC_OK) {
		if ((m = protobuf_c_message_unpack(rd, NULL, rlen, resp)) ==
		    NULL) {
			st->code = GRPC_INTERNAL;
			snprintf(st->message, sizeof(st->message),
			    "cannot decode the %s response", method);
		}
		free(resp);
	}
	free(buf);
	return m;
}

static GwConfig *
gwlink_get_config(struct gwlink *gl)
{
	Openshell__Sandbox__V1__GetSandboxConfigRequest	 req =
	    OPENSHELL__SANDBOX__V1__GET_SANDBOX_CONFIG_REQUEST__INIT;
	struct grpc_status				 st;
	GwConfig					*cfg;

	req.sandbox_id = gl->gl_sb->sb_id;
	if ((cfg = gwlink_unary(gl, "GetSandboxConfig", &req.base,
	    &openshell__sandbox__v1__get_sandbox_config_response__descriptor,
	    &st)) == NULL)
		fatalx("GetSandboxConfig: %s: %s", grpc_wire_code_name(st.code),
		    st.message);
	return cfg;
}

/*
 * No policy on record: the image's, else the restrictive default
 * (also when the image's does not parse or is unsafe), sent back as
 * this sandbox's policy.
 */
static void
gwlink_backfill(struct gwlink *gl)
{
	struct policy	*p;
	char		*e;

	p = gwlink_disk_policy();
	if (p == NULL && (p = policy_default()) == NULL)
		fatal("%s", __func__);
	if ((e = policy_validate_safety(p)) != NULL) {
		log_warnx("image policy: %s; using the restrictive default", e);
		free(e);
		policy_free(p);
		if ((p = policy_default()) == NULL)
			fatal("%s", __func__);
	}
	if (gl->gl_sb->sb_name == NULL)
		fatalx("no policy on record and no --name to store one under");
	if (gwlink_update(gl, p) == -1)
		fatalx("cannot store the sandbox's policy at the gateway");
	policy_free(p);
}

static struct policy *
gwlink_disk_policy(void)
{
	static const char *const paths[] = { GW_DISK_POLICY,
	    GW_DISK_POLICY_OLD };
	struct policy	*p;
	char		*e = NULL;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		if (access(paths[i], F_OK) == -1)
			continue;
		if ((p = policy_yaml_load(paths[i], POLICY_YAML_LOOSE, &e)) !=
		    NULL && policy_normalize(p) == 0) {
			policy_default_process(p);
			log_info("policy from %s", paths[i]);
			return p;
		}
		log_warnx("%s: %s; using the restrictive default", paths[i],
		    policy_s(e));
		free(e);
		policy_free(p);
		return NULL;
	}
	return NULL;
}

/* UpdateConfig(name, policy): 0 or -1 (logged). */
static int
gwlink_update(struct gwlink *gl, const struct policy *p)
{
	Openshell__V1__UpdateConfigRequest	 req =
	    OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__V1__UpdateConfigResponse	*res;
	struct grpc_status			 st;

	req.name = gl->gl_sb->sb_name;
	req.setting_key = "";
	if ((req.policy = policy_proto_from_model(p)) == NULL)
		fatal("%s", __func__);
	res = gwlink_unary(gl, "UpdateConfig", &req.base,
	    &openshell__v1__update_config_response__descriptor, &st);
	policy_proto_free(req.policy);
	if (res == NULL) {
		log_warnx("UpdateConfig: %s: %s", grpc_wire_code_name(st.code),
		    st.message);
		return -1;
	}
	log_info("policy synced to the gateway: version %u", res->version);
	openshell__v1__update_config_response__free_unpacked(res, NULL);
	return 0;
}

static void
gwlink_record(struct gwlink *gl, const GwConfig *cfg)
{
	gl->gl_revision = cfg->config_revision;
	gl->gl_version = cfg->version;
	gl->gl_source = cfg->policy_source;
	free(gl->gl_hash);
	if ((gl->gl_hash = strdup(cfg->policy_hash)) == NULL)
		fatal("%s", __func__);
}

/* Raw secrets: proxyd resolves their placeholders (failure tolerated). */
static void
gwlink_providers(struct gwlink *gl)
{
	Openshell__V1__GetSandboxProviderEnvironmentRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_PROVIDER_ENVIRONMENT_REQUEST__INIT;
	Openshell__V1__GetSandboxProviderEnvironmentResponse	*res;
	struct sandbox						*sb = gl->gl_sb;
	struct grpc_status					 st;
	size_t							 i;
	int							 c;

	req.sandbox_id = sb->sb_id;
	if ((res = gwlink_unary(gl, "GetSandboxProviderEnvironment",
	    &req.base,
	    &openshell__v1__get_sandbox_provider_environment_response__descriptor,
	    &st)) == NULL) {
		log_warnx("provider environment: %s: %s",
		    grpc_wire_code_name(st.code), st.message);
		return;
	}
	for (i = 0; i < res->n_environment; i++) {
		for (c = 0; c < sb->sb_ncreds; c++)
			if (strcmp(sb->sb_creds[c].cr_key,
			    res->environment[i]->key) == 0)
				break;
		if (c < sb->sb_ncreds || sb->sb_ncreds == SBX_MAXCRED)
			continue;
		if ((sb->sb_creds[c].cr_key = strdup(res->environment[i]->key)) ==
		    NULL || (sb->sb_creds[c].cr_value =
		    strdup(res->environment[i]->value)) == NULL)
			fatal("%s", __func__);
		sb->sb_ncreds++;
	}
	/* Our extension: where each may be sent (none: nowhere). */
	for (i = 0; i < res->n_credential_hosts; i++)
		creds_bind(sb, res->credential_hosts[i]->key,
		    res->credential_hosts[i]->value);
	log_info("%zu provider credential(s)", res->n_environment);
	openshell__v1__get_sandbox_provider_environment_response__free_unpacked(
	    res, NULL);
}

/*
 * The proto path of the pipeline (sandbox.md §1.6, 1.7d, 1.9): model,
 * normalisation, L7 validation, process defaults, baseline enrichment
 * (only with network policies), a compile as the final check.  0 with
 * *pp, or -1 with *err.  What proxyd gets is config_proxy_yaml's.
 */
static int
gwlink_prepare(struct sandbox *sb, const GwPolicy *pb, struct policy **pp,
    int *changed, char **err)
{
	struct policy_strv	 errs = { 0 }, warns = { 0 };
	struct policy_engine	*pe;
	struct policy		*p;
	size_t			 i, n;

	*err = NULL;
	if ((p = policy_proto_to_model(pb, err)) == NULL)
		return -1;
	if (policy_normalize(p) == -1) {
		*err = strdup("cannot normalise the policy");
		goto fail;
	}
	if (policy_validate_l7(p, &errs, &warns) > 0) {
		*err = policy_strv_join(&errs, "; ");
		goto fail;
	}
	for (i = 0; i < warns.n; i++)
		log_warnx("policy: %s", warns.v[i]);
	policy_default_process(p);
	n = p->read_only.n + p->read_write.n;
	if (p->nrules > 0)
		config_enrich(p, sb->sb_rootfs != NULL ? sb->sb_rootfs : "/");
	*changed = p->read_only.n + p->read_write.n != n;
	/* Applied here, never synced back: the workdir is this host's. */
	if (p->include_workdir && sb->sb_workdir != NULL &&
	    !policy_strv_has(&p->read_only, sb->sb_workdir) &&
	    !policy_strv_has(&p->read_write, sb->sb_workdir) &&
	    policy_strv_add(&p->read_write, sb->sb_workdir) == -1)
		fatal("%s", __func__);
	if ((pe = policy_compile(p, err)) == NULL)
		goto fail;
	policy_engine_unref(pe);
	policy_strv_free(&errs);
	policy_strv_free(&warns);
	*pp = p;
	return 0;
 fail:
	policy_strv_free(&errs);
	policy_strv_free(&warns);
	policy_free(p);
	return -1;
}

/*
 * The event loop exists: from now on everything is asynchronous.  The
 * log stream starts (queued lines go first), then the watch and the
 * fallback poll.
 */
void
gwlink_start(struct sandbox *sb, struct event_base *base)
{
	struct gwlink	*gl = sb->sb_gw;
	struct timeval	 tv;
	const char	*v, *errstr;
	char		 err[256];

	if ((gl->gl_ac = grpc_aclient_new(base, gl->gl_host, gl->gl_port,
	    gl->gl_ctx, err, sizeof(err))) == NULL)
		fatalx("gateway: %s", err);
	logpush_start(sb->sb_lp, base, gl->gl_ac);
	routes_start(sb, base, gl->gl_ac);
	gl->gl_interval = GW_POLL_DEFAULT;
	if ((v = getenv("OPENSHELL_POLICY_POLL_INTERVAL_SECS")) != NULL) {
		gl->gl_interval = strtonum(v, 1, 86400, &errstr);
		if (errstr != NULL)
			gl->gl_interval = GW_POLL_DEFAULT;
	}
	tv.tv_sec = gl->gl_interval;
	tv.tv_usec = 0;
	if ((gl->gl_poll = event_new(base, -1, EV_PERSIST, gwlink_tick,
	    gl)) == NULL || event_add(gl->gl_poll, &tv) == -1 ||
	    (gl->gl_watch_ev = evtimer_new(base, gwlink_watch, gl)) == NULL)
		fatalx("%s: event", __func__);
	gl->gl_backoff = WATCH_BACKOFF_MIN;
	gwlink_watch(-1, 0, gl);
}

/* proxyd serves the startup policy: say so. */
void
gwlink_loaded(struct sandbox *sb)
{
	struct gwlink	*gl = sb->sb_gw;

	if (gl->gl_version > 0 && gl->gl_source ==
	    OPENSHELL__SANDBOX__V1__POLICY_SOURCE__POLICY_SOURCE_SANDBOX)
		gwlink_report(gl, gl->gl_version, 1, NULL);
}

/*
 * The fallback poll: every tick while the watch is not up, every
 * WATCH_POLL_EVERY-th while it is, against a snapshot lost on the
 * gateway's side without the stream ending.
 */
static void
gwlink_tick(int fd, short ev, void *arg)
{
	struct gwlink	*gl = arg;

	(void)fd;
	(void)ev;
	if (!gl->gl_watch_up || ++gl->gl_ticks % WATCH_POLL_EVERY == 0)
		gwlink_refresh(gl);
}

/* One GetSandboxConfig; asked for during one, one more after it. */
static void
gwlink_refresh(struct gwlink *gl)
{
	Openshell__Sandbox__V1__GetSandboxConfigRequest	 req =
	    OPENSHELL__SANDBOX__V1__GET_SANDBOX_CONFIG_REQUEST__INIT;
	uint8_t						 buf[512];
	size_t						 len;

	if (gl->gl_inflight != NULL) {
		gl->gl_pending = 1;
		return;
	}
	gl->gl_pending = 0;
	req.sandbox_id = gl->gl_sb->sb_id;
	if ((len = protobuf_c_message_get_packed_size(&req.base)) >
	    sizeof(buf))
		return;
	protobuf_c_message_pack(&req.base, buf);
	gl->gl_inflight = grpc_aclient_call(gl->gl_ac,
	    GW_OS "GetSandboxConfig", buf, len,
	    gl->gl_interval * 1000 + GW_TIMEOUT_MS, gwlink_poll_msg,
	    gwlink_poll_done, gl);
}

static void
gwlink_poll_msg(struct grpc_acall *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gwlink	*gl = arg;

	(void)call;
	if (gl->gl_resp != NULL)
		return;
	gl->gl_resp = openshell__sandbox__v1__get_sandbox_config_response__unpack(
	    NULL, len, msg);
}

static void
gwlink_poll_done(struct grpc_acall *call, const struct grpc_status *st,
    void *arg)
{
	struct gwlink	*gl = arg;

	(void)call;
	gl->gl_inflight = NULL;
	if (st->code != GRPC_OK)
		log_debug("policy poll: %s: %s", grpc_wire_code_name(st->code),
		    st->message);
	else if (gl->gl_resp != NULL)
		gwlink_apply(gl, gl->gl_resp);
	if (gl->gl_resp != NULL)
		openshell__sandbox__v1__get_sandbox_config_response__free_unpacked(
		    gl->gl_resp, NULL);
	gl->gl_resp = NULL;
	if (gl->gl_pending)
		gwlink_refresh(gl);
}

/* (Re)opens the WatchSandbox stream on our own sandbox. */
static void
gwlink_watch(int fd, short ev, void *arg)
{
	struct gwlink				*gl = arg;
	Openshell__V1__WatchSandboxRequest	 req =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	uint8_t					 buf[512];
	size_t					 len;

	(void)fd;
	(void)ev;
	req.id = gl->gl_sb->sb_id;
	req.follow_status = 1;
	/* As for the poll: an id this long never reaches the gateway. */
	if ((len = protobuf_c_message_get_packed_size(&req.base)) >
	    sizeof(buf))
		return;
	protobuf_c_message_pack(&req.base, buf);
	gl->gl_watch_up = 0;
	gl->gl_watch = grpc_aclient_call(gl->gl_ac, GW_OS "WatchSandbox", buf,
	    len, 0, gwlink_watch_msg, gwlink_watch_done, gl);
}

/* Any snapshot may mean a new revision: ask (the content is moot). */
static void
gwlink_watch_msg(struct grpc_acall *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gwlink	*gl = arg;

	(void)call;
	(void)msg;
	(void)len;
	if (!gl->gl_watch_up)
		log_debug("policy watch up");
	gl->gl_watch_up = 1;
	gl->gl_backoff = WATCH_BACKOFF_MIN;
	gwlink_refresh(gl);
}

/*
 * The stream ended (gateway gone, restarted, lagging, or refusing
 * it): the poll takes over until a new one delivers a snapshot.
 */
static void
gwlink_watch_done(struct grpc_acall *call, const struct grpc_status *st,
    void *arg)
{
	struct gwlink	*gl = arg;
	struct timeval	 tv;

	(void)call;
	gl->gl_watch = NULL;
	gl->gl_watch_up = 0;
	log_debug("policy watch: %s: %s; again in %d ms",
	    grpc_wire_code_name(st->code), st->message, gl->gl_backoff);
	tv.tv_sec = gl->gl_backoff / 1000;
	tv.tv_usec = (gl->gl_backoff % 1000) * 1000;
	evtimer_add(gl->gl_watch_ev, &tv);
	gl->gl_backoff = gl->gl_backoff * 2 > WATCH_BACKOFF_MAX ?
	    WATCH_BACKOFF_MAX : gl->gl_backoff * 2;
}

/*
 * A new revision.  Only a new policy_hash rebuilds the policy; a
 * policy that fails the pipeline leaves the last good one in proxyd.
 */
static void
gwlink_apply(struct gwlink *gl, const GwConfig *cfg)
{
	struct sandbox	*sb = gl->gl_sb;
	struct policy	*p;
	struct ipc_wr	 w;
	char		*yaml, *err = NULL;
	int		 changed, hashed;

	if (cfg->config_revision == gl->gl_revision)
		return;
	hashed = strcmp(cfg->policy_hash, gl->gl_hash) != 0;
	gwlink_record(gl, cfg);
	if (!hashed || cfg->policy == NULL)
		return;
	if (gwlink_prepare(sb, cfg->policy, &p, &changed, &err) == -1)
		goto rejected;
	yaml = config_proxy_yaml(sb, p);
	policy_free(p);
	if (yaml == NULL) {
		err = strdup("cannot encode the policy");
		goto rejected;
	}
	free(sb->sb_policy_yaml);
	sb->sb_policy_yaml = yaml;
	/* A revision still unanswered is superseded: only this one counts. */
	gl->gl_wait_tag = 0;
	gl->gl_wait_version = cfg->version;
	gl->gl_wait_tag = gwlink_policy_tag(sb);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, yaml);
	if (proc_compose_wr(&sb->sb_tree, PROC_PROXY, IPC_PROXY_POLICY,
	    gl->gl_wait_tag, -1, &w) == -1)
		log_warn("proxyd: policy (it gets it when it restarts)");
	log_info("policy reloaded version=%u policy_hash=%.12s", cfg->version,
	    cfg->policy_hash);
	return;
 rejected:
	log_warnx("policy version %u rejected, keeping the previous one: %s",
	    cfg->version, policy_s(err));
	gwlink_report(gl, cfg->version, 0, policy_s(err));
	free(err);
}

/*
 * The tag for IPC_PROXY_POLICY: fresh for a reload, the one still due
 * for a proxyd restarted before it answered (its setup carries the
 * same policy); 0 (no answer wanted) otherwise.
 */
uint32_t
gwlink_policy_tag(struct sandbox *sb)
{
	struct gwlink	*gl = sb->sb_gw;

	if (gl == NULL)
		return 0;
	if (gl->gl_wait_tag != 0)
		return gl->gl_wait_tag;
	if (gl->gl_wait_version == 0)
		return 0;
	if (++gl->gl_tag == 0)
		gl->gl_tag = 1;
	return gl->gl_tag;
}

/*
 * IPC_PROXY_POLICY_DONE [bool ok, str error] from proxyd: the revision
 * sent with that tag serves now (LOADED) or proxyd kept the previous
 * one (FAILED).  A stale tag (a newer policy went out since) is moot.
 */
int
gwlink_policy_done(struct sandbox *sb, struct ipc_msg *msg)
{
	struct gwlink	*gl = sb->sb_gw;
	struct ipc_rd	 r;
	char		*err = NULL;
	uint32_t	 n = 0;
	int		 ok = 0;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_bool(&r, &ok);
		ipc_rd_str(&r, &err);
	}
	if (ipc_rd_end(&r) == -1 || n != 2) {
		free(err);
		return -1;
	}
	if (gl != NULL && gl->gl_wait_tag != 0 &&
	    ipc_peerid(msg) == gl->gl_wait_tag) {
		gwlink_report(gl, gl->gl_wait_version, ok, ok ? NULL : err);
		gl->gl_wait_tag = 0;
		gl->gl_wait_version = 0;
	}
	free(err);
	return 0;
}

/* Only for the sandbox's own revisions (not a global policy). */
static void
gwlink_report(struct gwlink *gl, uint32_t version, int loaded,
    const char *error)
{
	Openshell__V1__ReportPolicyStatusRequest	 req =
	    OPENSHELL__V1__REPORT_POLICY_STATUS_REQUEST__INIT;
	uint8_t						*buf;
	size_t						 len;

	if (version == 0 || gl->gl_source !=
	    OPENSHELL__SANDBOX__V1__POLICY_SOURCE__POLICY_SOURCE_SANDBOX)
		return;
	req.sandbox_id = gl->gl_sb->sb_id;
	req.version = version;
	req.status = loaded ? OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED :
	    OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED;
	req.load_error = (char *)(error != NULL ? error : "");
	len = protobuf_c_message_get_packed_size(&req.base);
	if ((buf = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	protobuf_c_message_pack(&req.base, buf);
	grpc_aclient_call(gl->gl_ac, GW_OS "ReportPolicyStatus", buf, len,
	    GW_TIMEOUT_MS, NULL, gwlink_report_done, NULL);
	free(buf);
}

static void
gwlink_report_done(struct grpc_acall *call, const struct grpc_status *st,
    void *arg)
{
	(void)call;
	(void)arg;
	if (st->code != GRPC_OK)
		log_warnx("ReportPolicyStatus: %s: %s",
		    grpc_wire_code_name(st->code), st->message);
}
