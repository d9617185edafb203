/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The config RPCs (control-plane.md §1.3, §2.6): GetSandboxConfig,
 * GetGatewayConfig, UpdateConfig, GetSandboxPolicyStatus,
 * ListSandboxPolicies, ReportPolicyStatus and
 * GetSandboxProviderEnvironment.
 *
 * Policies arrive as protobuf, go through libpolicy's model for the
 * checks (policy_proto.h) and come back as a canonical message (maps
 * sorted by key); only canonical encodings are hashed and stored, so
 * the same policy always has the same hash and the same revision.
 *
 * gatewayd runs every handler to completion on its one event loop,
 * which is what serialises the global and setting mutations (the
 * reference needs a mutex for that).
 *
 * Registration goes through rpc_method() before rpc_start(), so the
 * method table's UNIMPLEMENTED default never shows for these paths.
 * Provider credentials pass through here raw: they are never logged.
 */

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd.h"
#include "log.h"
#include "policy_hash.h"
#include "store.h"
#include "libpolicy/policy.h"
#include "libpolicy/policy_proto.h"
#include "proto/datamodel.pb-c.h"
#include "proto/openshell.pb-c.h"
#include "proto/sandbox.pb-c.h"

#define OS		"/openshell.v1.OpenShell/"
#define CFG_POLICY_KEY	"policy"
#define CFG_GLOBAL_ID	"gateway_settings:global"
#define CFG_GLOBAL_NAME	"global"
#define CFG_LIST_DEFAULT 50
#define CFG_LIST_MAX	1000
#define SCOPE_UNSET \
	OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_UNSPECIFIED
#define SCOPE_SANDBOX \
	OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_SANDBOX
#define SCOPE_GLOBAL \
	OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_GLOBAL
#define SOURCE_SANDBOX \
	OPENSHELL__SANDBOX__V1__POLICY_SOURCE__POLICY_SOURCE_SANDBOX
#define SOURCE_GLOBAL \
	OPENSHELL__SANDBOX__V1__POLICY_SOURCE__POLICY_SOURCE_GLOBAL

typedef Openshell__Sandbox__V1__SandboxPolicy	SPolicy;
typedef Openshell__Datamodel__V1__Sandbox	Sandbox;
typedef Openshell__Sandbox__V1__SettingValue	SValue;
typedef Openshell__V1__UpdateConfigRequest	UReq;
typedef Openshell__V1__GetSandboxProviderEnvironmentResponse__EnvironmentEntry
    EnvEntry;
typedef Openshell__V1__GetSandboxProviderEnvironmentResponse__CredentialHostsEntry
    HostEntry;

/* The settings registry: empty in release builds (§2.6). */
struct cfg_key {
	const char		*ck_key;
	enum policy_hash_type	 ck_kind;
};

static const struct cfg_key cfg_registry[] = {
	{ NULL, PH_STRING }
};

static const Openshell__Sandbox__V1__GetSandboxConfigResponse__SettingsEntry
    cfg_sentry_init =
    OPENSHELL__SANDBOX__V1__GET_SANDBOX_CONFIG_RESPONSE__SETTINGS_ENTRY__INIT;
static const Openshell__Sandbox__V1__GetGatewayConfigResponse__SettingsEntry
    cfg_gentry_init =
    OPENSHELL__SANDBOX__V1__GET_GATEWAY_CONFIG_RESPONSE__SETTINGS_ENTRY__INIT;
static const EnvEntry cfg_eentry_init =
    OPENSHELL__V1__GET_SANDBOX_PROVIDER_ENVIRONMENT_RESPONSE__ENVIRONMENT_ENTRY__INIT;
static const HostEntry cfg_hentry_init =
    OPENSHELL__V1__GET_SANDBOX_PROVIDER_ENVIRONMENT_RESPONSE__CREDENTIAL_HOSTS_ENTRY__INIT;

/* A policy in both forms, made by cfg_canon(). */
struct cfg_policy {
	struct policy	*cp_model;
	SPolicy		*cp_proto;
	uint8_t		*cp_buf;	/* canonical encoding */
	size_t		 cp_len;
	char		 cp_hash[POLICY_HASH_LEN];
};

struct cfg_eff {
	Openshell__Sandbox__V1__GetSandboxConfigResponse__SettingsEntry
	    **ce_v;
	size_t	 ce_n;
};

struct cfg_conf {
	Openshell__Sandbox__V1__GetSandboxConfigResponse res;
	struct policy_hash_settings	 gs, ss;
	struct cfg_eff			 eff;
	SPolicy				*own, *global;
	char				 hash[POLICY_HASH_LEN];
};

struct cfg_list {
	Openshell__V1__SandboxPolicyRevision	**cl_v;
	size_t					  cl_n;
	size_t					  cl_cap;
};

struct cfg_env {
	EnvEntry	**ce_v;
	size_t		  ce_n;
	/* Parallel to ce_v: each key's host globs (value malloc'd). */
	HostEntry	**ce_h;
	/* The providers own the strings of ce_v. */
	Openshell__Datamodel__V1__Provider **ce_prov;
	size_t		  ce_nprov;
};

static grpc_handler_fn	 cfg_get_sandbox_config;
static grpc_handler_fn	 cfg_get_gateway_config;
static grpc_handler_fn	 cfg_update_config;
static grpc_handler_fn	 cfg_policy_status;
static grpc_handler_fn	 cfg_list_policies;
static grpc_handler_fn	 cfg_report_status;
static grpc_handler_fn	 cfg_provider_env;

static int	 cfg_sandbox_get(struct gatewayd *, struct grpc_call *,
		    const char *, int, Sandbox **);
static int	 cfg_sandbox_put(struct gatewayd *, struct grpc_call *,
		    const Sandbox *);
static void	 cfg_notify(struct gatewayd *, const Sandbox *);
static void	 cfg_notify_all(struct gatewayd *);
static int	 cfg_notify_cb(const struct store_object *, void *);
static int	 cfg_settings_load(struct gatewayd *, struct grpc_call *,
		    const char *, struct policy_hash_settings *);
static int	 cfg_settings_save(struct gatewayd *, struct grpc_call *,
		    const char *, const char *, struct policy_hash_settings *);
static char	*cfg_settings_id(const char *);
static int	 cfg_canon_model(struct cfg_policy *);
static int	 cfg_canon(struct grpc_call *, const SPolicy *,
		    struct cfg_policy *);
static void	 cfg_policy_clear(struct cfg_policy *);
static SPolicy	*cfg_unpack_policy(const uint8_t *, size_t);
static int	 cfg_global_policy(struct grpc_call *,
		    const struct policy_hash_settings *, SPolicy **);
static const struct cfg_key *cfg_registered(const char *);
static void	 cfg_unknown_key(struct grpc_call *, const char *);
static int	 cfg_value_to_stored(struct grpc_call *, const char *,
		    const SValue *, struct policy_hash_setting *);
static SValue	*cfg_stored_to_value(const struct policy_hash_setting *);
static void	 cfg_value_free(SValue *);
static int	 cfg_status_enum(const char *);
static void	 cfg_revision_fill(Openshell__V1__SandboxPolicyRevision *,
		    const struct store_policy *);
static int	 cfg_latest(struct gatewayd *, struct grpc_call *,
		    const char *, struct store_policy *);
static int	 cfg_supersede(struct gatewayd *, const char *, int64_t);
static int	 cfg_next_version(struct gatewayd *, struct grpc_call *,
		    const char *, const char *, int, int64_t *, uint32_t *);
static int	 cfg_insert(struct gatewayd *, struct grpc_call *,
		    const char *, int64_t, const struct cfg_policy *, int64_t);
