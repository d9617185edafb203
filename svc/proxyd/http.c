/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Strict HTTP/1.1 request parsing for the L7 relay (sandbox.md §2.8
 * with the G6c/G6h fixes).  Pure: no I/O, no logging.
 *
 * What a proxy and the server behind it could read differently is
 * refused (400 and close): a bare LF, obs-fold, whitespace before a
 * colon, any second Content-Length (even an equal one), Content-Length
 * beside Transfer-Encoding, a transfer coding other than exactly
 * "chunked", a second Host or Transfer-Encoding, a version other than
 * HTTP/1.0 or HTTP/1.1, control bytes or invalid UTF-8 in the head.
 * The head ends at the first CRLFCRLF: bytes after it belong to the
 * next request and are never consumed here.
 *
 * Paths are judged in normal form: unreserved %XX decoded, dot
 * segments removed, empty segments collapsed.  An encoded '/' or '\'
 * stays encoded, so it never separates segments for the glob; a
 * segment that would turn into a dot segment once such a byte is
 * decoded (".%2F..") is refused, because a server that decodes it
 * would walk out of the prefix the rule allowed.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static int	 http_tchar(unsigned char);
static int	 http_utf8_ok(const unsigned char *, size_t);
static int	 http_reqline(struct http_req *, char *);
static int	 http_hdrline(struct http_req *, char *);
static int	 http_semantics(struct http_req *);
static int	 http_token_has(const char *, const char *);
static int	 http_hex(int);
static int	 http_unreserved(int);
static int	 http_segment_push(char *, size_t *, const char *, size_t);
static int	 http_segment_sneaky(const char *, size_t);
static char	*http_qdecode(const char *, size_t);

static int
http_tchar(unsigned char ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~",
	    ch) != NULL);
}

static int
http_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
http_unreserved(int ch)
{
	return isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~';
}

/* Well-formed UTF-8, no overlongs, no surrogates. */
static int
http_utf8_ok(const unsigned char *p, size_t n)
{
	size_t		 i = 0, k, need;
	uint32_t	 cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		if (i + need >= n)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/*
 * Where does the head in data[0..len) end?  Returns its length
 * (through CRLFCRLF), 0 if more bytes are needed, HTTP_TOO_BIG past
 * HTTP_HEAD_MAX, HTTP_BAD for a bare LF or a NUL seen so far.
 */
ssize_t
http_head_end(const unsigned char *data, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && i < HTTP_HEAD_MAX; i++) {
		if (data[i] == '\0')
			return HTTP_BAD;
		if (data[i] != '\n')
			continue;
		if (i == 0 || data[i - 1] != '\r')
			return HTTP_BAD;
		if (i >= 3 && data[i - 2] == '\n' && data[i - 3] == '\r')
			return (ssize_t)i + 1;
	}
	return len >= HTTP_HEAD_MAX ? HTTP_TOO_BIG : 0;
}

