/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static void	*policy_grow(void *, size_t *, size_t, size_t);
static void	 policy_qmatch_free(struct policy_qmatch *);
static void	 policy_l7rule_free(struct policy_l7rule *);
static void	 policy_endpoint_free(struct policy_endpoint *);
static void	 policy_netrule_free(struct policy_netrule *);
static int	 policy_rule_cmp(const void *, const void *);

const char *
policy_s(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * Make room for one more element of size sz in an array holding n
 * elements with capacity *cap; new slots are zeroed.
 */
static void *
policy_grow(void *v, size_t *cap, size_t n, size_t sz)
{
	size_t	 ncap;
	void	*nv;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 4;
	if ((nv = reallocarray(v, ncap, sz)) == NULL)
		return NULL;
	memset((char *)nv + *cap * sz, 0, (ncap - *cap) * sz);
	*cap = ncap;
	return nv;
}

int
policy_strv_add(struct policy_strv *sv, const char *s)
{
	char	**nv, *c;

	if ((c = strdup(s)) == NULL)
		return -1;
	if ((nv = policy_grow(sv->v, &sv->cap, sv->n, sizeof(*nv))) == NULL) {
		free(c);
		return -1;
	}
	sv->v = nv;
	sv->v[sv->n++] = c;
	return 0;
}

int
policy_strv_addf(struct policy_strv *sv, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	rc = policy_strv_add(sv, s);
	free(s);
	return rc;
}

int
policy_strv_has(const struct policy_strv *sv, const char *s)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

char *
policy_strv_join(const struct policy_strv *sv, const char *sep)
{
	size_t	 i, len = 1, seplen = strlen(sep);
	char	*out, *p;

	for (i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + (i ? seplen : 0);
	if ((out = malloc(len)) == NULL)
		return NULL;
	p = out;
	for (i = 0; i < sv->n; i++) {
		if (i) {
			memcpy(p, sep, seplen);
			p += seplen;
		}
		len = strlen(sv->v[i]);
		memcpy(p, sv->v[i], len);
		p += len;
	}
	*p = '\0';
	return out;
}

void
policy_strv_free(struct policy_strv *sv)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

struct policy *
policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

static void
policy_qmatch_free(struct policy_qmatch *q)
{
	free(q->key);
	free(q->glob);
	policy_strv_free(&q->any);
}

static void
policy_l7rule_free(struct policy_l7rule *r)
{
	size_t	 i;

	free(r->method);
	free(r->path);
	free(r->command);
	for (i = 0; i < r->nquery; i++)
		policy_qmatch_free(&r->query[i]);
	free(r->query);
}

static void
policy_endpoint_free(struct policy_endpoint *ep)
{
	size_t	 i;

	free(ep->host);
	free(ep->ports);
	free(ep->protocol);
	free(ep->tls);
	free(ep->enforcement);
	free(ep->access);
	for (i = 0; i < ep->nrules; i++)
		policy_l7rule_free(&ep->rules[i]);
	free(ep->rules);
	policy_strv_free(&ep->allowed_ips);
}

static void
policy_netrule_free(struct policy_netrule *r)
{
	size_t	 i;

	free(r->key);
	free(r->name);
	for (i = 0; i < r->nendpoints; i++)
		policy_endpoint_free(&r->endpoints[i]);
	free(r->endpoints);
	for (i = 0; i < r->nbinaries; i++)
		free(r->binaries[i].path);
	free(r->binaries);
}

void
policy_free(struct policy *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	policy_strv_free(&p->read_only);
	policy_strv_free(&p->read_write);
	free(p->landlock_compat);
	free(p->run_as_user);
	free(p->run_as_group);
	for (i = 0; i < p->nrules; i++)
		policy_netrule_free(&p->rules[i]);
	free(p->rules);
	free(p);
}

/*
 * Append a network rule.  Arrays grow one element at a time so the
 * capacity is simply the count; callers that add many keep it cheap
 * because reallocarray amortises in libc.  The array is not kept
 * sorted here: call policy_rules_sort() once after the last add.
 */
struct policy_netrule *
policy_rule_add(struct policy *p, const char *key)
{
	struct policy_netrule	*nr, *r;

	nr = reallocarray(p->rules, p->nrules + 1, sizeof(*nr));
	if (nr == NULL)
		return NULL;
	p->rules = nr;
	r = &p->rules[p->nrules];
	memset(r, 0, sizeof(*r));
	if ((r->key = strdup(key)) == NULL)
		return NULL;
	p->nrules++;
	return r;
}

static int
policy_rule_cmp(const void *a, const void *b)
{
	const struct policy_netrule *ra = a, *rb = b;

	return strcmp(ra->key, rb->key);
}

void
policy_rules_sort(struct policy *p)
{
	if (p->nrules > 1)
		qsort(p->rules, p->nrules, sizeof(*p->rules), policy_rule_cmp);
}

struct policy_netrule *
policy_rule_find(const struct policy *p, const char *key)
{
	struct policy_netrule	 k;

	if (p->nrules == 0)
		return NULL;
	k.key = (char *)key;
	return bsearch(&k, p->rules, p->nrules, sizeof(*p->rules),
	    policy_rule_cmp);
}

struct policy_endpoint *
policy_endpoint_add(struct policy_netrule *r)
{
	struct policy_endpoint	*ne;

	ne = reallocarray(r->endpoints, r->nendpoints + 1, sizeof(*ne));
	if (ne == NULL)
		return NULL;
	r->endpoints = ne;
	memset(&ne[r->nendpoints], 0, sizeof(*ne));
	return &ne[r->nendpoints++];
}

struct policy_binary *
policy_binary_add(struct policy_netrule *r, const char *path)
{
	struct policy_binary	*nb;
	char			*c;

	if ((c = strdup(path)) == NULL)
		return NULL;
	nb = reallocarray(r->binaries, r->nbinaries + 1, sizeof(*nb));
	if (nb == NULL) {
		free(c);
		return NULL;
	}
	r->binaries = nb;
	nb[r->nbinaries].path = c;
	nb[r->nbinaries].harness = 0;
	return &nb[r->nbinaries++];
}

struct policy_l7rule *
policy_l7rule_add(struct policy_endpoint *ep, const char *method,
    const char *path)
{
	struct policy_l7rule	*nr, *r;

	nr = reallocarray(ep->rules, ep->nrules + 1, sizeof(*nr));
	if (nr == NULL)
		return NULL;
	ep->rules = nr;
	r = &nr[ep->nrules];
	memset(r, 0, sizeof(*r));
	if ((method != NULL && (r->method = strdup(method)) == NULL) ||
	    (path != NULL && (r->path = strdup(path)) == NULL)) {
		free(r->method);
		return NULL;
	}
	ep->nrules++;
	ep->rules_present = 1;
	return r;
}

/*
 * The restrictive default of sandbox.md §1.10: standard system paths,
 * the sandbox user, best-effort Landlock and no network at all.
 */
struct policy *
policy_default(void)
{
	static const char *const ro[] = { "/usr", "/lib", "/proc",
	    "/dev/urandom", "/app", "/etc", "/var/log" };
	static const char *const rw[] = { "/sandbox", "/tmp", "/dev/null" };
	struct policy	*p;
	size_t		 i;
	int		 bad = 0;

	if ((p = policy_new()) == NULL)
		return NULL;
	p->version = 1;
	p->has_filesystem = p->include_workdir = p->has_include_workdir = 1;
	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		bad |= policy_strv_add(&p->read_only, ro[i]);
	for (i = 0; i < sizeof(rw) / sizeof(rw[0]); i++)
		bad |= policy_strv_add(&p->read_write, rw[i]);
	p->has_landlock = p->has_process = 1;
	p->landlock_compat = strdup("best_effort");
	p->run_as_user = strdup("sandbox");
	p->run_as_group = strdup("sandbox");
	if (bad || p->landlock_compat == NULL || p->run_as_user == NULL ||
	    p->run_as_group == NULL) {
		policy_free(p);
		return NULL;
	}
	return p;
}
