/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * CreateSshSession and RevokeSshSession (control-plane.md §4.5): a
 * session is a bearer token (UUIDv4, also the row's id) for the
 * CONNECT /connect/ssh tunnel of one READY sandbox, valid for the
 * configured TTL (24 h).  Sessions go with their sandbox
 * (rpc_sandbox.c) and an hourly reaper drops revoked and expired ones.
 */

#include <sys/random.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gatewayd.h"
#include "log.h"
#include "proto/openshell.pb-c.h"
#include "store.h"

#define OS			"/openshell.v1.OpenShell/"
#define SSH_NAME_LEN		6
#define SSH_NAME_TRIES		8
#define SSH_REAP_SECS		3600
#define SSH_REAP_SCAN		1000
#define SSH_DEFAULT_HOST	"127.0.0.1"
#define SSH_ANY_HOST		"0.0.0.0"
#define SSH_SCHEME		"https"	/* the port always speaks TLS */

typedef Openshell__V1__SshSession	SshSession;

struct ssh_reap {
	int64_t		 r_now;
	char		*r_ids[SSH_REAP_SCAN];
	size_t		 r_n;
};

static grpc_handler_fn	 ssh_create;
static grpc_handler_fn	 ssh_revoke;
static int	 ssh_create_checks(struct gatewayd *, struct grpc_call *,
		    const char *);
static int	 ssh_store(struct gatewayd *, SshSession *);
static void	 ssh_name(char *);
static void	 ssh_reply(struct gatewayd *, struct grpc_call *,
		    const SshSession *);
static void	 ssh_reap_timer(evutil_socket_t, short, void *);
static int	 ssh_reap_cb(const struct store_object *, void *);

static struct event	*ssh_reaper;

void
rpc_ssh_register(struct gatewayd *gd)
{
	struct timeval	 tv = { SSH_REAP_SECS, 0 };

	rpc_method(gd, OS "CreateSshSession", ssh_create);
	rpc_method(gd, OS "RevokeSshSession", ssh_revoke);
	if ((ssh_reaper = event_new(gd->gd_ps.ps_base, -1, EV_PERSIST,
	    ssh_reap_timer, gd)) == NULL || evtimer_add(ssh_reaper, &tv) == -1)
		log_warnx("%s: no session reaper", __func__);
}

/*
 * The stored session of a token (free with
 * openshell__v1__ssh_session__free_unpacked): STORE_OK,
 * STORE_NOTFOUND or STORE_ERR.
 */
int
rpc_ssh_session_get(struct gatewayd *gd, const char *token, SshSession **out)
{
	struct store_object	 obj;
	int			 rc;

	*out = NULL;
	memset(&obj, 0, sizeof(obj));
	rc = store_get_by_id(gd->gd_store, STORE_T_SSH_SESSION, token, &obj);
	if (rc != STORE_OK)
		return rc;
	*out = openshell__v1__ssh_session__unpack(NULL, obj.so_len,
	    obj.so_payload);
	store_object_clear(&obj);
	return *out != NULL ? STORE_OK : STORE_ERR;
}

static void
ssh_create(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__CreateSshSessionRequest	*req;
	SshSession				 ss =
	    OPENSHELL__V1__SSH_SESSION__INIT;
	char					 token[GD_UUID_LEN];
	char					 name[SSH_NAME_LEN + 1];

	if ((req = openshell__v1__create_ssh_session_request__unpack(NULL,
	    len, msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (ssh_create_checks(gd, call, req->sandbox_id) == 0) {
		rpc_uuid(token);
		ss.id = ss.token = token;
		ss.sandbox_id = req->sandbox_id;
		ss.created_at_ms = rpc_now_ms();
		ss.expires_at_ms = ss.created_at_ms +
		    (int64_t)gd->gd_cfg.gc_ssh_session_ttl * 1000;
		ss.name = name;
		ssh_name(name);
		if (ssh_store(gd, &ss) == STORE_OK)
			ssh_reply(gd, call, &ss);
		else
			rpc_error(call, GRPC_INTERNAL,
			    "cannot store the ssh session");
		explicit_bzero(token, sizeof(token));
	}
	openshell__v1__create_ssh_session_request__free_unpacked(req, NULL);
}

/* 0 when the sandbox exists and is READY; else the call is answered. */
static int
ssh_create_checks(struct gatewayd *gd, struct grpc_call *call, const char *id)
{
	if (id[0] == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "sandbox_id is required");
		return -1;
	}
	return rpc_require_ready(gd, call, id);
}

/* The 6-letter name is unique among sessions: pick again on a clash. */
static int
ssh_store(struct gatewayd *gd, SshSession *ss)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rc = STORE_ERR, i;

	for (i = 0; i < SSH_NAME_TRIES; i++) {
		len = protobuf_c_message_get_packed_size(&ss->base);
		if ((buf = malloc(len)) == NULL)
			return STORE_ERR;
		protobuf_c_message_pack(&ss->base, buf);
		rc = store_put(gd->gd_store, STORE_T_SSH_SESSION, ss->id,
		    ss->name, buf, len, ss->created_at_ms);
		explicit_bzero(buf, len);
		free(buf);
		if (rc != STORE_CONFLICT)
			break;
		ssh_name(ss->name);
	}
	return rc;
}

static void
ssh_name(char *name)
{
	uint8_t	 r[SSH_NAME_LEN];
	size_t	 i;

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		fatal("getrandom");
	for (i = 0; i < SSH_NAME_LEN; i++)
		name[i] = 'a' + r[i] % 26;
	name[SSH_NAME_LEN] = '\0';
}

/*
 * The advertised address: clients replace a loopback or unspecified
 * host with the endpoint they used for gRPC (§4.5).
 */
static void
ssh_reply(struct gatewayd *gd, struct grpc_call *call, const SshSession *ss)
{
	Openshell__V1__CreateSshSessionResponse	 res =
	    OPENSHELL__V1__CREATE_SSH_SESSION_RESPONSE__INIT;
	const struct gateway_cfg		*gc = &gd->gd_cfg;

	res.sandbox_id = ss->sandbox_id;
	res.token = ss->token;
	res.gateway_host = gc->gc_ssh_gateway_host[0] != '\0' ?
	    (char *)gc->gc_ssh_gateway_host : SSH_ANY_HOST;
	res.gateway_port = gc->gc_ssh_gateway_port != 0 ?
	    gc->gc_ssh_gateway_port : gc->gc_port;
	res.gateway_scheme = SSH_SCHEME;
	res.connect_path = gc->gc_ssh_connect_path[0] != '\0' ?
	    (char *)gc->gc_ssh_connect_path : "/connect/ssh";
	res.host_key_fingerprint = "";
	res.expires_at_ms = ss->expires_at_ms;
	rpc_reply(call, &res.base);
}

/* An unknown token is not an error: nothing was revoked. */
static void
ssh_revoke(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__RevokeSshSessionRequest	*req;
	Openshell__V1__RevokeSshSessionResponse	 res =
	    OPENSHELL__V1__REVOKE_SSH_SESSION_RESPONSE__INIT;
	SshSession				*ss = NULL;
	int					 rc;

	if ((req = openshell__v1__revoke_ssh_session_request__unpack(NULL,
	    len, msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->token[0] == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "token is required");
		goto done;
	}
	rc = rpc_ssh_session_get(gd, req->token, &ss);
	if (rc == STORE_ERR) {
		rpc_error(call, GRPC_INTERNAL, "cannot read the ssh session");
		goto done;
	}
	if (rc == STORE_OK && !ss->revoked) {
		ss->revoked = 1;
		if (ssh_store(gd, ss) != STORE_OK) {
			rpc_error(call, GRPC_INTERNAL,
			    "cannot update the ssh session");
			goto done;
		}
		res.revoked = 1;
	}
	rpc_reply(call, &res.base);
 done:
	if (ss != NULL)
		openshell__v1__ssh_session__free_unpacked(ss, NULL);
	openshell__v1__revoke_ssh_session_request__free_unpacked(req, NULL);
}

/* Ids are collected first: a list callback must not write the store. */
static void
ssh_reap_timer(evutil_socket_t fd, short events, void *arg)
{
	struct gatewayd	*gd = arg;
	struct ssh_reap	*r;
	size_t		 i;

	(void)fd;
	(void)events;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return;
	r->r_now = rpc_now_ms();
	store_list(gd->gd_store, STORE_T_SSH_SESSION, SSH_REAP_SCAN, 0,
	    ssh_reap_cb, r);
	for (i = 0; i < r->r_n; i++) {
		store_delete_by_id(gd->gd_store, STORE_T_SSH_SESSION,
		    r->r_ids[i]);
		free(r->r_ids[i]);
	}
	if (r->r_n > 0)
		log_info("%zu ssh sessions expired or revoked", r->r_n);
	free(r);
}

static int
ssh_reap_cb(const struct store_object *obj, void *arg)
{
	struct ssh_reap	*r = arg;
	SshSession	*ss;

	ss = openshell__v1__ssh_session__unpack(NULL, obj->so_len,
	    obj->so_payload);
	if (ss == NULL)
		return 0;
	if ((ss->revoked || (ss->expires_at_ms > 0 &&
	    ss->expires_at_ms <= r->r_now)) && r->r_n < SSH_REAP_SCAN &&
	    (r->r_ids[r->r_n] = strdup(obj->so_id)) != NULL)
		r->r_n++;
	openshell__v1__ssh_session__free_unpacked(ss, NULL);
	return 0;
}
