/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Parsing of what the agent sends the proxy: the request head, the
 * CONNECT target (host:port or [v6]:port, G10) and the forward proxy's
 * absolute URI (§2.9).  Pure functions, no I/O.
 *
 * The head parser is strict where a lenient one would let a request
 * mean two things to two parsers: every line ends in CRLF (no bare CR
 * or LF), no NUL, no obs-fold, no whitespace before a header's colon.
 */

#include <arpa/inet.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static int	 parse_line_ok(const char *, size_t);
static int	 parse_reqline(struct http_head *, char *);
static int	 parse_hdrline(struct http_head *, char *);
static int	 parse_port(const char *, uint16_t *);
static int	 parse_authority(const char *, size_t, struct http_uri *);

#define PARSE_MAX_HDRS	128

/* Bytes a line may hold: no NUL, CR or LF, no other control but TAB. */
static int
parse_line_ok(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		unsigned char	 ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* "METHOD SP target SP HTTP/1.x": exactly three tokens. */
static int
parse_reqline(struct http_head *h, char *line)
{
	char	*sp1, *sp2;
	size_t	 i;

	if ((sp1 = strchr(line, ' ')) == NULL)
		return -1;
	*sp1++ = '\0';
	if ((sp2 = strchr(sp1, ' ')) == NULL)
		return -1;
	*sp2++ = '\0';
	if (*line == '\0' || *sp1 == '\0' || strchr(sp2, ' ') != NULL)
		return -1;
	for (i = 0; line[i] != '\0'; i++)
		if (!isupper((unsigned char)line[i]) && line[i] != '-' &&
		    line[i] != '_')
			return -1;
	if (strchr(sp1, '\t') != NULL)
		return -1;
	if (strcmp(sp2, "HTTP/1.1") != 0 && strcmp(sp2, "HTTP/1.0") != 0)
		return -1;
	h->h_method = line;
	h->h_target = sp1;
	h->h_version = sp2;
	return 0;
}

static int
parse_hdrline(struct http_head *h, char *line)
{
	struct http_hdr	*hd;
	char		*colon, *v, *end;
	size_t		 i;

	if (*line == ' ' || *line == '\t')
		return -1;	/* obs-fold */
	if ((colon = strchr(line, ':')) == NULL || colon == line)
		return -1;
	for (i = 0; line + i < colon; i++)
		if (!isgraph((unsigned char)line[i]))
			return -1;	/* includes space before the colon */
	if (h->h_nhdrs >= PARSE_MAX_HDRS)
		return -1;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	hd = &h->h_hdrs[h->h_nhdrs++];
	hd->name = line;
	hd->value = v;
	return 0;
}

/*
 * Parse the head in data[0..len), which ends with the CRLFCRLF.
 * Returns 0, or -1 for a malformed head (the caller answers 400).
 */
int
parse_head(const char *data, size_t len, struct http_head *h)
{
	char	*p, *end, *eol;
	int	 first = 1;

	memset(h, 0, sizeof(*h));
	if (len < 4 || memcmp(data + len - 4, "\r\n\r\n", 4) != 0)
		return -1;
	if ((h->h_buf = malloc(len + 1)) == NULL ||
	    (h->h_hdrs = calloc(PARSE_MAX_HDRS, sizeof(*h->h_hdrs))) == NULL)
		goto fail;
	memcpy(h->h_buf, data, len);
	h->h_buf[len] = '\0';
	p = h->h_buf;
	end = h->h_buf + len - 2;	/* the final empty line */
	while (p < end) {
		if ((eol = memchr(p, '\r', (size_t)(end - p))) == NULL ||
		    eol[1] != '\n' || !parse_line_ok(p, (size_t)(eol - p)))
			goto fail;
		*eol = '\0';
		if (first ? parse_reqline(h, p) : parse_hdrline(h, p))
			goto fail;
		first = 0;
		p = eol + 2;
	}
	if (first)
		goto fail;
	return 0;
fail:
	parse_head_free(h);
	return -1;
}

void
parse_head_free(struct http_head *h)
{
	free(h->h_buf);
	free(h->h_hdrs);
	memset(h, 0, sizeof(*h));
}

/* The first header of that name (case-insensitive), or NULL. */
const char *
parse_header(const struct http_head *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->h_nhdrs; i++)
		if (strcasecmp(h->h_hdrs[i].name, name) == 0)
			return h->h_hdrs[i].value;
	return NULL;
}