static int	 cfg_env_key_ok(const char *);
static const char *cfg_kind_name(enum policy_hash_type);
static int	 cfg_owner(struct gatewayd *, struct grpc_call *,
		    const char *, int, char *, uint32_t *);
static int	 cfg_list_cb(const struct store_policy *, void *);
static int	 cfg_eff_set(struct cfg_eff *, const char *, int,
		    const struct policy_hash_setting *);
static void	 cfg_eff_free(struct cfg_eff *);
static int	 cfg_eff_build(struct cfg_eff *,
		    const struct policy_hash_settings *,
		    const struct policy_hash_settings *);
static int	 cfg_sandbox_policy(struct gatewayd *, struct grpc_call *,
		    const Sandbox *, SPolicy **, uint32_t *, char *);
static int	 cfg_lazy_v1(struct gatewayd *, struct grpc_call *,
		    const Sandbox *, SPolicy **, char *);
static void	 cfg_conf_clear(struct cfg_conf *);
static int	 cfg_conf_global(struct gatewayd *, struct grpc_call *,
		    struct cfg_conf *);
static void	 cfg_update_global_policy(struct gatewayd *,
		    struct grpc_call *, const UReq *);
static void	 cfg_update_global_setting(struct gatewayd *,
		    struct grpc_call *, const UReq *, const char *);
static void	 cfg_update_sandbox_setting(struct gatewayd *,
		    struct grpc_call *, const UReq *, const char *,
		    const Sandbox *);
static void	 cfg_update_sandbox_policy(struct gatewayd *,
		    struct grpc_call *, const UReq *, Sandbox *);
static int	 cfg_validated(struct grpc_call *, const SPolicy *,
		    struct cfg_policy *);
static int	 cfg_check_live(struct grpc_call *, const Sandbox *,
		    struct cfg_policy *);
static int	 cfg_backfill(struct gatewayd *, struct grpc_call *,
		    Sandbox *, const struct cfg_policy *);
static int	 cfg_global_revision(struct gatewayd *, struct grpc_call *,
		    const struct cfg_policy *, uint32_t *);
static void	 cfg_reply_update(struct grpc_call *, uint32_t, const char *,
		    uint64_t, int);
static char	*cfg_trim(char *);
static int	 cfg_mark_loaded(struct gatewayd *, struct grpc_call *,
		    const char *, uint32_t);
static int	 cfg_env_add(struct cfg_env *,
		    const Openshell__Datamodel__V1__Provider *);
static int	 cfg_env_provider(struct gatewayd *, struct grpc_call *,
		    struct cfg_env *, const char *);
static void	 cfg_env_free(struct cfg_env *);
static void	 cfg_report_ok(struct grpc_call *);

/* ---- registration ---- */

void
rpc_config_register(struct gatewayd *gd)
{
	rpc_method(gd, OS "GetSandboxConfig", cfg_get_sandbox_config);
	rpc_method(gd, OS "GetGatewayConfig", cfg_get_gateway_config);
	rpc_method(gd, OS "UpdateConfig", cfg_update_config);
	rpc_method(gd, OS "GetSandboxPolicyStatus", cfg_policy_status);
	rpc_method(gd, OS "ListSandboxPolicies", cfg_list_policies);
	rpc_method(gd, OS "ReportPolicyStatus", cfg_report_status);
	rpc_method(gd, OS "GetSandboxProviderEnvironment", cfg_provider_env);
}

/* ---- records ---- */

/*
 * The sandbox by id (byname 0) or name.  0, or -1 with the call
 * finished (NOT_FOUND "sandbox not found", INTERNAL).
 */
static int
cfg_sandbox_get(struct gatewayd *gd, struct grpc_call *call,
    const char *key, int byname, Sandbox **out)
{
	struct store_object	 o = { 0 };
	int			 rc;

	*out = NULL;
	rc = byname ? store_get_by_name(gd->gd_store, STORE_T_SANDBOX, key,
	    &o) : store_get_by_id(gd->gd_store, STORE_T_SANDBOX, key, &o);
	if (rc == STORE_NOTFOUND) {
		rpc_error(call, GRPC_NOT_FOUND, "sandbox not found");
		return -1;
	}
	if (rc != STORE_OK) {
		rpc_error(call, GRPC_INTERNAL, "fetch sandbox failed");
		return -1;
	}
	*out = openshell__datamodel__v1__sandbox__unpack(NULL, o.so_len,
	    o.so_payload);
	store_object_clear(&o);
	if (*out == NULL) {
		rpc_error(call, GRPC_INTERNAL, "decode sandbox failed");
		return -1;
	}
	return 0;
}

/* 0, or -1 with the call finished. */
static int
cfg_sandbox_put(struct gatewayd *gd, struct grpc_call *call,
    const Sandbox *sb)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rc;

	len = openshell__datamodel__v1__sandbox__get_packed_size(sb);
	if ((buf = malloc(len ? len : 1)) == NULL) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	openshell__datamodel__v1__sandbox__pack(sb, buf);
	rc = store_put(gd->gd_store, STORE_T_SANDBOX, sb->id, sb->name, buf,
	    len, rpc_now_ms());
	free(buf);
	if (rc != STORE_OK) {
		rpc_error(call, GRPC_INTERNAL, "persist sandbox failed");
		return -1;
	}
	return 0;
}

/* The watch bus is bus.c's; gatewayd links without it. */
static void
cfg_notify(struct gatewayd *gd, const Sandbox *sb)
{
	if (bus_sandbox_changed != NULL)
		bus_sandbox_changed(gd, sb);
}

/*
 * The global policy changed every sandbox's effective policy: each one
 * gets a snapshot, which is what tells its supervisor to fetch its
 * config (the reference notifies nobody and leaves it to the poll).
 * Readers of snapshots are unaffected: the record did not change.
 */
static void
cfg_notify_all(struct gatewayd *gd)
{
	if (bus_sandbox_changed == NULL)
		return;
	if (store_list(gd->gd_store, STORE_T_SANDBOX, 0, 0, cfg_notify_cb,
	    gd) != 0)
		log_warnx("global policy: cannot list the sandboxes to notify");
}

/* Publishing only: a list callback must not write the store. */
static int
cfg_notify_cb(const struct store_object *obj, void *arg)
{
	struct gatewayd	*gd = arg;
	Sandbox		*sb;

	if ((sb = openshell__datamodel__v1__sandbox__unpack(NULL, obj->so_len,
	    obj->so_payload)) == NULL)
		return 0;
	bus_sandbox_changed(gd, sb);
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	return 0;
}

static char *
cfg_settings_id(const char *sandbox_id)
{
	char	*id;

	if (sandbox_id == NULL)
		return strdup(CFG_GLOBAL_ID);
	if (asprintf(&id, "settings:%s", sandbox_id) == -1)
		return NULL;
	return id;
}

/*
 * The settings blob of a sandbox (sandbox_id) or the gateway (NULL).
 * 0, or -1 with the call finished.
 */
static int
cfg_settings_load(struct gatewayd *gd, struct grpc_call *call,
    const char *sandbox_id, struct policy_hash_settings *s)
{
	struct store_object	 o = { 0 };
	const char		*type;
	char			*id, *err = NULL;
	int			 rc;

	memset(s, 0, sizeof(*s));
	type = sandbox_id ? STORE_T_SB_SETTINGS : STORE_T_GW_SETTINGS;
	if ((id = cfg_settings_id(sandbox_id)) == NULL) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	rc = store_get_by_id(gd->gd_store, type, id, &o);
	free(id);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != STORE_OK) {
		rpc_error(call, GRPC_INTERNAL, "fetch settings failed");
		return -1;
	}
	rc = policy_hash_settings_load(o.so_payload, o.so_len, s, &err);
	store_object_clear(&o);
	if (rc == -1) {
		rpc_error(call, GRPC_INTERNAL,
		    "decode settings payload failed: %s",
		    err ? err : "out of memory");
		free(err);
		return -1;
	}
	return 0;
}

