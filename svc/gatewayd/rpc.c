/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The method table of both services (control-plane.md §1.2): one row
 * per RPC with its kind and who may call it.  Every row is registered
 * with the server; a row whose handler no rpc_<group>.c supplied
 * answers UNIMPLEMENTED.  Each row names its request type, so that a
 * request whose strings are not UTF-8 is refused before any handler
 * can store it (utf8.c).  Also the small helpers every handler uses.
 */

#include <sys/random.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatewayd.h"
#include "log.h"
#include "proto/inference.pb-c.h"
#include "proto/openshell.pb-c.h"
#include "utf8.h"

#define OS	"/openshell.v1.OpenShell/"
#define INF	"/openshell.inference.v1.Inference/"

struct rpc_row {
	const char			*r_path;
	enum grpc_kind			 r_kind;
	int				 r_class;
	const ProtobufCMessageDescriptor *r_req;
	grpc_handler_fn			*r_fn;	/* NULL: UNIMPLEMENTED */
	struct gatewayd			*r_gd;
};

static grpc_handler_fn	 rpc_dispatch;
static int		 rpc_utf8_ok(struct grpc_call *,
			    const struct rpc_row *, const uint8_t *, size_t);
static grpc_handler_fn	 rpc_health;
static const char	*rpc_name(const char *);

/* Handlers are filled in by rpc_method(); the order is the catalogue's. */
#define ROW(path, kind, class, req)	\
	{ path, kind, class, &(req), NULL, NULL }
#define V1(m)	openshell__v1__##m##_request__descriptor
#define SB1(m)	openshell__sandbox__v1__##m##_request__descriptor
#define INF1(m)	openshell__inference__v1__##m##_request__descriptor
static struct rpc_row rpc_rows[] = {
	ROW(OS "Health",	GRPC_UNARY, RPC_ANY, V1(health)),
	ROW(OS "CreateSandbox",	GRPC_UNARY, RPC_ADMIN, V1(create_sandbox)),
	ROW(OS "GetSandbox",	GRPC_UNARY, RPC_ADMIN, V1(get_sandbox)),
	ROW(OS "ListSandboxes",	GRPC_UNARY, RPC_ADMIN, V1(list_sandboxes)),
	ROW(OS "DeleteSandbox",	GRPC_UNARY, RPC_ADMIN, V1(delete_sandbox)),
	ROW(OS "CreateSshSession",	GRPC_UNARY, RPC_ADMIN,
	    V1(create_ssh_session)),
	ROW(OS "RevokeSshSession",	GRPC_UNARY, RPC_ADMIN,
	    V1(revoke_ssh_session)),
	ROW(OS "ExecSandbox",	GRPC_SERVER_STREAM, RPC_ADMIN,
	    V1(exec_sandbox)),
	ROW(OS "CreateProvider",	GRPC_UNARY, RPC_ADMIN,
	    V1(create_provider)),
	ROW(OS "GetProvider",	GRPC_UNARY, RPC_ADMIN, V1(get_provider)),
	ROW(OS "ListProviders",	GRPC_UNARY, RPC_ADMIN, V1(list_providers)),
	ROW(OS "UpdateProvider",	GRPC_UNARY, RPC_ADMIN,
	    V1(update_provider)),
	ROW(OS "DeleteProvider",	GRPC_UNARY, RPC_ADMIN,
	    V1(delete_provider)),
	ROW(OS "GetSandboxConfig",	GRPC_UNARY, RPC_SANDBOX,
	    SB1(get_sandbox_config)),
	ROW(OS "GetGatewayConfig",	GRPC_UNARY, RPC_ADMIN,
	    SB1(get_gateway_config)),
	ROW(OS "UpdateConfig",	GRPC_UNARY, RPC_SANDBOX, V1(update_config)),
	ROW(OS "GetSandboxPolicyStatus",	GRPC_UNARY, RPC_ADMIN,
	    V1(get_sandbox_policy_status)),
	ROW(OS "ListSandboxPolicies",	GRPC_UNARY, RPC_ADMIN,
	    V1(list_sandbox_policies)),
	ROW(OS "ReportPolicyStatus",	GRPC_UNARY, RPC_SANDBOX,
	    V1(report_policy_status)),
	ROW(OS "GetSandboxProviderEnvironment",	GRPC_UNARY, RPC_SANDBOX,
	    V1(get_sandbox_provider_environment)),
	ROW(OS "GetSandboxLogs",	GRPC_UNARY, RPC_ADMIN,
	    V1(get_sandbox_logs)),
	ROW(OS "PushSandboxLogs",	GRPC_CLIENT_STREAM, RPC_SANDBOX,
	    V1(push_sandbox_logs)),
	/* A supervisor watches its own status (rpc_watch.c). */
	ROW(OS "WatchSandbox",	GRPC_SERVER_STREAM, RPC_SANDBOX,
	    V1(watch_sandbox)),
	ROW(OS "SubmitPolicyAnalysis",	GRPC_UNARY, RPC_ADMIN,
	    V1(submit_policy_analysis)),
	ROW(OS "GetDraftPolicy",	GRPC_UNARY, RPC_ADMIN,
	    V1(get_draft_policy)),
	ROW(OS "ApproveDraftChunk",	GRPC_UNARY, RPC_ADMIN,
	    V1(approve_draft_chunk)),
	ROW(OS "RejectDraftChunk",	GRPC_UNARY, RPC_ADMIN,
	    V1(reject_draft_chunk)),
	ROW(OS "ApproveAllDraftChunks",	GRPC_UNARY, RPC_ADMIN,
	    V1(approve_all_draft_chunks)),
	ROW(OS "EditDraftChunk",	GRPC_UNARY, RPC_ADMIN,
	    V1(edit_draft_chunk)),
	ROW(OS "UndoDraftChunk",	GRPC_UNARY, RPC_ADMIN,
	    V1(undo_draft_chunk)),
	ROW(OS "ClearDraftChunks",	GRPC_UNARY, RPC_ADMIN,
	    V1(clear_draft_chunks)),
	ROW(OS "GetDraftHistory",	GRPC_UNARY, RPC_ADMIN,
	    V1(get_draft_history)),
	ROW(INF "GetInferenceBundle",	GRPC_UNARY, RPC_ANY,
	    INF1(get_inference_bundle)),
	ROW(INF "SetClusterInference",	GRPC_UNARY, RPC_ADMIN,
	    INF1(set_cluster_inference)),
	ROW(INF "GetClusterInference",	GRPC_UNARY, RPC_ADMIN,
	    INF1(get_cluster_inference)),
};

