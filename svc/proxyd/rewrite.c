/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The forward proxy's request rewrite (sandbox.md §2.9 step 7): the
 * request line in origin form, hop-by-hop proxy headers dropped,
 * "Connection: close" (the rest of the connection is a raw copy, so
 * exactly one request may go upstream), a Via header, placeholders
 * resolved in header values, and a fail-closed scan of the result.
 *
 * Host (G9): the URI's authority is the destination the policy judged,
 * so a Host header naming anything else is refused (400) rather than
 * letting a virtual-hosted upstream serve another site; a missing Host
 * is added.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxyd.h"

static int	 rewrite_host_ok(const char *, const struct http_uri *);
static int	 rewrite_add(char **, size_t *, size_t *, const char *, ...)
		    __attribute__((__format__(printf, 4, 5)));
static int	 rewrite_dropped(const char *);

static const char *const rewrite_drop[] = {
	"Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate",
	"Connection", "Keep-Alive",
};

static int
rewrite_dropped(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(rewrite_drop) / sizeof(rewrite_drop[0]); i++)
		if (strcasecmp(name, rewrite_drop[i]) == 0)
			return 1;
	return 0;
}

/* Host must name the URI's host, with its port or the default one. */
static int
rewrite_host_ok(const char *host, const struct http_uri *u)
{
	char	 want[300], wantp[300];
	int	 def;

	def = u->u_port == (strcmp(u->u_scheme, "https") == 0 ? 443 : 80);
	if (u->u_v6) {
		snprintf(want, sizeof(want), "[%s]", u->u_host);
		snprintf(wantp, sizeof(wantp), "[%s]:%u", u->u_host, u->u_port);
	} else {
		snprintf(want, sizeof(want), "%s", u->u_host);
		snprintf(wantp, sizeof(wantp), "%s:%u", u->u_host, u->u_port);
	}
	if (strcasecmp(host, wantp) == 0)
		return 1;
	return def && strcasecmp(host, want) == 0;
}

static int
rewrite_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list	 ap;
	char	*s, *nb;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (*len + (size_t)n + 1 > *cap) {
		size_t	 ncap = (*len + (size_t)n + 1) * 2;

		if ((nb = realloc(*buf, ncap)) == NULL) {
			explicit_bzero(s, (size_t)n);
			free(s);
			return -1;
		}
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, (size_t)n + 1);
	*len += (size_t)n;
	explicit_bzero(s, (size_t)n);
	free(s);
	return 0;
}

/*
 * Build the upstream head in *out (malloc'd, *outlen bytes).  Returns
 * REWRITE_OK, REWRITE_BAD (400: Host mismatch) or REWRITE_SECRET (500:
 * placeholder resolution failed, fail-closed scan hit, or no memory).
 * *count is the number of secrets injected.
 */
int
rewrite_forward(const struct http_head *h, const struct http_uri *u,
    const struct secrets *sec, char **out, size_t *outlen, int *count)
{
	char		*buf = NULL, *v;
	size_t		 len = 0, cap = 0, i;
	const char	*host;
	int		 via = 0, rc = REWRITE_SECRET;

	*out = NULL;
	*outlen = 0;
	*count = 0;
	host = parse_header(h, "Host");
	if (host != NULL && !rewrite_host_ok(host, u))
		return REWRITE_BAD;
	if (!secrets_target_clean(h->h_target))
		return REWRITE_SECRET;
	if (rewrite_add(&buf, &len, &cap, "%s %s %s\r\n", h->h_method,
	    u->u_path, h->h_version) == -1)
		goto fail;
	if (host == NULL && rewrite_add(&buf, &len, &cap, u->u_v6 ?
	    "Host: [%s]:%u\r\n" : "Host: %s:%u\r\n", u->u_host,
	    u->u_port) == -1)
		goto fail;
	for (i = 0; i < h->h_nhdrs; i++) {
		if (rewrite_dropped(h->h_hdrs[i].name))
			continue;
		if (strcasecmp(h->h_hdrs[i].name, "Via") == 0)
			via = 1;
		if (secrets_header(sec, h->h_hdrs[i].name, h->h_hdrs[i].value,
		    &v, count) == -1)
			goto fail;
		if (rewrite_add(&buf, &len, &cap, "%s: %s\r\n",
		    h->h_hdrs[i].name, v) == -1) {
			explicit_bzero(v, strlen(v));
			free(v);
			goto fail;
		}
		explicit_bzero(v, strlen(v));
		free(v);
	}
	if (rewrite_add(&buf, &len, &cap, "Connection: close\r\n%s\r\n",
	    via ? "" : "Via: 1.1 openshell-sandbox\r\n") == -1)
		goto fail;
	if (secrets_present(buf, len))
		goto fail;
	*out = buf;
	*outlen = len;
	return REWRITE_OK;
fail:
	if (buf != NULL)
		explicit_bzero(buf, len);
	free(buf);
	return rc;
}
