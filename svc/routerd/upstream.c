/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * One backend request per inference request (sandbox.md §6.4, §6.5),
 * with libevent's HTTP client over a verifying TLS client when the
 * route is https.  The response head goes to the agent as soon as it
 * arrives, the body chunk by chunk as it arrives (SSE streams flow).
 * An error before any byte went back is a JSON 503/502; after the
 * head (G11) the agent's connection ends without the zero chunk, so
 * the truncation shows.
 *
 * The request starts from the event loop (upstream_tick), never inside
 * upstream_start: evhttp may report a failed connect synchronously.
 * A detached upstream (the answer is complete, or the agent went)
 * ignores every callback and is freed, with its connection, from the
 * loop, never from inside one of evhttp's callbacks.
 */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "libpki/pki.h"
#include "log.h"

#include "routerd.h"

#define UPSTREAM_SYSTEM_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define UPSTREAM_ROOTS_DELAY	1	/* s after setup */

struct upstream {
	struct routerd			*u_rd;
	struct tunnel			*u_t;		/* NULL: detached */
	struct evhttp_connection	*u_conn;
	struct evhttp_request		*u_req;		/* until made */
	struct event			*u_ev;		/* go, or reap */
	char				*u_target;
	char				 u_route[64];
	enum evhttp_cmd_type		 u_type;
	int				 u_made;
	int				 u_err;		/* error + 1 */
	int				 u_headsent;
	int				 u_paused;
};

static const unsigned char upstream_h11[] = "\x08http/1.1";

static void	 upstream_roots(struct routerd *);
static void	 upstream_roots_cb(evutil_socket_t, short, void *);
static struct evhttp_connection *upstream_conn(struct routerd *,
		    const struct evhttp_uri *, char *, size_t);
static int	 upstream_headers(struct upstream *, const struct serve_req *,
		    const char *);
static void	 upstream_body(struct upstream *, const struct serve_req *);
static void	 upstream_tick(evutil_socket_t, short, void *);
static int	 upstream_header_cb(struct evhttp_request *, void *);
static void	 upstream_chunk_cb(struct evhttp_request *, void *);
static void	 upstream_error_cb(enum evhttp_request_error, void *);
static void	 upstream_done_cb(struct evhttp_request *, void *);
static void	 upstream_fail(struct upstream *);
static void	 upstream_head(struct upstream *, struct evhttp_request *);

/*
 * Before the sandbox: OpenSSL's configuration, the client context,
 * the system trust store (read now, parsed when first needed) and
 * resolv.conf.
 */
