/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * l7_load: the HTTPS client of bench/l7, in C (OpenSSL, blocking, one
 * thread per connection) so that the client is not what is measured.
 *
 *   l7_load rps [-kR] -c CONNS -t SECS -w WARM -a CAFILE -h HOST -p PORT
 *	    -s ADDR[:PORT] [-x PROXY]
 *	GET / on CONNS connections at once for SECS seconds after WARM
 *	seconds of warm-up; -k keeps each connection alive across
 *	requests, without it every request has a connection (and a
 *	full handshake) of its own ("Connection: close"); -R resumes
 *	the previous TLS session of the thread on the next connection.
 *	Prints "rps=R p50_us=A p99_us=B errors=E total=T" (T: all
 *	requests, warm-up included, for a CPU cost per request).
 *   l7_load hs [-R] -n N -o FIRST -a CAFILE -h HOSTFMT -p PORT
 *	    -s ADDR[:PORT] [-x PROXY]
 *	N connections one after the other, to the host HOSTFMT names
 *	with the counter FIRST, FIRST+1 ... (a printf format with one
 *	%d, or one name for all); for each, the time of the TLS
 *	handshake (SSL_connect, after the tunnel is up) and from
 *	connect(2) to the complete answer of a first GET.  Prints
 *	"hs_p50_us=A hs_p99_us=B first_p50_us=C first_p99_us=D
 *	errors=E reused=F" (F: handshakes that resumed a session).
 *
 * -s is where the TCP connection goes (the server, or with -x the
 * proxy at PROXY, ADDR:PORT, which is asked to CONNECT HOST:PORT).
 * Certificates are verified against CAFILE with the host name (or IP
 * address) HOST; ALPN offers http/1.1.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "l7_net.h"
#include <openssl/x509v3.h>

#define LOAD_MAXCONN	256
#define LOAD_BUF	16384
#define LOAD_HOSTLEN	256

struct load_opts {
	int			 o_keep;
	int			 o_resume;
	int			 o_conns;
	double			 o_secs;
	double			 o_warm;
	int			 o_n;
	int			 o_first;
	const char		*o_ca;
	const char		*o_host;	/* a name, or a format */
	int			 o_port;
	struct sockaddr_in	 o_to;
	int			 o_proxy;	/* o_to is a proxy */
};

/* Samples of one thread, in microseconds. */
struct load_samples {
	double		*ls_v;
	size_t		 ls_n;
	size_t		 ls_cap;
};

struct load_worker {
	pthread_t		 lw_t;
	SSL_SESSION		*lw_sess;	/* -R: the last session */
	struct load_samples	 lw_lat;
	unsigned long		 lw_done;	/* in the measured window */
	unsigned long		 lw_all;	/* warm-up included */
	unsigned long		 lw_err;
};

static double	 load_now(void);
static int	 load_opts(struct load_opts *, int, char **);
static int	 load_tcp(void);
static int	 load_connect(int, const char *, int);
static SSL	*load_tls(int, const char *, SSL_SESSION *);
static SSL	*load_open(const char *, SSL_SESSION *, double *);
static int	 load_get(SSL *, const char *, int);
static int	 load_resp(SSL *);
static void	 load_close(SSL *);
static void	 load_sample(struct load_samples *, double);
static int	 load_cmp(const void *, const void *);
static double	 load_pct(struct load_samples *, double);
static void	 load_merge(struct load_samples *, struct load_samples *);
static void	*load_rps_run(void *);
static int	 load_rps_once(struct load_worker *);
static int	 load_rps(int, char **);
static int	 load_hs(int, char **);
static void	 load_usage(void);

static struct load_opts	 opts;
static SSL_CTX		*load_sslctx;
static atomic_int	 load_counting;
static atomic_int	 load_stop;

