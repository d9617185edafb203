/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The OPA glob.match dialect with one delimiter: `*` any run without
 * the delimiter, `**` any run at all, `?` one character other than the
 * delimiter, `[abc]` `[a-z]` `[!a]` a class, `{a,b}` alternatives, `\x`
 * a literal x.  Matching runs a small Thompson automaton, so it is
 * linear in the subject length for any pattern.
 */

#ifndef POLICY_GLOB_H
#define POLICY_GLOB_H

#include <stddef.h>

struct policy_glob;

struct policy_glob *policy_glob_compile(const char *, char);
int		 policy_glob_valid(const struct policy_glob *);
int		 policy_glob_match(const struct policy_glob *, const char *,
		    size_t);
void		 policy_glob_free(struct policy_glob *);

#endif /* POLICY_GLOB_H */
