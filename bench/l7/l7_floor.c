/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * l7_floor: the "floor" of bench/l7, the least a TLS-terminating
 * proxy can do per request on this machine: no HTTP parsing, no
 * policy, no identity, no logging, no certificate minting.
 *
 *   l7_floor [-t] ADDR PORT CERT KEY CAFILE UPSTREAM:PORT
 *
 * Accepts "CONNECT host:port" on ADDR:PORT and answers 200 at once.
 * Then, both at once (non-blocking, one poll loop): TCP and TLS to the
 * fixed address UPSTREAM:PORT (no name resolution: the bench has one
 * origin; the port asked for is ignored), verified against CAFILE for
 * the CONNECT host name (SNI and host name check), resuming the last
 * upstream session of that name as proxyd does; and the client's TLS,
 * terminated with CERT/KEY (one certificate for every name, made by
 * the bench's test CA).  Then it copies the plaintext both ways.
 *
 * Each connection's set-up runs in a thread of its own.  The copying
 * then runs, by default, in one epoll thread for all tunnels, the
 * sockets non-blocking: one epoll_wait serves every tunnel that is
 * ready, and a request costs one read(2) and one write(2) per
 * direction (read-ahead on, so a TLS record is one read, not header
 * then body).  -t instead keeps each tunnel in its set-up thread,
 * blocking SSL_read/SSL_write behind poll(2): a poll more per
 * direction and a thread wake-up per message.  On 2 cores with 8
 * keep-alive tunnels epoll costs less CPU per request, which is what
 * bounds a relay here (see run.sh); -t is kept to measure the
 * difference.  Prints "ready" once it listens.
 */

#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "l7_net.h"
#include <openssl/x509v3.h>

#define FLOOR_BUF	16384
#define FLOOR_HOSTLEN	256
#define FLOOR_EVENTS	64

/* One end of a tunnel, registered with epoll by its own pointer. */
struct floor_end {
	struct floor_tun	*fe_tun;
	SSL			*fe_ssl;
	struct floor_end	*fe_peer;
};

struct floor_tun {
	struct floor_end	 ft_end[2];	/* client, upstream */
	int			 ft_dead;
	struct floor_tun	*ft_next;	/* to free after a batch */
};

static SSL_CTX	*floor_sctx(const char *, const char *);
static SSL_CTX	*floor_cctx(const char *);
static int	 floor_head(int, char *, size_t);
static SSL	*floor_upstream(const char *);
static int	 floor_shake(SSL *, SSL *);
static void	*floor_conn(void *);
static int	 floor_copy(SSL *, SSL *, char *);
static void	 floor_poll_tun(SSL *, SSL *);
static void	 floor_epoll_add(SSL *, SSL *);
static int	 floor_write(SSL *, const char *, int);
static void	*floor_epoll_run(void *);
static void	 floor_close(SSL *);
static int	 floor_sess_new(SSL *, SSL_SESSION *);
static SSL_SESSION *floor_sess_get(const char *);

static SSL_CTX			*floor_server, *floor_upctx;
static struct sockaddr_in	 floor_to;
static int			 floor_threads;
static int			 floor_ep = -1;
/* The last upstream session and the name it was verified for. */
static pthread_mutex_t		 floor_sess_mtx = PTHREAD_MUTEX_INITIALIZER;
static SSL_SESSION		*floor_sess;
static char			 floor_sess_host[FLOOR_HOSTLEN];

/* The client side: one certificate, tickets as proxyd issues them. */
static SSL_CTX *
floor_sctx(const char *cert, const char *key)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The upstream side: verified against ca, sessions kept by us. */
static SSL_CTX *
floor_cctx(const char *ca)
{
	SSL_CTX	*ctx;

	if ((ctx = l7_net_client_ctx(ca)) != NULL)
		SSL_CTX_sess_set_new_cb(ctx, floor_sess_new);
	return ctx;
}

/*
 * The CONNECT head, NUL-terminated in buf.  The client says nothing
 * more before our 200, so one head is all a read can bring.
 */
static int
floor_head(int s, char *buf, size_t len)
{
	size_t	 have = 0;
	ssize_t	 n;

	while (have < len - 1) {
		if ((n = read(s, buf + have, len - 1 - have)) <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return 0;
	}
	return -1;
}

static SSL_SESSION *
floor_sess_get(const char *host)
{
	SSL_SESSION	*s = NULL;

	pthread_mutex_lock(&floor_sess_mtx);
	if (floor_sess != NULL && strcmp(floor_sess_host, host) == 0 &&
	    SSL_SESSION_up_ref(floor_sess) == 1)
		s = floor_sess;
	pthread_mutex_unlock(&floor_sess_mtx);
	return s;
}

/*
 * OpenSSL has a new upstream session: after a verified handshake (TLS
 * 1.2) or with a ticket that came after one (TLS 1.3, often in the
 * copying).  Kept for the next tunnel to that name; 1: we own s.
 */
static int
floor_sess_new(SSL *ssl, SSL_SESSION *s)
{
	const char	*host;

	host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (host == NULL)
		return 0;
	pthread_mutex_lock(&floor_sess_mtx);
	SSL_SESSION_free(floor_sess);
	floor_sess = s;
	strlcpy(floor_sess_host, host, sizeof(floor_sess_host));
	pthread_mutex_unlock(&floor_sess_mtx);
	return 1;
}

/*
 * TCP to the origin (under way: non-blocking) and its TLS client for
 * host, not yet shaken; the SSL owns its socket.
 */
static SSL *
floor_upstream(const char *host)
{
	SSL_SESSION	*sess;
	SSL		*ssl;
	int		 s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return NULL;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((connect(s, (struct sockaddr *)&floor_to, sizeof(floor_to)) ==
	    -1 && errno != EINPROGRESS) || (ssl = SSL_new(floor_upctx)) ==
	    NULL) {
		close(s);
		return NULL;
	}
	SSL_set_fd(ssl, s);
	SSL_set_connect_state(ssl);
	if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
	    SSL_set1_host(ssl, host) != 1) {
		floor_close(ssl);
		return NULL;
	}
	if ((sess = floor_sess_get(host)) != NULL) {
		SSL_set_session(ssl, sess);
		SSL_SESSION_free(sess);
	}
	return ssl;
}

/*
 * Both handshakes at once, the sockets non-blocking: the tunnel is up
 * after the slower of the two, not after their sum.  -1: either
 * failed (the upstream's verification included).
 */
static int
floor_shake(SSL *cs, SSL *us)
{
	struct pollfd	 pfd[2];
	SSL		*ssl[2] = { cs, us };
	int		 i, r, e, left = 2;

	for (i = 0; i < 2; i++) {
		pfd[i].fd = SSL_get_fd(ssl[i]);
		pfd[i].events = POLLOUT;	/* first try: at once */
		pfd[i].revents = POLLOUT;
	}
	while (left > 0) {
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if ((r = SSL_do_handshake(ssl[i])) == 1) {
				pfd[i].fd = -1;
				left--;
				continue;
			}
			e = SSL_get_error(ssl[i], r);
			if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE)
				return -1;
			pfd[i].events = e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT;
		}
		if (left > 0 && poll(pfd, 2, 10000) <= 0)
			return -1;
	}
	return 0;
}