static double
load_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
load_opts(struct load_opts *o, int argc, char **argv)
{
	const char	*to = NULL, *proxy = NULL;
	int		 ch;

	memset(o, 0, sizeof(*o));
	o->o_conns = 1;
	o->o_secs = 1;
	o->o_warm = 0.2;
	o->o_n = 100;
	while ((ch = getopt(argc, argv, "kRc:t:w:n:o:a:h:p:s:x:")) != -1) {
		switch (ch) {
		case 'k':
			o->o_keep = 1;
			break;
		case 'R':
			o->o_resume = 1;
			break;
		case 'c':
			o->o_conns = atoi(optarg);
			break;
		case 't':
			o->o_secs = atof(optarg);
			break;
		case 'w':
			o->o_warm = atof(optarg);
			break;
		case 'n':
			o->o_n = atoi(optarg);
			break;
		case 'o':
			o->o_first = atoi(optarg);
			break;
		case 'a':
			o->o_ca = optarg;
			break;
		case 'h':
			o->o_host = optarg;
			break;
		case 'p':
			o->o_port = atoi(optarg);
			break;
		case 's':
			to = optarg;
			break;
		case 'x':
			proxy = optarg;
			break;
		default:
			return -1;
		}
	}
	if (o->o_ca == NULL || o->o_host == NULL || o->o_port <= 0 ||
	    (to == NULL && proxy == NULL) || o->o_conns < 1 ||
	    o->o_conns > LOAD_MAXCONN || o->o_n < 1)
		return -1;
	o->o_proxy = proxy != NULL;
	return l7_net_addr(&o->o_to, proxy != NULL ? proxy : to);
}

static int
load_tcp(void)
{
	int	 s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (struct sockaddr *)&opts.o_to, sizeof(opts.o_to)) ==
	    -1) {
		close(s);
		return -1;
	}
	return s;
}

/* CONNECT host:port; the proxy's answer head is read byte-exact. */
static int
load_connect(int s, const char *host, int port)
{
	char	 buf[1024];
	size_t	 have = 0;
	ssize_t	 n;
	int	 len;

	len = snprintf(buf, sizeof(buf), "CONNECT %s:%d HTTP/1.1\r\n"
	    "Host: %s:%d\r\n\r\n", host, port, host, port);
	if (write(s, buf, (size_t)len) != len)
		return -1;
	while (have < sizeof(buf) - 1) {
		/* One byte at a time: the TLS server speaks next. */
		if ((n = read(s, buf + have, 1)) <= 0)
			return -1;
		have++;
		buf[have] = '\0';
		if (have >= 4 && memcmp(buf + have - 4, "\r\n\r\n", 4) == 0)
			return strncmp(buf, "HTTP/1.", 7) == 0 &&
			    strncmp(buf + 8, " 200", 4) == 0 ? 0 : -1;
	}
	return -1;
}

/* The TLS client on s (owned by the SSL from here); NULL on failure. */
static SSL *
load_tls(int s, const char *host, SSL_SESSION *sess)
{
	unsigned char	 ip[4];
	SSL		*ssl;

	if ((ssl = SSL_new(load_sslctx)) == NULL) {
		close(s);
		return NULL;
	}
	SSL_set_fd(ssl, s);
	if (inet_pton(AF_INET, host, ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) != 1)
			goto bad;
	} else if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
	    SSL_set1_host(ssl, host) != 1)
		goto bad;
	if (sess != NULL)
		SSL_set_session(ssl, sess);
	if (SSL_connect(ssl) != 1)
		goto bad;
	return ssl;
bad:
	load_close(ssl);
	return NULL;
}

/*
 * A verified TLS connection to host (through the proxy when there is
 * one); *hs gets the handshake's seconds.
 */
static SSL *
load_open(const char *host, SSL_SESSION *sess, double *hs)
{
	double	 t0;
	SSL	*ssl;
	int	 s;

	if ((s = load_tcp()) == -1)
		return NULL;
	if (opts.o_proxy && load_connect(s, host, opts.o_port) == -1) {
		close(s);
		return NULL;
	}
	t0 = load_now();
	ssl = load_tls(s, host, sess);
	*hs = load_now() - t0;
	return ssl;
}