/* 0, or -1 with the call finished. */
static int
cfg_settings_save(struct gatewayd *gd, struct grpc_call *call,
    const char *sandbox_id, const char *name, struct policy_hash_settings *s)
{
	char	*id, *json;
	int	 rc;

	id = cfg_settings_id(sandbox_id);
	json = policy_hash_settings_dump(s);
	if (id == NULL || json == NULL) {
		free(id);
		free(json);
		rpc_error(call, GRPC_INTERNAL,
		    "encode settings payload failed");
		return -1;
	}
	rc = store_put(gd->gd_store, sandbox_id ? STORE_T_SB_SETTINGS :
	    STORE_T_GW_SETTINGS, id, sandbox_id ? name : CFG_GLOBAL_NAME,
	    json, strlen(json), rpc_now_ms());
	free(id);
	free(json);
	if (rc != STORE_OK) {
		rpc_error(call, GRPC_INTERNAL, "persist settings failed");
		return -1;
	}
	return 0;
}

/* ---- policies ---- */

static void
cfg_policy_clear(struct cfg_policy *cp)
{
	policy_free(cp->cp_model);
	policy_proto_free(cp->cp_proto);
	free(cp->cp_buf);
	memset(cp, 0, sizeof(*cp));
}

/* From cp_model: the canonical message, its encoding and its hash. */
static int
cfg_canon_model(struct cfg_policy *cp)
{
	policy_proto_free(cp->cp_proto);
	free(cp->cp_buf);
	cp->cp_buf = NULL;
	if ((cp->cp_proto = policy_proto_from_model(cp->cp_model)) == NULL)
		return -1;
	cp->cp_len = openshell__sandbox__v1__sandbox_policy__get_packed_size(
	    cp->cp_proto);
	if ((cp->cp_buf = malloc(cp->cp_len ? cp->cp_len : 1)) == NULL)
		return -1;
	openshell__sandbox__v1__sandbox_policy__pack(cp->cp_proto, cp->cp_buf);
	return policy_hash_policy(cp->cp_proto, cp->cp_hash);
}

/* 0, or -1 with the call finished. */
static int
cfg_canon(struct grpc_call *call, const SPolicy *in, struct cfg_policy *cp)
{
	char	*err = NULL;

	memset(cp, 0, sizeof(*cp));
	if ((cp->cp_model = policy_proto_to_model(in, &err)) == NULL ||
	    cfg_canon_model(cp) == -1) {
		free(err);
		cfg_policy_clear(cp);
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

static SPolicy *
cfg_unpack_policy(const uint8_t *buf, size_t len)
{
	return openshell__sandbox__v1__sandbox_policy__unpack(NULL, len,
	    buf ? buf : (const uint8_t *)"");
}

/*
 * The global policy held in the gateway blob's reserved key, or NULL
 * in *out when there is none.  0, or -1 with the call finished.
 */
static int
cfg_global_policy(struct grpc_call *call,
    const struct policy_hash_settings *gs, SPolicy **out)
{
	const struct policy_hash_setting	*v;
	uint8_t					*raw;
	size_t					 len;

	*out = NULL;
	if ((v = policy_hash_settings_get(gs, CFG_POLICY_KEY)) == NULL)
		return 0;
	if (v->type != PH_BYTES) {
		rpc_error(call, GRPC_INTERNAL, "global policy setting has "
		    "invalid value type; expected bytes");
		return -1;
	}
	if (policy_hash_unhex(v->str, &raw, &len) == -1) {
		rpc_error(call, GRPC_INTERNAL, "global policy decode failed");
		return -1;
	}
	*out = cfg_unpack_policy(raw, len);
	free(raw);
	if (*out == NULL) {
		rpc_error(call, GRPC_INTERNAL,
		    "global policy protobuf decode failed");
		return -1;
	}
	return 0;
}

/* 0 (row in out), 1 (no revision), or -1 with the call finished. */
static int
cfg_latest(struct gatewayd *gd, struct grpc_call *call, const char *sid,
    struct store_policy *out)
{
	int	 rc;

	memset(out, 0, sizeof(*out));
	rc = store_policy_latest(gd->gd_store, sid, out);
	if (rc == STORE_NOTFOUND)
		return 1;
	if (rc != STORE_OK) {
		rpc_error(call, GRPC_INTERNAL, "fetch latest policy failed");
		return -1;
	}
	return 0;
}

/*
 * The version a policy with this hash gets in sid: *next the new one
 * (latest + 1, or 1), or 0 with *same the latest version when that
 * one has the same hash (and, if need_loaded, is loaded).  0, or -1
 * with the call finished.
 */
static int
cfg_next_version(struct gatewayd *gd, struct grpc_call *call,
    const char *sid, const char *hash, int need_loaded, int64_t *next,
    uint32_t *same)
{
	struct store_policy	 row;
	int			 rc;

	*next = 1;
	*same = 0;
	if ((rc = cfg_latest(gd, call, sid, &row)) == -1)
		return -1;
	if (rc == 1)
		return 0;
	*next = row.sp_version + 1;
	if (strcmp(policy_s(row.sp_hash), hash) == 0 && (!need_loaded ||
	    strcmp(policy_s(row.sp_status), STORE_POLICY_LOADED) == 0)) {
		*next = 0;
		*same = (uint32_t)row.sp_version;
	}
	store_policy_clear(&row);
	return 0;
}

/*
 * Revision version of sid, pending (loaded_ms 0) or loaded at
 * loaded_ms, and the older pending/loaded ones superseded, in one
 * transaction.  0, or -1 with the call finished.
 */
static int
cfg_insert(struct gatewayd *gd, struct grpc_call *call, const char *sid,
    int64_t version, const struct cfg_policy *cp, int64_t loaded_ms)
{
	struct store	*st = gd->gd_store;

	if (store_begin(st) == -1 ||
	    store_policy_insert(st, NULL, sid, version, cp->cp_buf,
	    cp->cp_len, cp->cp_hash, loaded_ms ? STORE_POLICY_LOADED :
	    STORE_POLICY_PENDING, rpc_now_ms()) != STORE_OK ||
	    (loaded_ms && store_policy_set_status(st, sid, version,
	    STORE_POLICY_LOADED, NULL, loaded_ms) != STORE_OK) ||
	    cfg_supersede(gd, sid, version) != STORE_OK ||
	    store_commit(st) == -1) {
		store_rollback(st);
		rpc_error(call, GRPC_INTERNAL,
		    "persist policy revision failed");
		return -1;
	}
	return 0;
}

/* Older pending/loaded revisions of sid become superseded. */
static int
cfg_supersede(struct gatewayd *gd, const char *sid, int64_t version)
{
	static const char *const st[] = { STORE_POLICY_PENDING,
	    STORE_POLICY_LOADED, NULL };

	return store_policy_supersede_older(gd->gd_store, sid, version, st,
	    NULL);
}

static int
cfg_status_enum(const char *s)
{
	if (s == NULL)
		return OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_UNSPECIFIED;
	if (strcmp(s, STORE_POLICY_PENDING) == 0)
		return OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_PENDING;
	if (strcmp(s, STORE_POLICY_LOADED) == 0)
		return OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED;
	if (strcmp(s, STORE_POLICY_FAILED) == 0)
		return OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED;
	if (strcmp(s, STORE_POLICY_SUPERSEDED) == 0)
		return OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_SUPERSEDED;
	return OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_UNSPECIFIED;
}

/* Points into row; the policy is left to the caller. */
static void
cfg_revision_fill(Openshell__V1__SandboxPolicyRevision *r,
    const struct store_policy *row)
{
	openshell__v1__sandbox_policy_revision__init(r);
	r->version = (uint32_t)row->sp_version;
	r->policy_hash = row->sp_hash ? row->sp_hash : "";
	r->status = cfg_status_enum(row->sp_status);
	r->load_error = row->sp_load_error ? row->sp_load_error : "";
	r->created_at_ms = row->sp_created_ms;
	r->loaded_at_ms = row->sp_loaded_ms;
}

/* ---- settings values ---- */

static const struct cfg_key *
cfg_registered(const char *key)
{
	const struct cfg_key	*k;

	for (k = cfg_registry; k->ck_key != NULL; k++)
		if (strcmp(k->ck_key, key) == 0)
			return k;
	return NULL;
}

static void
cfg_unknown_key(struct grpc_call *call, const char *key)
{
	const struct cfg_key	*k;
	char			 csv[512] = "";

	for (k = cfg_registry; k->ck_key != NULL; k++) {
		if (k != cfg_registry)
			strlcat(csv, ", ", sizeof(csv));
		strlcat(csv, k->ck_key, sizeof(csv));
	}
	rpc_error(call, GRPC_INVALID_ARGUMENT,
	    "unknown setting key '%s'. Allowed keys: %s", key, csv);
}

static const char *
cfg_kind_name(enum policy_hash_type t)
{
	switch (t) {
	case PH_STRING:
		return "string";
	case PH_BOOL:
		return "bool";
	case PH_INT:
		return "int";
	default:
		return "bytes";
	}
}

/* A registered key's value, checked against its kind; -1: finished. */
static int
cfg_value_to_stored(struct grpc_call *call, const char *key,
    const SValue *v, struct policy_hash_setting *out)
{
	const struct cfg_key	*k;

	memset(out, 0, sizeof(*out));
	if ((k = cfg_registered(key)) == NULL) {
		cfg_unknown_key(call, key);
		return -1;
	}
	if (v == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "setting_value is required");
		return -1;
	}
	out->key = (char *)key;
	switch (v->value_case) {
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE:
		out->type = PH_STRING;
		out->str = v->string_value;
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE:
		out->type = PH_BOOL;
		out->num = v->bool_value != 0;
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE:
		out->type = PH_INT;
		out->num = v->int_value;
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BYTES_VALUE:
		rpc_error(call, GRPC_INVALID_ARGUMENT, "setting '%s' expects "
		    "%s value; bytes are not supported for this key", key,
		    cfg_kind_name(k->ck_kind));
		return -1;
	default:
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "setting_value.value is required");
		return -1;
	}
	if (out->type != k->ck_kind) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "setting '%s' expects %s value", key,
		    cfg_kind_name(k->ck_kind));
		return -1;
	}
	return 0;
}

