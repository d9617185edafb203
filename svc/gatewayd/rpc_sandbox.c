/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * CreateSandbox, GetSandbox, ListSandboxes, DeleteSandbox
 * (control-plane.md §1.3).  A sandbox is a record in the store,
 * created PROVISIONING and handed to the compute driver
 * (driver_link.c); DeleteSandbox marks it DELETING and asks the driver,
 * which removes the record once every trace is gone.
 */

#include <stdlib.h>
#include <string.h>

#include "gatewayd.h"
#include "libpolicy/policy.h"
#include "libpolicy/policy_proto.h"
#include "log.h"
#include "proto/openshell.pb-c.h"
#include "store.h"

#define SB_NAME_MAX		253
#define SB_PROVIDERS_MAX	32
#define SB_LOGLEVEL_MAX		32
#define SB_MAP_MAX		128
#define SB_KEY_MAX		256
#define SB_VALUE_MAX		8192
#define SB_FIELD_MAX		1024
#define SB_STRUCT_MAX		(64 * 1024)
#define SB_POLICY_MAX		(256 * 1024)
#define SB_LIST_DEFAULT		100
#define SB_PETNAME_TRIES	16	/* then ALREADY_EXISTS */
#define SB_LIST_MAX		1000
#define SB_SESSIONS_SCAN	1000
#define SB_NAMESPACE		"default"
#define SB_DEFAULT_IMAGE	"openshell/sandbox:latest"
#define SB_IDENTITY		"sandbox"

#define OS	"/openshell.v1.OpenShell/"

typedef Openshell__Datamodel__V1__Sandbox		Sandbox;
typedef Openshell__Datamodel__V1__SandboxSpec		SandboxSpec;
typedef Openshell__Datamodel__V1__SandboxTemplate	SandboxTemplate;

/* Every string map entry of protobuf-c has this layout. */
struct sb_kv {
	ProtobufCMessage	 base;
	char			*key;
	char			*value;
};

struct sb_list {
	Sandbox		**l_v;
	size_t		  l_n;
	int		  l_err;
};

static grpc_handler_fn	 sb_create;
static grpc_handler_fn	 sb_get;
static grpc_handler_fn	 sb_list;
static grpc_handler_fn	 sb_delete;
static int	 sb_check_limits(struct grpc_call *,
		    const Openshell__V1__CreateSandboxRequest *);
static int	 sb_check_template(struct grpc_call *, const SandboxTemplate *);
static int	 sb_check_str(struct grpc_call *, const char *, const char *,
		    size_t);
static int	 sb_check_map(struct grpc_call *, const char *, size_t,
		    void *const *);
static int	 sb_check_providers(struct gatewayd *, struct grpc_call *,
		    const SandboxSpec *);
static int	 sb_fill_template(SandboxSpec *);
static int	 sb_check_policy(struct grpc_call *, SandboxSpec *);
static int	 sb_default_identity(char **);
static int	 sb_list_cb(const struct store_object *, void *);
static int	 sb_sessions_cb(const struct store_object *, void *);
static void	 sb_drop_sessions(struct gatewayd *, const char *);
static void	 sb_reply(struct grpc_call *, Sandbox *);

void
rpc_sandbox_register(struct gatewayd *gd)
{
	rpc_method(gd, OS "CreateSandbox", sb_create);
	rpc_method(gd, OS "GetSandbox", sb_get);
	rpc_method(gd, OS "ListSandboxes", sb_list);
	rpc_method(gd, OS "DeleteSandbox", sb_delete);
}

int
rpc_sandbox_get(struct gatewayd *gd, const char *id, const char *name,
    Sandbox **out)
{
	struct store_object	 obj;
	int			 rc;

	*out = NULL;
	memset(&obj, 0, sizeof(obj));
	rc = id != NULL ?
	    store_get_by_id(gd->gd_store, STORE_T_SANDBOX, id, &obj) :
	    store_get_by_name(gd->gd_store, STORE_T_SANDBOX, name, &obj);
	if (rc != STORE_OK)
		return rc;
	*out = openshell__datamodel__v1__sandbox__unpack(NULL, obj.so_len,
	    obj.so_payload);
	store_object_clear(&obj);
	if (*out == NULL) {
		log_warnx("%s: undecodable sandbox record", __func__);
		return STORE_ERR;
	}
	return STORE_OK;
}

/*
 * Whether sandbox id is READY (*ready), for the calls that need its
 * SSH endpoint.  Returns the store's code: STORE_OK, STORE_NOTFOUND
 * or STORE_ERR.
 */
