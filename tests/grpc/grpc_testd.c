/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Test fixture for libgrpc: a server on 127.0.0.1 that borrows a few
 * OpenShell RPC names for behaviours the transport tests need.
 *
 *   Health              real HealthRequest/HealthResponse
 *   GetSandbox          echo: name "status:<code>:<text>" fails with that
 *                       status, "stats" reports cancel callbacks seen,
 *                       anything else comes back as sandbox.name
 *   WatchSandbox        sends log_tail_lines log events (backpressure
 *                       through the drain callback), then OK
 *   PushSandboxLogs     counts log lines; "lines=<n>" in the OK message;
 *                       sandbox_id "fail-after:<k>" fails after k messages
 *   ListSandboxes       answers after `limit` ms (0: never; the deadline
 *                       or the client ends it)
 *   CONNECT /connect/ssh   412;  CONNECT /connect/echo   200 + echo
 *
 * usage: grpc_testd [-v] port cert key ca [max_msg]
 * Prints "ready <port>" once listening (port 0 picks one).  SIGTERM
 * shuts down gracefully and exits 0 once the last connection is gone.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "libgrpc/grpc_server.h"
#include "libgrpc/tls.h"
#include "proto/openshell.pb-c.h"

#define SVC		"/openshell.v1.OpenShell/"
#define TESTD_VERSION	"0.0.0-test"

struct slow {
	struct grpc_call	*call;
	struct event		*ev;
};

struct watch {
	struct grpc_call	*call;
	uint32_t		 next, total;
};

struct push {
	struct grpc_call	*call;
	size_t			 lines, msgs, fail_after;
};

static struct event_base	*base;
static struct grpc_server	*srv;
static unsigned			 ncancel;

static void	 health(struct grpc_call *, const uint8_t *, size_t, void *);
static void	 echo(struct grpc_call *, const uint8_t *, size_t, void *);
static void	 watch(struct grpc_call *, const uint8_t *, size_t, void *);
static void	 watch_more(struct grpc_call *, void *);
static void	 watch_cancel(struct grpc_call *, void *);
static void	 push(struct grpc_call *, const uint8_t *, size_t, void *);
static void	 push_cancel(struct grpc_call *, void *);
static void	 slow(struct grpc_call *, const uint8_t *, size_t, void *);
static void	 slow_fire(evutil_socket_t, short, void *);
static void	 slow_cancel(struct grpc_call *, void *);
static void	 connect_ssh(struct grpc_http *, void *);
static void	 connect_echo(struct grpc_http *, void *);
static void	 echo_read(struct bufferevent *, void *);
static void	 echo_event(struct bufferevent *, short, void *);
static void	 on_term(evutil_socket_t, short, void *);
static void	 on_done(void *);
static int	 listen_on(int *);
static int	 reply(struct grpc_call *, const ProtobufCMessage *);

static int
reply(struct grpc_call *call, const ProtobufCMessage *m)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rv;

	len = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(len ? len : 1)) == NULL)
		return -1;
	protobuf_c_message_pack(m, buf);
	rv = grpc_call_send(call, buf, len);
	free(buf);
	return rv;
}

static void
health(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	Openshell__V1__HealthRequest	*req;
	Openshell__V1__HealthResponse	 resp = OPENSHELL__V1__HEALTH_RESPONSE__INIT;

	(void)arg;
	if ((req = openshell__v1__health_request__unpack(NULL, len,
	    msg)) == NULL) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, "bad request");
		return;
	}
	openshell__v1__health_request__free_unpacked(req, NULL);
	resp.status = OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY;
	resp.version = TESTD_VERSION;
	reply(call, &resp.base);
	grpc_call_finish(call, GRPC_OK, NULL);
}

