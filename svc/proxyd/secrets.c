/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Credential placeholders (sandbox.md §7.3).  The agent only ever sees
 * "openshell:resolve:env:KEY"; the map placeholder -> secret comes from
 * the parent and lives here only.  In the forward proxy, header values
 * are rewritten in three shapes:
 *
 *	X-Key: <placeholder>			the whole value
 *	Authorization: Bearer <placeholder>	"<word> <placeholder>"
 *	Authorization: Basic <b64>		placeholders inside user:pass
 *
 * Fail closed (G7): an unknown placeholder, a secret that would break
 * the header (CR, LF, NUL), or any placeholder text left anywhere in
 * the rewritten head means the request is refused (500) and nothing
 * goes upstream.  The whole head is scanned, not a window of it.
 * Nothing here logs: the callers never see a secret's text.
 */

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxyd.h"

static size_t	 secrets_name_len(const char *, size_t);
static int	 secrets_bad_value(const char *);
static int	 secrets_host_in(const char *, const char *);

struct secrets_buf {
	char		*p;
	size_t		 n;
};

static int	 secrets_pchar(unsigned char, int);
static char	*secrets_pctenc(const char *, int);
static char	*secrets_pctdec(const char *, size_t, int);
static int	 secrets_piece(const struct secrets *, const struct secrets *,
		    const char *, size_t, int, struct secrets_buf *,
		    struct secrets_buf *, int *);
static int	 secrets_buf_add(struct secrets_buf *, const char *, size_t);
static struct secrets *secrets_mask(const struct secrets *);
static int	 secrets_b64dec(const char *, unsigned char **, size_t *);
static char	*secrets_b64enc(const unsigned char *, size_t);
static int	 secrets_basic(const struct secrets *, const char *, char **,
		    int *);
static int	 secrets_embedded(const struct secrets *, const char *, size_t,
		    char **, size_t *, int *);

#define PFX_LEN		(sizeof(PLACEHOLDER_PREFIX) - 1)

struct secrets *
secrets_new(void)
{
	return calloc(1, sizeof(struct secrets));
}

void
secrets_free(struct secrets *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->s_n; i++) {
		free(s->s_key[i]);
		if (s->s_val[i] != NULL)
			explicit_bzero(s->s_val[i], strlen(s->s_val[i]));
		free(s->s_val[i]);
	}
	for (i = 0; s->s_hosts != NULL && i < s->s_n; i++)
		free(s->s_hosts[i]);
	free(s->s_key);
	free(s->s_val);
	free(s->s_hosts);
	free(s);
}

/*
 * Add a secret bound to hosts: globs is a comma-separated list of
 * host globs (fnmatch, no case), NULL when the parent named none: such
 * a secret is never substituted (G7: fail closed).
 */
int
secrets_add_bound(struct secrets *s, const char *key, const char *val,
    const char *globs)
{
	char	**h;
	size_t	 i;

	if ((h = reallocarray(s->s_hosts, s->s_n + 1, sizeof(*h))) == NULL)
		return -1;
	s->s_hosts = h;
	for (i = s->s_nhosts; i < s->s_n; i++)
		h[i] = NULL;
	if (secrets_add(s, key, val) == -1)
		return -1;
	h[s->s_n - 1] = globs != NULL ? strdup(globs) : NULL;
	s->s_nhosts = s->s_n;
	return globs != NULL && h[s->s_n - 1] == NULL ? -1 : 0;
}

/* Is host one of the comma-separated globs? */
static int
secrets_host_in(const char *globs, const char *host)
{
	char	*list, *g, *save = NULL;
	int	 hit = 0;

	if (globs == NULL || (list = strdup(globs)) == NULL)
		return 0;
	for (g = strtok_r(list, ",", &save); g != NULL && !hit;
	    g = strtok_r(NULL, ",", &save))
		hit = fnmatch(g, host, FNM_CASEFOLD) == 0;
	free(list);
	return hit;
}

/*
 * The secrets that may go to host: a new map holding only the entries
 * bound to it.  A placeholder of any other secret is then unknown and
 * the request fails closed.  NULL on memory exhaustion.
 */
struct secrets *
secrets_for_host(const struct secrets *s, const char *host)
{
	struct secrets	*o;
	size_t		 i;

	if ((o = secrets_new()) == NULL)
		return NULL;
	for (i = 0; s != NULL && i < s->s_n; i++) {
		if (i >= s->s_nhosts || s->s_hosts == NULL ||
		    !secrets_host_in(s->s_hosts[i], host))
			continue;
		if (secrets_add(o, s->s_key[i], s->s_val[i]) == -1) {
			secrets_free(o);
			return NULL;
		}
	}
	return o;
}