/*
 * Frees ssl and closes its socket.  Marked shut down first: else
 * SSL_free takes an unfinished close for a bad session and makes the
 * upstream session, shared by every tunnel to the name, unresumable.
 */
static void
floor_close(SSL *ssl)
{
	int	 s = SSL_get_fd(ssl);

	SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(ssl);
	if (s != -1)
		close(s);
	ERR_clear_error();
}

/*
 * One tunnel's set-up; the thread owns the client socket (passed in
 * arg) and both SSLs until it gives them to the epoll thread.
 */
static void *
floor_conn(void *arg)
{
	static const char	 ok[] = "HTTP/1.1 200 Connection established"
	    "\r\n\r\n";
	char			 buf[1024], host[FLOOR_HOSTLEN];
	SSL			*cs, *us;
	int			 s = (int)(intptr_t)arg;

	if (floor_head(s, buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "CONNECT %255[^: ]:", host) != 1 ||
	    write(s, ok, sizeof(ok) - 1) != (ssize_t)sizeof(ok) - 1) {
		close(s);
		return NULL;
	}
	if ((cs = SSL_new(floor_server)) == NULL) {
		close(s);
		return NULL;
	}
	SSL_set_fd(cs, s);
	SSL_set_accept_state(cs);
	fcntl(s, F_SETFL, O_NONBLOCK);
	if ((us = floor_upstream(host)) == NULL) {
		floor_close(cs);
		return NULL;
	}
	if (floor_shake(cs, us) == -1) {
		floor_close(cs);
		floor_close(us);
		return NULL;
	}
	/*
	 * Read-ahead only now: during the handshakes it could pull the
	 * first request into OpenSSL's buffer, where poll and epoll do
	 * not see it.
	 */
	SSL_set_read_ahead(cs, 1);
	SSL_set_read_ahead(us, 1);
	if (floor_threads)
		floor_poll_tun(cs, us);
	else
		floor_epoll_add(cs, us);
	return NULL;
}

/*
 * Retries a write that the socket refused until it is all taken: the
 * epoll thread waits for this one peer (a floor does not need to be
 * fair under back-pressure; the bench never fills a socket buffer).
 */
