/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * proxy_load: the C side of bench/proxy, so that neither the server
 * nor the client is the bottleneck being measured.
 *
 *   proxy_load sink ADDR PORT
 *	a test server; prints "ready" on stdout once it listens.  Each
 *	connection starts with one command byte: 'D' sends zeroes until
 *	the peer goes, 'U' reads and drops until EOF, 'L' reads one
 *	line and answers PROXY_LOAD_RESP bytes.
 *   proxy_load relay ADDR PORT UPADDR UPPORT
 *	the floor for any user-space proxy: answers every CONNECT with
 *	200 (no policy, no identity) and moves the bytes to and from
 *	UPADDR UPPORT with blocking splice(2), two threads per tunnel.
 *	Prints "ready" once it listens.
 *   proxy_load bulk down|up CONNS SECS ADDR PORT [PROXY TARGET]
 *	CONNS tunnels at once for SECS (after a warm-up); prints the
 *	aggregate MB/s (MiB/s) of the direction, and the bytes moved in
 *	all (warm-up included, for a CPU cost per byte).
 *   proxy_load lat N ADDR PORT [PROXY TARGET]
 *	N connections one after the other; for each, the time from
 *	connect(2) to the first byte of the answer to a small request
 *	(through CONNECT when PROXY is given); prints p50 and p99 in us.
 *   proxy_load hold N PROXY TARGET
 *	opens N CONNECT tunnels and keeps them (idle) until "drop"
 *   proxy_load agent
 *	runs inside a sandbox: reads one command per line on stdin
 *	(bulk, lat, hold, drop, as above without "proxy_load") and
 *	prints each one's answer line ("error" on a failure), so that
 *	one sandbox serves a whole benchmark run.
 *
 * PROXY is host:port of an HTTP proxy, TARGET the host:port to CONNECT
 * to; without them the client connects to ADDR PORT directly.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROXY_LOAD_BUF		(128 * 1024)	/* per read/write */
#define PROXY_LOAD_RESP		64		/* 'L' answer size */
#define PROXY_LOAD_MAXCONN	64
#define PROXY_LOAD_WARMUP	0.2		/* seconds not counted */
#define PROXY_LOAD_PIPE		(1024 * 1024)	/* as proxyd's splice.c */
#define PROXY_LOAD_MAXHOLD	1024
#define PROXY_LOAD_MAXARGS	16

struct load_target {
	struct sockaddr_in	 lt_addr;	/* where to connect */
	const char		*lt_connect;	/* CONNECT target or NULL */
};

struct load_bulk {
	const struct load_target *lb_t;
	char			 lb_cmd;
	atomic_ullong		*lb_bytes;
	atomic_int		*lb_stop;
	int			 lb_err;
};

static double	 load_now(void);
static void	 load_addr(struct sockaddr_in *, const char *, const char *);
static void	 load_target(struct load_target *, int, char **);
static int	 load_open(const struct load_target *);
static int	 load_connect(int, const char *);
static int	 load_writen(int, const void *, size_t);
static int	 load_listen(const char *, const char *);
static int	 load_sink(int, char **);
static int	 load_accept(int, void *(*)(void *));
static int	 load_relay(int, char **);
static void	*load_relay_conn(void *);
static void	*load_relay_pump(void *);
static void	*load_serve(void *);
static void	 load_serve_line(int);
static int	 load_bulk(int, char **);
static void	*load_bulk_run(void *);
static int	 load_lat(int, char **);
static double	 load_lat_one(const struct load_target *);
static int	 load_cmp(const void *, const void *);
static int	 load_hold(int, char **);
static void	 load_drop(void);
static int	 load_agent(void);
static int	 load_cmd(int, char **);
static void	 load_usage(void);

static char	 load_zero[PROXY_LOAD_BUF];
static struct sockaddr_in load_up;	/* the relay's upstream */
static int	 load_held[PROXY_LOAD_MAXHOLD];	/* hold's tunnels */
static int	 load_nheld;

struct load_pump {
	int	 lp_from;
	int	 lp_to;
};

static double
load_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
load_addr(struct sockaddr_in *sin, const char *host, const char *port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		fprintf(stderr, "proxy_load: bad address %s\n", host);
		exit(2);
	}
}

