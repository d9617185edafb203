/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The pure parts of routerd (sandbox.md §6.1, §6.4): which inference
 * API a request speaks, which route serves it, the backend URL, which
 * headers never go up (or back), the "model" rewrite and the decoding
 * of a chunked request body.  No I/O, no logging, no event loop.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "routerd.h"

static void	 route_free(struct route *);
static int	 route_hex(int);
static const char *route_crlf(const unsigned char *, size_t, size_t);

/* §6.1, in order; "models/" is any models_get. */
static const struct {
	const char	*m;
	const char	*path;
	int		 prefix;
	const char	*proto;
	const char	*kind;
} route_apis[] = {
	{ "POST", "/v1/chat/completions", 0, "openai_chat_completions",
	    "chat_completion" },
	{ "POST", "/v1/completions", 0, "openai_completions", "completion" },
	{ "POST", "/v1/responses", 0, "openai_responses", "responses" },
	{ "POST", "/v1/messages", 0, "anthropic_messages", "messages" },
	{ "GET", "/v1/models", 0, "model_discovery", "models_list" },
	{ "GET", "/v1/models/", 1, "model_discovery", "models_get" },
};

/* Hop-by-hop: never forwarded either way (RFC 9110 §7.6.1). */
static const char *const route_hop[] = {
	"connection", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", "content-length",
};

/*
 * Not forwarded up: the agent's credentials (the route's key goes in
 * their place), Host (the backend's goes), and Expect, which routerd
 * answered itself (the whole body is read before the request goes).
 */
static const char *const route_updrop[] = {
	"authorization", "x-api-key", "host", "expect",
};

struct route_table *
route_table_new(int enabled, size_t n)
{
	struct route_table	*rt;

	if ((rt = calloc(1, sizeof(*rt))) == NULL)
		return NULL;
	if (n > 0 && (rt->rt_routes = calloc(n, sizeof(*rt->rt_routes))) ==
	    NULL) {
		free(rt);
		return NULL;
	}
	rt->rt_refs = 1;
	rt->rt_enabled = enabled;
	rt->rt_n = n;
	return rt;
}

struct route_table *
route_table_ref(struct route_table *rt)
{
	rt->rt_refs++;
	return rt;
}

static void
route_free(struct route *r)
{
	size_t	 i;

	free(r->r_name);
	free(r->r_url);
	for (i = 0; i < r->r_nprotos; i++)
		free(r->r_protos[i]);
	free(r->r_protos);
	if (r->r_key != NULL)
		explicit_bzero(r->r_key, strlen(r->r_key));
	free(r->r_key);
	free(r->r_model);
	free(r->r_type);
}

void
route_table_unref(struct route_table *rt)
{
	size_t	 i;

	if (rt == NULL || --rt->rt_refs > 0)
		return;
	for (i = 0; i < rt->rt_n; i++)
		route_free(&rt->rt_routes[i]);
	free(rt->rt_routes);
	free(rt);
}

/*
 * The path of a request target, without the query: origin form as
 * is, absolute form ("http://host/p?q") reduced to its path.  -1 if
 * it does not fit in buf.
 */
int
route_path(const char *target, char *buf, size_t len)
{
	const char	*p = target, *s;
	size_t		 n;

	if ((s = strstr(target, "://")) != NULL && target[0] != '/') {
		s += 3;
		p = s + strcspn(s, "/?#");
	}
	n = strcspn(p, "?#");
	if (*p != '/') {
		/* "http://host" or "http://host?q": the root. */
		if (len < 2)
			return -1;
		strlcpy(buf, "/", len);
		return 0;
	}
	if (n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

/* 0 and the protocol id and kind if (method, target) is inference. */
int
route_classify(const char *method, const char *target, const char **proto,
    const char **kind)
{
	char	 path[2048];
	size_t	 i, n;

	if (route_path(target, path, sizeof(path)) == -1)
		return -1;
	for (i = 0; i < sizeof(route_apis) / sizeof(route_apis[0]); i++) {
		if (strcasecmp(method, route_apis[i].m) != 0)
			continue;
		n = strlen(route_apis[i].path);
		if (route_apis[i].prefix ? strncmp(path, route_apis[i].path,
		    n) != 0 || path[n] == '\0' : strcmp(path,
		    route_apis[i].path) != 0)
			continue;
		*proto = route_apis[i].proto;
		*kind = route_apis[i].kind;
		return 0;
	}
	return -1;
}

/* The first route speaking proto (§6.4 step 1), or NULL. */
const struct route *
route_select(const struct route_table *rt, const char *proto)
{
	size_t	 i, k;

	for (i = 0; i < rt->rt_n; i++)
		for (k = 0; k < rt->rt_routes[i].r_nprotos; k++)
			if (strcasecmp(rt->rt_routes[i].r_protos[k],
			    proto) == 0)
				return &rt->rt_routes[i];
	return NULL;
}

/*
 * base without its trailing '/' + target (origin form, query kept);
 * a base ending in "/v1" swallows the target's leading "/v1" segment.
 */
char *
route_url(const char *base, const char *target)
{
	size_t		 n = strlen(base);
	char		*u;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n >= 3 && strncmp(base + n - 3, "/v1", 3) == 0 &&
	    strncmp(target, "/v1", 3) == 0 && (target[3] == '\0' ||
	    target[3] == '/' || target[3] == '?'))
		target += 3;
	if (asprintf(&u, "%.*s%s", (int)n, base, target) == -1)
		return NULL;
	return u;
}

/*
 * Is header name dropped?  resp 0: a request header going up to the
 * backend; 1: a response header going back to the agent.
 */
int
route_header_drop(const char *name, int resp)
{
	size_t	 i;

	for (i = 0; i < sizeof(route_hop) / sizeof(route_hop[0]); i++)
		if (strcasecmp(name, route_hop[i]) == 0)
			return 1;
	if (resp)
		return 0;
	for (i = 0; i < sizeof(route_updrop) / sizeof(route_updrop[0]); i++)
		if (strcasecmp(name, route_updrop[i]) == 0)
			return 1;
	return 0;
}

/*
 * A JSON object body with its "model" set to model (inserted or
 * overwritten), re-serialised; NULL when the body is not a JSON
 * object (then it goes up unchanged) or memory ran out.
 */
char *
route_model_rewrite(const char *body, size_t len, const char *model,
    size_t *outlen)
{
	json_t		*j;
	json_error_t	 err;
	char		*s = NULL;

	if (len == 0 || (j = json_loadb(body, len, 0, &err)) == NULL)
		return NULL;
	if (json_is_object(j) && json_object_set_new(j, "model",
	    json_string(model)) == 0)
		s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s != NULL)
		*outlen = strlen(s);
	return s;
}