#define NROWS	(sizeof(rpc_rows) / sizeof(rpc_rows[0]))

/*
 * An rpc_<group>_register() supplies the handler of one row.  -1 for
 * a path that is not in the table or already has a handler.
 */
int
rpc_method(struct gatewayd *gd, const char *path, grpc_handler_fn *fn)
{
	size_t	 i;

	for (i = 0; i < NROWS; i++) {
		if (strcmp(rpc_rows[i].r_path, path) != 0)
			continue;
		if (rpc_rows[i].r_fn != NULL)
			break;
		rpc_rows[i].r_fn = fn;
		rpc_rows[i].r_gd = gd;
		return 0;
	}
	log_warnx("%s: cannot register %s", __func__, path);
	return -1;
}

/* After every rpc_<group>_register(): the whole table goes live. */
void
rpc_start(struct gatewayd *gd)
{
	size_t	 i;

	rpc_method(gd, OS "Health", rpc_health);
	for (i = 0; i < NROWS; i++) {
		rpc_rows[i].r_gd = gd;
		if (grpc_server_method(gd->gd_srv, rpc_rows[i].r_path,
		    rpc_rows[i].r_kind, rpc_dispatch, &rpc_rows[i]) == -1)
			fatalx("%s: %s", __func__, rpc_rows[i].r_path);
	}
}

/*
 * Every call passes here: the caller's class first, then the handler
 * or UNIMPLEMENTED.  A client stream's later messages reach the
 * handler only if the first was let through.
 */
static void
rpc_dispatch(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct rpc_row	*row = arg;

	if (!auth_class_ok(call, row->r_class)) {
		auth_deny(call);
		return;
	}
	if (row->r_fn == NULL) {
		rpc_error(call, GRPC_UNIMPLEMENTED, "%s is not implemented yet",
		    rpc_name(row->r_path));
		return;
	}
	if (!rpc_utf8_ok(call, row, msg, len))
		return;
	row->r_fn(call, msg, len, row->r_gd);
}