int
upstream_init(struct routerd *rd)
{
	FILE	*f;
	size_t	 n, cap = 0, len = 0;
	char	*p;

	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 ||
	    (rd->rd_client = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(rd->rd_client, TLS1_2_VERSION);
	SSL_CTX_set_options(rd->rd_client, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(rd->rd_client, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_alpn_protos(rd->rd_client, upstream_h11,
	    sizeof(upstream_h11) - 1);
	if ((f = fopen(UPSTREAM_SYSTEM_BUNDLE, "r")) == NULL)
		log_warn("TLS: no system trust store at %s",
		    UPSTREAM_SYSTEM_BUNDLE);
	while (f != NULL) {
		if (len + 16384 + 1 > cap) {
			cap = cap == 0 ? 262144 : cap * 2;
			if ((p = realloc(rd->rd_roots, cap)) == NULL)
				return -1;
			rd->rd_roots = p;
		}
		if ((n = fread(rd->rd_roots + len, 1, 16384, f)) == 0)
			break;
		len += n;
	}
	if (f != NULL) {
		fclose(f);
		rd->rd_roots[len] = '\0';
	}
	evutil_secure_rng_init();
	if ((rd->rd_dns = evdns_base_new(rd->rd_base, 0)) == NULL)
		return -1;
	if (evdns_base_resolv_conf_parse(rd->rd_dns, DNS_OPTION_NAMESERVERS |
	    DNS_OPTION_SEARCH | DNS_OPTION_MISC, "/etc/resolv.conf") != 0)
		log_warnx("resolv.conf: DNS may not work");
	/* Pods name backends in /etc/hosts too (hostAliases). */
	if (evdns_base_load_hosts(rd->rd_dns, NULL) != 0)
		log_warnx("/etc/hosts: not loaded");
	evdns_base_set_option(rd->rd_dns, "timeout:", "3");
	evdns_base_set_option(rd->rd_dns, "attempts:", "2");
	ERR_clear_error();
	return 0;
}

/*
 * The system bundle, parsed once: some 30 ms of CPU, which must not
 * delay the sandbox's start (the tree is ready when we are).  Done a
 * moment after setup (upstream_idle), or by the first https request
 * that comes sooner.
 */
static void
upstream_roots(struct routerd *rd)
{
	int	 n;

	if (rd->rd_roots == NULL)
		return;
	n = pki_store_add_pem(SSL_CTX_get_cert_store(rd->rd_client),
	    rd->rd_roots, strlen(rd->rd_roots));
	log_debug("TLS: %d system trust anchors", n);
	free(rd->rd_roots);
	rd->rd_roots = NULL;
}

/* After setup: the system bundle, once the start is over. */
void
upstream_idle(struct routerd *rd)
{
	struct timeval	 tv = { UPSTREAM_ROOTS_DELAY, 0 };

	if (event_base_once(rd->rd_base, -1, EV_TIMEOUT, upstream_roots_cb,
	    rd, &tv) == -1)
		upstream_roots(rd);
}

static void
upstream_roots_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	upstream_roots(arg);
}

/* Extra anchors: into the store now, beside the system's (later). */
void
upstream_trust(struct routerd *rd, const char *pem)
{
	int	 n = 0;

	if (*pem != '\0' && (n = pki_store_add_pem(
	    SSL_CTX_get_cert_store(rd->rd_client), pem, strlen(pem))) == -1) {
		log_warnx("TLS: the extra upstream anchors do not parse");
		n = 0;
	}
	log_info("TLS: %d extra upstream trust anchors", n);
}

/*
 * A connection to the URI's host: plain, or TLS verifying the name
 * (or the IP literal) against the system store and the extra anchors.
 * host gets the name for the Host header.
 */
static struct evhttp_connection *
upstream_conn(struct routerd *rd, const struct evhttp_uri *uri, char *host,
    size_t hostlen)
{
	struct bufferevent	*bev;
	const char		*scheme = evhttp_uri_get_scheme(uri);
	const char		*h = evhttp_uri_get_host(uri);
	char			 addr[256];
	unsigned char		 ip[16];
	int			 tls, port = evhttp_uri_get_port(uri);
	SSL			*ssl;

	if (h == NULL || *h == '\0' || scheme == NULL)
		return NULL;
	tls = strcasecmp(scheme, "https") == 0;
	if (!tls && strcasecmp(scheme, "http") != 0)
		return NULL;
	strlcpy(addr, h[0] == '[' ? h + 1 : h, sizeof(addr));
	addr[strcspn(addr, "]")] = '\0';
	if (port == -1)
		snprintf(host, hostlen, "%s", h);
	else
		snprintf(host, hostlen, "%s:%d", h, port);
	if (port == -1)
		port = tls ? 443 : 80;
	if (!tls)
		return evhttp_connection_base_new(rd->rd_base, rd->rd_dns, addr,
		    (uint16_t)port);
	upstream_roots(rd);
	if ((ssl = SSL_new(rd->rd_client)) == NULL)
		return NULL;
	if (inet_pton(AF_INET, addr, ip) == 1 || inet_pton(AF_INET6, addr,
	    ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    addr) != 1)
			goto bad;
	} else if (SSL_set_tlsext_host_name(ssl, addr) != 1 ||
	    SSL_set1_host(ssl, addr) != 1)
		goto bad;
	bev = bufferevent_openssl_socket_new(rd->rd_base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL)
		goto bad;
	/* Close-delimited bodies end without close_notify at times. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	/* evhttp owns bev (and so ssl) from here, even on failure. */
	return evhttp_connection_base_bufferevent_new(rd->rd_base, rd->rd_dns,
	    bev, addr, (uint16_t)port);
bad:
	SSL_free(ssl);
	ERR_clear_error();
	return NULL;
}

/*
 * The agent's headers minus credentials, Host and hop-by-hop; the
 * route's key in their place (§6.4 steps 2-3).
 */
static int
upstream_headers(struct upstream *u, const struct serve_req *sr,
    const char *host)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(u->u_req);
	const struct route	*r = sr->sr_route;
	const struct http_head	*hd = sr->sr_head;
	char			*v;
	size_t			 i;
	int			 anth, rc = 0;

	anth = strcasecmp(r->r_type, "anthropic") == 0;
	for (i = 0; i < hd->h_nhdrs; i++)
		if (!route_header_drop(hd->h_hdrs[i].name, 0))
			rc |= evhttp_add_header(h, hd->h_hdrs[i].name,
			    hd->h_hdrs[i].value);
	rc |= evhttp_add_header(h, "Host", host);
	if (anth) {
		rc |= evhttp_add_header(h, "x-api-key", r->r_key);
		if (parse_header(hd, "anthropic-version") == NULL)
			rc |= evhttp_add_header(h, "anthropic-version",
			    "2023-06-01");
		return rc;
	}
	if (asprintf(&v, "Bearer %s", r->r_key) == -1)
		return -1;
	rc |= evhttp_add_header(h, "Authorization", v);
	explicit_bzero(v, strlen(v));
	free(v);
	return rc;
}