static void
echo(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	Openshell__V1__GetSandboxRequest	*req;
	Openshell__V1__SandboxResponse		 resp =
	    OPENSHELL__V1__SANDBOX_RESPONSE__INIT;
	Openshell__Datamodel__V1__Sandbox	 sb =
	    OPENSHELL__DATAMODEL__V1__SANDBOX__INIT;
	char					 text[64], *p;
	int					 code;

	(void)arg;
	if ((req = openshell__v1__get_sandbox_request__unpack(NULL, len,
	    msg)) == NULL) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, "bad request");
		return;
	}
	if (strncmp(req->name, "status:", 7) == 0) {
		code = (int)strtol(req->name + 7, &p, 10);
		grpc_call_finish(call, code, *p == ':' ? p + 1 : NULL);
	} else {
		sb.name = req->name;
		if (strcmp(req->name, "stats") == 0) {
			snprintf(text, sizeof(text), "cancels=%u", ncancel);
			sb.name = text;
		}
		sb.id = (char *)grpc_call_peer_cn(call);
		resp.sandbox = &sb;
		reply(call, &resp.base);
		grpc_call_finish(call, GRPC_OK, NULL);
	}
	openshell__v1__get_sandbox_request__free_unpacked(req, NULL);
}

static void
watch(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	Openshell__V1__WatchSandboxRequest	*req;
	struct watch				*w;

	(void)arg;
	if ((req = openshell__v1__watch_sandbox_request__unpack(NULL, len,
	    msg)) == NULL) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, "bad request");
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("calloc");
	w->call = call;
	w->total = req->log_tail_lines;
	openshell__v1__watch_sandbox_request__free_unpacked(req, NULL);
	grpc_call_on_cancel(call, watch_cancel, w);
	grpc_call_on_drain(call, watch_more, w);
	watch_more(call, w);
}

/* Sends until the stream's queue is full; the drain callback resumes. */
static void
watch_more(struct grpc_call *call, void *arg)
{
	struct watch				*w = arg;
	Openshell__V1__SandboxStreamEvent	 ev =
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	Openshell__V1__SandboxLogLine		 line =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	char					 text[64];

	ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG;
	ev.log = &line;
	line.message = text;
	for (; w->next < w->total; w->next++) {
		line.timestamp_ms = w->next;
		snprintf(text, sizeof(text), "line %u", w->next);
		if (reply(call, &ev.base) != 0)
			return;
	}
	grpc_call_finish(call, GRPC_OK, NULL);
	free(w);
}

static void
watch_cancel(struct grpc_call *call, void *arg)
{
	(void)call;
	ncancel++;
	free(arg);
}

static void
push(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	Openshell__V1__PushSandboxLogsRequest	*req;
	Openshell__V1__PushSandboxLogsResponse	 resp =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_RESPONSE__INIT;
	struct push				*p;
	char					 text[64];

	(void)arg;
	/* Per-call state of a client stream rides on the call. */
	if ((p = grpc_call_data(call)) == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			fatal("calloc");
		p->call = call;
		grpc_call_set_data(call, p);
		grpc_call_on_cancel(call, push_cancel, p);
	}
	if (msg == NULL) {
		snprintf(text, sizeof(text), "lines=%zu", p->lines);
		reply(call, &resp.base);
		grpc_call_finish(call, GRPC_OK, text);
		free(p);
		return;
	}
	if ((req = openshell__v1__push_sandbox_logs_request__unpack(NULL, len,
	    msg)) == NULL) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, "bad request");
		free(p);
		return;
	}
	p->msgs++;
	p->lines += req->n_logs;
	if (strncmp(req->sandbox_id, "fail-after:", 11) == 0 &&
	    p->msgs >= strtoul(req->sandbox_id + 11, NULL, 10)) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, "enough");
		free(p);
	}
	openshell__v1__push_sandbox_logs_request__free_unpacked(req, NULL);
}

static void
push_cancel(struct grpc_call *call, void *arg)
{
	(void)call;
	ncancel++;
	free(arg);
}

static void
slow(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	Openshell__V1__ListSandboxesRequest	*req;
	struct slow				*s;
	struct timeval				 tv;

	(void)arg;
	if ((req = openshell__v1__list_sandboxes_request__unpack(NULL, len,
	    msg)) == NULL) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, "bad request");
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->ev = evtimer_new(base, slow_fire, s)) == NULL)
		fatal("slow");
	s->call = call;
	grpc_call_on_cancel(call, slow_cancel, s);
	if (req->limit > 0) {
		tv.tv_sec = req->limit / 1000;
		tv.tv_usec = (req->limit % 1000) * 1000;
		evtimer_add(s->ev, &tv);
	}
	openshell__v1__list_sandboxes_request__free_unpacked(req, NULL);
}

