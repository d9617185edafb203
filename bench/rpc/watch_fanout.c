/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * watch_fanout: N WatchSandbox subscribers on one sandbox, then one
 * log line pushed; how long until every subscriber has it.
 *
 *   watch_fanout -p port -d pkidir [-n subscribers] [-c connections]
 *
 * Creates a sandbox, opens the subscribers (follow_logs, sources
 * ["sandbox"], so the replay is empty) spread over the connections
 * (the server allows 128 streams per connection), waits until each has
 * its snapshot, then pushes one line through PushSandboxLogs on a
 * connection of its own and times its arrival at every subscriber,
 * from just before the push.  Prints one line:
 * "subscribers=N setup_ms=S p50_ms=A p99_ms=B max_ms=C".
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2conn.h"
#include "libgrpc/tls.h"
#include "proto/openshell.pb-c.h"

#define FAN_MAXCONNS	64
#define FAN_DEADLINE_US	(20 * 1000000LL)
#define FAN_MARKER	"fanout-marker"

/* One stream: a subscriber, or one of the unary calls. */
struct sub {
	uint8_t		*s_buf;		/* bytes not yet parsed */
	size_t		 s_len;
	int		 s_snapshot;	/* got the sandbox snapshot */
	int64_t		 s_got;		/* when the marker came */
	int		 s_closed;
	int		 s_status;	/* grpc-status, -1 until known */
	uint8_t		*s_msg;		/* the first message */
	size_t		 s_msglen;
};

static void	 fan_header(struct h2conn *, void *, const char *,
		    const char *);
static void	 fan_data(struct h2conn *, void *, const uint8_t *, size_t);
static void	 fan_close(struct h2conn *, void *, uint32_t);
static void	 fan_message(struct sub *, const uint8_t *, size_t);
static uint8_t	*fan_frame(const ProtobufCMessage *, size_t *);
static int	 fan_wait(struct h2conn **, size_t, struct sub *, size_t,
		    int);
static int	 fan_cmp(const void *, const void *);
static char	*fan_create(struct h2conn *, const char *);
static int	 fan_push(struct h2conn *, const char *);
static void	 usage(void);

static const struct h2conn_ops fan_ops = {
	.on_header = fan_header,
	.on_data = fan_data,
	.on_close = fan_close,
};
static int64_t	 fan_pushed;		/* when the push went out */

static void
usage(void)
{
	fprintf(stderr, "usage: watch_fanout -p port -d pkidir "
	    "[-n subscribers] [-c connections]\n");
	exit(2);
}

static void
fan_header(struct h2conn *c, void *user, const char *name, const char *value)
{
	struct sub	*s = user;

	(void)c;
	if (strcmp(name, "grpc-status") == 0)
		s->s_status = atoi(value);
}

/* Response bytes are a stream of length-prefixed messages. */
static void
fan_data(struct h2conn *c, void *user, const uint8_t *data, size_t len)
{
	struct sub	*s = user;
	uint8_t		*p;
	size_t		 n;

	(void)c;
	if ((p = realloc(s->s_buf, s->s_len + len)) == NULL)
		abort();
	s->s_buf = p;
	memcpy(s->s_buf + s->s_len, data, len);
	s->s_len += len;
	while (s->s_len >= 5) {
		n = (size_t)s->s_buf[1] << 24 | (size_t)s->s_buf[2] << 16 |
		    (size_t)s->s_buf[3] << 8 | s->s_buf[4];
		if (s->s_len < 5 + n)
			break;
		fan_message(s, s->s_buf + 5, n);
		memmove(s->s_buf, s->s_buf + 5 + n, s->s_len - 5 - n);
		s->s_len -= 5 + n;
	}
}

static void
fan_message(struct sub *s, const uint8_t *msg, size_t len)
{
	Openshell__V1__SandboxStreamEvent	*ev;

	if (s->s_msg == NULL && (s->s_msg = malloc(len + 1)) != NULL) {
		memcpy(s->s_msg, msg, len);
		s->s_msglen = len;
	}
	if ((ev = openshell__v1__sandbox_stream_event__unpack(NULL, len,
	    msg)) == NULL)
		return;
	if (ev->payload_case ==
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX)
		s->s_snapshot = 1;
	else if (ev->payload_case ==
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG && s->s_got == 0 &&
	    strcmp(ev->log->message, FAN_MARKER) == 0)
		s->s_got = h2conn_now_us();
	openshell__v1__sandbox_stream_event__free_unpacked(ev, NULL);
}

static void
fan_close(struct h2conn *c, void *user, uint32_t code)
{
	struct sub	*s = user;

	(void)c;
	(void)code;
	s->s_closed = 1;
}

/* The message with its 5-byte gRPC prefix; malloc'd. */
static uint8_t *
fan_frame(const ProtobufCMessage *m, size_t *lenp)
{
	size_t	 n = protobuf_c_message_get_packed_size(m);
	uint8_t	*p;

	if ((p = malloc(n + 5)) == NULL)
		abort();
	p[0] = 0;
	p[1] = (uint8_t)(n >> 24);
	p[2] = (uint8_t)(n >> 16);
	p[3] = (uint8_t)(n >> 8);
	p[4] = (uint8_t)n;
	protobuf_c_message_pack(m, p + 5);
	*lenp = n + 5;
	return p;
}

/*
 * Pumps until every sub has what = 0: closed, 1: a snapshot, 2: the
 * marker; -1 at the deadline or if the connections die.
 */