static int
floor_write(SSL *to, const char *buf, int n)
{
	struct pollfd	 pfd;
	int		 w, e;

	for (;;) {
		if ((w = SSL_write(to, buf, n)) == n)
			return 0;
		e = SSL_get_error(to, w);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			return -1;
		pfd.fd = SSL_get_fd(to);
		pfd.events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
}

/*
 * Moves what from has (one SSL_read, plus what read-ahead left in
 * from's buffer) to to.  1: more may come; 0: nothing now; -1: the
 * tunnel is over.
 */
static int
floor_copy(SSL *from, SSL *to, char *buf)
{
	int	 n, e;

	do {
		if ((n = SSL_read(from, buf, FLOOR_BUF)) <= 0) {
			e = SSL_get_error(from, n);
			return e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE ? 0 : -1;
		}
		if (floor_write(to, buf, n) == -1)
			return -1;
	} while (SSL_has_pending(from));
	return 1;
}

/* -t: this thread copies its tunnel, blocking; it owns both SSLs. */
static void
floor_poll_tun(SSL *cs, SSL *us)
{
	struct pollfd	 pfd[2];
	SSL		*ssl[2] = { cs, us };
	char		 buf[FLOOR_BUF];
	int		 i, done = 0;

	/*
	 * A session ticket must not have SSL_read wait for data behind
	 * it (the other side may be the one to speak next).
	 */
	SSL_clear_mode(cs, SSL_MODE_AUTO_RETRY);
	SSL_clear_mode(us, SSL_MODE_AUTO_RETRY);
	fcntl(SSL_get_fd(cs), F_SETFL, 0);
	fcntl(SSL_get_fd(us), F_SETFL, 0);
	pfd[0].fd = SSL_get_fd(cs);
	pfd[1].fd = SSL_get_fd(us);
	pfd[0].events = pfd[1].events = POLLIN;
	while (!done) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		for (i = 0; i < 2 && !done; i++)
			if (pfd[i].revents != 0 &&
			    floor_copy(ssl[i], ssl[1 - i], buf) == -1)
				done = 1;
	}
	SSL_shutdown(cs);
	floor_close(cs);
	floor_close(us);
}

/* Gives both SSLs (and their sockets) to the epoll thread. */
static void
floor_epoll_add(SSL *cs, SSL *us)
{
	struct floor_tun	*t;
	struct epoll_event	 ev;
	int			 i;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		floor_close(cs);
		floor_close(us);
		return;
	}
	t->ft_end[0].fe_ssl = cs;
	t->ft_end[1].fe_ssl = us;
	for (i = 0; i < 2; i++) {
		t->ft_end[i].fe_tun = t;
		t->ft_end[i].fe_peer = &t->ft_end[1 - i];
	}
	for (i = 0; i < 2; i++) {
		ev.events = EPOLLIN;
		ev.data.ptr = &t->ft_end[i];
		epoll_ctl(floor_ep, EPOLL_CTL_ADD,
		    SSL_get_fd(t->ft_end[i].fe_ssl), &ev);
	}
}

/* The copying of every tunnel (default mode); it owns them all. */
static void *
floor_epoll_run(void *arg)
{
	struct epoll_event	 ev[FLOOR_EVENTS];
	struct floor_tun	*dead, *t;
	struct floor_end	*e;
	char			 buf[FLOOR_BUF];
	int			 i, n;

	(void)arg;
	for (;;) {
		if ((n = epoll_wait(floor_ep, ev, FLOOR_EVENTS, -1)) == -1)
			continue;
		dead = NULL;
		for (i = 0; i < n; i++) {
			e = ev[i].data.ptr;
			t = e->fe_tun;
			if (t->ft_dead || floor_copy(e->fe_ssl,
			    e->fe_peer->fe_ssl, buf) != -1)
				continue;
			/* Freed after the batch: it may hold the peer. */
			t->ft_dead = 1;
			t->ft_next = dead;
			dead = t;
		}
		while ((t = dead) != NULL) {
			dead = t->ft_next;
			SSL_shutdown(t->ft_end[0].fe_ssl);
			floor_close(t->ft_end[0].fe_ssl);
			floor_close(t->ft_end[1].fe_ssl);
			free(t);
		}
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 ls, s, ch, one = 1;

	while ((ch = getopt(argc, argv, "t")) != -1) {
		if (ch != 't')
			goto usage;
		floor_threads = 1;
	}
	argc -= optind;
	argv += optind;
	if (argc != 6)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if ((floor_server = floor_sctx(argv[2], argv[3])) == NULL ||
	    (floor_upctx = floor_cctx(argv[4])) == NULL ||
	    l7_net_addr(&floor_to, argv[5]) == -1 ||
	    (ls = l7_net_listen(argv[0], argv[1])) == -1 ||
	    (floor_ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    pthread_create(&t, NULL, floor_epoll_run, NULL) != 0) {
		fprintf(stderr, "l7_floor: cannot start\n");
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if ((s = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* The thread owns s from here. */
		if (pthread_create(&t, &attr, floor_conn,
		    (void *)(intptr_t)s) != 0)
			close(s);
	}
usage:
	fprintf(stderr, "usage: l7_floor [-t] ADDR PORT CERT KEY CAFILE "
	    "UPSTREAM:PORT\n");
	return 2;
}
