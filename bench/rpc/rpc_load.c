/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * rpc_load: unary gRPC load over one mTLS HTTP/2 connection, keeping
 * a fixed number of streams in flight (what h2load -c1 -mN does, but
 * presenting a client certificate, which h2load cannot).
 *
 *   rpc_load [-r] [-o file] [-W wait_s] [-w warmup_s] -p port -d pkidir
 *       -m streams -t secs
 *
 * pkidir holds ca.crt, admin.crt and admin.key.  Each request is
 * POST /openshell.v1.OpenShell/Health with an empty message.  A call
 * counts as done when its stream closes with grpc-status 0 (with -r:
 * with :status 200, for an HTTP/2 peer such as nghttpd).  Prints one
 * line: "rps=R p50_us=A p99_us=B ok=N errors=E".  -o saves the first
 * response body (for a peer to serve the same bytes); -W retries the
 * connection for that long while the server is still starting.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h2conn.h"
#include "libgrpc/tls.h"

#define LOAD_PATH	"/openshell.v1.OpenShell/Health"
#define LOAD_MAXSTREAMS	1024

struct slot {
	int64_t		 s_t0;
	int		 s_ok;
	int		 s_busy;
};

struct load {
	struct h2conn	*l_conn;
	struct slot	 l_slots[LOAD_MAXSTREAMS];
	int		 l_raw;
	int64_t		 l_from;	/* measured window */
	int64_t		*l_lat;
	size_t		 l_nlat;
	size_t		 l_caplat;
	long		 l_ok;
	long		 l_err;
	FILE		*l_save;	/* -o: the first response body */
	struct slot	*l_saving;
};

static struct load	 L;
static const uint8_t	 load_body[5];

static void	 load_header(struct h2conn *, void *, const char *,
		    const char *);
static void	 load_data(struct h2conn *, void *, const uint8_t *, size_t);
static void	 load_close(struct h2conn *, void *, uint32_t);
static struct h2conn *load_connect(SSL_CTX *, int, double);
static void	 load_record(int64_t);
static int	 load_cmp(const void *, const void *);
static void	 usage(void);

static const struct h2conn_ops load_ops = {
	.on_header = load_header,
	.on_data = load_data,
	.on_close = load_close,
};

static void
usage(void)
{
	fprintf(stderr, "usage: rpc_load [-r] [-o file] [-W wait] [-w warmup] "
	    "-p port -d pkidir -m streams -t seconds\n");
	exit(2);
}

static void
load_header(struct h2conn *c, void *user, const char *name,
    const char *value)
{
	struct slot	*s = user;

	(void)c;
	if (L.l_raw ? strcmp(name, ":status") == 0 &&
	    strcmp(value, "200") == 0 : strcmp(name, "grpc-status") == 0 &&
	    strcmp(value, "0") == 0)
		s->s_ok = 1;
}

static void
load_data(struct h2conn *c, void *user, const uint8_t *data, size_t len)
{
	(void)c;
	if (L.l_save == NULL)
		return;
	if (L.l_saving == NULL)
		L.l_saving = user;
	if (L.l_saving == user)
		fwrite(data, 1, len, L.l_save);
}

static void
load_close(struct h2conn *c, void *user, uint32_t code)
{
	struct slot	*s = user;
	int64_t		 now = h2conn_now_us();

	(void)c;
	s->s_busy = 0;
	if (L.l_saving == user) {
		fclose(L.l_save);
		L.l_save = NULL;
		L.l_saving = NULL;
	}
	if (s->s_t0 < L.l_from)
		return;
	if (s->s_ok && code == 0) {
		L.l_ok++;
		load_record(now - s->s_t0);
	} else
		L.l_err++;
}

static void
load_record(int64_t us)
{
	if (L.l_nlat == L.l_caplat) {
		size_t	 cap = L.l_caplat ? L.l_caplat * 2 : 65536;
		int64_t	*p = realloc(L.l_lat, cap * sizeof(*p));

		if (p == NULL)
			return;
		L.l_lat = p;
		L.l_caplat = cap;
	}
	L.l_lat[L.l_nlat++] = us;
}

static int
load_cmp(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
load_issue(int m)
{
	int	 i;

	for (i = 0; i < m; i++) {
		if (L.l_slots[i].s_busy)
			continue;
		L.l_slots[i].s_busy = 1;
		L.l_slots[i].s_ok = 0;
		L.l_slots[i].s_t0 = h2conn_now_us();
		if (h2conn_post(L.l_conn, LOAD_PATH, load_body,
		    sizeof(load_body), NULL, &L.l_slots[i]) < 0)
			L.l_slots[i].s_busy = 0;
	}
}

/* A server just started may not listen yet: retry for wait seconds. */
static struct h2conn *
load_connect(SSL_CTX *ctx, int port, double wait)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	struct h2conn	*c;
	int64_t		 end = h2conn_now_us() + (int64_t)(wait * 1e6);

	while ((c = h2conn_open(ctx, "127.0.0.1", port, &load_ops)) == NULL &&
	    h2conn_now_us() < end)
		nanosleep(&ts, NULL);
	if (c == NULL)
		fprintf(stderr, "rpc_load: cannot connect to port %d\n", port);
	return c;
}

int
main(int argc, char *argv[])
{
	SSL_CTX		*ctx;
	char		 ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
	const char	*dir = NULL;
	double		 secs = 3, warm = 0.5, wait = 0, span;
	int64_t		 end;
	int		 ch, port = 0, m = 1;

	while ((ch = getopt(argc, argv, "d:m:o:p:rt:W:w:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'o':
			if ((L.l_save = fopen(optarg, "wb")) == NULL) {
				perror(optarg);
				return 1;
			}
			break;
		case 'W':
			wait = atof(optarg);
			break;
		case 'm':
			m = atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			L.l_raw = 1;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (dir == NULL || port <= 0 || m < 1 || m > LOAD_MAXSTREAMS ||
	    secs <= 0)
		usage();
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/admin.crt", dir);
	snprintf(key, sizeof(key), "%s/admin.key", dir);
	if ((ctx = tls_client_ctx(ca, crt, key, TLS_ALPN_H2)) == NULL ||
	    (L.l_conn = load_connect(ctx, port, wait)) == NULL)
		return 1;
	L.l_from = h2conn_now_us() + (int64_t)(warm * 1e6);
	end = L.l_from + (int64_t)(secs * 1e6);
	while (h2conn_now_us() < end) {
		load_issue(m);
		if (h2conn_pump(&L.l_conn, 1, 100) == -1 ||
		    h2conn_dead(L.l_conn)) {
			fprintf(stderr, "rpc_load: connection lost\n");
			return 1;
		}
	}
	span = (double)(h2conn_now_us() - L.l_from) / 1e6;
	qsort(L.l_lat, L.l_nlat, sizeof(*L.l_lat), load_cmp);
	printf("rps=%.0f p50_us=%lld p99_us=%lld ok=%ld errors=%ld\n",
	    (double)L.l_ok / span,
	    L.l_nlat ? (long long)L.l_lat[L.l_nlat / 2] : -1LL,
	    L.l_nlat ? (long long)L.l_lat[L.l_nlat * 99 / 100] : -1LL,
	    L.l_ok, L.l_err);
	h2conn_close(L.l_conn);
	SSL_CTX_free(ctx);
	return L.l_ok > 0 && L.l_err == 0 ? 0 : 1;
}
