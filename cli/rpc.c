/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gRPC calls from the CLI to the resolved gateway: one mTLS connection
 * with the cluster's client bundle (10 s to connect), unary and
 * server-streaming calls on protobuf-c messages, and one human line on
 * stderr when a call fails.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "libgrpc/tls.h"
#include "paths.h"
#include "libpki/pki.h"

struct rpc_sink {
	const ProtobufCMessageDescriptor	*rs_desc;
	rpc_msg_fn				*rs_fn;
	void					*rs_arg;
	int					 rs_bad;
	int					 rs_stopped;
};

static int	 rpc_bundle(const struct rpc *, char *, char *, char *);
static int	 rpc_pack(const ProtobufCMessage *, uint8_t **, size_t *);
static int	 rpc_on_msg(const uint8_t *, size_t, void *);
static void	 rpc_status(struct grpc_status *, int, const char *);

/* Resolves the gateway and connects; -1 after a message. */
int
rpc_open(struct rpc *r)
{
	char	 ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], err[256];
	SSL_CTX	*ctx;

	memset(r, 0, sizeof(*r));
	if (config_resolve(&r->r_gw) == -1 ||
	    rpc_bundle(r, ca, cert, key) == -1)
		return -1;
	if ((ctx = tls_client_ctx(ca, cert, key, TLS_ALPN_H2)) == NULL) {
		cli_warnx("cannot load the client certificates in %s",
		    r->r_gw.mtls);
		return -1;
	}
	r->r_client = grpc_client_connect(r->r_gw.host, r->r_gw.port, ctx,
	    RPC_CONNECT_MS, err, sizeof(err));
	if (r->r_client == NULL) {
		cli_warnx("cannot connect to gateway '%s' at %s: %s",
		    r->r_gw.name, r->r_gw.endpoint, err);
		SSL_CTX_free(ctx);
		return -1;
	}
	r->r_ctx = ctx;
	return 0;
}

static int
rpc_bundle(const struct rpc *r, char *ca, char *cert, char *key)
{
	struct stat	 st;

	if (paths_join(ca, PATH_MAX, r->r_gw.mtls, PKI_BUNDLE_CA) == -1 ||
	    paths_join(cert, PATH_MAX, r->r_gw.mtls, PKI_BUNDLE_CERT) == -1 ||
	    paths_join(key, PATH_MAX, r->r_gw.mtls, PKI_BUNDLE_KEY) == -1) {
		cli_warnx("certificate path too long");
		return -1;
	}
	if (stat(ca, &st) == -1 || stat(cert, &st) == -1 ||
	    stat(key, &st) == -1) {
		cli_warnx("no client certificates for gateway '%s' in %s",
		    r->r_gw.name, r->r_gw.mtls);
		return -1;
	}
	return 0;
}

void
rpc_close(struct rpc *r)
{
	grpc_client_close(r->r_client);
	r->r_client = NULL;
	if (r->r_ctx != NULL)
		SSL_CTX_free(r->r_ctx);
	r->r_ctx = NULL;
}

/*
 * One request, one response: *resp (protobuf_c_message_free_unpacked
 * by the caller) is set on OK only.
 */
int
rpc_unary(struct rpc *r, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp,
    struct grpc_status *st)
{
	uint8_t	*out = NULL, *in = NULL;
	size_t	 outlen, inlen = 0;
	int	 code;

	*resp = NULL;
	if (rpc_pack(req, &out, &outlen) == -1) {
		rpc_status(st, GRPC_INTERNAL, "out of memory");
		return st->code;
	}
	code = grpc_client_unary(r->r_client, method, out, outlen, &in, &inlen,
	    RPC_CALL_MS, st);
	free(out);
	if (code != GRPC_OK)
		return code;
	*resp = protobuf_c_message_unpack(rd, NULL, inlen, in);
	free(in);
	if (*resp == NULL)
		rpc_status(st, GRPC_INTERNAL, "malformed response from the "
		    "gateway");
	return st->code;
}

/* A server stream: fn sees each message (freed after it); non-zero stops. */
int
rpc_stream(struct rpc *r, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, rpc_msg_fn *fn, void *arg,
    struct grpc_status *st)
{
	struct grpc_client_req	 cr;
	struct rpc_sink		 sink = { rd, fn, arg, 0, 0 };
	uint8_t			*out;
	size_t			 outlen;
	int			 code;

	if (rpc_pack(req, &out, &outlen) == -1) {
		rpc_status(st, GRPC_INTERNAL, "out of memory");
		return st->code;
	}
	memset(&cr, 0, sizeof(cr));
	cr.path = method;
	cr.msg = out;
	cr.msglen = outlen;
	cr.on_msg = rpc_on_msg;
	cr.on_msg_arg = &sink;
	code = grpc_client_call(r->r_client, &cr, st);
	free(out);
	if (sink.rs_bad)
		rpc_status(st, GRPC_INTERNAL, "malformed message from the "
		    "gateway");
	else if (code == GRPC_CANCELLED && sink.rs_stopped)
		rpc_status(st, GRPC_OK, "");
	return st->code;
}

static int
rpc_on_msg(const uint8_t *data, size_t len, void *arg)
{
	struct rpc_sink		*sink = arg;
	ProtobufCMessage	*m;
	int			 rc;

	if ((m = protobuf_c_message_unpack(sink->rs_desc, NULL, len, data)) ==
	    NULL) {
		sink->rs_bad = 1;
		return 1;
	}
	if ((rc = sink->rs_fn(m, sink->rs_arg)) != 0)
		sink->rs_stopped = 1;
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

static int
rpc_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	if ((*out = malloc(*len + 1)) == NULL)
		return -1;
	protobuf_c_message_pack(m, *out);
	return 0;
}

static void
rpc_status(struct grpc_status *st, int code, const char *msg)
{
	st->code = code;
	strlcpy(st->message, msg, sizeof(st->message));
}

/*
 * The one line a failed call leaves on stderr: the server's message
 * as it is, or a transport failure named with the gateway.  Returns
 * the exit status.
 */
int
rpc_fail(const struct rpc *r, const struct grpc_status *st)
{
	const char	*msg = st->message;

	if (st->code == GRPC_UNAVAILABLE)
		cli_warnx("gateway '%s' at %s is unavailable%s%s", r->r_gw.name,
		    r->r_gw.endpoint, msg[0] != '\0' ? ": " : "", msg);
	else if (st->code == GRPC_DEADLINE_EXCEEDED)
		cli_warnx("gateway '%s' did not answer in time", r->r_gw.name);
	else if (msg[0] != '\0')
		cli_warnx("%s", msg);
	else
		cli_warnx("request failed (%s)", grpc_wire_code_name(st->code));
	return 1;
}

/* rpc_fail(), then the connection is closed: for a command's last call. */
int
rpc_fail_close(struct rpc *r, const struct grpc_status *st)
{
	rpc_fail(r, st);
	rpc_close(r);
	return 1;
}
