/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Strict HTTP/1.1 request-head parser.  Bytes are checked as they
 * arrive so that a peer sending garbage is refused at once instead of
 * after filling the 8 KiB buffer.
 */

#include <string.h>
#include <strings.h>

#include "http1.h"

static int	 h1_check(const struct http1_req *, size_t);
static int	 h1_parse(struct http1_req *);
static char	*h1_line(char **);
static int	 h1_reqline(struct http1_req *, char *);
static int	 h1_header(struct http1_req *, char *);
static int	 h1_tchar(int);

void
http1_init(struct http1_req *r)
{
	memset(r, 0, sizeof(*r));
}

ssize_t
http1_feed(struct http1_req *r, const char *p, size_t n)
{
	size_t	 old, take, i, from;
	int	 rv;

	old = r->h1_len;
	take = HTTP1_HEAD_MAX - old;
	if (take > n)
		take = n;
	memcpy(r->h1_buf + old, p, take);
	r->h1_len += take;
	from = old > 3 ? old - 3 : 0;
	for (i = from; i + 3 < r->h1_len; i++) {
		if (memcmp(r->h1_buf + i, "\r\n\r\n", 4) == 0) {
			r->h1_len = i + 4;
			if (h1_check(r, old) != 0)
				return HTTP1_EBAD;
			r->h1_buf[r->h1_len] = '\0';
			if ((rv = h1_parse(r)) != 0)
				return rv;
			return (ssize_t)(r->h1_len - old);
		}
	}
	if (h1_check(r, old) != 0)
		return HTTP1_EBAD;
	if (r->h1_len == HTTP1_HEAD_MAX)
		return HTTP1_ETOOBIG;
	return HTTP1_MORE;
}

/* Refuses NUL, bare LF and CR not followed by LF in the new bytes. */
static int
h1_check(const struct http1_req *r, size_t from)
{
	size_t	 i;
	char	 c;

	if (from > 0)
		from--;		/* recheck a CR that ended the last chunk */
	for (i = from; i < r->h1_len; i++) {
		c = r->h1_buf[i];
		if (c == '\0')
			return -1;
		if (c == '\n' && (i == 0 || r->h1_buf[i - 1] != '\r'))
			return -1;
		if (c == '\r' && i + 1 < r->h1_len && r->h1_buf[i + 1] != '\n')
			return -1;
	}
	return 0;
}

static int
h1_parse(struct http1_req *r)
{
	char	*p, *line;

	p = r->h1_buf;
	if ((line = h1_line(&p)) == NULL || h1_reqline(r, line) != 0)
		return HTTP1_EBAD;
	while ((line = h1_line(&p)) != NULL && *line != '\0') {
		if (r->h1_nhdr >= HTTP1_HEADERS_MAX)
			return HTTP1_ETOOBIG;
		if (h1_header(r, line) != 0)
			return HTTP1_EBAD;
	}
	return line == NULL ? HTTP1_EBAD : 0;
}

/* Cuts the next CRLF-terminated line; the head always ends in two. */
static char *
h1_line(char **pp)
{
	char	*line, *crlf;

	line = *pp;
	if ((crlf = strstr(line, "\r\n")) == NULL)
		return NULL;
	*crlf = '\0';
	*pp = crlf + 2;
	return line;
}

static int
h1_reqline(struct http1_req *r, char *line)
{
	char	*sp, *target, *version;
	char	*c;

	if ((sp = strchr(line, ' ')) == NULL || sp == line)
		return -1;
	*sp = '\0';
	for (c = line; *c; c++)
		if (!h1_tchar((unsigned char)*c))
			return -1;
	target = sp + 1;
	if ((sp = strchr(target, ' ')) == NULL || sp == target)
		return -1;
	*sp = '\0';
	for (c = target; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return -1;
	version = sp + 1;
	if (strcmp(version, "HTTP/1.1") == 0)
		r->h1_minor = 1;
	else if (strcmp(version, "HTTP/1.0") == 0)
		r->h1_minor = 0;
	else
		return -1;
	r->h1_method = line;
	r->h1_target = target;
	return 0;
}

static int
h1_header(struct http1_req *r, char *line)
{
	char		*colon, *v, *end;
	unsigned char	 c;

	if ((colon = strchr(line, ':')) == NULL || colon == line)
		return -1;
	*colon = '\0';
	for (v = line; *v; v++)
		if (!h1_tchar((unsigned char)*v))
			return -1;	/* also refuses obs-fold */
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	for (end = v; *end; end++) {
		c = (unsigned char)*end;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	r->h1_hdr[r->h1_nhdr].name = line;
	r->h1_hdr[r->h1_nhdr].value = v;
	r->h1_nhdr++;
	return 0;
}

static int
h1_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

const char *
http1_header(const struct http1_req *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->h1_nhdr; i++)
		if (strcasecmp(r->h1_hdr[i].name, name) == 0)
			return r->h1_hdr[i].value;
	return NULL;
}

size_t
http1_header_count(const struct http1_req *r, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->h1_nhdr; i++)
		if (strcasecmp(r->h1_hdr[i].name, name) == 0)
			n++;
	return n;
}

const char *
http1_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 412:
		return "Precondition Failed";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	}
	return "Unknown";
}