/*
 * 0 (the call answered INVALID_ARGUMENT) if a string field of the
 * request is not UTF-8.  A client stream's messages are checked by
 * its handler, which holds state of its own to release on the error
 * (rpc_logs.c).  A request that does not unpack at all is left to the
 * handler, which answers for it as before.
 */
static int
rpc_utf8_ok(struct grpc_call *call, const struct rpc_row *row,
    const uint8_t *msg, size_t len)
{
	ProtobufCMessage	*m;
	const char		*bad = NULL;
	int			 ok;

	if (row->r_kind == GRPC_CLIENT_STREAM ||
	    row->r_kind == GRPC_BIDI_STREAM || msg == NULL)
		return 1;
	if ((m = protobuf_c_message_unpack(row->r_req, NULL, len, msg)) ==
	    NULL)
		return 1;
	ok = utf8_pb_valid(m, &bad);
	protobuf_c_message_free_unpacked(m, NULL);
	if (!ok)
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "request contains invalid UTF-8 in field '%s'", bad);
	return ok;
}

/* "/pkg.Service/Rpc" -> "Rpc" */
static const char *
rpc_name(const char *path)
{
	const char	*p = strrchr(path, '/');

	return p != NULL ? p + 1 : path;
}

static void
rpc_health(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__HealthResponse		 res =
	    OPENSHELL__V1__HEALTH_RESPONSE__INIT;

	(void)msg;
	(void)len;
	res.status = OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY;
	res.version = gd->gd_cfg.gc_version;
	rpc_reply(call, &res.base);
}

/* Packs and queues one message; -1 if it could not be queued. */
int
rpc_send(struct grpc_call *call, const ProtobufCMessage *m)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rc;

	len = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		return -1;
	protobuf_c_message_pack(m, buf);
	rc = grpc_call_send(call, buf, len);
	free(buf);
	return rc;
}

/* The only response of a unary call, then OK.  The call is gone after. */
void
rpc_reply(struct grpc_call *call, const ProtobufCMessage *m)
{
	if (rpc_send(call, m) == -1) {
		grpc_call_finish(call, GRPC_INTERNAL, "cannot send response");
		return;
	}
	grpc_call_finish(call, GRPC_OK, NULL);
}

void
rpc_error(struct grpc_call *call, int code, const char *fmt, ...)
{
	char	 buf[GRPC_MESSAGE_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	grpc_call_finish(call, code, buf);
}

int64_t
rpc_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A UUIDv4 into buf (GD_UUID_LEN bytes). */
void
rpc_uuid(char *buf)
{
	uint8_t	 b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		fatal("getrandom");
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, GD_UUID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
	    b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
}

/* A random "adjective-noun" name. */
void
rpc_petname(char *buf, size_t len)
{
	static const char *const adj[] = {
		"able", "bold", "brave", "bright", "calm", "clever", "cosmic",
		"crisp", "eager", "fair", "fancy", "gentle", "glad", "golden",
		"happy", "humble", "jolly", "keen", "kind", "lively", "lucky",
		"merry", "mighty", "noble", "polite", "proud", "quick",
		"quiet", "rapid", "shiny", "silent", "smart", "steady",
		"sunny", "swift", "tidy", "vivid", "warm", "wise", "witty",
	};
	static const char *const noun[] = {
		"badger", "beaver", "bison", "crane", "dingo", "dolphin",
		"eagle", "falcon", "ferret", "finch", "gecko", "heron",
		"ibis", "jaguar", "koala", "lemur", "lynx", "marmot",
		"newt", "otter", "owl", "panda", "pelican", "puffin",
		"quail", "rabbit", "raven", "salmon", "seal", "sparrow",
		"tapir", "tiger", "toucan", "turtle", "walrus", "weasel",
		"whale", "wombat", "yak", "zebra",
	};
	uint32_t	 r[2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		fatal("getrandom");
	snprintf(buf, len, "%s-%s", adj[r[0] % (sizeof(adj) / sizeof(adj[0]))],
	    noun[r[1] % (sizeof(noun) / sizeof(noun[0]))]);
}
