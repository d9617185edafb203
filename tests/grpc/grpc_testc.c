/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Test driver for libgrpc's client: runs one call against grpc_testd or
 * a grpcio server with the same behaviours and prints the outcome as
 * "<STATUS NAME> <detail>".
 *
 * usage: grpc_testc host port ca cert key command [args]
 *   health            Health                      -> "OK <version>"
 *   echo NAME         GetSandbox                  -> "OK <name> <id>"
 *   watch N           WatchSandbox, N lines       -> "OK <count>"
 *   push K            PushSandboxLogs, K x 2 lines -> "OK <message>"
 *   slow MS TMO       ListSandboxes(limit MS), deadline TMO ms
 *   big SIZE          GetSandbox with a SIZE-byte name
 *   repeat N          N Health calls on one connection
 */

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libgrpc/grpc_client.h"
#include "libgrpc/tls.h"
#include "proto/openshell.pb-c.h"

#define SVC	"/openshell.v1.OpenShell/"

struct watch_state {
	uint32_t	 n;
	int		 bad;
};

struct push_state {
	int		 left;
};

static int	 cmd_health(struct grpc_client *);
static int	 cmd_echo(struct grpc_client *, const char *);
static int	 cmd_watch(struct grpc_client *, uint32_t);
static int	 cmd_push(struct grpc_client *, int);
static int	 cmd_slow(struct grpc_client *, uint32_t, int);
static int	 watch_msg(const uint8_t *, size_t, void *);
static int	 push_next(void *, const uint8_t **, size_t *);
static uint8_t	*pack(const ProtobufCMessage *, size_t *);
static int	 status(const struct grpc_status *, const char *);

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t	*buf;

	*len = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(*len ? *len : 1)) == NULL)
		err(1, "malloc");
	protobuf_c_message_pack(m, buf);
	return buf;
}

static int
status(const struct grpc_status *st, const char *detail)
{
	printf("%s %s\n", grpc_wire_code_name(st->code),
	    st->code == GRPC_OK ? detail : st->message);
	return 0;
}

static int
cmd_health(struct grpc_client *c)
{
	Openshell__V1__HealthRequest	 req = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	Openshell__V1__HealthResponse	*resp;
	struct grpc_status		 st;
	uint8_t				*out, *in;
	size_t				 outlen, inlen;

	out = pack(&req.base, &outlen);
	if (grpc_client_unary(c, SVC "Health", out, outlen, &in, &inlen,
	    10000, &st) == GRPC_OK) {
		if ((resp = openshell__v1__health_response__unpack(NULL, inlen,
		    in)) == NULL)
			errx(1, "bad HealthResponse");
		if (resp->status !=
		    OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY)
			errx(1, "not healthy");
		status(&st, resp->version);
		openshell__v1__health_response__free_unpacked(resp, NULL);
		free(in);
	} else
		status(&st, "");
	free(out);
	return st.code;
}

static int
cmd_echo(struct grpc_client *c, const char *name)
{
	Openshell__V1__GetSandboxRequest req =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	Openshell__V1__SandboxResponse	*resp;
	struct grpc_status		 st;
	uint8_t				*out, *in;
	size_t				 outlen, inlen;
	char				 detail[512];

	req.name = (char *)name;
	out = pack(&req.base, &outlen);
	if (grpc_client_unary(c, SVC "GetSandbox", out, outlen, &in, &inlen,
	    10000, &st) == GRPC_OK) {
		if ((resp = openshell__v1__sandbox_response__unpack(NULL, inlen,
		    in)) == NULL || resp->sandbox == NULL)
			errx(1, "bad SandboxResponse");
		snprintf(detail, sizeof(detail), "%.200s %.200s",
		    resp->sandbox->name, resp->sandbox->id);
		status(&st, detail);
		openshell__v1__sandbox_response__free_unpacked(resp, NULL);
		free(in);
	} else
		status(&st, "");
	free(out);
	return st.code;
}

static int
watch_msg(const uint8_t *msg, size_t len, void *arg)
{
	struct watch_state			*w = arg;
	Openshell__V1__SandboxStreamEvent	*ev;

	if ((ev = openshell__v1__sandbox_stream_event__unpack(NULL, len,
	    msg)) == NULL)
		return -1;
	if (ev->payload_case != OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG ||
	    ev->log->timestamp_ms != w->n)
		w->bad = 1;
	w->n++;
	openshell__v1__sandbox_stream_event__free_unpacked(ev, NULL);
	return 0;
}