/* The asynchronous answer, from a timer rather than the handler. */
static void
slow_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct slow				*s = arg;
	Openshell__V1__ListSandboxesResponse	 resp =
	    OPENSHELL__V1__LIST_SANDBOXES_RESPONSE__INIT;

	(void)fd;
	(void)ev;
	reply(s->call, &resp.base);
	grpc_call_finish(s->call, GRPC_OK, NULL);
	event_free(s->ev);
	free(s);
}

static void
slow_cancel(struct grpc_call *call, void *arg)
{
	struct slow	*s = arg;

	(void)call;
	ncancel++;
	event_free(s->ev);
	free(s);
}

static void
connect_ssh(struct grpc_http *h, void *arg)
{
	(void)arg;
	grpc_http_respond(h, 412, NULL, NULL, 0);
}

/* Takes the connection over: what the SSH tunnel will do. */
static void
connect_echo(struct grpc_http *h, void *arg)
{
	struct bufferevent	*bev;

	(void)arg;
	if ((bev = grpc_http_takeover(h)) == NULL)
		return;
	bufferevent_setcb(bev, echo_read, NULL, echo_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		echo_read(bev, NULL);
}

static void
echo_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void
echo_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void
on_term(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_info("shutting down");
	grpc_server_shutdown(srv, on_done, NULL);
}

static void
on_done(void *arg)
{
	(void)arg;
	event_base_loopexit(base, NULL);
}

static int
listen_on(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(*port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		fatal("listen on port %d", *port);
	*port = ntohs(sin.sin_port);
	return fd;
}

int
main(int argc, char *argv[])
{
	struct event	*sigev;
	SSL_CTX		*ctx;
	size_t		 max_msg = 1024 * 1024;
	int		 verbose = 0, port, fd;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc < 5)
		errx(1, "usage: grpc_testd [-v] port cert key ca [max_msg]");
	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	signal(SIGPIPE, SIG_IGN);
	port = atoi(argv[1]);
	if (argc > 5)
		max_msg = strtoul(argv[5], NULL, 10);
	if ((ctx = tls_server_ctx(argv[2], argv[3], argv[4])) == NULL)
		fatalx("tls setup failed");
	if ((base = event_base_new()) == NULL ||
	    (srv = grpc_server_new(base, ctx, max_msg)) == NULL)
		fatalx("setup failed");
	grpc_server_version(srv, TESTD_VERSION);
	/* Small, so that WatchSandbox exercises the drain path. */
	grpc_server_queue_limit(srv, 64 * 1024);
	grpc_server_method(srv, SVC "Health", GRPC_UNARY, health, NULL);
	grpc_server_method(srv, SVC "GetSandbox", GRPC_UNARY, echo, NULL);
	grpc_server_method(srv, SVC "WatchSandbox", GRPC_SERVER_STREAM,
	    watch, NULL);
	grpc_server_method(srv, SVC "PushSandboxLogs", GRPC_CLIENT_STREAM,
	    push, NULL);
	grpc_server_method(srv, SVC "ListSandboxes", GRPC_UNARY, slow, NULL);
	grpc_server_connect(srv, "/connect/ssh", connect_ssh, NULL);
	grpc_server_connect(srv, "/connect/echo", connect_echo, NULL);
	fd = listen_on(&port);
	/* We bound it here; in the gateway the parent does and passes fd. */
	if (grpc_server_listen_fd(srv, fd) != 0)
		fatalx("grpc_server_listen_fd");
	sigev = evsignal_new(base, SIGTERM, on_term, NULL);
	evsignal_add(sigev, NULL);
	printf("ready %d\n", port);
	fflush(stdout);
	event_base_dispatch(base);
	event_free(sigev);
	grpc_server_free(srv);
	event_base_free(base);
	SSL_CTX_free(ctx);
	return 0;
}