/* "METHOD SP target SP version": single spaces, nothing else. */
static int
http_reqline(struct http_req *r, char *line)
{
	struct http_head	*h = &r->r_head;
	char			*sp1, *sp2, *p;

	if ((sp1 = strchr(line, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || strchr(sp2 + 1, ' '))
		return -1;
	*sp1 = *sp2 = '\0';
	h->h_method = line;
	h->h_target = sp1 + 1;
	h->h_version = sp2 + 1;
	if (*h->h_method == '\0' || *h->h_target == '\0')
		return -1;
	for (p = h->h_method; *p != '\0'; p++)
		if (!http_tchar((unsigned char)*p))
			return -1;
	for (p = h->h_target; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	if (strcmp(h->h_version, "HTTP/1.1") == 0)
		r->r_http10 = 0;
	else if (strcmp(h->h_version, "HTTP/1.0") == 0)
		r->r_http10 = 1;
	else
		return -1;
	/* Origin form only: a tunnel's requests name no other host. */
	return h->h_target[0] == '/' ? 0 : -1;
}

/* "name: value", no whitespace before the colon, no obs-fold. */
static int
http_hdrline(struct http_req *r, char *line)
{
	struct http_head	*h = &r->r_head;
	struct http_hdr		*n;
	char			*colon, *v, *e, *p;

	if (*line == ' ' || *line == '\t')
		return -1;			/* obs-fold */
	if ((colon = strchr(line, ':')) == NULL || colon == line)
		return -1;
	for (p = line; p < colon; p++)
		if (!http_tchar((unsigned char)*p))
			return -1;	/* includes whitespace before ':' */
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	for (p = v; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') ||
		    (unsigned char)*p == 0x7f)
			return -1;
	if (h->h_nhdrs >= HTTP_MAX_HDRS)
		return -1;
	n = reallocarray(h->h_hdrs, h->h_nhdrs + 1, sizeof(*n));
	if (n == NULL)
		return -1;
	h->h_hdrs = n;
	n[h->h_nhdrs].name = line;
	n[h->h_nhdrs].value = v;
	h->h_nhdrs++;
	return 0;
}

/* Is tok one of the comma-separated tokens of list (no case)? */
static int
http_token_has(const char *list, const char *tok)
{
	size_t		 n = strlen(tok), k;
	const char	*p = list;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		k = strcspn(p, ",");
		while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
			k--;
		if (k == n && strncasecmp(p, tok, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

/* Framing and hop-by-hop facts, after the lines split cleanly. */
static int
http_semantics(struct http_req *r)
{
	struct http_head	*h = &r->r_head;
	size_t			 i, ncl = 0, nte = 0, nhost = 0;
	const char		*name, *val, *p;

	for (i = 0; i < h->h_nhdrs; i++) {
		name = h->h_hdrs[i].name;
		val = h->h_hdrs[i].value;
		if (strcasecmp(name, "Content-Length") == 0) {
			for (p = val; *p >= '0' && *p <= '9'; p++)
				;
			if (ncl++ > 0 || *val == '\0' || *p != '\0' ||
			    p - val > 18)
				return -1;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			if (nte++ > 0 || strcasecmp(val, "chunked") != 0)
				return -1;
		} else if (strcasecmp(name, "Host") == 0) {
			if (nhost++ > 0 || *val == '\0')
				return -1;
			r->r_host = val;
		} else if (strcasecmp(name, "Connection") == 0) {
			if (http_token_has(val, "close"))
				r->r_close = 1;
			if (http_token_has(val, "keep-alive"))
				r->r_keepalive = 1;
			if (http_token_has(val, "upgrade"))
				r->r_connupgrade = 1;
		} else if (strcasecmp(name, "Upgrade") == 0) {
			r->r_upgrade = 1;
			if (http_token_has(val, "h2c"))
				r->r_h2c = 1;
		} else if (strcasecmp(name, "HTTP2-Settings") == 0)
			r->r_h2c = 1;
	}
	if ((ncl > 0 && nte > 0) || (nte > 0 && r->r_http10) ||
	    (nhost == 0 && !r->r_http10))
		return -1;
	if (r->r_http10 && !r->r_keepalive)
		r->r_close = 1;
	return body_init(&r->r_body, h);
}

/*
 * Parse the head data[0..len) (len from http_head_end).  0 or -1;
 * on success r owns a copy, released by http_req_free().
 */
int
http_req_parse(const unsigned char *data, size_t len, struct http_req *r)
{
	struct http_head	*h = &r->r_head;
	char			*line, *next;

	memset(r, 0, sizeof(*r));
	if (len < 4 || len > HTTP_HEAD_MAX || memchr(data, '\0', len) ||
	    !http_utf8_ok(data, len))
		return -1;
	if ((h->h_buf = malloc(len + 1)) == NULL)
		return -1;
	memcpy(h->h_buf, data, len);
	h->h_buf[len - 4] = '\0';	/* the final CRLFCRLF */
	line = h->h_buf;
	next = strstr(line, "\r\n");
	if (next != NULL)
		*next = '\0';
	if (http_reqline(r, line) == -1)
		goto bad;
	while (next != NULL) {
		line = next + 2;
		if ((next = strstr(line, "\r\n")) != NULL)
			*next = '\0';
		if (http_hdrline(r, line) == -1)
			goto bad;
	}
	if (http_semantics(r) == -1)
		goto bad;
	return 0;
bad:
	http_req_free(r);
	return -1;
}

void
http_req_free(struct http_req *r)
{
	parse_head_free(&r->r_head);
	memset(r, 0, sizeof(*r));
}

/* Append "/" seg to out (a dot segment pops instead). */
static int
http_segment_push(char *out, size_t *olen, const char *seg, size_t n)
{
	char	*slash;

	if (n == 0 || (n == 1 && seg[0] == '.'))
		return 0;
	if (n == 2 && seg[0] == '.' && seg[1] == '.') {
		out[*olen] = '\0';
		slash = strrchr(out, '/');
		*olen = slash != NULL ? (size_t)(slash - out) : 0;
		return 0;
	}
	out[(*olen)++] = '/';
	memcpy(out + *olen, seg, n);
	*olen += n;
	return 0;
}

/* Would decoding %2F / %5C turn part of seg into a dot segment? */
static int
http_segment_sneaky(const char *seg, size_t n)
{
	char	 buf[HTTP_HEAD_MAX];
	size_t	 i, k = 0;
	char	*piece, *save = NULL;
	int	 h1, h2;

	if (n >= sizeof(buf))
		return 1;
	for (i = 0; i < n; i++) {
		if (seg[i] == '%' && i + 2 < n &&
		    (h1 = http_hex(seg[i + 1])) >= 0 &&
		    (h2 = http_hex(seg[i + 2])) >= 0) {
			buf[k++] = (char)(h1 * 16 + h2);
			i += 2;
		} else
			buf[k++] = seg[i];
	}
	buf[k] = '\0';
	if (strpbrk(buf, "/\\") == NULL)
		return 0;
	for (piece = strtok_r(buf, "/\\", &save); piece != NULL;
	    piece = strtok_r(NULL, "/\\", &save))
		if (strcmp(piece, ".") == 0 || strcmp(piece, "..") == 0)
			return 1;
	return 0;
}

/*
 * The normal form of an origin-form path (the part before '?'):
 * malloc'd in *out.  -1 for a malformed escape, a raw '\', or an
 * encoded separator hiding a dot segment.
 */
int
http_path_normalize(const char *path, size_t len, char **out)
{
	char	*dec, *res;
	size_t	 i, k = 0, olen = 0, start;
	int	 h1, h2, ch, trail = 0;

	*out = NULL;
	if (len == 0 || path[0] != '/')
		return -1;
	if ((dec = malloc(len + 1)) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		if (path[i] == '\\' || (unsigned char)path[i] <= 0x20 ||
		    (unsigned char)path[i] >= 0x7f)
			goto bad;
		if (path[i] != '%') {
			dec[k++] = path[i];
			continue;
		}
		if (i + 2 >= len || (h1 = http_hex(path[i + 1])) < 0 ||
		    (h2 = http_hex(path[i + 2])) < 0)
			goto bad;
		ch = h1 * 16 + h2;
		if (http_unreserved(ch))
			dec[k++] = (char)ch;
		else {
			dec[k++] = '%';
			dec[k++] = "0123456789ABCDEF"[h1];
			dec[k++] = "0123456789ABCDEF"[h2];
		}
		i += 2;
	}
	if ((res = malloc(k + 2)) == NULL)
		goto bad;
	for (i = 0; i < k; i = start) {
		while (i < k && dec[i] == '/')
			i++;
		for (start = i; start < k && dec[start] != '/'; start++)
			;
		if (http_segment_sneaky(dec + i, start - i)) {
			free(res);
			goto bad;
		}
		/* A trailing slash is kept ("/a/" and "/a" may differ). */
		trail = start == i || (start - i <= 2 &&
		    strncmp(dec + i, "..", start - i) == 0);
		http_segment_push(res, &olen, dec + i, start - i);
	}
	if (olen == 0 || (trail && res[olen - 1] != '/'))
		res[olen++] = '/';
	res[olen] = '\0';
	free(dec);
	*out = res;
	return 0;
bad:
	free(dec);
	return -1;
}

/* One query component: '+' is a space, %XX decoded, UTF-8 only. */
static char *
http_qdecode(const char *s, size_t n)
{
	char	*o;
	size_t	 i, k = 0;
	int	 h1, h2;

	if ((o = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			o[k++] = ' ';
		else if (s[i] != '%')
			o[k++] = s[i];
		else if (i + 2 < n &&
		    (h1 = http_hex(s[i + 1])) >= 0 &&
		    (h2 = http_hex(s[i + 2])) >= 0 && (h1 | h2) != 0) {
			o[k++] = (char)(h1 * 16 + h2);
			i += 2;
		} else {
			free(o);
			return NULL;
		}
	}
	o[k] = '\0';
	if (!http_utf8_ok((unsigned char *)o, k)) {
		free(o);
		return NULL;
	}
	return o;
}

/* The query (after '?') as decoded key/value pairs; -1 if malformed. */
int
http_query_parse(const char *q, struct http_query *out)
{
	const char	*p = q, *amp, *eq;
	struct http_qp	*n;
	size_t		 len;

	memset(out, 0, sizeof(*out));
	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (len > 0) {
			if (out->q_n >= HTTP_MAX_PARAMS || (n = reallocarray(
			    out->q_p, out->q_n + 1, sizeof(*n))) == NULL)
				goto bad;
			out->q_p = n;
			eq = memchr(p, '=', len);
			n[out->q_n].key = http_qdecode(p, eq != NULL ?
			    (size_t)(eq - p) : len);
			n[out->q_n].value = eq != NULL ? http_qdecode(eq + 1,
			    len - (size_t)(eq - p) - 1) : strdup("");
			out->q_n++;
			if (n[out->q_n - 1].key == NULL ||
			    n[out->q_n - 1].value == NULL)
				goto bad;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
bad:
	http_query_free(out);
	return -1;
}

void
http_query_free(struct http_query *q)
{
	size_t	 i;

	for (i = 0; i < q->q_n; i++) {
		free(q->q_p[i].key);
		free(q->q_p[i].value);
	}
	free(q->q_p);
	memset(q, 0, sizeof(*q));
}

/* Does the Host header name host:port (the CONNECT target)? (G6d) */
int
http_host_matches(const char *hdr, const char *host, uint16_t port,
    uint16_t defport)
{
	char		 want[300];
	const char	*colon;
	size_t		 hlen;
	long		 p;
	char		*end;

	if (strchr(host, ':') != NULL)
		snprintf(want, sizeof(want), "[%s]", host);
	else
		strlcpy(want, host, sizeof(want));
	hlen = strlen(want);
	if (strncasecmp(hdr, want, hlen) != 0)
		return 0;
	colon = hdr + hlen;
	if (*colon == '.' && colon[1] == '\0')
		return 0;
	if (*colon == '\0')
		return port == defport;
	if (*colon != ':' || colon[1] == '\0')
		return 0;
	p = strtol(colon + 1, &end, 10);
	return *end == '\0' && colon[1] >= '0' && colon[1] <= '9' &&
	    p == (long)port;
}