/* A fresh SettingValue (NULL for no value or out of memory). */
static SValue *
cfg_stored_to_value(const struct policy_hash_setting *s)
{
	SValue	*v;
	size_t	 len;

	if (s == NULL || (v = malloc(sizeof(*v))) == NULL)
		return NULL;
	openshell__sandbox__v1__setting_value__init(v);
	switch (s->type) {
	case PH_STRING:
		v->value_case =
		    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE;
		v->string_value = strdup(s->str ? s->str : "");
		break;
	case PH_BOOL:
		v->value_case =
		    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE;
		v->bool_value = s->num != 0;
		break;
	case PH_INT:
		v->value_case =
		    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE;
		v->int_value = s->num;
		break;
	default:
		v->value_case =
		    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BYTES_VALUE;
		if (policy_hash_unhex(s->str ? s->str : "",
		    &v->bytes_value.data, &len) == -1) {
			free(v);
			return NULL;
		}
		v->bytes_value.len = len;
		break;
	}
	return v;
}

static void
cfg_value_free(SValue *v)
{
	if (v == NULL)
		return;
	if (v->value_case ==
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE)
		free(v->string_value);
	else if (v->value_case ==
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BYTES_VALUE)
		free(v->bytes_value.data);
	free(v);
}

/* ---- GetSandboxConfig ---- */

static int
cfg_eff_set(struct cfg_eff *e, const char *key, int scope,
    const struct policy_hash_setting *s)
{
	Openshell__Sandbox__V1__GetSandboxConfigResponse__SettingsEntry *en,
	    **nv;
	Openshell__Sandbox__V1__EffectiveSetting *es;
	size_t	 i;

	for (i = 0; i < e->ce_n; i++)
		if (strcmp(e->ce_v[i]->key, key) == 0)
			break;
	if (i == e->ce_n) {
		nv = reallocarray(e->ce_v, e->ce_n + 1, sizeof(*nv));
		if (nv == NULL)
			return -1;
		e->ce_v = nv;
		en = calloc(1, sizeof(*en));
		es = calloc(1, sizeof(*es));
		if (en == NULL || es == NULL || (key = strdup(key)) == NULL) {
			free(en);
			free(es);
			return -1;
		}
		*en = cfg_sentry_init;
		openshell__sandbox__v1__effective_setting__init(es);
		en->key = (char *)key;
		en->value = es;
		e->ce_v[e->ce_n++] = en;
	}
	es = e->ce_v[i]->value;
	cfg_value_free(es->value);
	es->value = cfg_stored_to_value(s);
	es->scope = scope;
	return s != NULL && es->value == NULL ? -1 : 0;
}

static void
cfg_eff_free(struct cfg_eff *e)
{
	size_t	 i;

	for (i = 0; i < e->ce_n; i++) {
		cfg_value_free(e->ce_v[i]->value->value);
		free(e->ce_v[i]->value);
		free(e->ce_v[i]->key);
		free(e->ce_v[i]);
	}
	free(e->ce_v);
}

/* Registered keys, overlaid by sandbox then global values. */
static int
cfg_eff_build(struct cfg_eff *e, const struct policy_hash_settings *sb,
    const struct policy_hash_settings *gl)
{
	const struct cfg_key	*k;
	size_t			 i;

	for (k = cfg_registry; k->ck_key != NULL; k++)
		if (cfg_eff_set(e, k->ck_key,
		    SCOPE_UNSET,
		    NULL) == -1)
			return -1;
	for (i = 0; i < sb->n; i++)
		if (cfg_registered(sb->v[i].key) != NULL &&
		    cfg_eff_set(e, sb->v[i].key,
		    SCOPE_SANDBOX,
		    &sb->v[i]) == -1)
			return -1;
	for (i = 0; i < gl->n; i++)
		if (cfg_registered(gl->v[i].key) != NULL &&
		    cfg_eff_set(e, gl->v[i].key,
		    SCOPE_GLOBAL,
		    &gl->v[i]) == -1)
			return -1;
	return 0;
}

/*
 * Revision 1 made from spec.policy, already loaded.  0 with *out set,
 * or -1 with the call finished.
 */
