/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Inference endpoint verification: POST a one-token completion to
 * <base>/v1/chat/completions (OpenAI and NVIDIA; retried once with
 * max_tokens when max_completion_tokens draws a 400) or
 * <base>/v1/messages (Anthropic), a trailing /v1 on the base not
 * repeated.  libevent's HTTP client with its own resolver, so the loop
 * never blocks; https verifies the server against the system CAs.
 * A 2xx answer is success, anything else (or 30 s) is failure.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gatewayd.h"
#include "log.h"
#include "probe.h"

#define PROBE_URL_MAX	2048

struct probe {
	struct gatewayd			*p_gd;
	struct evhttp_connection	*p_conn;
	struct evhttp_connection	*p_oldconn;	/* before a retry */
	struct event			*p_free;	/* deferred teardown */
	probe_done_fn			*p_done;
	void				*p_arg;
	char				 p_host[256];
	char				 p_url[PROBE_URL_MAX];
	char				*p_path;
	char				*p_auth_name;
	char				*p_auth_value;
	char				*p_model;
	const char			*p_protocol;
	int				 p_anthropic;
	int				 p_retried;
	int				 p_tls;
	int				 p_port;
};

static struct evdns_base	*probe_dns;
static SSL_CTX			*probe_ctx;

static int	 probe_connect(struct probe *);
static int	 probe_send(struct probe *);
static void	 probe_response(struct evhttp_request *, void *);
static void	 probe_finish(struct probe *, int, const char *);
static void	 probe_teardown(evutil_socket_t, short, void *);
static void	 probe_free(struct probe *);

int
probe_init(struct gatewayd *gd)
{
	probe_dns = evdns_base_new(gd->gd_ps.ps_base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (probe_dns == NULL)
		log_warnx("probe: no resolver; only addresses will work");
	if ((probe_ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_default_verify_paths(probe_ctx) != 1) {
		log_warnx("probe: no TLS client context");
		return -1;
	}
	SSL_CTX_set_verify(probe_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(probe_ctx, TLS1_2_VERSION);
	return 0;
}

struct probe *
probe_start(struct gatewayd *gd, const char *type, const char *base,
    const char *key, const char *model, probe_done_fn *done, void *arg)
{
	struct evhttp_uri	*uri;
	struct probe		*p;
	const char		*scheme, *path, *host;
	size_t			 n;
	int			 tls, port;

	if ((uri = evhttp_uri_parse(base)) == NULL)
		return NULL;
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	path = evhttp_uri_get_path(uri);
	if (scheme == NULL || host == NULL || host[0] == '\0' ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		evhttp_uri_free(uri);
		return NULL;
	}
	p->p_gd = gd;
	p->p_done = done;
	p->p_arg = arg;
	p->p_anthropic = strcmp(type, "anthropic") == 0;
	p->p_protocol = p->p_anthropic ? "anthropic_messages" :
	    "openai_chat_completions";
	tls = strcmp(scheme, "https") == 0;
	port = evhttp_uri_get_port(uri);
	p->p_tls = tls;
	p->p_port = port != -1 ? port : tls ? 443 : 80;
	strlcpy(p->p_host, host, sizeof(p->p_host));
	path = path != NULL ? path : "";
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (asprintf(&p->p_path, "%.*s%s%s", (int)n, path,
	    n >= 3 && strncmp(path + n - 3, "/v1", 3) == 0 ? "" : "/v1",
	    p->p_anthropic ? "/messages" : "/chat/completions") == -1)
		p->p_path = NULL;
	if (p->p_anthropic) {
		p->p_auth_name = strdup("x-api-key");
		p->p_auth_value = strdup(key);
	} else {
		p->p_auth_name = strdup("Authorization");
		if (asprintf(&p->p_auth_value, "Bearer %s", key) == -1)
			p->p_auth_value = NULL;
	}
	p->p_model = strdup(model);
	if (port == -1)
		snprintf(p->p_url, sizeof(p->p_url), "%s://%s%s", scheme,
		    host, p->p_path != NULL ? p->p_path : "");
	else
		snprintf(p->p_url, sizeof(p->p_url), "%s://%s:%d%s", scheme,
		    host, port, p->p_path != NULL ? p->p_path : "");
	if (p->p_path == NULL || p->p_auth_name == NULL ||
	    p->p_auth_value == NULL || p->p_model == NULL ||
	    probe_connect(p) == -1 || probe_send(p) == -1) {
		evhttp_uri_free(uri);
		probe_free(p);
		return NULL;
	}
	evhttp_uri_free(uri);
	return p;
}

/* The connection (TLS for https, with SNI and a host name check). */
static int
probe_connect(struct probe *p)
{
	struct event_base	*base = p->p_gd->gd_ps.ps_base;
	struct bufferevent	*bev = NULL;
	SSL			*ssl;

	if (p->p_tls) {
		if ((ssl = SSL_new(probe_ctx)) == NULL)
			return -1;
		SSL_set_tlsext_host_name(ssl, p->p_host);
		X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), p->p_host, 0);
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
		    BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(ssl);
			return -1;
		}
	}
	p->p_conn = evhttp_connection_base_bufferevent_new(base, probe_dns,
	    bev, p->p_host, (unsigned short)p->p_port);
	if (p->p_conn == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		return -1;
	}
	evhttp_connection_set_timeout(p->p_conn, PROBE_TIMEOUT);
	return 0;
}

