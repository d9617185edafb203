/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The forward proxy (sandbox.md §2.9): a plain-HTTP request with an
 * absolute URI.
 *
 *	1 parse the URI; bad -> 400
 *	2 https -> 400 telling the client to use CONNECT (with a correct
 *	  Content-Length, G9)
 *	3 identity + policy as CONNECT; deny -> bare 403, FORWARD deny
 *	4 L7 endpoint: that one request is judged; enforce deny -> 403
 *	5 rewrite the head, placeholders resolved, fail closed -> 500;
 *	  done before any upstream contact
 *	6 resolve + SSRF -> 403.  A public destination without allowed_ips
 *	  is allowed as in the reference (G9 keeps its semantics) but said
 *	  so in the log
 *	7 connect; all addresses fail -> 502; FORWARD allow
 *	8 the rewritten head, then the request body exactly (body.c; a
 *	  pipelined second request is dropped, G9), and the response raw
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include "proxyd.h"

static void	 forward_dns_done(struct conn *, int, const char *);
static void	 forward_resolved(struct conn *);
static int	 forward_l7(struct conn *);
static int	 forward_query(char *, struct policy_param *, size_t, size_t *);
static int	 forward_unescape(char *);

static const char forward_400[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char forward_403[] = "HTTP/1.1 403 Forbidden\r\n\r\n";
static const char forward_500[] = "HTTP/1.1 500 Internal Server Error\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char forward_502[] = "HTTP/1.1 502 Bad Gateway\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

#define FORWARD_HTTPS_BODY \
	"Use CONNECT for HTTPS requests through this proxy.\n"
#define FORWARD_MAX_PARAMS	64

void
forward_start(struct conn *c)
{
	char		 https[256];

	if (parse_uri(c->c_head.h_target, &c->c_uri) == -1) {
		c->c_pd->pd_st.st_head_errors++;
		front_reply(c, forward_400);
		return;
	}
	c->c_has_uri = 1;
	if (strcmp(c->c_uri.u_scheme, "https") == 0) {
		snprintf(https, sizeof(https), "HTTP/1.1 400 Bad Request\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s",
		    sizeof(FORWARD_HTTPS_BODY) - 1, FORWARD_HTTPS_BODY);
		front_reply(c, https);
		return;
	}
	strlcpy(c->c_host, c->c_uri.u_host, sizeof(c->c_host));
	c->c_port = c->c_uri.u_port;
	front_decide(c);
}

void
forward_decided(struct conn *c)
{
	struct secrets	*sec;
	int		 rc, count = 0;

	if (!c->c_l4.allow) {
		c->c_pd->pd_st.st_denied++;
		events_forward(c, "deny", policy_l4_reason(&c->c_l4));
		front_reply(c, forward_403);
		return;
	}
	if (c->c_l4.proto == POLICY_PROTO_REST && forward_l7(c) == -1)
		return;
	if (body_init(&c->c_body, &c->c_head) == -1) {
		log_warnx("FORWARD %s:%u: ambiguous request body framing",
		    c->c_host, c->c_port);
		front_reply(c, forward_400);
		return;
	}
	/* Only the secrets bound to this host (G7): others fail closed. */
	if ((sec = secrets_for_host(c->c_pd->pd_secrets, c->c_host)) == NULL) {
		front_close(c);
		return;
	}
	rc = rewrite_forward(&c->c_head, &c->c_uri, sec, &c->c_out,
	    &c->c_outlen, &count);
	secrets_free(sec);
	if (rc != REWRITE_OK) {
		log_warnx("FORWARD %s:%u: %s", c->c_host, c->c_port,
		    rc == REWRITE_BAD ? "Host header does not match the URI" :
		    "unresolved credential placeholder, request refused");
		front_reply(c, rc == REWRITE_BAD ? forward_400 : forward_500);
		return;
	}
	if (count > 0)
		log_info("FORWARD %s:%u: %d credential(s) injected", c->c_host,
		    c->c_port, count);
	c->c_state = CONN_RESOLVE;
	resolve_start(c, forward_dns_done);
}

/* In place: %XX decoded, '+' is a space.  -1 on a malformed escape. */
static int
forward_unescape(char *s)
{
	char	*o = s, hx[3] = { 0 };

	for (; *s != '\0'; s++) {
		if (*s == '+')
			*o++ = ' ';
		else if (*s == '%') {
			if (!isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]))
				return -1;
			hx[0] = s[1];
			hx[1] = s[2];
			*o = (char)strtoul(hx, NULL, 16);
			if (*o++ == '\0')
				return -1;
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return 0;
}

/* q is "a=1&b=2", split in place into params. */
static int
forward_query(char *q, struct policy_param *p, size_t max, size_t *n)
{
	char	*pair, *eq, *save = NULL;

	*n = 0;
	for (pair = strtok_r(q, "&", &save); pair != NULL;
	    pair = strtok_r(NULL, "&", &save)) {
		if (*n >= max)
			return -1;
		if ((eq = strchr(pair, '=')) != NULL)
			*eq++ = '\0';
		if (forward_unescape(pair) == -1 ||
		    (eq != NULL && forward_unescape(eq) == -1))
			return -1;
		p[*n].key = pair;
		p[*n].value = eq != NULL ? eq : "";
		(*n)++;
	}
	return 0;
}

/* Step 4.  Returns 0 to go on, -1 when the connection was answered. */
static int
forward_l7(struct conn *c)
{
	struct policy_param	 params[FORWARD_MAX_PARAMS];
	struct policy_l7	 out;
	char			*path, *q;
	size_t			 n = 0;

	if ((path = strdup(c->c_uri.u_path)) == NULL) {
		front_reply(c, forward_500);
		return -1;
	}
	if ((q = strchr(path, '?')) != NULL)
		*q++ = '\0';
	if ((q != NULL && forward_query(q, params, FORWARD_MAX_PARAMS,
	    &n) == -1) || policy_decide_l7(c->c_engine, &c->c_l4,
	    c->c_head.h_method, path, params, n, &out) == -1) {
		free(path);
		front_reply(c, forward_400);
		return -1;
	}
	events_forward_l7(c, path, out.verdict);
	free(path);
	if (out.verdict == POLICY_DENY) {
		c->c_pd->pd_st.st_denied++;
		front_reply(c, forward_403);
		return -1;
	}
	return 0;
}

static void
forward_dns_done(struct conn *c, int ok, const char *err)
{
	char	*reason = NULL;

	if (!ok) {
		c->c_pd->pd_st.st_ssrf++;
		events_ssrf(c, "FORWARD", err);
		front_reply(c, forward_403);
		return;
	}
	if (policy_check_ssrf(&c->c_l4, c->c_host, c->c_port, c->c_addrs,
	    c->c_naddrs, &reason) == -1) {
		c->c_pd->pd_st.st_ssrf++;
		events_ssrf(c, "FORWARD", reason != NULL ? reason :
		    "SSRF check failed");
		free(reason);
		front_reply(c, forward_403);
		return;
	}
	if (!c->c_l4.has_allowed_ips &&
	    !policy_addr_internal((struct sockaddr *)&c->c_addrs[0]))
		log_info("FORWARD %s:%u: plain HTTP to a public address "
		    "(no allowed_ips)", c->c_host, c->c_port);
	forward_resolved(c);
}

static void
forward_resolved(struct conn *c)
{
	c->c_state = CONN_CONNECTING;
	relay_connect(c);
}

void
forward_ready(struct conn *c)
{
	c->c_pd->pd_st.st_allowed++;
	events_forward(c, "allow", NULL);
	if (bufferevent_write(c->c_ubev, c->c_out, c->c_outlen) == -1) {
		front_close(c);
		return;
	}
	explicit_bzero(c->c_out, c->c_outlen);
	free(c->c_out);
	c->c_out = NULL;
	relay_start(c);
}

void
forward_failed(struct conn *c)
{
	c->c_pd->pd_st.st_failed++;
	events_forward(c, "allow", "upstream connect failed");
	front_reply(c, forward_502);
}
