/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The benchmarks' HTTP/2 client connection.  nghttp2 runs in memory
 * mode (mem_send/mem_recv); the TLS socket is non-blocking after the
 * handshake and bytes nghttp2 produced but the socket did not take
 * wait in c_out.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "h2conn.h"
#include "libgrpc/tls.h"

#define H2CONN_HDRS	16

struct h2conn {
	int			 c_fd;
	SSL			*c_ssl;
	nghttp2_session		*c_sess;
	const struct h2conn_ops	*c_ops;
	uint8_t			*c_out;		/* not yet taken by SSL */
	size_t			 c_outlen;
	size_t			 c_outcap;
	int			 c_dead;
};

/* One request's body; the stream's user data. */
struct h2req {
	const uint8_t		*r_body;
	size_t			 r_len;
	size_t			 r_off;
	void			*r_user;
};

static int	 h2conn_tcp(const char *, int);
static int	 h2conn_session(struct h2conn *);
static ssize_t	 h2conn_body(nghttp2_session *, int32_t, uint8_t *,
		    size_t, uint32_t *, nghttp2_data_source *, void *);
static int	 h2conn_header_cb(nghttp2_session *, const nghttp2_frame *,
		    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t,
		    void *);
static int	 h2conn_data_cb(nghttp2_session *, uint8_t, int32_t,
		    const uint8_t *, size_t, void *);
static int	 h2conn_close_cb(nghttp2_session *, int32_t, uint32_t,
		    void *);
static int	 h2conn_flush(struct h2conn *);
static int	 h2conn_read(struct h2conn *);

int64_t
h2conn_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
h2conn_tcp(const char *host, int port)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "h2conn: %s: not an IPv4 address\n", host);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		/* quiet while a caller waits for the server to listen */
		if (errno != ECONNREFUSED)
			fprintf(stderr, "h2conn: connect %s:%d: %s\n", host,
			    port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The connection owns the socket and the SSL from here on. */
struct h2conn *
h2conn_open(SSL_CTX *ctx, const char *host, int port,
    const struct h2conn_ops *ops)
{
	struct h2conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_ops = ops;
	if ((c->c_fd = h2conn_tcp(host, port)) == -1) {
		free(c);
		return NULL;
	}
	if ((c->c_ssl = SSL_new(ctx)) == NULL ||
	    tls_client_host(c->c_ssl, host) == -1 ||
	    SSL_set_fd(c->c_ssl, c->c_fd) != 1 ||
	    SSL_connect(c->c_ssl) != 1 || !tls_alpn_is_h2(c->c_ssl)) {
		fprintf(stderr, "h2conn: TLS handshake with %s:%d failed\n",
		    host, port);
		h2conn_close(c);
		return NULL;
	}
	if (fcntl(c->c_fd, F_SETFL, O_NONBLOCK) == -1 ||
	    h2conn_session(c) == -1) {
		h2conn_close(c);
		return NULL;
	}
	return c;
}

static int
h2conn_session(struct h2conn *c)
{
	nghttp2_session_callbacks	*cb;
	nghttp2_settings_entry		 iv[2] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 },
	};
	int				 rc;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_header_callback(cb, h2conn_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    h2conn_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    h2conn_close_cb);
	rc = nghttp2_session_client_new(&c->c_sess, cb, c);
	nghttp2_session_callbacks_del(cb);
	if (rc != 0)
		return -1;
	if (nghttp2_submit_settings(c->c_sess, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
	    nghttp2_session_set_local_window_size(c->c_sess, NGHTTP2_FLAG_NONE,
	    0, 16 << 20) != 0)
		return -1;
	return h2conn_flush(c);
}

void
h2conn_close(struct h2conn *c)
{
	if (c == NULL)
		return;
	if (c->c_sess != NULL)
		nghttp2_session_del(c->c_sess);
	if (c->c_ssl != NULL)
		SSL_free(c->c_ssl);
	if (c->c_fd != -1)
		close(c->c_fd);
	free(c->c_out);
	free(c);
}