static int
probe_send(struct probe *p)
{
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	const char		*limit;

	if ((req = evhttp_request_new(probe_response, p)) == NULL)
		return -1;
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", p->p_host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, p->p_auth_name, p->p_auth_value);
	if (p->p_anthropic)
		evhttp_add_header(h, "anthropic-version", "2023-06-01");
	limit = p->p_anthropic || p->p_retried ? "max_tokens" :
	    "max_completion_tokens";
	/* The model id goes into JSON unescaped: refuse what needs it. */
	if (strpbrk(p->p_model, "\"\\") != NULL ||
	    evbuffer_add_printf(evhttp_request_get_output_buffer(req),
	    "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\","
	    "\"content\":\"ping\"}],\"%s\":1}", p->p_model, limit) == -1) {
		evhttp_request_free(req);
		return -1;
	}
	/* The connection owns req from here, also on failure. */
	return evhttp_make_request(p->p_conn, req, EVHTTP_REQ_POST,
	    p->p_path) == 0 ? 0 : -1;
}

static void
probe_response(struct evhttp_request *req, void *arg)
{
	struct probe	*p = arg;
	char		 detail[128];
	int		 code;

	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code >= 200 && code < 300) {
		probe_finish(p, 1, "");
		return;
	}
	/*
	 * The retry gets a new connection: the old one may be closing,
	 * and it cannot be freed from inside its own callback.
	 */
	if (code == 400 && !p->p_anthropic && !p->p_retried) {
		p->p_retried = 1;
		p->p_oldconn = p->p_conn;
		p->p_conn = NULL;
		if (probe_connect(p) == 0 && probe_send(p) == 0)
			return;
	}
	if (code == 0)
		snprintf(detail, sizeof(detail), "no response (connection "
		    "failed or timed out after %d s)", PROBE_TIMEOUT);
	else
		snprintf(detail, sizeof(detail), "upstream answered HTTP %d",
		    code);
	probe_finish(p, 0, detail);
}

/*
 * The connection cannot be freed from inside its own request callback:
 * report now, tear down from the loop.
 */
static void
probe_finish(struct probe *p, int ok, const char *detail)
{
	struct timeval	 tv = { 0, 0 };

	if (p->p_done != NULL)
		p->p_done(ok, p->p_url, p->p_protocol, detail, p->p_arg);
	p->p_done = NULL;
	p->p_free = evtimer_new(p->p_gd->gd_ps.ps_base, probe_teardown, p);
	if (p->p_free == NULL || evtimer_add(p->p_free, &tv) == -1)
		log_warnx("probe: cannot schedule teardown");
}

static void
probe_teardown(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	probe_free(arg);
}

void
probe_cancel(struct probe *p)
{
	struct timeval	 tv = { 0, 0 };

	if (p->p_done == NULL)
		return;		/* finishing already */
	p->p_done = NULL;
	p->p_free = evtimer_new(p->p_gd->gd_ps.ps_base, probe_teardown, p);
	if (p->p_free == NULL || evtimer_add(p->p_free, &tv) == -1)
		log_warnx("probe: cannot schedule teardown");
}

static void
probe_free(struct probe *p)
{
	if (p->p_conn != NULL)
		evhttp_connection_free(p->p_conn);
	if (p->p_oldconn != NULL)
		evhttp_connection_free(p->p_oldconn);
	if (p->p_free != NULL)
		event_free(p->p_free);
	free(p->p_path);
	free(p->p_auth_name);
	if (p->p_auth_value != NULL)
		explicit_bzero(p->p_auth_value, strlen(p->p_auth_value));
	free(p->p_auth_value);
	free(p->p_model);
	free(p);
}