/* §6.4 step 4: a JSON object gets the route's model; else as is. */
static void
upstream_body(struct upstream *u, const struct serve_req *sr)
{
	struct evbuffer	*out = evhttp_request_get_output_buffer(u->u_req);
	char		*s, len[32];
	size_t		 n = 0;

	s = route_model_rewrite((const char *)sr->sr_body, sr->sr_bodylen,
	    sr->sr_route->r_model, &n);
	if (s != NULL) {
		evbuffer_add(out, s, n);
		free(s);
	} else
		evbuffer_add(out, sr->sr_body, sr->sr_bodylen);
	if (u->u_type == EVHTTP_REQ_POST || evbuffer_get_length(out) > 0) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(out));
		evhttp_add_header(evhttp_request_get_output_headers(u->u_req),
		    "Content-Length", len);
	}
}

/*
 * Set up the backend request for t; it starts from the loop.  NULL:
 * nothing started (the caller answers 502).
 */
struct upstream *
upstream_start(struct routerd *rd, struct tunnel *t,
    const struct serve_req *sr)
{
	struct upstream		*u;
	struct evhttp_uri	*uri = NULL;
	const char		*path, *query;
	char			*url, host[300];
	struct timeval		 now = { 0, 0 };
	uint32_t		 secs;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->u_rd = rd;
	u->u_t = t;
	u->u_type = strcasecmp(sr->sr_method, "GET") == 0 ? EVHTTP_REQ_GET :
	    EVHTTP_REQ_POST;
	strlcpy(u->u_route, sr->sr_route->r_name, sizeof(u->u_route));
	if ((url = route_url(sr->sr_route->r_url, sr->sr_target)) != NULL)
		uri = evhttp_uri_parse(url);
	free(url);
	if (uri == NULL || (u->u_conn = upstream_conn(rd, uri, host,
	    sizeof(host))) == NULL) {
		log_warnx("inference route %s: bad base_url or out of "
		    "resources", u->u_route);
		goto bad;
	}
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	if (asprintf(&u->u_target, "%s%s%s", path != NULL && *path != '\0' ?
	    path : "/", query != NULL ? "?" : "", query != NULL ? query :
	    "") == -1) {
		u->u_target = NULL;
		goto bad;
	}
	secs = sr->sr_route->r_timeout ? sr->sr_route->r_timeout :
	    ROUTER_TIMEOUT_DEFAULT;
	evhttp_connection_set_timeout(u->u_conn, (int)secs);
	evhttp_connection_set_retries(u->u_conn, 0);
	evhttp_connection_set_max_headers_size(u->u_conn, ROUTER_UP_HEAD_MAX);
	if ((u->u_req = evhttp_request_new(upstream_done_cb, u)) == NULL ||
	    (u->u_ev = evtimer_new(rd->rd_base, upstream_tick, u)) == NULL)
		goto bad;
	evhttp_request_set_header_cb(u->u_req, upstream_header_cb);
	evhttp_request_set_chunked_cb(u->u_req, upstream_chunk_cb);
	evhttp_request_set_error_cb(u->u_req, upstream_error_cb);
	if (upstream_headers(u, sr, host) != 0)
		goto bad;
	upstream_body(u, sr);
	evhttp_uri_free(uri);
	evtimer_add(u->u_ev, &now);
	return u;
bad:
	if (uri != NULL)
		evhttp_uri_free(uri);
	if (u->u_req != NULL)
		evhttp_request_free(u->u_req);
	if (u->u_conn != NULL)
		evhttp_connection_free(u->u_conn);
	if (u->u_ev != NULL)
		event_free(u->u_ev);
	free(u->u_target);
	free(u);
	return NULL;
}

/* From the loop: make the request, or (detached) free everything. */
static void
upstream_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*u = arg;

	(void)fd;
	(void)ev;
	if (u->u_t != NULL && !u->u_made) {
		u->u_made = 1;
		/* From here evhttp owns u_req, also when this fails. */
		if (evhttp_make_request(u->u_conn, u->u_req, u->u_type,
		    u->u_target) == -1) {
			log_warnx("inference route %s: request failed",
			    u->u_route);
			upstream_fail(u);
		}
		return;
	}
	if (u->u_t != NULL)
		return;
	if (!u->u_made && u->u_req != NULL)
		evhttp_request_free(u->u_req);
	/* Frees a pending request without calling back. */
	evhttp_connection_free(u->u_conn);
	event_free(u->u_ev);
	free(u->u_target);
	free(u);
}

