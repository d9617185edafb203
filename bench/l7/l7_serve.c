/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * l7_serve: the HTTPS origin of bench/l7, in C so that it is not what
 * is measured.
 *
 *   l7_serve ADDR PORT CERT KEY
 *
 * HTTP/1.1 over TLS 1.2/1.3 with keep-alive, one thread per
 * connection, blocking OpenSSL.  Every request (its body, if it has a
 * Content-Length, is read and dropped) is answered 200 with
 * L7_SERVE_BODY bytes; "Connection: close" ends the connection after
 * the answer.  Session tickets are on (OpenSSL's default), so clients
 * and proxies that resume can.  Prints "ready" once it listens.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "l7_net.h"

#define L7_SERVE_BODY	256
#define L7_SERVE_BUF	16384

struct serve_conn {
	SSL		*sc_ssl;
	char		 sc_buf[L7_SERVE_BUF];
	size_t		 sc_have;
};

static SSL_CTX	*serve_ctx(const char *, const char *);
static void	*serve_conn(void *);
static int	 serve_one(struct serve_conn *, const char *, size_t);
static int	 serve_head(struct serve_conn *, size_t *);
static int	 serve_body(struct serve_conn *, size_t, size_t *);
static long	 serve_clen(const char *, size_t);

static char	 serve_resp[512];
static size_t	 serve_resplen;

static SSL_CTX *
serve_ctx(const char *cert, const char *key)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * Where the head in the buffer ends (past CRLFCRLF), reading more as
 * needed; -1 at EOF or error.
 */
static int
serve_head(struct serve_conn *sc, size_t *end)
{
	char	*p;
	int	 n;

	for (;;) {
		sc->sc_buf[sc->sc_have] = '\0';
		if ((p = strstr(sc->sc_buf, "\r\n\r\n")) != NULL) {
			*end = (size_t)(p - sc->sc_buf) + 4;
			return 0;
		}
		if (sc->sc_have >= sizeof(sc->sc_buf) - 1)
			return -1;
		n = SSL_read(sc->sc_ssl, sc->sc_buf + sc->sc_have,
		    (int)(sizeof(sc->sc_buf) - 1 - sc->sc_have));
		if (n <= 0)
			return -1;
		sc->sc_have += (size_t)n;
	}
}

/* The Content-Length of the head h[0..n), 0 without one. */
static long
serve_clen(const char *h, size_t n)
{
	const char	*p = h, *e = h + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		p++;
		if ((size_t)(e - p) > 15 &&
		    strncasecmp(p, "Content-Length:", 15) == 0)
			return strtol(p + 15, NULL, 10);
	}
	return 0;
}

/* Answer the request whose head is h[0..n).  -1: close after it. */
static int
serve_one(struct serve_conn *sc, const char *h, size_t n)
{
	(void)n;
	if (SSL_write(sc->sc_ssl, serve_resp, (int)serve_resplen) <= 0)
		return -1;
	return strcasestr(h, "\r\nConnection: close") != NULL ? -1 : 0;
}

/* Have the whole body of a head ending at end in the buffer; -1. */
static int
serve_body(struct serve_conn *sc, size_t end, size_t *total)
{
	long	 clen = serve_clen(sc->sc_buf, end);
	int	 n;

	if (clen < 0 || (size_t)clen > sizeof(sc->sc_buf) - 1 - end)
		return -1;
	*total = end + (size_t)clen;
	while (sc->sc_have < *total) {
		n = SSL_read(sc->sc_ssl, sc->sc_buf + sc->sc_have,
		    (int)(sizeof(sc->sc_buf) - 1 - sc->sc_have));
		if (n <= 0)
			return -1;
		sc->sc_have += (size_t)n;
	}
	return 0;
}

/* One connection; the thread owns the SSL and its socket. */
static void *
serve_conn(void *arg)
{
	struct serve_conn	*sc = arg;
	size_t			 end, total;

	if (SSL_accept(sc->sc_ssl) == 1) {
		while (serve_head(sc, &end) == 0 &&
		    serve_body(sc, end, &total) == 0) {
			sc->sc_buf[end - 1] = '\0';
			if (serve_one(sc, sc->sc_buf, end) == -1)
				break;
			/* No pipelining here, but keep what follows. */
			memmove(sc->sc_buf, sc->sc_buf + total,
			    sc->sc_have - total);
			sc->sc_have -= total;
		}
		SSL_shutdown(sc->sc_ssl);
	}
	close(SSL_get_fd(sc->sc_ssl));
	SSL_free(sc->sc_ssl);
	free(sc);
	ERR_clear_error();
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct serve_conn	*sc;
	SSL_CTX			*ctx;
	pthread_t		 t;
	pthread_attr_t		 attr;
	char			 body[L7_SERVE_BODY];
	int			 ls, s, one = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: l7_serve ADDR PORT CERT KEY\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((ctx = serve_ctx(argv[3], argv[4])) == NULL ||
	    (ls = l7_net_listen(argv[1], argv[2])) == -1) {
		fprintf(stderr, "l7_serve: cannot start\n");
		return 1;
	}
	memset(body, 'x', sizeof(body));
	serve_resplen = (size_t)snprintf(serve_resp, sizeof(serve_resp),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %d\r\n\r\n%.*s", L7_SERVE_BODY, L7_SERVE_BODY,
	    body);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if ((s = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* The thread owns s and sc from here. */
		if ((sc = calloc(1, sizeof(*sc))) == NULL ||
		    (sc->sc_ssl = SSL_new(ctx)) == NULL ||
		    SSL_set_fd(sc->sc_ssl, s) != 1 ||
		    pthread_create(&t, &attr, serve_conn, sc) != 0) {
			if (sc != NULL)
				SSL_free(sc->sc_ssl);
			free(sc);
			close(s);
		}
	}
}
