/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * NSSH1 signing and checking (nssh.h).  The check is strict where the
 * reference is loose: the line must be exactly five single-space
 * separated fields, the timestamp all digits, the signature compared
 * in constant time (G12), a nonce accepted once within the skew window.
 */

#include <sys/tree.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "nssh.h"

#define NSSH_FIELD_MAX	256

/* libbsd's static tree macros expect BSD's __unused. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

struct nssh_nonce {
	RB_ENTRY(nssh_nonce)	 nn_entry;
	int64_t			 nn_expires;
	char			*nn_nonce;
};

RB_HEAD(nssh_tree, nssh_nonce);

struct nssh_cache {
	struct nssh_tree	 nc_tree;
	size_t			 nc_n;
};

static int	 nssh_cmp(struct nssh_nonce *, struct nssh_nonce *);
static int	 nssh_split(char *, char **, int);
static int	 nssh_ts(const char *, int64_t *);
static int	 nssh_remember(struct nssh_cache *, const char *, int64_t);

RB_PROTOTYPE_STATIC(nssh_tree, nssh_nonce, nn_entry, nssh_cmp);
RB_GENERATE_STATIC(nssh_tree, nssh_nonce, nn_entry, nssh_cmp)

static int
nssh_cmp(struct nssh_nonce *a, struct nssh_nonce *b)
{
	return strcmp(a->nn_nonce, b->nn_nonce);
}

/* out: 64 lowercase hex digits and a NUL.  0, or -1 on a bad input. */
int
nssh_sign(const char *secret, const char *token, int64_t ts,
    const char *nonce, char out[NSSH_HEXLEN + 1])
{
	char		 msg[NSSH_LINE_MAX];
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0, i;
	int		 n;

	n = snprintf(msg, sizeof(msg), "%s|%lld|%s", token, (long long)ts,
	    nonce);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (unsigned char *)msg, (size_t)n, mac, &maclen) == NULL ||
	    maclen * 2 != NSSH_HEXLEN)
		return -1;
	for (i = 0; i < maclen; i++)
		snprintf(out + i * 2, 3, "%02x", mac[i]);
	out[NSSH_HEXLEN] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

/* The whole line, LF included, into buf.  0, or -1 if it does not fit. */
int
nssh_line_build(const char *secret, const char *token, int64_t ts,
    const char *nonce, char *buf, size_t len)
{
	char	 hex[NSSH_HEXLEN + 1];
	int	 n;

	if (strpbrk(token, " \t\r\n|") != NULL ||
	    strpbrk(nonce, " \t\r\n|") != NULL ||
	    nssh_sign(secret, token, ts, nonce, hex) == -1)
		return -1;
	n = snprintf(buf, len, "NSSH1 %s %lld %s %s\n", token, (long long)ts,
	    nonce, hex);
	if (n < 0 || (size_t)n >= len || n > NSSH_LINE_MAX)
		return -1;
	return 0;
}

/*
 * line: what came before the LF (a trailing LF is accepted).  0 if
 * good (the nonce is now spent), else -1 and *why says why (for the
 * log, never for the peer: it only gets "ERR").
 */
int
nssh_line_verify(const char *secret, const char *line, int64_t now,
    int64_t skew, struct nssh_cache *cache, const char **why)
{
	char	 buf[NSSH_LINE_MAX + 1], *f[5], hex[NSSH_HEXLEN + 1];
	size_t	 len = strlen(line);
	int64_t	 ts;
	int	 ok;

	*why = "malformed";
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len == 0 || len >= NSSH_LINE_MAX)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	/* "|" separates the signed fields: in a token or nonce it would
	 * let one signature stand for another split of the same text. */
	if (nssh_split(buf, f, 5) == -1 || strcmp(f[0], "NSSH1") != 0 ||
	    strchr(f[1], '|') != NULL || strchr(f[3], '|') != NULL)
		return -1;
	if (nssh_ts(f[2], &ts) == -1) {
		*why = "bad timestamp";
		return -1;
	}
	if (ts > now + skew || ts < now - skew) {
		*why = "timestamp outside the skew window";
		return -1;
	}
	if (strlen(f[4]) != NSSH_HEXLEN ||
	    nssh_sign(secret, f[1], ts, f[3], hex) == -1) {
		*why = "bad signature";
		return -1;
	}
	ok = CRYPTO_memcmp(hex, f[4], NSSH_HEXLEN) == 0;
	OPENSSL_cleanse(hex, sizeof(hex));
	if (!ok) {
		*why = "bad signature";
		return -1;
	}
	nssh_cache_purge(cache, now);
	if (nssh_remember(cache, f[3], now + skew) == -1) {
		*why = errno == EEXIST ? "replayed nonce" : "nonce cache full";
		return -1;
	}
	*why = "ok";
	return 0;
}

/* Exactly n fields, one space between them, none empty or too long. */
static int
nssh_split(char *s, char **f, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		f[i] = s;
		s += strcspn(s, " ");
		if (s == f[i] || s - f[i] > NSSH_FIELD_MAX ||
		    strpbrk(f[i], "\t\r") != NULL)
			return -1;
		if (i < n - 1) {
			if (*s != ' ')
				return -1;
			*s++ = '\0';
		}
	}
	return *s == '\0' ? 0 : -1;
}

/* Decimal seconds, digits only, at most 12 of them (year 33658). */
static int
nssh_ts(const char *s, int64_t *ts)
{
	size_t	 n = strspn(s, "0123456789");

	if (n == 0 || n > 12 || s[n] != '\0')
		return -1;
	*ts = strtoll(s, NULL, 10);
	return 0;
}

static int
nssh_remember(struct nssh_cache *c, const char *nonce, int64_t expires)
{
	struct nssh_nonce	 key, *nn;

	key.nn_nonce = (char *)nonce;
	if (RB_FIND(nssh_tree, &c->nc_tree, &key) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if (c->nc_n >= NSSH_CACHE_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if ((nn = calloc(1, sizeof(*nn))) == NULL ||
	    (nn->nn_nonce = strdup(nonce)) == NULL) {
		free(nn);
		errno = ENOSPC;
		return -1;
	}
	nn->nn_expires = expires;
	RB_INSERT(nssh_tree, &c->nc_tree, nn);
	c->nc_n++;
	return 0;
}

struct nssh_cache *
nssh_cache_new(void)
{
	struct nssh_cache	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	RB_INIT(&c->nc_tree);
	return c;
}

/* Forget the nonces whose window is over: they cannot verify again. */
void
nssh_cache_purge(struct nssh_cache *c, int64_t now)
{
	struct nssh_nonce	*nn, *next;

	RB_FOREACH_SAFE(nn, nssh_tree, &c->nc_tree, next) {
		if (nn->nn_expires >= now)
			continue;
		RB_REMOVE(nssh_tree, &c->nc_tree, nn);
		free(nn->nn_nonce);
		free(nn);
		c->nc_n--;
	}
}

size_t
nssh_cache_size(const struct nssh_cache *c)
{
	return c->nc_n;
}

void
nssh_cache_free(struct nssh_cache *c)
{
	if (c == NULL)
		return;
	nssh_cache_purge(c, INT64_MAX);
	free(c);
}