/* The tunnel is done with u: callbacks are ignored, freed soon. */
void
upstream_detach(struct upstream *u)
{
	struct timeval	 now = { 0, 0 };

	if (u->u_t == NULL)
		return;
	u->u_t = NULL;
	evtimer_add(u->u_ev, &now);
}

/* The agent caught up: read from the backend again. */
void
upstream_resume(struct upstream *u)
{
	if (!u->u_paused || u->u_t == NULL)
		return;
	u->u_paused = 0;
	bufferevent_enable(evhttp_connection_get_bufferevent(u->u_conn),
	    EV_READ);
}

static void
upstream_head(struct upstream *u, struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyval		*kv;
	struct evbuffer		*hdrs;
	int			 status = evhttp_request_get_response_code(req);

	u->u_headsent = 1;
	if ((hdrs = evbuffer_new()) != NULL)
		TAILQ_FOREACH(kv, in, next)
			if (!route_header_drop(kv->key, 1))
				evbuffer_add_printf(hdrs, "%s: %s\r\n", kv->key,
				    kv->value);
	serve_resp_head(u->u_t, status,
	    evhttp_request_get_response_code_line(req), hdrs);
	if (hdrs != NULL)
		evbuffer_free(hdrs);
	serve_logroute(u->u_t, status);
}

/* The response head: to the agent at once (§6.5). */
static int
upstream_header_cb(struct evhttp_request *req, void *arg)
{
	struct upstream	*u = arg;

	if (u->u_t == NULL)
		return -1;
	if (!u->u_headsent)
		upstream_head(u, req);
	return 0;
}

/* A piece of the body, one chunk to the agent, as it comes. */
static void
upstream_chunk_cb(struct evhttp_request *req, void *arg)
{
	struct upstream	*u = arg;
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 n = evbuffer_get_length(in);

	if (u->u_t == NULL || n == 0)
		return;
	if (!u->u_headsent)
		upstream_head(u, req);
	serve_chunk(u->u_t, evbuffer_pullup(in, -1), n);
	if (serve_backlog(u->u_t) && !u->u_paused) {
		u->u_paused = 1;
		bufferevent_disable(evhttp_connection_get_bufferevent(
		    u->u_conn), EV_READ);
	}
}

static void
upstream_error_cb(enum evhttp_request_error err, void *arg)
{
	struct upstream	*u = arg;

	u->u_err = (int)err + 1;
}

static void
upstream_done_cb(struct evhttp_request *req, void *arg)
{
	struct upstream	*u = arg;
	struct tunnel	*t = u->u_t;
	struct evbuffer	*in;

	if (t == NULL)
		return;
	if (req == NULL || u->u_err != 0 ||
	    evhttp_request_get_response_code(req) == 0) {
		upstream_fail(u);
		return;
	}
	if (!u->u_headsent)
		upstream_head(u, req);
	in = evhttp_request_get_input_buffer(req);
	if (evbuffer_get_length(in) > 0)
		serve_chunk(t, evbuffer_pullup(in, -1),
		    evbuffer_get_length(in));
	serve_end(t);
	upstream_detach(u);
	serve_done(t);
}

/*
 * The backend failed.  Before any byte went back: 503 for a connect
 * failure or a timeout, 502 for a bad answer.  After the head: the
 * tunnel ends without the zero chunk (G11).
 */
static void
upstream_fail(struct upstream *u)
{
	struct tunnel	*t = u->u_t;
	int		 status;
	static const char *const why[] = { "no error", "timeout",
	    "connection closed", "invalid response head", "buffer error",
	    "cancelled", "response too long" };

	status = u->u_err == 0 || u->u_err == EVREQ_HTTP_TIMEOUT + 1 ||
	    u->u_err == EVREQ_HTTP_EOF + 1 ? 503 : 502;
	log_warnx("inference route %s: backend %s (%s)", u->u_route,
	    u->u_err == 0 ? "unreachable" : why[u->u_err <
	    (int)(sizeof(why) / sizeof(why[0])) ? u->u_err : 0],
	    u->u_headsent ? "response cut short" : "no response");
	serve_upstream_error(t);
	upstream_detach(u);
	if (u->u_headsent) {
		serve_abort(t);
		return;
	}
	serve_json(t, status, status == 503 ? "{\"error\":\"inference service "
	    "unavailable\"}" : "{\"error\":\"inference service error\"}", 0);
	serve_logroute(t, status);
	serve_done(t);
}
