/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * NSSH1, the one-line preface in front of every SSH connection to a
 * sandbox (control-plane.md §4.7):
 *
 *	NSSH1 <token> <ts> <nonce> <hex hmac>\n
 *
 * hmac = lowercase hex HMAC-SHA256, keyed with the secret's TEXT, over
 * "<token>|<ts>|<nonce>".  Shared by the side that signs (gatewayd,
 * the tests) and the side that checks (sshd).
 */

#ifndef NSSH_H
#define NSSH_H

#include <stddef.h>
#include <stdint.h>

#define NSSH_LINE_MAX		1024	/* bytes, LF included */
#define NSSH_HEXLEN		64
#define NSSH_SKEW_DEFAULT	300	/* s */
#define NSSH_CACHE_MAX		4096	/* nonces remembered at once */

struct nssh_cache;

int	 nssh_sign(const char *, const char *, int64_t, const char *,
	    char [NSSH_HEXLEN + 1]);
int	 nssh_line_build(const char *, const char *, int64_t, const char *,
	    char *, size_t);
int	 nssh_line_verify(const char *, const char *, int64_t, int64_t,
	    struct nssh_cache *, const char **);

struct nssh_cache *nssh_cache_new(void);
void	 nssh_cache_free(struct nssh_cache *);
void	 nssh_cache_purge(struct nssh_cache *, int64_t);
size_t	 nssh_cache_size(const struct nssh_cache *);

#endif /* NSSH_H */