int
secrets_add(struct secrets *s, const char *key, const char *val)
{
	char	**k, **v;

	if ((k = reallocarray(s->s_key, s->s_n + 1, sizeof(*k))) == NULL)
		return -1;
	s->s_key = k;
	if ((v = reallocarray(s->s_val, s->s_n + 1, sizeof(*v))) == NULL)
		return -1;
	s->s_val = v;
	if ((k[s->s_n] = strdup(key)) == NULL)
		return -1;
	if ((v[s->s_n] = strdup(val)) == NULL) {
		free(k[s->s_n]);
		return -1;
	}
	s->s_n++;
	return 0;
}

/* The secret for exactly this placeholder text, or NULL. */
const char *
secrets_lookup(const struct secrets *s, const char *ph, size_t len)
{
	size_t	 i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->s_n; i++)
		if (strlen(s->s_key[i]) == len &&
		    memcmp(s->s_key[i], ph, len) == 0)
			return s->s_val[i];
	return NULL;
}

/* Length of the placeholder at p (prefix + [A-Za-z_][A-Za-z0-9_]*). */
static size_t
secrets_name_len(const char *p, size_t n)
{
	size_t	 i;

	if (n <= PFX_LEN || memcmp(p, PLACEHOLDER_PREFIX, PFX_LEN) != 0)
		return 0;
	i = PFX_LEN;
	if (!isalpha((unsigned char)p[i]) && p[i] != '_')
		return 0;
	while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '_'))
		i++;
	return i;
}

static int
secrets_bad_value(const char *v)
{
	return strpbrk(v, "\r\n") != NULL;
}

/* Any placeholder text (even a malformed one) in s[0..n)? */
int
secrets_present(const char *s, size_t n)
{
	size_t	 i;

	if (n < PFX_LEN)
		return 0;
	for (i = 0; i + PFX_LEN <= n; i++)
		if (strncasecmp(s + i, PLACEHOLDER_PREFIX, PFX_LEN) == 0)
			return 1;
	return 0;
}

/*
 * The request target must carry no placeholder, raw or percent-encoded
 * (the forward proxy resolves headers only).  1 when clean.
 */