int
rpc_sandbox_ready(struct gatewayd *gd, const char *id, int *ready)
{
	Sandbox	*sb;
	int	 rc;

	*ready = 0;
	if ((rc = rpc_sandbox_get(gd, id, NULL, &sb)) != STORE_OK)
		return rc;
	*ready = sb->phase ==
	    OPENSHELL__DATAMODEL__V1__SANDBOX_PHASE__SANDBOX_PHASE_READY;
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	return STORE_OK;
}

/* 0 when sandbox id exists and is READY; else call is answered, -1. */
int
rpc_require_ready(struct gatewayd *gd, struct grpc_call *call,
    const char *id)
{
	int	 rc, ready;

	if ((rc = rpc_sandbox_ready(gd, id, &ready)) != STORE_OK) {
		rpc_error(call, rc == STORE_NOTFOUND ? GRPC_NOT_FOUND :
		    GRPC_INTERNAL, rc == STORE_NOTFOUND ? "sandbox not found" :
		    "cannot read the sandbox");
		return -1;
	}
	if (!ready) {
		rpc_error(call, GRPC_FAILED_PRECONDITION,
		    "sandbox is not ready");
		return -1;
	}
	return 0;
}

/* created_at_ms is the row's; it is never part of the payload. */
int
rpc_sandbox_put(struct gatewayd *gd, const Sandbox *sb)
{
	Sandbox		 copy = *sb;
	uint8_t		*buf;
	size_t		 len;
	int		 rc;

	copy.created_at_ms = 0;
	len = protobuf_c_message_get_packed_size(&copy.base);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		return STORE_ERR;
	protobuf_c_message_pack(&copy.base, buf);
	rc = store_put(gd->gd_store, STORE_T_SANDBOX, sb->id, sb->name, buf,
	    len, rpc_now_ms());
	free(buf);
	return rc;
}

static void
sb_create(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__CreateSandboxRequest	*req;
	Sandbox					 sb =
	    OPENSHELL__DATAMODEL__V1__SANDBOX__INIT;
	char					 id[GD_UUID_LEN];
	char					 pet[GD_NAME_MAX];
	int					 rc, tries;

	if ((req = openshell__v1__create_sandbox_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->spec == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "spec is required");
		goto done;
	}
	if (sb_check_limits(call, req) == -1 ||
	    sb_check_providers(gd, call, req->spec) == -1)
		goto done;
	if (sb_fill_template(req->spec) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		goto done;
	}
	if (req->spec->gpu) {
		rpc_error(call, GRPC_FAILED_PRECONDITION,
		    "GPU sandbox requested, but no node has allocatable "
		    "nvidia.com/gpu");
		goto done;
	}
	if (sb_check_policy(call, req->spec) == -1)
		goto done;
	rpc_uuid(id);
	if (req->name[0] == '\0')
		rpc_petname(pet, sizeof(pet));
	sb.id = id;
	sb.name = req->name[0] != '\0' ? req->name : pet;
	sb.namespace_ = SB_NAMESPACE;
	sb.spec = req->spec;
	sb.phase =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_PHASE__SANDBOX_PHASE_PROVISIONING;
	/* A name we picked is taken: pick again (1600 names). */
	for (tries = 0; (rc = rpc_sandbox_put(gd, &sb)) == STORE_CONFLICT &&
	    req->name[0] == '\0' && tries < SB_PETNAME_TRIES; tries++)
		rpc_petname(pet, sizeof(pet));
	if (rc == STORE_CONFLICT)
		rpc_error(call, GRPC_ALREADY_EXISTS,
		    "sandbox '%s' already exists", sb.name);
	else if (rc != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "cannot store the sandbox");
	else {
		log_info("sandbox %s created", sb.name);
		if (bus_sandbox_changed != NULL)
			bus_sandbox_changed(gd, &sb);
		driver_link_create(gd, &sb);
		sb_reply(call, &sb);
	}
 done:
	openshell__v1__create_sandbox_request__free_unpacked(req, NULL);
}