static int
route_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* The CRLF ending the line at p[off..), or NULL (bare LF: NULL). */
static const char *
route_crlf(const unsigned char *p, size_t n, size_t off)
{
	size_t	 i;

	for (i = off; i + 1 < n; i++) {
		if (p[i] == '\n')
			return NULL;
		if (p[i] == '\r')
			return p[i + 1] == '\n' ? (const char *)p + i : NULL;
	}
	return NULL;
}

/*
 * Decode a whole chunked body (as body_scan delimited it): chunk
 * extensions and trailers are skipped.  0 and *out (malloc'd; NULL
 * when empty), ROUTE_BAD when malformed, ROUTE_TOO_BIG past max.
 */
int
route_dechunk(const unsigned char *in, size_t len, size_t max,
    unsigned char **out, size_t *outlen)
{
	unsigned char	*buf = NULL, *nb;
	const char	*e;
	size_t		 off = 0, n = 0, sz, nd;
	int		 h;

	*out = NULL;
	*outlen = 0;
	for (;;) {
		for (sz = 0, nd = 0; off < len && (h = route_hex(in[off])) >=
		    0; off++, nd++) {
			if (nd >= 15)
				goto bad;
			sz = sz * 16 + (size_t)h;
		}
		if (nd == 0 || off >= len || (in[off] != ';' &&
		    in[off] != '\r') || (e = route_crlf(in, len, off)) == NULL)
			goto bad;
		off = (size_t)((const unsigned char *)e - in) + 2;
		if (sz == 0)
			break;
		if (sz > max - n) {
			free(buf);
			return ROUTE_TOO_BIG;
		}
		if (len - off < sz + 2 || in[off + sz] != '\r' ||
		    in[off + sz + 1] != '\n')
			goto bad;
		if ((nb = realloc(buf, n + sz)) == NULL)
			goto bad;
		buf = nb;
		memcpy(buf + n, in + off, sz);
		n += sz;
		off += sz + 2;
	}
	/* Trailer lines, then the empty line. */
	while (off + 1 < len && !(in[off] == '\r' && in[off + 1] == '\n')) {
		if ((e = route_crlf(in, len, off)) == NULL)
			goto bad;
		off = (size_t)((const unsigned char *)e - in) + 2;
	}
	if (off + 2 != len)
		goto bad;
	*out = buf;
	*outlen = n;
	return 0;
bad:
	free(buf);
	return ROUTE_BAD;
}

/*
 * A head whose request target is in absolute form ("POST
 * https://inference.local/v1/x HTTP/1.1") rewritten to origin form,
 * which the strict parser wants.  0 with *out (malloc'd, *outlen),
 * 1 when nothing needs rewriting (origin form, or no absolute URI:
 * the parser judges it), -1 out of memory.
 */
int
route_originform(const char *head, size_t len, char **out, size_t *outlen)
{
	const char	*sp, *t, *a, *p, *end;
	size_t		 eol;
	char		*o;
	int		 slash;

	/* Bounded by len: the head is not a C string. */
	for (eol = 0; eol < len && head[eol] != '\r' && head[eol] != '\n';
	    eol++)
		;
	if (eol == len || (sp = memchr(head, ' ', eol)) == NULL)
		return 1;
	t = sp + 1;
	end = head + eol;
	if (strncasecmp(t, "http://", 7) == 0)
		a = t + 7;
	else if (strncasecmp(t, "https://", 8) == 0)
		a = t + 8;
	else
		return 1;
	for (p = a; p < end && *p != '/' && *p != '?' && *p != ' '; p++)
		;
	if (p == a)
		return 1;
	slash = *p != '/';
	if ((o = malloc(len + 2)) == NULL)
		return -1;
	memcpy(o, head, (size_t)(t - head));
	*outlen = (size_t)(t - head);
	if (slash)
		o[(*outlen)++] = '/';
	memcpy(o + *outlen, p, len - (size_t)(p - head));
	*outlen += len - (size_t)(p - head);
	o[*outlen] = '\0';
	*out = o;
	return 0;
}