static int
load_get(SSL *ssl, const char *host, int close_after)
{
	char	 req[512];
	int	 n;

	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s:%d\r\n"
	    "User-Agent: l7_load\r\nAccept: */*\r\n%s\r\n", host,
	    opts.o_port, close_after ? "Connection: close\r\n" : "");
	if (SSL_write(ssl, req, n) != n)
		return -1;
	return load_resp(ssl);
}

/* One 200 answer with a Content-Length, read whole. */
static int
load_resp(SSL *ssl)
{
	char		 buf[LOAD_BUF];
	const char	*p, *cl;
	size_t		 have = 0, need = 0;
	int		 n;

	while (need == 0 || have < need) {
		n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (need == 0 && (p = strstr(buf, "\r\n\r\n")) != NULL) {
			if (strncmp(buf + 8, " 200 ", 5) != 0 ||
			    (cl = strcasestr(buf, "\r\nContent-Length:")) ==
			    NULL || cl > p)
				return -1;
			need = (size_t)(p + 4 - buf) +
			    (size_t)strtoul(cl + 17, NULL, 10);
			if (need >= sizeof(buf))
				return -1;
		}
		if (have >= sizeof(buf) - 1)
			return -1;
	}
	return have == need ? 0 : -1;
}

/* Closes the socket too (it was given to the SSL). */
static void
load_close(SSL *ssl)
{
	int	 s = SSL_get_fd(ssl);

	SSL_free(ssl);
	if (s != -1)
		close(s);
	ERR_clear_error();
}

static void
load_sample(struct load_samples *ls, double us)
{
	double	*nv;

	if (ls->ls_n == ls->ls_cap) {
		ls->ls_cap = ls->ls_cap ? ls->ls_cap * 2 : 4096;
		if ((nv = realloc(ls->ls_v, ls->ls_cap * sizeof(*nv))) ==
		    NULL) {
			ls->ls_cap = ls->ls_n;
			return;
		}
		ls->ls_v = nv;
	}
	ls->ls_v[ls->ls_n++] = us;
}

static int
load_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (sorts the samples). */
static double
load_pct(struct load_samples *ls, double q)
{
	if (ls->ls_n == 0)
		return -1;
	qsort(ls->ls_v, ls->ls_n, sizeof(*ls->ls_v), load_cmp);
	return ls->ls_v[(size_t)(q * (double)(ls->ls_n - 1) + 0.5)];
}

static void
load_merge(struct load_samples *to, struct load_samples *from)
{
	size_t	 i;

	for (i = 0; i < from->ls_n; i++)
		load_sample(to, from->ls_v[i]);
	free(from->ls_v);
	memset(from, 0, sizeof(*from));
}

/* One connection's worth of requests (one without -k).  -1: failed. */
static int
load_rps_once(struct load_worker *w)
{
	SSL	*ssl;
	double	 t0, hs;
	int	 rc = 0;

	t0 = load_now();
	if ((ssl = load_open(opts.o_host, w->lw_sess, &hs)) == NULL)
		return -1;
	do {
		if (load_get(ssl, opts.o_host, !opts.o_keep) == -1) {
			rc = -1;
			break;
		}
		w->lw_all++;
		if (atomic_load(&load_counting) && !atomic_load(&load_stop)) {
			w->lw_done++;
			load_sample(&w->lw_lat, (load_now() - t0) * 1e6);
		}
		t0 = load_now();
	} while (opts.o_keep && !atomic_load(&load_stop));
	if (opts.o_resume) {
		SSL_SESSION_free(w->lw_sess);
		w->lw_sess = SSL_get1_session(ssl);
	}
	if (rc == 0)
		SSL_shutdown(ssl);
	load_close(ssl);
	return rc;
}

static void *
load_rps_run(void *arg)
{
	struct load_worker	*w = arg;

	while (!atomic_load(&load_stop))
		if (load_rps_once(w) == -1 && !atomic_load(&load_stop))
			w->lw_err++;
	SSL_SESSION_free(w->lw_sess);
	return NULL;
}

