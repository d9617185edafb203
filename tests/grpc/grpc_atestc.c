/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Test driver for libgrpc's asynchronous client (grpc_aclient.h)
 * against grpc_testd: every call of a mode runs at once on one client
 * and one event loop; each prints "<name> <STATUS NAME> <detail>" when
 * it ends, in the order they end.
 *
 * usage: grpc_atestc host port ca cert key mode
 *   all    health, echo, status, watch 2000, push 10 x 2 lines,
 *          slow (deadline), cancel (no line), all concurrently
 *   down   health with a 1500 ms deadline (nothing listens: the
 *          call waits for the connection, then its deadline)
 */

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "libgrpc/grpc_aclient.h"
#include "libgrpc/tls.h"
#include "proto/openshell.pb-c.h"

#define SVC	"/openshell.v1.OpenShell/"

struct tcall {
	const char	*name;
	uint32_t	 n;		/* messages seen */
	int		 bad;
	char		 detail[256];
};

static struct event_base	*base;
static int			 outstanding;

static uint8_t	*pack(const ProtobufCMessage *, size_t *);
static void	 on_msg(struct grpc_acall *, const uint8_t *, size_t, void *);
static void	 on_done(struct grpc_acall *, const struct grpc_status *,
		    void *);
static void	 start(struct grpc_aclient *, struct tcall *, const char *,
		    const ProtobufCMessage *, int);
static void	 mode_all(struct grpc_aclient *);
static void	 push(struct grpc_aclient *, struct tcall *, int);

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t	*buf;

	*len = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(*len + 1)) == NULL)
		err(1, NULL);
	protobuf_c_message_pack(m, buf);
	return buf;
}

static void
on_msg(struct grpc_acall *call, const uint8_t *msg, size_t len, void *arg)
{
	struct tcall				*t = arg;
	Openshell__V1__SandboxStreamEvent	*ev;
	Openshell__V1__SandboxResponse		*sr;
	Openshell__V1__HealthResponse		*hr;

	(void)call;
	if (strcmp(t->name, "watch") == 0) {
		ev = openshell__v1__sandbox_stream_event__unpack(NULL, len, msg);
		if (ev == NULL || ev->log == NULL ||
		    ev->log->timestamp_ms != t->n)
			t->bad = 1;
		if (ev != NULL)
			openshell__v1__sandbox_stream_event__free_unpacked(ev,
			    NULL);
	} else if (strcmp(t->name, "echo") == 0 &&
	    (sr = openshell__v1__sandbox_response__unpack(NULL, len, msg)) !=
	    NULL) {
		snprintf(t->detail, sizeof(t->detail), "%.100s %.100s",
		    sr->sandbox->name, sr->sandbox->id);
		openshell__v1__sandbox_response__free_unpacked(sr, NULL);
	} else if (strcmp(t->name, "health") == 0 &&
	    (hr = openshell__v1__health_response__unpack(NULL, len, msg)) !=
	    NULL) {
		snprintf(t->detail, sizeof(t->detail), "%.200s", hr->version);
		openshell__v1__health_response__free_unpacked(hr, NULL);
	}
	t->n++;
}

static void
on_done(struct grpc_acall *call, const struct grpc_status *st, void *arg)
{
	struct tcall	*t = arg;

	(void)call;
	if (strcmp(t->name, "watch") == 0)
		snprintf(t->detail, sizeof(t->detail), "%u%s", t->n,
		    t->bad ? " out-of-order" : "");
	else if (t->detail[0] == '\0')
		snprintf(t->detail, sizeof(t->detail), "%.200s", st->message);
	printf("%s %s %s\n", t->name, grpc_wire_code_name(st->code),
	    t->detail);
	fflush(stdout);
	if (--outstanding == 0)
		event_base_loopbreak(base);
}

static void
start(struct grpc_aclient *ac, struct tcall *t, const char *method,
    const ProtobufCMessage *req, int timeout_ms)
{
	char	 path[128];
	uint8_t	*buf;
	size_t	 len;

	snprintf(path, sizeof(path), SVC "%s", method);
	buf = pack(req, &len);
	grpc_aclient_call(ac, path, buf, len, timeout_ms, on_msg, on_done, t);
	free(buf);
	outstanding++;
}