int
secrets_target_clean(const char *t)
{
	char	*d;
	size_t	 i, j, n = strlen(t);
	int	 clean;

	if (secrets_present(t, n))
		return 0;
	if ((d = malloc(n + 1)) == NULL)
		return 0;
	for (i = j = 0; i < n; i++) {
		if (t[i] == '%' && isxdigit((unsigned char)t[i + 1]) &&
		    isxdigit((unsigned char)t[i + 2])) {
			char	 hx[3] = { t[i + 1], t[i + 2], '\0' };

			d[j++] = (char)strtoul(hx, NULL, 16);
			i += 2;
		} else
			d[j++] = t[i];
	}
	clean = !secrets_present(d, j);
	free(d);
	return clean;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
secrets_b64enc(const unsigned char *in, size_t n)
{
	char	*out, *o;
	size_t	 i;
	uint32_t v;

	if ((out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Strict: length a multiple of 4, padding only at the end. */
static int
secrets_b64dec(const char *s, unsigned char **out, size_t *outlen)
{
	size_t		 n = strlen(s), i, j, k;
	unsigned char	*o;
	uint32_t	 v;
	const char	*p;
	int		 pad;

	if (n == 0 || n % 4 != 0 || (o = malloc(n / 4 * 3 + 1)) == NULL)
		return -1;
	for (i = j = 0; i < n; i += 4) {
		v = 0;
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (pad || s[i + k] == '\0' ||
			    (p = strchr(b64, s[i + k])) == NULL) {
				free(o);
				return -1;
			}
			v = (v << 6) | (uint32_t)(p - b64);
		}
		o[j++] = (unsigned char)(v >> 16);
		if (pad < 2)
			o[j++] = (unsigned char)(v >> 8);
		if (pad < 1)
			o[j++] = (unsigned char)v;
	}
	o[j] = '\0';
	*out = o;
	*outlen = j;
	return 0;
}

/*
 * Replace every placeholder inside s[0..n).  *out is malloc'd (NUL
 * terminated); *count is bumped per replacement.  -1 on an unknown
 * placeholder, a bad secret, or no memory.
 */
static int
secrets_embedded(const struct secrets *sec, const char *s, size_t n,
    char **out, size_t *outlen, int *count)
{
	char		*o = NULL, *no;
	size_t		 i = 0, olen = 0, pl, vl;
	const char	*val, *src;

	while (i <= n) {
		pl = i < n ? secrets_name_len(s + i, n - i) : 0;
		if (pl > 0) {
			if ((val = secrets_lookup(sec, s + i, pl)) == NULL ||
			    secrets_bad_value(val))
				goto fail;
			src = val;
			vl = strlen(val);
			(*count)++;
		} else {
			src = s + i;
			vl = i < n ? 1 : 0;
			pl = 1;
		}
		if ((no = realloc(o, olen + vl + 1)) == NULL)
			goto fail;
		o = no;
		memcpy(o + olen, src, vl);
		olen += vl;
		o[olen] = '\0';
		i += pl;
	}
	*out = o;
	*outlen = olen;
	return 0;
fail:
	if (o != NULL)
		explicit_bzero(o, olen);
	free(o);
	return -1;
}

/* "Basic <b64 of user:pass>" with placeholders inside user:pass. */
static int
secrets_basic(const struct secrets *sec, const char *b, char **out,
    int *count)
{
	unsigned char	*dec;
	char		*rep, *enc;
	size_t		 declen, replen;
	int		 rc;

	if (secrets_b64dec(b, &dec, &declen) == -1)
		return 1;	/* not base64: left alone, then scanned */
	if (!secrets_present((char *)dec, declen)) {
		free(dec);
		return 1;
	}
	rc = secrets_embedded(sec, (char *)dec, declen, &rep, &replen, count);
	explicit_bzero(dec, declen);
	free(dec);
	if (rc == -1)
		return -1;
	enc = secrets_b64enc((unsigned char *)rep, replen);
	explicit_bzero(rep, replen);
	free(rep);
	if (enc == NULL || asprintf(out, "Basic %s", enc) == -1) {
		free(enc);
		return -1;
	}
	free(enc);
	return 0;
}

/*
 * Rewrite one header value.  *out is the value to send (malloc'd);
 * *count counts secrets injected.  Returns 0, or -1 (fail closed: the
 * caller answers 500).  A value left with placeholder text is the
 * caller's scan's business.
 */
int
secrets_header(const struct secrets *sec, const char *name, const char *v,
    char **out, int *count)
{
	const char	*sp, *val;
	size_t		 n = strlen(v), pl;
	int		 rc;

	*out = NULL;
	if (strcasecmp(name, "Authorization") == 0 &&
	    strncasecmp(v, "Basic ", 6) == 0) {
		rc = secrets_basic(sec, v + 6, out, count);
		if (rc <= 0)
			return rc;
	}
	if (!secrets_present(v, n))
		return (*out = strdup(v)) == NULL ? -1 : 0;
	sp = strchr(v, ' ');
	if (sp != NULL && strchr(sp + 1, ' ') == NULL)
		sp++;
	else
		sp = v;
	pl = secrets_name_len(sp, strlen(sp));
	if (pl == 0 || pl != strlen(sp))
		return -1;	/* placeholder text in any other shape */
	if ((val = secrets_lookup(sec, sp, pl)) == NULL ||
	    secrets_bad_value(val))
		return -1;
	if (asprintf(out, "%.*s%s", (int)(sp - v), v, val) == -1) {
		*out = NULL;
		return -1;
	}
	(*count)++;
	return 0;
}

/* pchar (RFC 3986) or query-safe: unreserved, sub-delims, ':', '@'. */
static int
secrets_pchar(unsigned char ch, int query)
{
	if (isalnum(ch) || strchr("-._~", ch) != NULL)
		return 1;
	if (query)
		return 0;
	return strchr("!$&'()*+,;=:@", ch) != NULL;
}

static char *
secrets_pctenc(const char *s, int query)
{
	char	*o;
	size_t	 i, k = 0;

	if ((o = malloc(strlen(s) * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++) {
		if (secrets_pchar((unsigned char)s[i], query))
			o[k++] = s[i];
		else
			k += (size_t)snprintf(o + k, 4, "%%%02X",
			    (unsigned char)s[i]);
	}
	o[k] = '\0';
	return o;
}

/* Percent-decoded copy of s[0..n) ('+' is a space in a query). */
static char *
secrets_pctdec(const char *s, size_t n, int query)
{
	char	*d;
	size_t	 i, j = 0;
	char	 hx[3] = { 0, 0, 0 };

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			hx[0] = s[i + 1];
			hx[1] = s[i + 2];
			d[j++] = (char)strtoul(hx, NULL, 16);
			i += 2;
		} else
			d[j++] = query && s[i] == '+' ? ' ' : s[i];
	}
	d[j] = '\0';
	return d;
}

/*
 * One path segment or query value s[0..n) with placeholders: the
 * resolved (encoded) and redacted forms appended to res and red.
 * Path segments take embedded placeholders, query values only whole
 * ones (§7.3).  -1: unknown placeholder or unsafe secret.
 */
static int
secrets_piece(const struct secrets *sec, const struct secrets *mask,
    const char *s, size_t n, int query, struct secrets_buf *res,
    struct secrets_buf *red, int *count)
{
	char	*d, *r = NULL, *m = NULL, *e = NULL;
	size_t	 rl, ml;
	int	 rc = -1, dummy = 0;

	if ((d = secrets_pctdec(s, n, query)) == NULL)
		return -1;
	if (!secrets_present(d, strlen(d))) {
		free(d);
		return secrets_buf_add(res, s, n) == 0 &&
		    secrets_buf_add(red, s, n) == 0 ? 0 : -1;
	}
	if (query && secrets_name_len(d, strlen(d)) != strlen(d))
		goto out;
	if (secrets_embedded(sec, d, strlen(d), &r, &rl, count) == -1 ||
	    secrets_embedded(mask, d, strlen(d), &m, &ml, &dummy) == -1)
		goto out;
	if (memchr(r, '\0', rl) != NULL || (!query && (strstr(r, "..") ||
	    strpbrk(r, "/\\?#\r\n") != NULL)))
		goto out;
	if ((e = secrets_pctenc(r, query)) == NULL)
		goto out;
	rc = secrets_buf_add(res, e, strlen(e)) == 0 &&
	    secrets_buf_add(red, m, ml) == 0 ? 0 : -1;
out:
	if (r != NULL)
		explicit_bzero(r, strlen(r));
	if (e != NULL)
		explicit_bzero(e, strlen(e));
	free(r);
	free(e);
	free(m);
	free(d);
	return rc;
}

static int
secrets_buf_add(struct secrets_buf *b, const char *s, size_t n)
{
	char	*nb;

	if ((nb = realloc(b->p, b->n + n + 1)) == NULL)
		return -1;
	b->p = nb;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static struct secrets *
secrets_mask(const struct secrets *sec)
{
	struct secrets	*m;
	size_t		 i;

	if ((m = secrets_new()) == NULL)
		return NULL;
	for (i = 0; sec != NULL && i < sec->s_n; i++)
		if (secrets_add(m, sec->s_key[i], "[CREDENTIAL]") == -1) {
			secrets_free(m);
			return NULL;
		}
	return m;
}

/*
 * Placeholders in an origin-form target (§7.3): in path segments
 * (embedded) and query values (whole).  *res goes upstream, *red to
 * the policy and the logs.  -1: fail closed (500).
 */
int
secrets_target(const struct secrets *sec, const char *t, char **res,
    char **red, int *count)
{
	struct secrets_buf	 rb = { NULL, 0 }, mb = { NULL, 0 };
	struct secrets		*mask;
	const char		*p = t, *q = strchr(t, '?'), *end, *eq;
	int			 query = 0, rc = 0;

	*res = *red = NULL;
	if ((mask = secrets_mask(sec)) == NULL)
		return -1;
	while (rc == 0 && *p != '\0') {
		if (*p == '/' || *p == '?' || *p == '&' || *p == '=') {
			query |= *p == '?';
			rc = secrets_buf_add(&rb, p, 1) | secrets_buf_add(&mb,
			    p, 1);
			p++;
			continue;
		}
		end = p + strcspn(p, query ? "&" : (q != NULL ? "/?" : "/"));
		if (query && (eq = memchr(p, '=', (size_t)(end - p))) != NULL) {
			/* The key stays as it is. */
			rc = secrets_buf_add(&rb, p, (size_t)(eq - p) + 1) |
			    secrets_buf_add(&mb, p, (size_t)(eq - p) + 1);
			p = eq + 1;
		}
		if (rc == 0)
			rc = secrets_piece(sec, mask, p, (size_t)(end - p),
			    query, &rb, &mb, count);
		p = end;
	}
	secrets_free(mask);
	if (rc != 0 || rb.p == NULL || !secrets_target_clean(rb.p)) {
		if (rb.p != NULL)
			explicit_bzero(rb.p, rb.n);
		free(rb.p);
		free(mb.p);
		return -1;
	}
	*res = rb.p;
	*red = mb.p;
	return 0;
}