static int
cfg_lazy_v1(struct gatewayd *gd, struct grpc_call *call, const Sandbox *sb,
    SPolicy **out, char *hash)
{
	struct cfg_policy	 cp;
	int			 rc;

	if (cfg_canon(call, sb->spec->policy, &cp) == -1)
		return -1;
	rc = store_policy_insert(gd->gd_store, NULL, sb->id, 1, cp.cp_buf,
	    cp.cp_len, cp.cp_hash, STORE_POLICY_LOADED, rpc_now_ms());
	if (rc != STORE_OK)
		log_warnx("sandbox %s: cannot back-fill policy version 1",
		    sb->name);
	strlcpy(hash, cp.cp_hash, POLICY_HASH_LEN);
	*out = cfg_unpack_policy(cp.cp_buf, cp.cp_len);
	cfg_policy_clear(&cp);
	if (*out == NULL) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The sandbox's own latest policy: *out NULL and version 0 is the
 * "no policy" signal.  0, or -1 with the call finished.
 */
static int
cfg_sandbox_policy(struct gatewayd *gd, struct grpc_call *call,
    const Sandbox *sb, SPolicy **out, uint32_t *version, char *hash)
{
	struct store_policy	 row;
	int			 rc;

	*out = NULL;
	*version = 0;
	hash[0] = '\0';
	if ((rc = cfg_latest(gd, call, sb->id, &row)) == -1)
		return -1;
	if (rc == 0) {
		*version = (uint32_t)row.sp_version;
		strlcpy(hash, row.sp_hash ? row.sp_hash : "", POLICY_HASH_LEN);
		*out = cfg_unpack_policy(row.sp_payload, row.sp_len);
		store_policy_clear(&row);
		if (*out == NULL) {
			rpc_error(call, GRPC_INTERNAL, "decode policy failed");
			return -1;
		}
		return 0;
	}
	if (sb->spec == NULL) {
		rpc_error(call, GRPC_INTERNAL, "sandbox has no spec");
		return -1;
	}
	if (sb->spec->policy == NULL)
		return 0;
	*version = 1;
	return cfg_lazy_v1(gd, call, sb, out, hash);
}

static void
cfg_conf_clear(struct cfg_conf *c)
{
	policy_hash_settings_clear(&c->gs);
	policy_hash_settings_clear(&c->ss);
	cfg_eff_free(&c->eff);
	if (c->own != NULL)
		protobuf_c_message_free_unpacked(&c->own->base, NULL);
	if (c->global != NULL)
		protobuf_c_message_free_unpacked(&c->global->base, NULL);
}

/* The global policy, when there is one, replaces the sandbox's. */
static int
cfg_conf_global(struct gatewayd *gd, struct grpc_call *call,
    struct cfg_conf *c)
{
	struct store_policy	 row;
	int			 rc;

	if (cfg_global_policy(call, &c->gs, &c->global) == -1)
		return -1;
	if (c->global == NULL) {
		c->res.policy_source =
		    SOURCE_SANDBOX;
		return 0;
	}
	if (policy_hash_policy(c->global, c->hash) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	c->res.policy = c->global;
	c->res.policy_source =
	    SOURCE_GLOBAL;
	if (c->res.version == 0)
		c->res.version = 1;
	if ((rc = cfg_latest(gd, call, STORE_POLICY_GLOBAL, &row)) == -1)
		return -1;
	if (rc == 0) {
		c->res.global_policy_version = (uint32_t)row.sp_version;
		store_policy_clear(&row);
	}
	return 0;
}

static void
cfg_get_sandbox_config(struct grpc_call *call, const uint8_t *msg,
    size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__Sandbox__V1__GetSandboxConfigRequest *req;
	Sandbox					*sb = NULL;
	struct cfg_conf				 c;

	memset(&c, 0, sizeof(c));
	openshell__sandbox__v1__get_sandbox_config_response__init(&c.res);
	req = openshell__sandbox__v1__get_sandbox_config_request__unpack(NULL,
	    len, msg);
	if (req == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (auth_sandbox(gd, call, req->sandbox_id) == -1 ||
	    cfg_sandbox_get(gd, call, req->sandbox_id, 0, &sb) == -1 ||
	    cfg_sandbox_policy(gd, call, sb, &c.own, &c.res.version,
	    c.hash) == -1 ||
	    cfg_settings_load(gd, call, NULL, &c.gs) == -1 ||
	    cfg_settings_load(gd, call, sb->id, &c.ss) == -1)
		goto done;
	c.res.policy = c.own;
	if (cfg_conf_global(gd, call, &c) == -1)
		goto done;
	if (cfg_eff_build(&c.eff, &c.ss, &c.gs) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		goto done;
	}
	c.res.policy_hash = c.hash;
	c.res.settings = c.eff.ce_v;
	c.res.n_settings = c.eff.ce_n;
	c.res.config_revision = policy_hash_config_revision(
	    (int32_t)c.res.policy_source, c.res.policy ? c.hash : NULL,
	    c.eff.ce_v, c.eff.ce_n);
	rpc_reply(call, &c.res.base);
done:
	cfg_conf_clear(&c);
	if (sb != NULL)
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	openshell__sandbox__v1__get_sandbox_config_request__free_unpacked(req,
	    NULL);
}

/* ---- GetGatewayConfig ---- */

static void
cfg_get_gateway_config(struct grpc_call *call, const uint8_t *msg,
    size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__Sandbox__V1__GetGatewayConfigResponse res;
	Openshell__Sandbox__V1__GetGatewayConfigResponse__SettingsEntry *ents,
	    **pv;
	const struct cfg_key			*k;
	struct policy_hash_settings		 gs;
	size_t					 i, n = 0, cap;

	(void)msg;
	(void)len;
	if (cfg_settings_load(gd, call, NULL, &gs) == -1)
		return;
	for (cap = gs.n, k = cfg_registry; k->ck_key != NULL; k++)
		cap++;
	ents = calloc(cap + 1, sizeof(*ents));
	pv = calloc(cap + 1, sizeof(*pv));
	if (ents == NULL || pv == NULL)
		goto oom;
	for (k = cfg_registry; k->ck_key != NULL; k++)
		if (policy_hash_settings_get(&gs, k->ck_key) == NULL) {
			ents[n] = cfg_gentry_init;
			ents[n].key = (char *)k->ck_key;
			pv[n] = &ents[n];
			n++;
		}
	for (i = 0; i < gs.n; i++) {
		if (strcmp(gs.v[i].key, CFG_POLICY_KEY) == 0)
			continue;
		ents[n] = cfg_gentry_init;
		ents[n].key = gs.v[i].key;
		if ((ents[n].value = cfg_stored_to_value(&gs.v[i])) == NULL)
			goto oom;
		pv[n] = &ents[n];
		n++;
	}
	openshell__sandbox__v1__get_gateway_config_response__init(&res);
	res.settings = pv;
	res.n_settings = n;
	res.settings_revision = gs.revision;
	rpc_reply(call, &res.base);
	goto done;
oom:
	rpc_error(call, GRPC_INTERNAL, "out of memory");
done:
	for (i = 0; i < n && ents != NULL; i++)
		cfg_value_free(ents[i].value);
	free(ents);
	free(pv);
	policy_hash_settings_clear(&gs);
}

/* ---- UpdateConfig ---- */

static char *
cfg_trim(char *s)
{
	size_t	 n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static void
cfg_reply_update(struct grpc_call *call, uint32_t version, const char *hash,
    uint64_t settings_revision, int deleted)
{
	Openshell__V1__UpdateConfigResponse	 res;

	openshell__v1__update_config_response__init(&res);
	res.version = version;
	res.policy_hash = (char *)(hash ? hash : "");
	res.settings_revision = settings_revision;
	res.deleted = deleted != 0;
	rpc_reply(call, &res.base);
}

static void
cfg_update_config(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gatewayd	*gd = arg;
	UReq		*req;
	Sandbox		*sb = NULL;
	char		*key;

	if ((req = openshell__v1__update_config_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	key = cfg_trim(req->setting_key);
	if (req->policy != NULL && *key != '\0')
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "policy and setting_key cannot be set in the same request");
	else if (req->policy == NULL && *key == '\0')
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "either policy or setting_key must be provided");
	else if (!auth_is_admin(call) && (req->global || *key != '\0'))
		/* A sandbox may only sync its own policy. */
		auth_deny(call);
	else if (req->global && req->policy != NULL)
		cfg_update_global_policy(gd, call, req);
	else if (req->global)
		cfg_update_global_setting(gd, call, req, key);
	else if (*req->name == '\0')
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "name is required for sandbox-scoped updates");
	else if (cfg_sandbox_get(gd, call, req->name, 1, &sb) == 0 &&
	    auth_sandbox(gd, call, sb->id) == 0) {
		if (*key != '\0')
			cfg_update_sandbox_setting(gd, call, req, key, sb);
		else
			cfg_update_sandbox_policy(gd, call, req, sb);
	}
	if (sb != NULL)
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	openshell__v1__update_config_request__free_unpacked(req, NULL);
}

/*
 * Process identity defaulted, then the safety check (INVALID_ARGUMENT
 * "policy contains unsafe content: ...").  0, or -1 with the call
 * finished.
 */
static int
cfg_validated(struct grpc_call *call, const SPolicy *in,
    struct cfg_policy *cp)
{
	char	*err;

	if (cfg_canon(call, in, cp) == -1)
		return -1;
	policy_default_process(cp->cp_model);
	if ((err = policy_validate_safety(cp->cp_model)) != NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "%s", err);
		free(err);
		cfg_policy_clear(cp);
		return -1;
	}
	if (cfg_canon_model(cp) == -1) {
		cfg_policy_clear(cp);
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The global revision for cp: the latest one if it has the same hash
 * and is loaded, else a new one, loaded at once, superseding the
 * older ones.  0, or -1 with the call finished.
 */
static int
cfg_global_revision(struct gatewayd *gd, struct grpc_call *call,
    const struct cfg_policy *cp, uint32_t *version)
{
	int64_t		 next;

	if (cfg_next_version(gd, call, STORE_POLICY_GLOBAL, cp->cp_hash, 1,
	    &next, version) == -1)
		return -1;
	if (next == 0)
		return 0;
	if (cfg_insert(gd, call, STORE_POLICY_GLOBAL, next, cp,
	    rpc_now_ms()) == -1)
		return -1;
	*version = (uint32_t)next;
	return 0;
}

static void
cfg_update_global_policy(struct gatewayd *gd, struct grpc_call *call,
    const UReq *req)
{
	struct policy_hash_settings	 gs;
	struct policy_hash_setting	 v;
	struct cfg_policy		 cp;
	uint32_t			 version = 0;
	int				 rc;

	if (req->delete_setting) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "delete_setting cannot be combined with policy payload");
		return;
	}
	if (cfg_validated(call, req->policy, &cp) == -1)
		return;
	if (cfg_settings_load(gd, call, NULL, &gs) == -1)
		goto done;
	if (cfg_global_revision(gd, call, &cp, &version) == -1)
		goto done;
	memset(&v, 0, sizeof(v));
	v.key = CFG_POLICY_KEY;
	v.type = PH_BYTES;
	if ((v.str = policy_hash_hex(cp.cp_buf, cp.cp_len)) == NULL ||
	    (rc = policy_hash_settings_put(&gs, &v)) == -1) {
		free(v.str);
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		goto done;
	}
	free(v.str);
	if (rc == 1) {
		gs.revision++;
		if (cfg_settings_save(gd, call, NULL, NULL, &gs) == -1)
			goto done;
		cfg_notify_all(gd);
	}
	log_info("global policy version %u (%.12s)", version, cp.cp_hash);
	cfg_reply_update(call, version, cp.cp_hash, gs.revision, 0);
done:
	policy_hash_settings_clear(&gs);
	cfg_policy_clear(&cp);
}

static void
cfg_update_global_setting(struct gatewayd *gd, struct grpc_call *call,
    const UReq *req, const char *key)
{
	struct policy_hash_settings	 gs;
	struct policy_hash_setting	 v;
	int				 changed;

	if (strcmp(key, CFG_POLICY_KEY) == 0 && !req->delete_setting) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "reserved key 'policy' must be set via the policy field");
		return;
	}
	if (strcmp(key, CFG_POLICY_KEY) != 0 && cfg_registered(key) == NULL) {
		cfg_unknown_key(call, key);
		return;
	}
	if (!req->delete_setting &&
	    cfg_value_to_stored(call, key, req->setting_value, &v) == -1)
		return;
	if (cfg_settings_load(gd, call, NULL, &gs) == -1)
		return;
	if (req->delete_setting)
		changed = policy_hash_settings_del(&gs, key);
	else if ((changed = policy_hash_settings_put(&gs, &v)) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		goto done;
	}
	/* Deleting the global policy releases the lock on sandboxes. */
	if (req->delete_setting && strcmp(key, CFG_POLICY_KEY) == 0 &&
	    store_policy_supersede_older(gd->gd_store, STORE_POLICY_GLOBAL,
	    INT64_MAX, (const char *const []){ STORE_POLICY_PENDING,
	    STORE_POLICY_LOADED, STORE_POLICY_FAILED, NULL }, NULL) !=
	    STORE_OK) {
		rpc_error(call, GRPC_INTERNAL,
		    "supersede global policy failed");
		goto done;
	}
	if (changed) {
		gs.revision++;
		if (cfg_settings_save(gd, call, NULL, NULL, &gs) == -1)
			goto done;
		/* Released: every sandbox goes back to its own policy. */
		if (strcmp(key, CFG_POLICY_KEY) == 0)
			cfg_notify_all(gd);
	}
	cfg_reply_update(call, 0, NULL, gs.revision,
	    req->delete_setting && changed);
done:
	policy_hash_settings_clear(&gs);
}