static int
fan_wait(struct h2conn **v, size_t nv, struct sub *subs, size_t n, int what)
{
	int64_t	 end = h2conn_now_us() + FAN_DEADLINE_US;
	size_t	 i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (!(what == 0 ? subs[i].s_closed : what == 1 ?
			    subs[i].s_snapshot : subs[i].s_got != 0))
				break;
		if (i == n)
			return 0;
		if (h2conn_now_us() > end || h2conn_pump(v, nv, 100) == -1)
			return -1;
	}
}

static int
fan_cmp(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static char *
fan_create(struct h2conn *c, const char *name)
{
	Openshell__V1__CreateSandboxRequest	 req =
	    OPENSHELL__V1__CREATE_SANDBOX_REQUEST__INIT;
	Openshell__Datamodel__V1__SandboxSpec	 spec =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__INIT;
	Openshell__V1__SandboxResponse		*res;
	struct sub				 s = { .s_status = -1 };
	uint8_t					*body;
	size_t					 len;
	char					*id = NULL;

	req.spec = &spec;
	req.name = (char *)name;
	body = fan_frame(&req.base, &len);
	if (h2conn_post(c, "/openshell.v1.OpenShell/CreateSandbox", body, len,
	    NULL, &s) < 0 || fan_wait(&c, 1, &s, 1, 0) == -1 ||
	    s.s_status != 0 || s.s_msg == NULL) {
		fprintf(stderr, "watch_fanout: CreateSandbox failed (%d)\n",
		    s.s_status);
		exit(1);
	}
	if ((res = openshell__v1__sandbox_response__unpack(NULL, s.s_msglen,
	    s.s_msg)) != NULL && res->sandbox != NULL)
		id = strdup(res->sandbox->id);
	if (res != NULL)
		openshell__v1__sandbox_response__free_unpacked(res, NULL);
	free(body);
	free(s.s_msg);
	free(s.s_buf);
	if (id == NULL)
		exit(1);
	return id;
}

static int
fan_push(struct h2conn *c, const char *id)
{
	Openshell__V1__PushSandboxLogsRequest	 req =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_REQUEST__INIT;
	Openshell__V1__SandboxLogLine		 line =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	Openshell__V1__SandboxLogLine		*lp = &line;
	static struct sub			 s = { .s_status = -1 };
	static uint8_t				*body;
	size_t					 len;

	line.level = "INFO";
	line.target = "bench";
	line.message = FAN_MARKER;
	req.sandbox_id = (char *)id;
	req.n_logs = 1;
	req.logs = &lp;
	body = fan_frame(&req.base, &len);
	fan_pushed = h2conn_now_us();
	return h2conn_post(c, "/openshell.v1.OpenShell/PushSandboxLogs", body,
	    len, NULL, &s) < 0 ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	Openshell__V1__WatchSandboxRequest	 w =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	struct h2conn	*conns[FAN_MAXCONNS + 1];
	struct sub	*subs;
	SSL_CTX		*ctx;
	int64_t		*lat, t0, setup;
	char		 ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
	char		 name[64];
	char		*src[1] = { "sandbox" }, *id;
	const char	*dir = NULL;
	uint8_t		*body;
	size_t		 len, i, n = 1000, nc = 10;
	int		 ch, port = 0;

	while ((ch = getopt(argc, argv, "c:d:n:p:")) != -1) {
		switch (ch) {
		case 'c':
			nc = (size_t)atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = (size_t)atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (dir == NULL || port <= 0 || n == 0 || nc == 0 ||
	    nc > FAN_MAXCONNS || n > nc * 120)
		usage();
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/admin.crt", dir);
	snprintf(key, sizeof(key), "%s/admin.key", dir);
	if ((ctx = tls_client_ctx(ca, crt, key, TLS_ALPN_H2)) == NULL)
		return 1;
	/* conns[nc] is the control connection: create and push. */
	for (i = 0; i <= nc; i++)
		if ((conns[i] = h2conn_open(ctx, "127.0.0.1", port,
		    &fan_ops)) == NULL)
			return 1;
	snprintf(name, sizeof(name), "fanout-%d", (int)getpid());
	id = fan_create(conns[nc], name);

	if ((subs = calloc(n, sizeof(*subs))) == NULL ||
	    (lat = calloc(n, sizeof(*lat))) == NULL)
		return 1;
	w.id = id;
	w.follow_logs = 1;
	w.n_log_sources = 1;
	w.log_sources = src;
	body = fan_frame(&w.base, &len);
	t0 = h2conn_now_us();
	for (i = 0; i < n; i++) {
		subs[i].s_status = -1;
		if (h2conn_post(conns[i % nc], "/openshell.v1.OpenShell/"
		    "WatchSandbox", body, len, NULL, &subs[i]) < 0)
			return 1;
	}
	if (fan_wait(conns, nc + 1, subs, n, 1) == -1) {
		fprintf(stderr, "watch_fanout: not every subscriber got its "
		    "snapshot\n");
		return 1;
	}
	setup = h2conn_now_us() - t0;
	if (fan_push(conns[nc], id) == -1 ||
	    fan_wait(conns, nc + 1, subs, n, 2) == -1) {
		fprintf(stderr, "watch_fanout: the line did not reach every "
		    "subscriber\n");
		return 1;
	}
	for (i = 0; i < n; i++)
		lat[i] = subs[i].s_got - fan_pushed;
	qsort(lat, n, sizeof(*lat), fan_cmp);
	printf("subscribers=%zu setup_ms=%.1f p50_ms=%.2f p99_ms=%.2f "
	    "max_ms=%.2f\n", n, setup / 1e3, lat[n / 2] / 1e3,
	    lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
	for (i = 0; i <= nc; i++)
		h2conn_close(conns[i]);
	SSL_CTX_free(ctx);
	return 0;
}