/* §1.3 (2): every size limit, INVALID_ARGUMENT on the first broken. */
static int
sb_check_limits(struct grpc_call *call,
    const Openshell__V1__CreateSandboxRequest *req)
{
	const SandboxSpec	*spec = req->spec;

	if (sb_check_str(call, "name", req->name, SB_NAME_MAX) == -1 ||
	    sb_check_str(call, "log_level", spec->log_level,
	    SB_LOGLEVEL_MAX) == -1 ||
	    sb_check_map(call, "spec.environment", spec->n_environment,
	    (void *const *)spec->environment) == -1)
		return -1;
	if (spec->n_providers > SB_PROVIDERS_MAX) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "providers exceeds maximum entries (%zu > %d)",
		    spec->n_providers, SB_PROVIDERS_MAX);
		return -1;
	}
	if (spec->template_ != NULL &&
	    sb_check_template(call, spec->template_) == -1)
		return -1;
	if (spec->policy != NULL && protobuf_c_message_get_packed_size(
	    &spec->policy->base) > SB_POLICY_MAX) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "policy exceeds maximum encoded size (%d bytes)",
		    SB_POLICY_MAX);
		return -1;
	}
	return 0;
}

static int
sb_check_template(struct grpc_call *call, const SandboxTemplate *t)
{
	if (sb_check_str(call, "template.image", t->image, SB_FIELD_MAX) ==
	    -1 || sb_check_str(call, "template.runtime_class_name",
	    t->runtime_class_name, SB_FIELD_MAX) == -1 ||
	    sb_check_str(call, "template.agent_socket", t->agent_socket,
	    SB_FIELD_MAX) == -1 ||
	    sb_check_map(call, "template.labels", t->n_labels,
	    (void *const *)t->labels) == -1 ||
	    sb_check_map(call, "template.annotations", t->n_annotations,
	    (void *const *)t->annotations) == -1 ||
	    sb_check_map(call, "template.environment", t->n_environment,
	    (void *const *)t->environment) == -1)
		return -1;
	if ((t->resources != NULL && protobuf_c_message_get_packed_size(
	    &t->resources->base) > SB_STRUCT_MAX) ||
	    (t->volume_claim_templates != NULL &&
	    protobuf_c_message_get_packed_size(
	    &t->volume_claim_templates->base) > SB_STRUCT_MAX)) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "template resources or volume_claim_templates exceed the "
		    "maximum encoded size (%d bytes)", SB_STRUCT_MAX);
		return -1;
	}
	return 0;
}

static int
sb_check_str(struct grpc_call *call, const char *field, const char *s,
    size_t max)
{
	size_t	 len = s != NULL ? strlen(s) : 0;

	if (len <= max)
		return 0;
	rpc_error(call, GRPC_INVALID_ARGUMENT,
	    "%s exceeds maximum length (%zu > %zu)", field, len, max);
	return -1;
}

static int
sb_check_map(struct grpc_call *call, const char *field, size_t n,
    void *const *entries)
{
	const struct sb_kv	*kv;
	size_t			 i;

	if (n > SB_MAP_MAX) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "%s exceeds maximum entries (%zu > %d)", field, n,
		    SB_MAP_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		kv = entries[i];
		if (strlen(kv->key) > SB_KEY_MAX) {
			rpc_error(call, GRPC_INVALID_ARGUMENT,
			    "%s key exceeds maximum length (%zu > %d)", field,
			    strlen(kv->key), SB_KEY_MAX);
			return -1;
		}
		if (strlen(kv->value) > SB_VALUE_MAX) {
			rpc_error(call, GRPC_INVALID_ARGUMENT,
			    "%s value exceeds maximum length (%zu > %d)",
			    field, strlen(kv->value), SB_VALUE_MAX);
			return -1;
		}
	}
	return 0;
}