static int
load_rps(int argc, char **argv)
{
	struct load_worker	*w;
	struct load_samples	 all;
	struct timespec		 ts;
	unsigned long		 done = 0, err = 0, total = 0;
	double			 t0, el;
	int			 i;

	if (load_opts(&opts, argc, argv) == -1)
		load_usage();
	if ((load_sslctx = l7_net_client_ctx(opts.o_ca)) == NULL ||
	    (w = calloc((size_t)opts.o_conns, sizeof(*w))) == NULL)
		return 1;
	for (i = 0; i < opts.o_conns; i++)
		pthread_create(&w[i].lw_t, NULL, load_rps_run, &w[i]);
	ts.tv_sec = (time_t)opts.o_warm;
	ts.tv_nsec = (long)((opts.o_warm - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	t0 = load_now();
	atomic_store(&load_counting, 1);
	ts.tv_sec = (time_t)opts.o_secs;
	ts.tv_nsec = (long)((opts.o_secs - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	atomic_store(&load_stop, 1);
	el = load_now() - t0;
	memset(&all, 0, sizeof(all));
	for (i = 0; i < opts.o_conns; i++) {
		pthread_join(w[i].lw_t, NULL);
		done += w[i].lw_done;
		total += w[i].lw_all;
		err += w[i].lw_err;
		load_merge(&all, &w[i].lw_lat);
	}
	printf("rps=%.0f p50_us=%.0f p99_us=%.0f errors=%lu total=%lu\n",
	    (double)done / el, load_pct(&all, 0.5), load_pct(&all, 0.99),
	    err, total);
	return done > 0 ? 0 : 1;
}

static int
load_hs(int argc, char **argv)
{
	struct load_samples	 hs, first;
	char			 host[LOAD_HOSTLEN];
	unsigned long		 err = 0, reused = 0;
	double			 t0, h;
	SSL_SESSION		*sess = NULL;
	SSL			*ssl;
	int			 i;

	if (load_opts(&opts, argc, argv) == -1)
		load_usage();
	if ((load_sslctx = l7_net_client_ctx(opts.o_ca)) == NULL)
		return 1;
	memset(&hs, 0, sizeof(hs));
	memset(&first, 0, sizeof(first));
	for (i = 0; i < opts.o_n; i++) {
		/* The format is ours (run.sh), not the user's. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(host, sizeof(host), opts.o_host, opts.o_first + i);
#pragma GCC diagnostic pop
		t0 = load_now();
		if ((ssl = load_open(host, sess, &h)) == NULL ||
		    load_get(ssl, host, 1) == -1) {
			err++;
			if (ssl != NULL)
				load_close(ssl);
			continue;
		}
		load_sample(&first, (load_now() - t0) * 1e6);
		load_sample(&hs, h * 1e6);
		reused += SSL_session_reused(ssl) == 1;
		if (opts.o_resume) {
			SSL_SESSION_free(sess);
			sess = SSL_get1_session(ssl);
		}
		SSL_shutdown(ssl);
		load_close(ssl);
	}
	SSL_SESSION_free(sess);
	printf("hs_p50_us=%.0f hs_p99_us=%.0f first_p50_us=%.0f "
	    "first_p99_us=%.0f errors=%lu reused=%lu\n", load_pct(&hs, 0.5),
	    load_pct(&hs, 0.99), load_pct(&first, 0.5),
	    load_pct(&first, 0.99), err, reused);
	return hs.ls_n > 0 ? 0 : 1;
}

static void
load_usage(void)
{
	fprintf(stderr, "usage: l7_load rps [-kR] -c CONNS -t SECS -w WARM "
	    "-a CAFILE -h HOST -p PORT\n\t\t-s ADDR:PORT | -x PROXY\n"
	    "       l7_load hs [-R] -n N -o FIRST -a CAFILE -h HOSTFMT "
	    "-p PORT\n\t\t-s ADDR:PORT | -x PROXY\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		load_usage();
	if (strcmp(argv[1], "rps") == 0)
		return load_rps(argc - 1, argv + 1);
	if (strcmp(argv[1], "hs") == 0)
		return load_hs(argc - 1, argv + 1);
	load_usage();
	return 2;
}