static void
cfg_update_sandbox_setting(struct gatewayd *gd, struct grpc_call *call,
    const UReq *req, const char *key, const Sandbox *sb)
{
	struct policy_hash_settings	 gs, ss;
	struct policy_hash_setting	 v;
	int				 changed, managed;

	if (strcmp(key, CFG_POLICY_KEY) == 0) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "reserved key 'policy' must be set via policy commands");
		return;
	}
	if (cfg_settings_load(gd, call, NULL, &gs) == -1)
		return;
	managed = policy_hash_settings_get(&gs, key) != NULL;
	policy_hash_settings_clear(&gs);
	if (managed) {
		rpc_error(call, GRPC_FAILED_PRECONDITION,
		    req->delete_setting ? "setting '%s' is managed globally; "
		    "delete the global setting first" : "setting '%s' is "
		    "managed globally; delete the global setting before "
		    "sandbox update", key);
		return;
	}
	if (!req->delete_setting &&
	    cfg_value_to_stored(call, key, req->setting_value, &v) == -1)
		return;
	if (cfg_settings_load(gd, call, sb->id, &ss) == -1)
		return;
	if (req->delete_setting)
		changed = policy_hash_settings_del(&ss, key);
	else if ((changed = policy_hash_settings_put(&ss, &v)) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		goto done;
	}
	if (changed) {
		ss.revision++;
		if (cfg_settings_save(gd, call, sb->id, sb->name, &ss) == -1)
			goto done;
	}
	cfg_reply_update(call, 0, NULL, ss.revision,
	    req->delete_setting && changed);
done:
	policy_hash_settings_clear(&ss);
}

/*
 * Against the create-time baseline: immutability first, then safety
 * (e2e relies on the order).  0, or -1 with the call finished.
 */
static int
cfg_check_live(struct grpc_call *call, const Sandbox *sb,
    struct cfg_policy *cp)
{
	struct policy	*base;
	char		*err = NULL;