static int
sb_check_providers(struct gatewayd *gd, struct grpc_call *call,
    const SandboxSpec *spec)
{
	struct store_object	 obj;
	size_t			 i;
	int			 rc;

	for (i = 0; i < spec->n_providers; i++) {
		memset(&obj, 0, sizeof(obj));
		rc = store_get_by_name(gd->gd_store, STORE_T_PROVIDER,
		    spec->providers[i], &obj);
		store_object_clear(&obj);
		if (rc == STORE_NOTFOUND) {
			rpc_error(call, GRPC_FAILED_PRECONDITION,
			    "provider '%s' not found", spec->providers[i]);
			return -1;
		}
		if (rc != STORE_OK) {
			rpc_error(call, GRPC_INTERNAL,
			    "cannot look up provider '%s'", spec->providers[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * §1.3 (4): the stored spec always names its image.  What we allocate
 * here becomes part of the unpacked request and is freed with it.
 */
static int
sb_fill_template(SandboxSpec *spec)
{
	SandboxTemplate	*t;
	char		*img;

	if (spec->template_ == NULL) {
		if ((t = malloc(sizeof(*t))) == NULL)
			return -1;
		openshell__datamodel__v1__sandbox_template__init(t);
		spec->template_ = t;
	}
	t = spec->template_;
	if (t->image != NULL && t->image[0] != '\0')
		return 0;
	if ((img = strdup(SB_DEFAULT_IMAGE)) == NULL)
		return -1;
	if (t->image != NULL && t->image != protobuf_c_empty_string)
		free(t->image);
	t->image = img;
	return 0;
}

/* §1.3 (6) and §2.6: default the identity, then the safety checks. */
static int
sb_check_policy(struct grpc_call *call, SandboxSpec *spec)
{
	Openshell__Sandbox__V1__ProcessPolicy	*proc;
	struct policy				*p;
	char					*err = NULL, *unsafe;

	if (spec->policy == NULL)
		return 0;
	if ((proc = spec->policy->process) == NULL) {
		if ((proc = malloc(sizeof(*proc))) == NULL)
			goto oom;
		openshell__sandbox__v1__process_policy__init(proc);
		spec->policy->process = proc;
	}
	if (sb_default_identity(&proc->run_as_user) == -1 ||
	    sb_default_identity(&proc->run_as_group) == -1)
		goto oom;
	if ((p = policy_proto_to_model(spec->policy, &err)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid policy: %s",
		    err != NULL ? err : "cannot convert");
		free(err);
		return -1;
	}
	unsafe = policy_validate_safety(p);
	policy_free(p);
	if (unsafe == NULL)
		return 0;
	rpc_error(call, GRPC_INVALID_ARGUMENT, "%s", unsafe);
	free(unsafe);
	return -1;
 oom:
	rpc_error(call, GRPC_INTERNAL, "out of memory");
	return -1;
}

static int
sb_default_identity(char **s)
{
	char	*v;

	if (*s != NULL && (*s)[0] != '\0')
		return 0;
	if ((v = strdup(SB_IDENTITY)) == NULL)
		return -1;
	if (*s != NULL && *s != protobuf_c_empty_string)
		free(*s);
	*s = v;
	return 0;
}

static void
sb_reply(struct grpc_call *call, Sandbox *sb)
{
	Openshell__V1__SandboxResponse	 res =
	    OPENSHELL__V1__SANDBOX_RESPONSE__INIT;

	res.sandbox = sb;
	rpc_reply(call, &res.base);
}

static void
sb_get(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd			*gd = arg;
	Openshell__V1__GetSandboxRequest *req;
	Sandbox				*sb;
	int				 rc;

	if ((req = openshell__v1__get_sandbox_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->name[0] == '\0')
		rpc_error(call, GRPC_INVALID_ARGUMENT, "name is required");
	else if ((rc = rpc_sandbox_get(gd, NULL, req->name, &sb)) ==
	    STORE_NOTFOUND)
		rpc_error(call, GRPC_NOT_FOUND, "sandbox not found");
	else if (rc != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "cannot read the sandbox");
	else {
		sb->created_at_ms = 0;
		sb_reply(call, sb);
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	}
	openshell__v1__get_sandbox_request__free_unpacked(req, NULL);
}

static void
sb_list(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__ListSandboxesRequest	*req;
	Openshell__V1__ListSandboxesResponse	 res =
	    OPENSHELL__V1__LIST_SANDBOXES_RESPONSE__INIT;
	struct sb_list				 l;
	uint32_t				 limit;
	size_t					 i;

	if ((req = openshell__v1__list_sandboxes_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	limit = req->limit == 0 ? SB_LIST_DEFAULT : req->limit;
	if (limit > SB_LIST_MAX)
		limit = SB_LIST_MAX;
	memset(&l, 0, sizeof(l));
	if ((l.l_v = calloc(limit, sizeof(*l.l_v))) == NULL ||
	    store_list(gd->gd_store, STORE_T_SANDBOX, limit, req->offset,
	    sb_list_cb, &l) != 0 || l.l_err)
		rpc_error(call, GRPC_INTERNAL, "cannot list sandboxes");
	else {
		res.sandboxes = l.l_v;
		res.n_sandboxes = l.l_n;
		rpc_reply(call, &res.base);
	}
	for (i = 0; i < l.l_n; i++)
		openshell__datamodel__v1__sandbox__free_unpacked(l.l_v[i],
		    NULL);
	free(l.l_v);
	openshell__v1__list_sandboxes_request__free_unpacked(req, NULL);
}

static int
sb_list_cb(const struct store_object *obj, void *arg)
{
	struct sb_list	*l = arg;
	Sandbox		*sb;

	sb = openshell__datamodel__v1__sandbox__unpack(NULL, obj->so_len,
	    obj->so_payload);
	if (sb == NULL) {
		l->l_err = 1;
		return 1;
	}
	sb->created_at_ms = obj->so_created_ms;
	l->l_v[l->l_n++] = sb;
	return 0;
}

/*
 * DELETING is stored and announced first, as watchers of a live
 * sandbox expect; the reply waits until the compute driver has removed
 * every trace of it and the record is gone (driver_link.c).
 */
static void
sb_delete(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__DeleteSandboxRequest	*req;
	Sandbox					*sb = NULL;
	char					 sid[GD_UUID_LEN + 16];
	int					 rc;

	if ((req = openshell__v1__delete_sandbox_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->name[0] == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "name is required");
		goto done;
	}
	if ((rc = rpc_sandbox_get(gd, NULL, req->name, &sb)) != STORE_OK) {
		rpc_error(call, rc == STORE_NOTFOUND ? GRPC_NOT_FOUND :
		    GRPC_INTERNAL, rc == STORE_NOTFOUND ? "sandbox not found" :
		    "cannot read the sandbox");
		goto done;
	}
	sb->phase =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_PHASE__SANDBOX_PHASE_DELETING;
	if (rpc_sandbox_put(gd, sb) != STORE_OK) {
		rpc_error(call, GRPC_INTERNAL, "cannot update the sandbox");
		goto done;
	}
	if (bus_sandbox_changed != NULL)
		bus_sandbox_changed(gd, sb);
	sb_drop_sessions(gd, sb->id);
	snprintf(sid, sizeof(sid), "settings:%s", sb->id);
	store_delete_by_id(gd->gd_store, STORE_T_SB_SETTINGS, sid);
	/* The driver stops it and removes its traces, then says "gone":
	 * driver_link.c removes the record and answers the call. */
	log_info("sandbox %s deleting", sb->name);
	driver_link_delete(gd, sb->id, call);
 done:
	if (sb != NULL)
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	openshell__v1__delete_sandbox_request__free_unpacked(req, NULL);
}

void
rpc_sandbox_remove(struct gatewayd *gd, const Sandbox *sb)
{
	char	 sid[GD_UUID_LEN + 16];

	sb_drop_sessions(gd, sb->id);
	snprintf(sid, sizeof(sid), "settings:%s", sb->id);
	store_delete_by_id(gd->gd_store, STORE_T_SB_SETTINGS, sid);
	if (store_delete_by_id(gd->gd_store, STORE_T_SANDBOX, sb->id) ==
	    STORE_ERR) {
		log_warnx("sandbox %s: cannot delete the record", sb->name);
		return;
	}
	log_info("sandbox %s deleted", sb->name);
	if (bus_sandbox_deleted != NULL)
		bus_sandbox_deleted(gd, sb->id);
}

struct sb_sessions {
	const char	*s_sandbox;
	char		*s_ids[SB_SESSIONS_SCAN];
	size_t		 s_n;
};

/* Ids are collected first: a list callback must not write the store. */
static void
sb_drop_sessions(struct gatewayd *gd, const char *sandbox_id)
{
	struct sb_sessions	*s;
	size_t			 i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return;
	s->s_sandbox = sandbox_id;
	store_list(gd->gd_store, STORE_T_SSH_SESSION, SB_SESSIONS_SCAN, 0,
	    sb_sessions_cb, s);
	for (i = 0; i < s->s_n; i++) {
		store_delete_by_id(gd->gd_store, STORE_T_SSH_SESSION,
		    s->s_ids[i]);
		free(s->s_ids[i]);
	}
	free(s);
}

static int
sb_sessions_cb(const struct store_object *obj, void *arg)
{
	struct sb_sessions	*s = arg;
	Openshell__V1__SshSession *ss;

	ss = openshell__v1__ssh_session__unpack(NULL, obj->so_len,
	    obj->so_payload);
	if (ss == NULL)
		return 0;
	if (strcmp(ss->sandbox_id, s->s_sandbox) == 0 &&
	    s->s_n < SB_SESSIONS_SCAN &&
	    (s->s_ids[s->s_n] = strdup(obj->so_id)) != NULL)
		s->s_n++;
	openshell__v1__ssh_session__free_unpacked(ss, NULL);
	return 0;
}