int32_t
h2conn_post(struct h2conn *c, const char *path, const uint8_t *body,
    size_t len, const char *const *extra, void *user)
{
	nghttp2_nv		 nv[H2CONN_HDRS];
	nghttp2_data_provider	 dp;
	struct h2req		*r;
	const char		*hd[H2CONN_HDRS * 2] = {
		":method", "POST", ":scheme", "https", ":path", path,
		":authority", "127.0.0.1", "content-type", "application/grpc",
		"te", "trailers",
	};
	size_t			 n = 6, i;
	int32_t			 sid;

	while (extra != NULL && extra[0] != NULL && n < H2CONN_HDRS) {
		hd[2 * n] = *extra++;
		hd[2 * n + 1] = *extra++;
		n++;
	}
	for (i = 0; i < n; i++) {
		nv[i].name = (uint8_t *)(uintptr_t)hd[2 * i];
		nv[i].namelen = strlen(hd[2 * i]);
		nv[i].value = (uint8_t *)(uintptr_t)hd[2 * i + 1];
		nv[i].valuelen = strlen(hd[2 * i + 1]);
		nv[i].flags = NGHTTP2_NV_FLAG_NONE;
	}
	if (c->c_dead || (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->r_body = body;
	r->r_len = len;
	r->r_user = user;
	dp.source.ptr = r;
	dp.read_callback = h2conn_body;
	if ((sid = nghttp2_submit_request(c->c_sess, NULL, nv, n, &dp,
	    r)) < 0) {
		free(r);
		return -1;
	}
	return sid;
}

static ssize_t
h2conn_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2req	*r = src->ptr;
	size_t		 n = r->r_len - r->r_off;

	(void)s;
	(void)sid;
	(void)arg;
	if (n > len)
		n = len;
	memcpy(buf, r->r_body + r->r_off, n);
	r->r_off += n;
	if (r->r_off == r->r_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int
h2conn_header_cb(nghttp2_session *s, const nghttp2_frame *f,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct h2conn	*c = arg;
	struct h2req	*r;
	char		 n[64], v[256];

	(void)flags;
	r = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (r == NULL || c->c_ops->on_header == NULL ||
	    namelen >= sizeof(n) || valuelen >= sizeof(v))
		return 0;
	memcpy(n, name, namelen);
	n[namelen] = '\0';
	memcpy(v, value, valuelen);
	v[valuelen] = '\0';
	c->c_ops->on_header(c, r->r_user, n, v);
	return 0;
}

static int
h2conn_data_cb(nghttp2_session *s, uint8_t flags, int32_t sid,
    const uint8_t *data, size_t len, void *arg)
{
	struct h2conn	*c = arg;
	struct h2req	*r;

	(void)flags;
	if ((r = nghttp2_session_get_stream_user_data(s, sid)) != NULL &&
	    c->c_ops->on_data != NULL)
		c->c_ops->on_data(c, r->r_user, data, len);
	return 0;
}

/* The request's body struct dies with its stream. */
static int
h2conn_close_cb(nghttp2_session *s, int32_t sid, uint32_t code, void *arg)
{
	struct h2conn	*c = arg;
	struct h2req	*r;

	if ((r = nghttp2_session_get_stream_user_data(s, sid)) == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(s, sid, NULL);
	if (c->c_ops->on_close != NULL)
		c->c_ops->on_close(c, r->r_user, code);
	free(r);
	return 0;
}

uint32_t
h2conn_max_streams(struct h2conn *c)
{
	return nghttp2_session_get_remote_settings(c->c_sess,
	    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

int
h2conn_dead(const struct h2conn *c)
{
	return c->c_dead;
}

/* Everything nghttp2 wants to send, as far as the socket takes it. */
static int
h2conn_flush(struct h2conn *c)
{
	const uint8_t	*data;
	ssize_t		 n;
	int		 w;

	while ((n = nghttp2_session_mem_send(c->c_sess, &data)) > 0) {
		if (c->c_outlen + (size_t)n > c->c_outcap) {
			size_t	 cap = (c->c_outlen + (size_t)n) * 2;
			uint8_t	*p = realloc(c->c_out, cap);

			if (p == NULL)
				return -1;
			c->c_out = p;
			c->c_outcap = cap;
		}
		memcpy(c->c_out + c->c_outlen, data, (size_t)n);
		c->c_outlen += (size_t)n;
	}
	if (n < 0)
		return -1;
	while (c->c_outlen > 0) {
		w = SSL_write(c->c_ssl, c->c_out, (int)c->c_outlen);
		if (w <= 0) {
			int e = SSL_get_error(c->c_ssl, w);

			return e == SSL_ERROR_WANT_WRITE ||
			    e == SSL_ERROR_WANT_READ ? 0 : -1;
		}
		memmove(c->c_out, c->c_out + w, c->c_outlen - (size_t)w);
		c->c_outlen -= (size_t)w;
	}
	return 0;
}

static int
h2conn_read(struct h2conn *c)
{
	uint8_t	 buf[65536];
	int	 n, e;

	for (;;) {
		n = SSL_read(c->c_ssl, buf, sizeof(buf));
		if (n <= 0) {
			e = SSL_get_error(c->c_ssl, n);
			return e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE ? 0 : -1;
		}
		if (nghttp2_session_mem_recv(c->c_sess, buf, (size_t)n) < 0)
			return -1;
	}
}

int
h2conn_pump(struct h2conn **v, size_t n, int timeout_ms)
{
	struct pollfd	 pfd[256];
	size_t		 i, live = 0;

	if (n > 256)
		return -1;
	for (i = 0; i < n; i++) {
		if (!v[i]->c_dead && h2conn_flush(v[i]) == -1)
			v[i]->c_dead = 1;
		pfd[i].fd = v[i]->c_dead ? -1 : v[i]->c_fd;
		pfd[i].events = POLLIN | (v[i]->c_outlen > 0 ? POLLOUT : 0);
		pfd[i].revents = 0;
		live += !v[i]->c_dead;
	}
	if (live == 0)
		return -1;
	if (poll(pfd, n, timeout_ms) == -1 && errno != EINTR)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i]->c_dead || pfd[i].revents == 0)
			continue;
		if (h2conn_read(v[i]) == -1 || h2conn_flush(v[i]) == -1 ||
		    (!nghttp2_session_want_read(v[i]->c_sess) &&
		    !nghttp2_session_want_write(v[i]->c_sess)))
			v[i]->c_dead = 1;
	}
	return 0;
}
