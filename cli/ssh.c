/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * SSH access to sandboxes (control-plane.md §4.5, §4.6, §4.9): the
 * hidden `openshell ssh-proxy' (the ProxyCommand of every ssh the CLI
 * or a user's ssh_config runs: an HTTP CONNECT to /connect/ssh over
 * TLS with the client bundle and no ALPN, then stdin/stdout pumped
 * through), and the helpers the ssh-based commands share: a session
 * token for a sandbox and the system ssh's argument vector.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "libgrpc/tls.h"
#include "libpki/pki.h"
#include "paths.h"
#include "proto/openshell.pb-c.h"

#define SP_HEAD_MAX	8192
#define SP_RETRY_SECS	60
#define SP_BACKOFF_MAX	8
#define SP_CONNECT_PATH	"/connect/ssh"
#define SP_BUF		(256 * 1024)	/* one read of ssh's output */

struct sp_url {
	int	 tls;
	char	 host[256];
	char	 port[16];
	char	 path[256];
};

struct sp_conn {
	int	 fd;
	SSL	*ssl;
};

static int	 sp_parse_url(const char *, struct sp_url *);
static int	 sp_loopback(const char *);
static int	 sp_tunnel(const struct config_gw *, const struct sp_url *,
		    const char *, const char *);
static int	 sp_attempt(SSL_CTX *, const struct sp_url *, const char *,
		    const char *, struct sp_conn *);
static int	 sp_dial(const struct sp_url *);
static int	 sp_bio(struct sp_conn *);
static int	 sp_io(struct sp_conn *, void *, size_t, int);
static int	 sp_head(struct sp_conn *);
static int	 sp_pump(struct sp_conn *);
static int	 sp_write_all(int, const char *, size_t);
static void	 sp_close(struct sp_conn *);
static SSL_CTX	*sp_ctx(const struct config_gw *);

/*
 * ssh-proxy --gateway URL --sandbox-id ID --token T [--gateway-name G]
 * ssh-proxy --gateway-name G --name SANDBOX [--server URL]
 */
int
ssh_proxy_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gateway",		required_argument,	NULL,	'u' },
		{ "sandbox-id",		required_argument,	NULL,	'i' },
		{ "token",		required_argument,	NULL,	't' },
		{ "gateway-name",	required_argument,	NULL,	'g' },
		{ "name",		required_argument,	NULL,	'n' },
		{ "server",		required_argument,	NULL,	's' },
		{ NULL,			0,			NULL,	0 }
	};
	struct ssh_target	 t;
	struct config_gw	 gw;
	struct sp_url		 u;
	struct rpc		 r;
	const char		*url = NULL, *id = NULL, *token = NULL;
	const char		*name = NULL;
	int			 ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'i': id = optarg; break;
		case 't': token = optarg; break;
		case 'g': cli_global.cg_gateway = optarg; break;
		case 'n': name = optarg; break;
		case 's': cli_global.cg_endpoint = optarg; break;
		default: return 1;
		}
	}
	if (name != NULL) {
		/* Name mode: GetSandbox + CreateSshSession ourselves. */
		if (rpc_open(&r) == -1)
			return 1;
		if (ssh_session(&r, name, &t) == -1) {
			rpc_close(&r);
			return 1;
		}
		gw = r.r_gw;
		rpc_close(&r);
		url = t.t_url;
		id = t.t_id;
		token = t.t_token;
	} else if (url == NULL || id == NULL || token == NULL) {
		cli_warnx("usage: ssh-proxy --gateway URL --sandbox-id ID "
		    "--token T [--gateway-name G] | --gateway-name G "
		    "--name SANDBOX");
		return 1;
	} else if (config_resolve(&gw) == -1)
		return 1;
	if (sp_parse_url(url, &u) == -1) {
		cli_warnx("bad gateway URL '%s'", url);
		return 1;
	}
	return sp_tunnel(&gw, &u, id, token);
}

/*
 * GetSandbox(name) then CreateSshSession(id).  The advertised host is
 * replaced with the gRPC endpoint's host and port when it is loopback
 * or unspecified (§4.5).  -1 after a message.
 */
/* GetSandbox(name): its id and name into t.  -1 after a message. */
int
ssh_sandbox_id(struct rpc *r, const char *name, struct ssh_target *t)
{
	Openshell__V1__GetSandboxRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	Openshell__V1__SandboxResponse		*res;
	ProtobufCMessage			*m;
	struct grpc_status			 st;

	memset(t, 0, sizeof(*t));
	req.name = (char *)name;
	if (rpc_unary(r, RPC_OPENSHELL "GetSandbox", &req.base,
	    &openshell__v1__sandbox_response__descriptor, &m, &st) != 0)
		return rpc_fail(r, &st), -1;
	res = (Openshell__V1__SandboxResponse *)m;
	if (res->sandbox != NULL) {
		strlcpy(t->t_id, res->sandbox->id, sizeof(t->t_id));
		strlcpy(t->t_name, res->sandbox->name, sizeof(t->t_name));
	}
	protobuf_c_message_free_unpacked(m, NULL);
	strlcpy(t->t_gw, r->r_gw.name, sizeof(t->t_gw));
	if (t->t_id[0] == '\0') {
		cli_warnx("the gateway sent no sandbox");
		return -1;
	}
	return 0;
}

/*
 * GetSandbox(name) then CreateSshSession(id).  The advertised host is
 * replaced with the gRPC endpoint's host and port when it is loopback
 * or unspecified (§4.5).  -1 after a message.
 */
int
ssh_session(struct rpc *r, const char *name, struct ssh_target *t)
{
	Openshell__V1__CreateSshSessionRequest	 req =
	    OPENSHELL__V1__CREATE_SSH_SESSION_REQUEST__INIT;
	Openshell__V1__CreateSshSessionResponse	*res;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	const char				*host, *port;
	char					 pbuf[16];

	if (ssh_sandbox_id(r, name, t) == -1)
		return -1;
	req.sandbox_id = t->t_id;
	if (rpc_unary(r, RPC_OPENSHELL "CreateSshSession", &req.base,
	    &openshell__v1__create_ssh_session_response__descriptor, &m,
	    &st) != 0)
		return rpc_fail(r, &st), -1;
	res = (Openshell__V1__CreateSshSessionResponse *)m;
	host = res->gateway_host;
	snprintf(pbuf, sizeof(pbuf), "%u", res->gateway_port);
	port = pbuf;
	if (host[0] == '\0' || sp_loopback(host)) {
		host = r->r_gw.host;
		port = r->r_gw.port;
	}
	snprintf(t->t_url, sizeof(t->t_url), strchr(host, ':') != NULL ?
	    "%s://[%s]:%s%s" : "%s://%s:%s%s", res->gateway_scheme[0] != '\0' ?
	    res->gateway_scheme : "https", host, port,
	    res->connect_path[0] != '\0' ? res->connect_path :
	    SP_CONNECT_PATH);
	strlcpy(t->t_token, res->token, sizeof(t->t_token));
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int
sp_loopback(const char *h)
{
	return strcmp(h, "127.0.0.1") == 0 || strcmp(h, "0.0.0.0") == 0 ||
	    strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	    strcmp(h, "::") == 0;
}

/* scheme://host[:port][/path]; [v6] hosts accepted. */
static int
sp_parse_url(const char *url, struct sp_url *u)
{
	const char	*p, *end, *slash;
	size_t		 len;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "https://", 8) == 0) {
		u->tls = 1;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return -1;
	slash = strchr(p, '/');
	strlcpy(u->path, slash != NULL ? slash : SP_CONNECT_PATH,
	    sizeof(u->path));
	end = slash != NULL ? slash : p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL ||
		    (len = (size_t)(rb - p - 1)) >= sizeof(u->host))
			return -1;
		memcpy(u->host, p + 1, len);
		p = rb + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *hend = colon != NULL ? colon : end;

		if ((len = (size_t)(hend - p)) == 0 || len >= sizeof(u->host))
			return -1;
		memcpy(u->host, p, len);
		p = hend;
	}
	strlcpy(u->port, u->tls ? "443" : "80", sizeof(u->port));
	if (*p == ':') {
		len = (size_t)(end - p - 1);
		if (len == 0 || len >= sizeof(u->port))
			return -1;
		memcpy(u->port, p + 1, len);
		u->port[len] = '\0';
	}
	return 0;
}

/* 412 is the only retry signal: 1 s doubling to 8 s, for 60 s. */
static int
sp_tunnel(const struct config_gw *gw, const struct sp_url *u,
    const char *id, const char *token)
{
	struct sp_conn	 c;
	SSL_CTX		*ctx = NULL;
	time_t		 start = time(NULL);
	unsigned int	 delay = 1;
	int		 status;

	if (u->tls && (ctx = sp_ctx(gw)) == NULL)
		return 1;
	for (;;) {
		status = sp_attempt(ctx, u, id, token, &c);
		if (status == 200)
			break;
		if (status != 412 ||
		    time(NULL) - start + delay > SP_RETRY_SECS) {
			if (status > 0)
				cli_warnx("gateway refused the tunnel: "
				    "HTTP %d%s", status, status == 412 ?
				    " (sandbox not ready)" : "");
			SSL_CTX_free(ctx);
			return 1;
		}
		sleep(delay);
		delay = delay * 2 > SP_BACKOFF_MAX ? SP_BACKOFF_MAX : delay * 2;
	}
	status = sp_pump(&c);
	sp_close(&c);
	SSL_CTX_free(ctx);
	return status;
}

/* The HTTP status, or -1 after a message; c is open only on 200. */
static int
sp_attempt(SSL_CTX *ctx, const struct sp_url *u, const char *id,
    const char *token, struct sp_conn *c)
{
	char	 req[1024];
	int	 n, status;

	memset(c, 0, sizeof(*c));
	if ((c->fd = sp_dial(u)) == -1)
		return -1;
	if (ctx != NULL) {
		if ((c->ssl = SSL_new(ctx)) == NULL ||
		    sp_bio(c) == -1 ||
		    (inet_pton(AF_INET, u->host, req) != 1 &&
		    inet_pton(AF_INET6, u->host, req) != 1 &&
		    SSL_set_tlsext_host_name(c->ssl, u->host) != 1) ||
		    SSL_connect(c->ssl) != 1) {
			cli_warnx("TLS handshake with %s failed", u->host);
			sp_close(c);
			return -1;
		}
	}
	n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
	    "X-Sandbox-Id: %s\r\nX-Sandbox-Token: %s\r\n\r\n", u->path,
	    u->host, id, token);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    sp_io(c, req, (size_t)n, 1) != n) {
		explicit_bzero(req, sizeof(req));
		cli_warnx("cannot send the CONNECT request");
		sp_close(c);
		return -1;
	}
	explicit_bzero(req, sizeof(req));
	if ((status = sp_head(c)) != 200)
		sp_close(c);
	return status;
}

static int
sp_dial(const struct sp_url *u)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, rc, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
		cli_warnx("%s: %s", u->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	/* SSH's small packets (a keystroke, a channel request) go out at
	 * once, as ssh's own socket does: no Nagle wait on the ACK. */
	if (fd != -1)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if (fd == -1)
		cli_warnx("cannot connect to %s:%s: %s", u->host, u->port,
		    strerror(errno));
	return fd;
}

/*
 * Writes go through a buffer flushed after each SSL_write: the 16 KiB
 * records of one write leave in one send, not one each.  Reads come
 * from the socket as they are.  The BIOs are the SSL's afterwards.
 */
static int
sp_bio(struct sp_conn *c)
{
	BIO	*sock, *buf;

	if ((sock = BIO_new_socket(c->fd, BIO_NOCLOSE)) == NULL)
		return -1;
	if ((buf = BIO_new(BIO_f_buffer())) == NULL ||
	    BIO_set_write_buffer_size(buf, SP_BUF + SP_BUF / 8) != 1) {
		BIO_free(buf);
		BIO_free(sock);
		return -1;
	}
	if (!BIO_up_ref(sock)) {
		BIO_free(buf);
		BIO_free(sock);
		return -1;
	}
	BIO_push(buf, sock);
	SSL_set0_rbio(c->ssl, sock);
	SSL_set0_wbio(c->ssl, buf);
	return 0;
}

/* One read or write on the TLS or plain connection; <= 0 at the end. */
static int
sp_io(struct sp_conn *c, void *buf, size_t len, int wr)
{
	int	 n;

	if (c->ssl != NULL && wr) {
		if ((n = SSL_write(c->ssl, buf, (int)len)) > 0 &&
		    BIO_flush(SSL_get_wbio(c->ssl)) != 1)
			return -1;
		return n;
	}
	if (c->ssl != NULL)
		return SSL_read(c->ssl, buf, (int)len);
	do
		n = (int)(wr ? write(c->fd, buf, len) : read(c->fd, buf, len));
	while (n == -1 && errno == EINTR);
	return n;
}

/*
 * Byte by byte up to the blank line (8 KiB at most): whatever follows
 * (the SSH banner may share the segment) stays unread for the pump.
 */
static int
sp_head(struct sp_conn *c)
{
	char	 head[SP_HEAD_MAX + 1], *sp;
	size_t	 n = 0;

	while (n < SP_HEAD_MAX) {
		if (sp_io(c, head + n, 1, 0) != 1) {
			cli_warnx("the gateway closed the connection");
			return -1;
		}
		n++;
		if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[n] = '\0';
	if (n == SP_HEAD_MAX || (sp = strchr(head, ' ')) == NULL) {
		cli_warnx("bad response from the gateway");
		return -1;
	}
	return atoi(sp + 1);
}

/*
 * stdin to the tunnel, the tunnel to stdout, until the gateway closes.
 * stdin's EOF becomes TLS close_notify (or a TCP half-close), which
 * the gateway turns into a half-close towards the sandbox.
 */
static int
sp_pump(struct sp_conn *c)
{
	struct pollfd	 pfd[2];
	static char	 buf[SP_BUF];
	int		 n, in_open = 1;

	for (;;) {
		pfd[0].fd = in_open ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->fd;
		pfd[1].events = POLLIN;
		if ((c->ssl == NULL || SSL_pending(c->ssl) == 0) &&
		    poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if ((c->ssl != NULL && SSL_pending(c->ssl) > 0) ||
		    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((n = sp_io(c, buf, sizeof(buf), 0)) <= 0)
				return 0;
			if (sp_write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
				return 1;
			continue;
		}
		if (in_open &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = (int)read(STDIN_FILENO, buf, sizeof(buf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				in_open = 0;
				if (c->ssl != NULL) {
					SSL_shutdown(c->ssl);
					(void)BIO_flush(SSL_get_wbio(c->ssl));
				} else
					shutdown(c->fd, SHUT_WR);
				continue;
			}
			if (sp_io(c, buf, (size_t)n, 1) != n)
				return 1;
		}
	}
}

static int
sp_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
sp_close(struct sp_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd > 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

/* The cluster's mTLS bundle, and no ALPN: the gateway speaks HTTP/1.1. */
static SSL_CTX *
sp_ctx(const struct config_gw *gw)
{
	char	 ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	SSL_CTX	*ctx;

	if (paths_join(ca, sizeof(ca), gw->mtls, PKI_BUNDLE_CA) == -1 ||
	    paths_join(cert, sizeof(cert), gw->mtls, PKI_BUNDLE_CERT) == -1 ||
	    paths_join(key, sizeof(key), gw->mtls, PKI_BUNDLE_KEY) == -1) {
		cli_warnx("certificate path too long");
		return NULL;
	}
	if ((ctx = tls_client_ctx(ca, cert, key, NULL)) == NULL)
		cli_warnx("cannot load the client certificates in %s",
		    gw->mtls);
	return ctx;
}
