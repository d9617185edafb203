/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Per-RPC authorization by the CN of the verified client certificate
 * (the TLS layer already refused clients without one from our CA).
 * CN openshell-admin is the CLI and may call everything.  Any other CN
 * is a sandbox id, issued with the sandbox's supervisor certificate:
 * it may call the supervisor RPCs, and only about its own sandbox;
 * WatchSandbox only for its status (auth_watch()).
 * (The reference gateway has no per-RPC authorization at all; ours
 * keeps one sandbox from reading another's secrets.)
 */

#include <string.h>

#include "gatewayd.h"
#include "libpki/pki.h"
#include "log.h"
#include "store.h"

int
auth_is_admin(const struct grpc_call *call)
{
	return strcmp(grpc_call_peer_cn(call), PKI_ADMIN_CN) == 0;
}

/* 1 if the caller may reach a handler of this class at all. */
int
auth_class_ok(struct grpc_call *call, int class)
{
	if (class == RPC_ANY || auth_is_admin(call))
		return 1;
	return class == RPC_SANDBOX && grpc_call_peer_cn(call)[0] != '\0';
}

/* Finishes the call: the caller is not allowed this method. */
void
auth_deny(struct grpc_call *call)
{
	const char	*path = grpc_call_path(call), *p;

	p = strrchr(path, '/');
	log_info("denied %s to CN \"%s\"", path, grpc_call_peer_cn(call));
	rpc_error(call, GRPC_PERMISSION_DENIED,
	    "permission denied: %s is not allowed for this client",
	    p != NULL ? p + 1 : path);
}

/*
 * 0 if the caller may act on the sandbox with this id: the admin, or
 * the sandbox itself.  Otherwise the call is finished and -1 returned.
 */
int
auth_sandbox(struct gatewayd *gd, struct grpc_call *call, const char *id)
{
	(void)gd;
	if (auth_is_admin(call) ||
	    (id != NULL && id[0] != '\0' &&
	    strcmp(grpc_call_peer_cn(call), id) == 0))
		return 0;
	auth_deny(call);
	return -1;
}

/* As auth_sandbox(), for an RPC that names the sandbox. */
int
auth_sandbox_name(struct gatewayd *gd, struct grpc_call *call,
    const char *name)
{
	struct store_object	 obj;
	int			 ok = 0;

	if (auth_is_admin(call))
		return 0;
	memset(&obj, 0, sizeof(obj));
	if (name != NULL && name[0] != '\0' &&
	    store_get_by_name(gd->gd_store, STORE_T_SANDBOX, name, &obj) ==
	    STORE_OK) {
		ok = strcmp(obj.so_id, grpc_call_peer_cn(call)) == 0;
		store_object_clear(&obj);
	}
	if (ok)
		return 0;
	auth_deny(call);
	return -1;
}

/*
 * WatchSandbox: the admin follows anything; a sandbox only its own
 * status, which is all its supervisor needs to hear of new policy
 * revisions (the gateway's log lines and platform events about it are
 * the operator's).  0, or -1 with the call finished.
 */
int
auth_watch(struct gatewayd *gd, struct grpc_call *call, const char *id,
    int logs_or_events)
{
	if (auth_sandbox(gd, call, id) == -1)
		return -1;
	if (logs_or_events && !auth_is_admin(call)) {
		auth_deny(call);
		return -1;
	}
	return 0;
}