/* argv: ADDR PORT [PROXY TARGET] */
static void
load_target(struct load_target *t, int argc, char **argv)
{
	char	 host[64], *colon;

	if (argc != 2 && argc != 4)
		load_usage();
	t->lt_connect = NULL;
	if (argc == 2) {
		load_addr(&t->lt_addr, argv[0], argv[1]);
		return;
	}
	if (strlen(argv[2]) >= sizeof(host) ||
	    (colon = strrchr(argv[2], ':')) == NULL)
		load_usage();
	memcpy(host, argv[2], (size_t)(colon - argv[2]));
	host[colon - argv[2]] = '\0';
	load_addr(&t->lt_addr, host, colon + 1);
	t->lt_connect = argv[3];
}

/* A connected socket, through the tunnel when there is one; -1. */
static int
load_open(const struct load_target *t)
{
	int	 s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (const struct sockaddr *)&t->lt_addr,
	    sizeof(t->lt_addr)) == -1 ||
	    (t->lt_connect != NULL && load_connect(s, t->lt_connect) == -1)) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * CONNECT and read the answer's head.  The server speaks only after
 * our command byte, so nothing of the tunnel can follow the head.
 */
static int
load_connect(int s, const char *target)
{
	char	 buf[1024];
	size_t	 have = 0;
	ssize_t	 n;
	int	 len;

	len = snprintf(buf, sizeof(buf),
	    "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
	if (load_writen(s, buf, (size_t)len) == -1)
		return -1;
	while (have < sizeof(buf) - 1) {
		if ((n = read(s, buf + have, sizeof(buf) - 1 - have)) <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return strncmp(buf, "HTTP/1.", 7) == 0 &&
			    strncmp(buf + 8, " 200", 4) == 0 ? 0 : -1;
	}
	return -1;
}

static int
load_writen(int s, const void *p, size_t len)
{
	const char	*b = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(s, b, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A listening socket on host:port, "ready" said on stdout; exits. */
static int
load_listen(const char *host, const char *port)
{
	struct sockaddr_in	 sin;
	int			 s, one = 1;

	load_addr(&sin, host, port);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 1024) == -1) {
		perror("proxy_load: listen");
		exit(1);
	}
	printf("ready\n");
	fflush(stdout);
	return s;
}

/* Serves each connection with fn in a thread of its own. */
static int
load_accept(int s, void *(*fn)(void *))
{
	pthread_t		 th;
	pthread_attr_t		 at;
	intptr_t		 c;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (;;) {
		if ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("proxy_load: accept");
			return 1;
		}
		/* The thread owns c from here and closes it. */
		if (pthread_create(&th, &at, fn, (void *)c) != 0)
			close((int)c);
	}
}

static int
load_sink(int argc, char **argv)
{
	if (argc != 2)
		load_usage();
	return load_accept(load_listen(argv[0], argv[1]), load_serve);
}

static int
load_relay(int argc, char **argv)
{
	int	 s;

	if (argc != 4)
		load_usage();
	load_addr(&load_up, argv[2], argv[3]);
	s = load_listen(argv[0], argv[1]);
	return load_accept(s, load_relay_conn);
}

/*
 * One tunnel: read the CONNECT head (whatever it names), connect
 * upstream, answer 200, pump both ways.  Owns c and closes it.
 */
static void *
load_relay_conn(void *arg)
{
	struct load_pump	 up, down;
	pthread_t		 th;
	char			 buf[1024] = "";
	size_t			 have = 0;
	ssize_t			 n;
	int			 c = (int)(intptr_t)arg, u = -1, one = 1;

	while (have < sizeof(buf) - 1 &&
	    (n = read(c, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if (strstr(buf, "\r\n\r\n") == NULL ||
	    (u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(u, (struct sockaddr *)&load_up, sizeof(load_up)) == -1 ||
	    load_writen(c, "HTTP/1.1 200 OK\r\n\r\n", 19) == -1)
		goto done;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	up.lp_from = down.lp_to = c;
	up.lp_to = down.lp_from = u;
	if (pthread_create(&th, NULL, load_relay_pump, &up) != 0)
		goto done;
	load_relay_pump(&down);
	pthread_join(th, NULL);
 done:
	if (u != -1)
		close(u);
	close(c);
	return NULL;
}

/* One direction until EOF or an error, then pass the EOF on. */
static void *
load_relay_pump(void *arg)
{
	struct load_pump	*p = arg;
	ssize_t			 n, m;
	int			 pp[2];

	if (pipe2(pp, O_CLOEXEC) == -1)
		return NULL;
	fcntl(pp[1], F_SETPIPE_SZ, PROXY_LOAD_PIPE);
	while ((n = splice(p->lp_from, NULL, pp[1], NULL, PROXY_LOAD_PIPE,
	    SPLICE_F_MOVE)) > 0)
		for (; n > 0; n -= m)
			if ((m = splice(pp[0], NULL, p->lp_to, NULL,
			    (size_t)n, SPLICE_F_MOVE)) <= 0)
				goto out;
 out:
	shutdown(p->lp_to, SHUT_WR);
	close(pp[0]);
	close(pp[1]);
	return NULL;
}

static void *
load_serve(void *arg)
{
	static char	 buf[PROXY_LOAD_BUF];	/* 'U' drops into it */
	int		 c = (int)(intptr_t)arg, one = 1;
	char		 cmd;

	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (read(c, &cmd, 1) == 1) {
		if (cmd == 'D')
			while (load_writen(c, load_zero,
			    sizeof(load_zero)) == 0)
				;
		else if (cmd == 'U')
			while (read(c, buf, sizeof(buf)) > 0)
				;
		else if (cmd == 'L')
			load_serve_line(c);
	}
	close(c);
	return NULL;
}

/* One request line, one answer, then wait for the client to go. */
static void
load_serve_line(int c)
{
	char	 buf[256], resp[PROXY_LOAD_RESP];
	ssize_t	 n;

	do {
		if ((n = read(c, buf, sizeof(buf))) <= 0)
			return;
	} while (memchr(buf, '\n', (size_t)n) == NULL);
	memset(resp, 'x', sizeof(resp));
	resp[sizeof(resp) - 1] = '\n';
	if (load_writen(c, resp, sizeof(resp)) == -1)
		return;
	while (read(c, buf, sizeof(buf)) > 0)
		;
}

static int
load_bulk(int argc, char **argv)
{
	struct load_target	 t;
	struct load_bulk	 b[PROXY_LOAD_MAXCONN];
	pthread_t		 th[PROXY_LOAD_MAXCONN];
	atomic_ullong		 bytes = 0;
	atomic_int		 stop = 0;
	unsigned long long	 b0, b1;
	double			 secs, t0, t1;
	int			 i, n, err = 0;

	if (argc < 4)
		load_usage();
	n = atoi(argv[1]);
	secs = atof(argv[2]);
	if (n < 1 || n > PROXY_LOAD_MAXCONN || secs <= 0)
		load_usage();
	load_target(&t, argc - 3, argv + 3);
	for (i = 0; i < n; i++) {
		b[i].lb_t = &t;
		b[i].lb_cmd = strcmp(argv[0], "up") == 0 ? 'U' : 'D';
		b[i].lb_bytes = &bytes;
		b[i].lb_stop = &stop;
		b[i].lb_err = 0;
		if (pthread_create(&th[i], NULL, load_bulk_run, &b[i]) != 0)
			return 1;
	}
	usleep((useconds_t)(PROXY_LOAD_WARMUP * 1e6));
	t0 = load_now();
	b0 = atomic_load(&bytes);
	usleep((useconds_t)(secs * 1e6));
	t1 = load_now();
	b1 = atomic_load(&bytes);
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		err |= b[i].lb_err;
	}
	if (err) {
		fprintf(stderr, "proxy_load: a tunnel failed\n");
		return 1;
	}
	printf("%.1f %llu\n", (double)(b1 - b0) / (t1 - t0) / (1 << 20),
	    (unsigned long long)atomic_load(&bytes));
	return 0;
}

/* One tunnel: the command, then move bytes until told to stop. */
static void *
load_bulk_run(void *arg)
{
	struct load_bulk	*b = arg;
	char			*buf;
	ssize_t			 n;
	int			 s;

	if ((buf = malloc(PROXY_LOAD_BUF)) == NULL ||
	    (s = load_open(b->lb_t)) == -1) {
		b->lb_err = 1;
		free(buf);
		return NULL;
	}
	if (load_writen(s, &b->lb_cmd, 1) == -1)
		b->lb_err = 1;
	while (!b->lb_err && !atomic_load(b->lb_stop)) {
		if (b->lb_cmd == 'D')
			n = read(s, buf, PROXY_LOAD_BUF);
		else
			n = write(s, load_zero, PROXY_LOAD_BUF);
		if (n <= 0) {
			b->lb_err = n == 0 || errno != EINTR;
			continue;
		}
		atomic_fetch_add(b->lb_bytes, (unsigned long long)n);
	}
	close(s);
	free(buf);
	return NULL;
}

static int
load_lat(int argc, char **argv)
{
	struct load_target	 t;
	double			*v;
	int			 i, n;

	if (argc < 3 || (n = atoi(argv[0])) < 1)
		load_usage();
	load_target(&t, argc - 1, argv + 1);
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if ((v[i] = load_lat_one(&t)) < 0) {
			fprintf(stderr, "proxy_load: connection %d failed\n",
			    i);
			return 1;
		}
	qsort(v, (size_t)n, sizeof(*v), load_cmp);
	printf("%.1f %.1f\n", v[n / 2] * 1e6, v[(n * 99) / 100] * 1e6);
	free(v);
	return 0;
}

/* Seconds from connect to the first answer byte; -1 on failure. */
static double
load_lat_one(const struct load_target *t)
{
	static const char	 req[] = "LGET / HTTP/1.1\n";
	struct linger		 l = { 1, 0 };
	char			 buf[PROXY_LOAD_RESP];
	double			 t0, dt = -1;
	size_t			 got = 0;
	ssize_t			 n;
	int			 s;

	t0 = load_now();
	if ((s = load_open(t)) == -1)
		return -1;
	if (load_writen(s, req, sizeof(req) - 1) == 0)
		while (got < sizeof(buf) &&
		    (n = read(s, buf, sizeof(buf) - got)) > 0) {
			if (got == 0)
				dt = load_now() - t0;
			got += (size_t)n;
		}
	/* RST, not FIN: thousands of TIME_WAITs would skew later runs. */
	setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(s);
	return got == sizeof(buf) ? dt : -1;
}

static int
load_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* argv: N PROXY TARGET.  The tunnels are ours until load_drop. */
static int
load_hold(int argc, char **argv)
{
	struct load_target	 t;
	char			*av[4];
	int			 n, s;

	if (argc != 3 || (n = atoi(argv[0])) < 1 ||
	    n > PROXY_LOAD_MAXHOLD - load_nheld)
		load_usage();
	av[0] = "0.0.0.0";
	av[1] = "0";
	av[2] = argv[1];
	av[3] = argv[2];
	load_target(&t, 4, av);
	while (n-- > 0) {
		if ((s = load_open(&t)) == -1)
			return 1;
		load_held[load_nheld++] = s;
	}
	printf("ok\n");
	return 0;
}

static void
load_drop(void)
{
	while (load_nheld > 0)
		close(load_held[--load_nheld]);
	printf("ok\n");
}

/* One command per line on stdin, one answer line each on stdout. */
static int
load_agent(void)
{
	char	 line[1024], *av[PROXY_LOAD_MAXARGS], *w, *last;
	int	 ac;

	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		ac = 0;
		for (w = strtok_r(line, " \t\n", &last); w != NULL &&
		    ac < PROXY_LOAD_MAXARGS; w = strtok_r(NULL, " \t\n", &last))
			av[ac++] = w;
		if (ac > 0 && load_cmd(ac, av) != 0)
			printf("error\n");
		fflush(stdout);
	}
	return 0;
}

/* A client command of the agent: av[0] is the mode. */
static int
load_cmd(int ac, char **av)
{
	if (strcmp(av[0], "bulk") == 0)
		return load_bulk(ac - 1, av + 1);
	if (strcmp(av[0], "lat") == 0)
		return load_lat(ac - 1, av + 1);
	if (strcmp(av[0], "hold") == 0)
		return load_hold(ac - 1, av + 1);
	if (strcmp(av[0], "drop") == 0) {
		load_drop();
		return 0;
	}
	return 1;
}

static void
load_usage(void)
{
	fprintf(stderr, "usage: proxy_load sink ADDR PORT\n"
	    "       proxy_load relay ADDR PORT UPADDR UPPORT\n"
	    "       proxy_load bulk down|up CONNS SECS ADDR PORT "
	    "[PROXY TARGET]\n"
	    "       proxy_load lat N ADDR PORT [PROXY TARGET]\n"
	    "       proxy_load hold N PROXY TARGET\n"
	    "       proxy_load agent\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		load_usage();
	if (strcmp(argv[1], "sink") == 0)
		return load_sink(argc - 2, argv + 2);
	if (strcmp(argv[1], "relay") == 0)
		return load_relay(argc - 2, argv + 2);
	if (strcmp(argv[1], "agent") == 0)
		return load_agent();
	if (strcmp(argv[1], "bulk") == 0 || strcmp(argv[1], "lat") == 0)
		return load_cmd(argc - 1, argv + 1);
	load_usage();
	return 2;
}