/* Client stream: k batches of two lines, then the half-close. */
static void
push(struct grpc_aclient *ac, struct tcall *t, int k)
{
	Openshell__V1__PushSandboxLogsRequest	 req =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_REQUEST__INIT;
	Openshell__V1__SandboxLogLine		 l1 =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT, l2 =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	Openshell__V1__SandboxLogLine		*lines[2] = { &l1, &l2 };
	struct grpc_acall			*call;
	uint8_t					*buf;
	size_t					 len;

	call = grpc_aclient_stream(ac, SVC "PushSandboxLogs", 30000, on_msg,
	    on_done, t);
	outstanding++;
	req.sandbox_id = "s";
	req.n_logs = 2;
	req.logs = lines;
	l1.message = "one";
	l2.message = "two";
	buf = pack(&req.base, &len);
	while (k-- > 0)
		if (grpc_aclient_send(call, buf, len) == -1)
			errx(1, "send");
	grpc_aclient_close_send(call);
	if (grpc_aclient_send(call, buf, len) != -1)
		errx(1, "send after close_send");
	free(buf);
}

static void
mode_all(struct grpc_aclient *ac)
{
	static struct tcall	 health = { "health", 0, 0, "" },
				 echo = { "echo", 0, 0, "" },
				 status = { "status", 0, 0, "" },
				 watch = { "watch", 0, 0, "" },
				 pushc = { "push", 0, 0, "" },
				 slow = { "slow", 0, 0, "" },
				 cancel = { "cancel", 0, 0, "" };
	Openshell__V1__HealthRequest		 hreq =
	    OPENSHELL__V1__HEALTH_REQUEST__INIT;
	Openshell__V1__GetSandboxRequest	 ereq =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT,
						 sreq =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	Openshell__V1__WatchSandboxRequest	 wreq =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	Openshell__V1__ListSandboxesRequest	 lreq =
	    OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	struct grpc_acall			*c;
	uint8_t					*buf;
	size_t					 len;

	start(ac, &health, "Health", &hreq.base, 10000);
	ereq.name = "hi";
	start(ac, &echo, "GetSandbox", &ereq.base, 10000);
	sreq.name = "status:7:denied";
	start(ac, &status, "GetSandbox", &sreq.base, 10000);
	wreq.id = "x";
	wreq.log_tail_lines = 2000;
	start(ac, &watch, "WatchSandbox", &wreq.base, 30000);
	push(ac, &pushc, 10);
	lreq.limit = 5000;
	start(ac, &slow, "ListSandboxes", &lreq.base, 300);
	/* Cancelled before it ran: no line may ever come for it. */
	buf = pack(&lreq.base, &len);
	c = grpc_aclient_call(ac, SVC "ListSandboxes", buf, len, 0, on_msg,
	    on_done, &cancel);
	grpc_aclient_cancel(c);
	free(buf);
}

int
main(int argc, char *argv[])
{
	Openshell__V1__HealthRequest	 hreq = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	static struct tcall		 health = { "health", 0, 0, "" };
	struct grpc_aclient		*ac;
	SSL_CTX				*ctx;
	char				 e[256];

	if (argc != 7)
		errx(2, "usage: grpc_atestc host port ca cert key mode");
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if ((ctx = tls_client_ctx(argv[3], argv[4], argv[5], TLS_ALPN_H2)) ==
	    NULL)
		errx(1, "tls_client_ctx");
	if ((ac = grpc_aclient_new(base, argv[1], argv[2], ctx, e,
	    sizeof(e))) == NULL)
		errx(1, "%s", e);
	if (strcmp(argv[6], "all") == 0)
		mode_all(ac);
	else if (strcmp(argv[6], "down") == 0)
		start(ac, &health, "Health", &hreq.base, 1500);
	else
		errx(2, "unknown mode %s", argv[6]);
	event_base_dispatch(base);
	grpc_aclient_free(ac);
	SSL_CTX_free(ctx);
	event_base_free(base);
	return 0;
}