	if ((base = policy_proto_to_model(sb->spec->policy, &err)) == NULL) {
		free(err);
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	policy_default_process(base);
	err = policy_validate_update(base, cp->cp_model);
	policy_free(base);
	if (err == NULL)
		err = policy_validate_safety(cp->cp_model);
	if (err != NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "%s", err);
		free(err);
		return -1;
	}
	return 0;
}

/* No baseline: this policy becomes it, unvalidated (§2.6). */
static int
cfg_backfill(struct gatewayd *gd, struct grpc_call *call, Sandbox *sb,
    const struct cfg_policy *cp)
{
	SPolicy	*old = sb->spec->policy;
	int	 rc;

	sb->spec->policy = cp->cp_proto;
	rc = cfg_sandbox_put(gd, call, sb);
	sb->spec->policy = old;
	if (rc == 0)
		log_info("sandbox %s: policy baseline back-filled", sb->name);
	return rc;
}

static void
cfg_update_sandbox_policy(struct gatewayd *gd, struct grpc_call *call,
    const UReq *req, Sandbox *sb)
{
	struct policy_hash_settings	 gs;
	struct cfg_policy		 cp;
	SPolicy				*old;
	int64_t				 next;
	uint32_t			 same;
	int				 locked;

	if (cfg_settings_load(gd, call, NULL, &gs) == -1)
		return;
	locked = policy_hash_settings_get(&gs, CFG_POLICY_KEY) != NULL;
	policy_hash_settings_clear(&gs);
	if (locked) {
		rpc_error(call, GRPC_FAILED_PRECONDITION, "policy is managed "
		    "globally; delete global policy before sandbox policy "
		    "update");
		return;
	}
	if (sb->spec == NULL) {
		rpc_error(call, GRPC_INTERNAL, "sandbox has no spec");
		return;
	}
	if (cfg_canon(call, req->policy, &cp) == -1)
		return;
	policy_default_process(cp.cp_model);
	if (cfg_canon_model(&cp) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		goto done;
	}
	if (sb->spec->policy != NULL ? cfg_check_live(call, sb, &cp) :
	    cfg_backfill(gd, call, sb, &cp))
		goto done;
	if (cfg_next_version(gd, call, sb->id, cp.cp_hash, 0, &next,
	    &same) == -1)
		goto done;
	if (next == 0) {
		cfg_reply_update(call, same, cp.cp_hash, 0, 0);
		goto done;
	}
	if (cfg_insert(gd, call, sb->id, next, &cp, 0) == -1)
		goto done;
	/* Watchers see the record as it is now, baseline included. */
	old = sb->spec->policy;
	if (old == NULL)
		sb->spec->policy = cp.cp_proto;
	cfg_notify(gd, sb);
	sb->spec->policy = old;
	log_info("sandbox %s: policy version %lld (%.12s)", sb->name,
	    (long long)next, cp.cp_hash);
	cfg_reply_update(call, (uint32_t)next, cp.cp_hash, 0, 0);
done:
	cfg_policy_clear(&cp);
}

/* ---- GetSandboxPolicyStatus / ListSandboxPolicies ---- */

/*
 * The revisions' owner: the global sentinel, or the named sandbox
 * (its id into sid, its current_policy_version into active).  0, or
 * -1 with the call finished.
 */
static int
cfg_owner(struct gatewayd *gd, struct grpc_call *call, const char *name,
    int global, char *sid, uint32_t *active)
{
	Sandbox	*sb;

	*active = 0;
	if (global) {
		strlcpy(sid, STORE_POLICY_GLOBAL, GD_UUID_LEN);
		return 0;
	}
	if (*name == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "name is required");
		return -1;
	}
	if (cfg_sandbox_get(gd, call, name, 1, &sb) == -1)
		return -1;
	strlcpy(sid, sb->id, GD_UUID_LEN);
	*active = sb->current_policy_version;
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	return 0;
}