/* Decimal 1..65535, no sign, no leading zeros beyond one digit. */
static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * A host name or IPv4 literal as the policy sees it: letters, digits,
 * '-', '_' and '.', at most 253 bytes.  Anything else (spaces, '/',
 * '@', '%', ':') has no business in a destination name.
 */
int
parse_host_valid(const char *h)
{
	size_t	 i, n = strlen(h);

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' &&
		    h[i] != '_' && h[i] != '.')
			return 0;
	return 1;
}

/*
 * CONNECT target: "host:port" or "[v6literal]:port" (G10).  The host
 * comes back without brackets.  Returns 0 or -1.
 */
int
parse_connect_target(const char *t, char *host, size_t hostlen,
    uint16_t *port)
{
	struct in6_addr	 a6;
	const char	*colon, *rb;
	size_t		 n;

	if (t[0] == '[') {
		if ((rb = strchr(t, ']')) == NULL || rb[1] != ':')
			return -1;
		n = (size_t)(rb - t - 1);
		if (n == 0 || n >= hostlen)
			return -1;
		memcpy(host, t + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
		return parse_port(rb + 2, port);
	}
	if ((colon = strchr(t, ':')) == NULL)
		return -1;
	n = (size_t)(colon - t);
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, t, n);
	host[n] = '\0';
	if (!parse_host_valid(host))
		return -1;
	return parse_port(colon + 1, port);
}

/* authority = host [":" port], host = name | IPv4 | "[" IPv6 "]". */
static int
parse_authority(const char *a, size_t n, struct http_uri *u)
{
	char		 buf[300];
	char		*colon, *rb;
	struct in6_addr	 a6;

	if (n == 0 || n >= sizeof(buf) || memchr(a, '@', n) != NULL)
		return -1;
	memcpy(buf, a, n);
	buf[n] = '\0';
	colon = NULL;
	if (buf[0] == '[') {
		if ((rb = strchr(buf, ']')) == NULL)
			return -1;
		*rb = '\0';
		if (rb[1] == ':')
			colon = rb + 1;
		else if (rb[1] != '\0')
			return -1;
		if (strlcpy(u->u_host, buf + 1, sizeof(u->u_host)) >=
		    sizeof(u->u_host) ||
		    inet_pton(AF_INET6, u->u_host, &a6) != 1)
			return -1;
		u->u_v6 = 1;
	} else {
		if ((colon = strchr(buf, ':')) != NULL)
			*colon = '\0';
		if (strlcpy(u->u_host, buf, sizeof(u->u_host)) >=
		    sizeof(u->u_host) || !parse_host_valid(u->u_host))
			return -1;
	}
	if (colon != NULL)
		return parse_port(colon + 1, &u->u_port);
	u->u_port = strcmp(u->u_scheme, "https") == 0 ? 443 : 80;
	return 0;
}

/*
 * Absolute-form URI (§2.9): scheme "://" authority [path-abempty]
 * ["?" query].  Only http and https; the scheme is lower-cased; a
 * missing path becomes "/".  Returns 0 or -1 (400).
 */
int
parse_uri(const char *s, struct http_uri *u)
{
	const char	*p, *auth, *rest;
	size_t		 i, n;

	memset(u, 0, sizeof(*u));
	if ((p = strstr(s, "://")) == NULL || p == s ||
	    (size_t)(p - s) >= sizeof(u->u_scheme))
		return -1;
	for (i = 0; s + i < p; i++) {
		if (!isalpha((unsigned char)s[i]))
			return -1;
		u->u_scheme[i] = (char)tolower((unsigned char)s[i]);
	}
	if (strcmp(u->u_scheme, "http") != 0 &&
	    strcmp(u->u_scheme, "https") != 0)
		return -1;
	auth = p + 3;
	n = strcspn(auth, "/?#");
	if (parse_authority(auth, n, u) == -1)
		return -1;
	rest = auth + n;
	if (*rest == '#')
		rest = "";
	n = strcspn(rest, "#");
	if ((u->u_path = malloc(n + 2)) == NULL)
		return -1;
	i = 0;
	if (*rest != '/')
		u->u_path[i++] = '/';
	memcpy(u->u_path + i, rest, n);
	u->u_path[i + n] = '\0';
	return 0;
}

void
parse_uri_free(struct http_uri *u)
{
	free(u->u_path);
	u->u_path = NULL;
}
