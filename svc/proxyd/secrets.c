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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxyd.h"

static size_t	 secrets_name_len(const char *, size_t);
static int	 secrets_bad_value(const char *);
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
	free(s->s_key);
	free(s->s_val);
	free(s);
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