static int
cmd_watch(struct grpc_client *c, uint32_t n)
{
	Openshell__V1__WatchSandboxRequest req =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	struct grpc_client_req	 r;
	struct grpc_status	 st;
	struct watch_state	 w = { 0, 0 };
	char			 detail[32];
	uint8_t			*out;
	size_t			 outlen;

	req.id = "x";
	req.log_tail_lines = n;
	out = pack(&req.base, &outlen);
	memset(&r, 0, sizeof(r));
	r.path = SVC "WatchSandbox";
	r.timeout_ms = 30000;
	r.msg = out;
	r.msglen = outlen;
	r.on_msg = watch_msg;
	r.on_msg_arg = &w;
	grpc_client_call(c, &r, &st);
	if (w.bad)
		errx(1, "messages out of order");
	snprintf(detail, sizeof(detail), "%u", w.n);
	status(&st, detail);
	free(out);
	return st.code;
}

static int
push_next(void *arg, const uint8_t **msg, size_t *len)
{
	static uint8_t				*buf;
	struct push_state			*p = arg;
	Openshell__V1__PushSandboxLogsRequest	 req =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_REQUEST__INIT;
	Openshell__V1__SandboxLogLine		 l1 =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT, l2 =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	Openshell__V1__SandboxLogLine		*lines[2] = { &l1, &l2 };

	free(buf);
	buf = NULL;
	if (p->left-- <= 0)
		return 0;
	req.sandbox_id = "s";
	req.n_logs = 2;
	req.logs = lines;
	l1.message = "one";
	l2.message = "two";
	buf = pack(&req.base, len);
	*msg = buf;
	return 1;
}

static int
cmd_push(struct grpc_client *c, int k)
{
	struct grpc_client_req	 r;
	struct grpc_status	 st;
	struct push_state	 p = { k };

	memset(&r, 0, sizeof(r));
	r.path = SVC "PushSandboxLogs";
	r.timeout_ms = 30000;
	r.next = push_next;
	r.next_arg = &p;
	grpc_client_call(c, &r, &st);
	status(&st, st.message);
	return st.code;
}

static int
cmd_slow(struct grpc_client *c, uint32_t ms, int tmo)
{
	Openshell__V1__ListSandboxesRequest req =
	    OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	struct grpc_status	 st;
	uint8_t			*out, *in;
	size_t			 outlen, inlen;

	req.limit = ms;
	out = pack(&req.base, &outlen);
	if (grpc_client_unary(c, SVC "ListSandboxes", out, outlen, &in,
	    &inlen, tmo, &st) == GRPC_OK)
		free(in);
	status(&st, "");
	free(out);
	/* The connection must still serve after a cancelled stream. */
	return cmd_health(c);
}

int
main(int argc, char *argv[])
{
	struct grpc_client	*c;
	SSL_CTX			*ctx;
	char			 errbuf[256], *name;
	size_t			 n;
	int			 i;

	if (argc < 7)
		errx(1, "usage: grpc_testc host port ca cert key command [args]");
	if ((ctx = tls_client_ctx(argv[3], argv[4], argv[5], TLS_ALPN_H2)) ==
	    NULL)
		errx(1, "tls context");
	if ((c = grpc_client_connect(argv[1], argv[2], ctx, 10000, errbuf,
	    sizeof(errbuf))) == NULL) {
		printf("CONNECT-FAILED %s\n", errbuf);
		SSL_CTX_free(ctx);
		return 0;
	}
	if (strcmp(argv[6], "health") == 0)
		cmd_health(c);
	else if (strcmp(argv[6], "echo") == 0 && argc > 7)
		cmd_echo(c, argv[7]);
	else if (strcmp(argv[6], "watch") == 0 && argc > 7)
		cmd_watch(c, (uint32_t)strtoul(argv[7], NULL, 10));
	else if (strcmp(argv[6], "push") == 0 && argc > 7)
		cmd_push(c, atoi(argv[7]));
	else if (strcmp(argv[6], "slow") == 0 && argc > 8)
		cmd_slow(c, (uint32_t)strtoul(argv[7], NULL, 10),
		    atoi(argv[8]));
	else if (strcmp(argv[6], "big") == 0 && argc > 7) {
		n = strtoul(argv[7], NULL, 10);
		if ((name = malloc(n + 1)) == NULL)
			err(1, "malloc");
		memset(name, 'x', n);
		name[n] = '\0';
		cmd_echo(c, name);
		free(name);
	} else if (strcmp(argv[6], "repeat") == 0 && argc > 7) {
		for (i = atoi(argv[7]); i > 0; i--)
			if (cmd_health(c) != GRPC_OK)
				break;
	} else
		errx(1, "unknown command %s", argv[6]);
	grpc_client_close(c);
	SSL_CTX_free(ctx);
	return 0;
}