static void
cfg_policy_status(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__GetSandboxPolicyStatusRequest *req;
	Openshell__V1__GetSandboxPolicyStatusResponse res;
	Openshell__V1__SandboxPolicyRevision	 rev;
	struct store_policy			 row;
	char					 sid[GD_UUID_LEN];
	int					 rc;

	if ((req = openshell__v1__get_sandbox_policy_status_request__unpack(
	    NULL, len, msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	openshell__v1__get_sandbox_policy_status_response__init(&res);
	if (cfg_owner(gd, call, req->name, req->global, sid,
	    &res.active_version) == -1)
		goto done;
	memset(&row, 0, sizeof(row));
	rc = req->version == 0 ? store_policy_latest(gd->gd_store, sid, &row) :
	    store_policy_get(gd->gd_store, sid, req->version, &row);
	if (rc == STORE_NOTFOUND)
		rpc_error(call, GRPC_NOT_FOUND, req->global ?
		    "no global policy revision found" :
		    "no policy revision found for this sandbox");
	else if (rc != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "fetch policy failed");
	else {
		cfg_revision_fill(&rev, &row);
		rev.policy = cfg_unpack_policy(row.sp_payload, row.sp_len);
		res.revision = &rev;
		rpc_reply(call, &res.base);
		if (rev.policy != NULL)
			protobuf_c_message_free_unpacked(&rev.policy->base,
			    NULL);
		store_policy_clear(&row);
	}
done:
	openshell__v1__get_sandbox_policy_status_request__free_unpacked(req,
	    NULL);
}

static int
cfg_list_cb(const struct store_policy *row, void *arg)
{
	struct cfg_list				*l = arg;
	Openshell__V1__SandboxPolicyRevision	*r;

	if (l->cl_n == l->cl_cap || (r = malloc(sizeof(*r))) == NULL)
		return -1;
	cfg_revision_fill(r, row);
	r->policy_hash = strdup(r->policy_hash);
	r->load_error = strdup(r->load_error);
	l->cl_v[l->cl_n++] = r;
	return r->policy_hash == NULL || r->load_error == NULL ? -1 : 0;
}

static void
cfg_list_policies(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__ListSandboxPoliciesRequest *req;
	Openshell__V1__ListSandboxPoliciesResponse res;
	struct cfg_list				 l = { NULL, 0, 0 };
	char					 sid[GD_UUID_LEN];
	uint32_t				 active, limit;
	size_t					 i;

	if ((req = openshell__v1__list_sandbox_policies_request__unpack(NULL,
	    len, msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (cfg_owner(gd, call, req->name, req->global, sid, &active) == -1)
		goto done;
	limit = req->limit == 0 ? CFG_LIST_DEFAULT : req->limit;
	if (limit > CFG_LIST_MAX)
		limit = CFG_LIST_MAX;
	l.cl_cap = limit;
	if ((l.cl_v = calloc(limit, sizeof(*l.cl_v))) == NULL ||
	    store_policy_list(gd->gd_store, sid, limit, req->offset,
	    cfg_list_cb, &l) != 0) {
		rpc_error(call, GRPC_INTERNAL, "list policies failed");
		goto done;
	}
	openshell__v1__list_sandbox_policies_response__init(&res);
	res.revisions = l.cl_v;
	res.n_revisions = l.cl_n;
	rpc_reply(call, &res.base);
done:
	for (i = 0; i < l.cl_n; i++) {
		free(l.cl_v[i]->policy_hash);
		free(l.cl_v[i]->load_error);
		free(l.cl_v[i]);
	}
	free(l.cl_v);
	openshell__v1__list_sandbox_policies_request__free_unpacked(req, NULL);
}

/* ---- ReportPolicyStatus ---- */

/* The sandbox runs this version now.  0, or -1 with the call finished. */
static int
cfg_mark_loaded(struct gatewayd *gd, struct grpc_call *call,
    const char *id, uint32_t version)
{
	Sandbox	*sb;
	int	 rc;

	if (cfg_supersede(gd, id, version) != STORE_OK)
		log_warnx("%s: cannot supersede older revisions", __func__);
	if (cfg_sandbox_get(gd, call, id, 0, &sb) == -1)
		return -1;
	sb->current_policy_version = version;
	if ((rc = cfg_sandbox_put(gd, call, sb)) == 0)
		cfg_notify(gd, sb);
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	return rc;
}

/* ReportPolicyStatusResponse has no fields. */
static void
cfg_report_ok(struct grpc_call *call)
{
	Openshell__V1__ReportPolicyStatusResponse	 res;

	openshell__v1__report_policy_status_response__init(&res);
	rpc_reply(call, &res.base);
}

static void
cfg_report_status(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__ReportPolicyStatusRequest *req;
	const char				*status = NULL, *err = NULL;
	int64_t					 now = 0;
	int					 rc;

	if ((req = openshell__v1__report_policy_status_request__unpack(NULL,
	    len, msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->status == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED) {
		status = STORE_POLICY_LOADED;
		now = rpc_now_ms();
	} else if (req->status ==
	    OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED) {
		status = STORE_POLICY_FAILED;
		if (*req->load_error != '\0')
			err = req->load_error;
	}
	if (*req->sandbox_id == '\0')
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "sandbox_id is required");
	else if (req->version == 0)
		rpc_error(call, GRPC_INVALID_ARGUMENT, "version is required");
	else if (status == NULL)
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "status must be LOADED or FAILED");
	else if (auth_sandbox(gd, call, req->sandbox_id) == 0) {
		rc = store_policy_set_status(gd->gd_store, req->sandbox_id,
		    req->version, status, err, now);
		if (rc == STORE_NOTFOUND)
			rpc_error(call, GRPC_NOT_FOUND,
			    "policy revision not found");
		else if (rc != STORE_OK)
			rpc_error(call, GRPC_INTERNAL,
			    "update policy status failed");
		else if (now == 0 || cfg_mark_loaded(gd, call,
		    req->sandbox_id, req->version) == 0) {
			cfg_report_ok(call);
		}
	}
	openshell__v1__report_policy_status_request__free_unpacked(req, NULL);
}

/* ---- GetSandboxProviderEnvironment ---- */

/* ^[A-Za-z_][A-Za-z0-9_]*$ */
static int
cfg_env_key_ok(const char *k)
{
	if (!(isalpha((unsigned char)*k) || *k == '_'))
		return 0;
	for (k++; *k != '\0'; k++)
		if (!(isalnum((unsigned char)*k) || *k == '_'))
			return 0;
	return 1;
}

/* Valid keys not seen yet (the first provider wins). */
static int
cfg_env_add(struct cfg_env *e, const Openshell__Datamodel__V1__Provider *p)
{
	EnvEntry	**nv, *en;
	HostEntry	**nh, *hn;
	char		*hosts;
	size_t		 i, j;

	if ((hosts = credhosts_provider(p)) == NULL)
		return -1;
	for (i = 0; i < p->n_credentials; i++) {
		if (!cfg_env_key_ok(p->credentials[i]->key))
			continue;
		for (j = 0; j < e->ce_n; j++)
			if (strcmp(e->ce_v[j]->key,
			    p->credentials[i]->key) == 0)
				break;
		if (j < e->ce_n)
			continue;
		if ((nh = reallocarray(e->ce_h, e->ce_n + 1,
		    sizeof(*nh))) == NULL || (e->ce_h = nh,
		    hn = malloc(sizeof(*hn))) == NULL)
			goto bad;
		*hn = cfg_hentry_init;
		hn->key = p->credentials[i]->key;
		if ((hn->value = strdup(hosts)) == NULL) {
			free(hn);
			goto bad;
		}
		if ((nv = reallocarray(e->ce_v, e->ce_n + 1,
		    sizeof(*nv))) == NULL || (e->ce_v = nv,
		    en = malloc(sizeof(*en))) == NULL) {
			free(hn->value);
			free(hn);
			goto bad;
		}
		*en = cfg_eentry_init;
		en->key = p->credentials[i]->key;
		en->value = p->credentials[i]->value;
		e->ce_h[e->ce_n] = hn;
		e->ce_v[e->ce_n++] = en;
	}
	free(hosts);
	return 0;
bad:
	free(hosts);
	return -1;
}

/* 0, or -1 with the call finished. */
static int
cfg_env_provider(struct gatewayd *gd, struct grpc_call *call,
    struct cfg_env *e, const char *name)
{
	Openshell__Datamodel__V1__Provider	*p, **np;
	struct store_object			 o = { 0 };
	int					 rc;

	rc = store_get_by_name(gd->gd_store, STORE_T_PROVIDER, name, &o);
	if (rc == STORE_NOTFOUND) {
		rpc_error(call, GRPC_FAILED_PRECONDITION,
		    "provider '%s' not found", name);
		return -1;
	}
	p = rc == STORE_OK ? openshell__datamodel__v1__provider__unpack(NULL,
	    o.so_len, o.so_payload) : NULL;
	store_object_clear(&o);
	if (p == NULL) {
		rpc_error(call, GRPC_INTERNAL, "fetch provider failed");
		return -1;
	}
	if ((np = reallocarray(e->ce_prov, e->ce_nprov + 1,
	    sizeof(*np))) == NULL) {
		openshell__datamodel__v1__provider__free_unpacked(p, NULL);
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	e->ce_prov = np;
	e->ce_prov[e->ce_nprov++] = p;
	if (cfg_env_add(e, p) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

static void
cfg_env_free(struct cfg_env *e)
{
	size_t	 i;

	for (i = 0; i < e->ce_n; i++) {
		free(e->ce_v[i]);
		free(e->ce_h[i]->value);
		free(e->ce_h[i]);
	}
	free(e->ce_v);
	free(e->ce_h);
	for (i = 0; i < e->ce_nprov; i++)
		openshell__datamodel__v1__provider__free_unpacked(e->ce_prov[i],
		    NULL);
	free(e->ce_prov);
}

static void
cfg_provider_env(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__GetSandboxProviderEnvironmentRequest *req;
	Openshell__V1__GetSandboxProviderEnvironmentResponse res;
	struct cfg_env				 e;
	Sandbox					*sb = NULL;
	size_t					 i;

	memset(&e, 0, sizeof(e));
	req = openshell__v1__get_sandbox_provider_environment_request__unpack(
	    NULL, len, msg);
	if (req == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (auth_sandbox(gd, call, req->sandbox_id) == -1 ||
	    cfg_sandbox_get(gd, call, req->sandbox_id, 0, &sb) == -1)
		goto done;
	if (sb->spec == NULL) {
		rpc_error(call, GRPC_INTERNAL, "sandbox has no spec");
		goto done;
	}
	for (i = 0; i < sb->spec->n_providers; i++)
		if (cfg_env_provider(gd, call, &e,
		    sb->spec->providers[i]) == -1)
			goto done;
	openshell__v1__get_sandbox_provider_environment_response__init(&res);
	res.environment = e.ce_v;
	res.n_environment = e.ce_n;
	res.credential_hosts = e.ce_h;
	res.n_credential_hosts = e.ce_n;
	log_info("sandbox %s: provider environment with %zu variables",
	    sb->name, e.ce_n);
	rpc_reply(call, &res.base);
done:
	cfg_env_free(&e);
	if (sb != NULL)
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	openshell__v1__get_sandbox_provider_environment_request__free_unpacked(
	    req, NULL);
}
