/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The compiled decision engine (sandbox.md §2.4-2.6, re-expressed from
 * the reference's Rego).  An engine is immutable once built and
 * reference counted: proxyd swaps in a new one on reload while open
 * connections keep deciding against the engine they started with.
 *
 * Lookup: endpoints with an exact host sit in a hash table keyed by the
 * lower-cased host; wildcard hosts are keyed by their literal suffix
 * from a label boundary (".example.com" for "*.example.com") and the
 * request host is probed at each of its dots; hostless endpoints (only
 * allowed_ips) and wildcards without such a suffix are short lists.  A
 * decision therefore costs a handful of hash probes plus the matching
 * endpoints themselves, whatever the size of the policy.
 *
 * Matched endpoint config (§2.5) is merged over every endpoint that
 * matches host, port and binary, in every policy (fix of G6b: the
 * reference takes the first endpoint with "extended config" and so can
 * hide another policy's L7 rules):
 *   - L7 applies when any matching endpoint has protocol rest (or sql)
 *     without tls: skip; the request is then allowed when any matching
 *     endpoint's rules allow it (rules of all policies are kept);
 *   - enforcement is enforce when any such L7 endpoint enforces;
 *   - tls: skip (raw tunnel) holds only when some matching endpoint
 *     asks for it and no matching endpoint needs L7 inspection, so one
 *     policy's skip can never switch off another policy's rules;
 *   - allowed_ips is the union over all matching endpoints; an invalid
 *     entry in any of them fails the connection (fail closed).
 */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "policy_glob.h"

#define PE_MEMO		16	/* per-decision binary verdict cache */
#define PE_HOSTBUF	256
#define PE_MAX_EPMISS	64	/* endpoint misses named in a deny reason */

struct pe_qm {
	char			 *key;
	struct policy_glob	**globs;
	size_t			  nglobs;
};

struct pe_rule {
	char			*method;
	int			 method_any;
	struct policy_glob	*path;		/* NULL when path_any */
	int			 path_any;
	struct pe_qm		*q;
	size_t			 nq;
};

struct pe_ep {
	uint32_t		 pol;
	char			*host;		/* lower-cased */
	struct policy_glob	*hglob;
	uint16_t		*ports;
	size_t			 nports;
	enum policy_proto	 proto;
	int			 enforce;
	int			 tls_skip;
	struct pe_rule		*rules;
	size_t			 nrules;
	struct policy_cidr	*nets;
	size_t			 nnets;
	char			*ips_err;
	int			 has_ips;
};

struct pe_pol {
	char			 *key;
	char			**exact;
	size_t			  nexact;
	struct policy_glob	**globs;
	size_t			  nglobs;
};

struct pe_bucket {
	char			*key;
	size_t			 klen;
	uint32_t		*eps;
	size_t			 n;
	size_t			 cap;
};

struct pe_table {
	struct pe_bucket	*b;
	size_t			 mask;
};

struct pe_list {
	uint32_t		*v;
	size_t			 n;
	size_t			 cap;
};

struct policy_engine {
	atomic_uint		 refs;
	struct pe_pol		*pols;
	size_t			 npols;
	struct pe_ep		*eps;
	size_t			 neps;
	struct pe_table		 exact;
	struct pe_table		 wild;
	struct pe_list		 wild_any;
	struct pe_list		 hostless;
};

/* Per-decision scratch state. */
struct pe_ctx {
	const struct policy_engine *e;
	const char		*host;
	size_t			 hlen;
	uint16_t		 port;
	const struct policy_exec *exec;
	struct policy_l4	*res;
	uint32_t		 best;
	uint32_t		 memo_pol[PE_MEMO];
	uint8_t			 memo_ok[PE_MEMO];
	size_t			 nmemo;
	struct pe_list		 bmiss;		/* endpoint hit, binary miss */
	int			 oom;
};

static uint32_t	 pe_hash(const char *, size_t);
static struct pe_bucket *pe_slot(const struct pe_table *, const char *,
		    size_t);
static int	 pe_table_init(struct pe_table *, size_t);
static int	 pe_table_add(struct pe_table *, const char *, size_t,
		    uint32_t);
static void	 pe_table_free(struct pe_table *);
static int	 pe_list_add(struct pe_list *, uint32_t);
static char	*pe_lower(const char *);
static const char *pe_wild_suffix(const char *);
static int	 pe_compile_pol(struct policy_engine *, uint32_t,
		    const struct policy_netrule *);
static int	 pe_compile_ep(struct pe_ep *, const struct policy_endpoint *);
static int	 pe_compile_rules(struct pe_ep *,
		    const struct policy_endpoint *);
static int	 pe_compile_rule(struct pe_rule *, const char *, const char *,
		    const struct policy_l7rule *);
static int	 pe_compile_qm(struct pe_qm *, const struct policy_qmatch *);
static int	 pe_index(struct policy_engine *);
static int	 pe_rule_cmp(const void *, const void *);
static void	 pe_free(struct policy_engine *);
static int	 pe_port(const struct pe_ep *, uint16_t);
static int	 pe_binary(const struct pe_pol *, const struct policy_exec *);
static int	 pe_binary_memo(struct pe_ctx *, uint32_t);
static void	 pe_visit(struct pe_ctx *, uint32_t, int);
static void	 pe_visit_list(struct pe_ctx *, const uint32_t *, size_t, int);
static int	 pe_add_match(struct pe_ctx *, uint32_t);
static void	 pe_merge(const struct policy_engine *, struct policy_l4 *);
static char	*pe_deny_reason(struct pe_ctx *);
static void	 pe_deny(struct pe_ctx *);
static int	 pe_u32cmp(const void *, const void *);
static int	 pe_rule_match(const struct pe_rule *, const char *,
		    const char *, const struct policy_param *, size_t);
static int	 pe_query_match(const struct pe_qm *,
		    const struct policy_param *, size_t);

/* FNV-1a; keys are short host names. */
static uint32_t
pe_hash(const char *s, size_t len)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static int
pe_table_init(struct pe_table *t, size_t n)
{
	size_t	 size = 16;

	while (size < n * 2)
		size *= 2;
	if ((t->b = calloc(size, sizeof(*t->b))) == NULL)
		return -1;
	t->mask = size - 1;
	return 0;
}

/* The bucket holding key, or the empty one where it would go. */
static struct pe_bucket *
pe_slot(const struct pe_table *t, const char *key, size_t len)
{
	struct pe_bucket	*b;
	size_t			 i;

	for (i = pe_hash(key, len) & t->mask;; i = (i + 1) & t->mask) {
		b = &t->b[i];
		if (b->key == NULL || (b->klen == len &&
		    memcmp(b->key, key, len) == 0))
			return b;
	}
}

static int
pe_list_add(struct pe_list *l, uint32_t v)
{
	uint32_t	*nv;
	size_t		 ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 4;
		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = v;
	return 0;
}

static int
pe_table_add(struct pe_table *t, const char *key, size_t len, uint32_t ep)
{
	struct pe_bucket	*b;
	struct pe_list		 l;

	b = pe_slot(t, key, len);
	if (b->key == NULL) {
		if ((b->key = strndup(key, len)) == NULL)
			return -1;
		b->klen = len;
	}
	l.v = b->eps;
	l.n = b->n;
	l.cap = b->cap;
	if (pe_list_add(&l, ep) == -1)
		return -1;
	b->eps = l.v;
	b->n = l.n;
	b->cap = l.cap;
	return 0;
}

static void
pe_table_free(struct pe_table *t)
{
	size_t	 i;

	if (t->b == NULL)
		return;
	for (i = 0; i <= t->mask; i++) {
		free(t->b[i].key);
		free(t->b[i].eps);
	}
	free(t->b);
}

static char *
pe_lower(const char *s)
{
	char	*out, *p;

	if ((out = strdup(s)) == NULL)
		return NULL;
	for (p = out; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

/*
 * The literal tail of a host glob, cut back to start at a dot: every
 * host the glob matches ends with it.  NULL when there is none.
 */
static const char *
pe_wild_suffix(const char *pat)
{
	const char	*tail;
	size_t		 len = strlen(pat);

	tail = pat + len;
	while (tail > pat && strchr("*?[]{}\\,", tail[-1]) == NULL)
		tail--;
	return strchr(tail, '.');
}

static int
pe_compile_qm(struct pe_qm *qm, const struct policy_qmatch *q)
{
	size_t	 i, n;

	if ((qm->key = strdup(q->key)) == NULL)
		return -1;
	n = q->any.n > 0 ? q->any.n : (q->has_glob && q->glob != NULL);
	if (n == 0)
		return 0;	/* matches nothing; validation rejects it */
	if ((qm->globs = calloc(n, sizeof(*qm->globs))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		qm->globs[i] = policy_glob_compile(q->any.n > 0 ?
		    q->any.v[i] : q->glob, '.');
		if (qm->globs[i] == NULL)
			return -1;
		qm->nglobs++;
	}
	return 0;
}

static int
pe_compile_rule(struct pe_rule *r, const char *method, const char *path,
    const struct policy_l7rule *src)
{
	size_t	 i;

	if ((r->method = strdup(policy_s(method))) == NULL)
		return -1;
	r->method_any = strcmp(r->method, "*") == 0;
	path = policy_s(path);
	r->path_any = strcmp(path, "**") == 0;
	if (!r->path_any && (r->path = policy_glob_compile(path, '/')) ==
	    NULL)
		return -1;
	if (src == NULL || src->nquery == 0)
		return 0;
	if ((r->q = calloc(src->nquery, sizeof(*r->q))) == NULL)
		return -1;
	for (i = 0; i < src->nquery; i++) {
		r->nq++;
		if (pe_compile_qm(&r->q[i], &src->query[i]) == -1)
			return -1;
	}
	return 0;
}

/* Explicit rules, or the rules an access preset stands for (§1.6). */
static int
pe_compile_rules(struct pe_ep *pe, const struct policy_endpoint *ep)
{
	static const char *const methods[] = { "GET", "HEAD", "OPTIONS",
	    "POST", "PUT", "PATCH" };
	const char	*access = policy_s(ep->access);
	size_t		 i, n = ep->nrules;

	if (n == 0 && strcmp(access, "full") == 0)
		n = 1;
	else if (n == 0 && strcmp(access, "read-write") == 0)
		n = 6;
	else if (n == 0 && strcmp(access, "read-only") == 0)
		n = 3;
	if (n == 0)
		return 0;
	if ((pe->rules = calloc(n, sizeof(*pe->rules))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		pe->nrules++;
		if (ep->nrules > 0) {
			if (pe_compile_rule(&pe->rules[i],
			    ep->rules[i].method, ep->rules[i].path,
			    &ep->rules[i]) == -1)
				return -1;
		} else if (pe_compile_rule(&pe->rules[i], n == 1 ? "*" :
		    methods[i], "**", NULL) == -1)
			return -1;
	}
	return 0;
}

static int
pe_compile_ep(struct pe_ep *pe, const struct policy_endpoint *ep)
{
	const char	*proto = policy_s(ep->protocol);
	size_t		 i;

	if ((pe->host = pe_lower(policy_s(ep->host))) == NULL)
		return -1;
	if (strchr(pe->host, '*') != NULL &&
	    (pe->hglob = policy_glob_compile(pe->host, '.')) == NULL)
		return -1;
	pe->nports = ep->nports > 0 ? ep->nports : ep->port != 0;
	if (pe->nports > 0 &&
	    (pe->ports = calloc(pe->nports, sizeof(*pe->ports))) == NULL)
		return -1;
	for (i = 0; i < pe->nports; i++)
		pe->ports[i] = (uint16_t)(ep->nports > 0 ? ep->ports[i] :
		    ep->port);
	if (strcasecmp(proto, "rest") == 0)
		pe->proto = POLICY_PROTO_REST;
	else if (strcasecmp(proto, "sql") == 0)
		pe->proto = POLICY_PROTO_SQL;
	pe->enforce = strcmp(policy_s(ep->enforcement), "enforce") == 0;
	pe->tls_skip = strcmp(policy_s(ep->tls), "skip") == 0;
	pe->has_ips = ep->allowed_ips.n > 0;
	if (pe->has_ips && policy_allowed_ips_parse(
	    (const char *const *)ep->allowed_ips.v, ep->allowed_ips.n,
	    &pe->nets, &pe->nnets, &pe->ips_err) == -1 && pe->ips_err == NULL)
		return -1;
	return pe_compile_rules(pe, ep);
}

static int
pe_compile_pol(struct policy_engine *e, uint32_t idx,
    const struct policy_netrule *r)
{
	struct pe_pol	*pp = &e->pols[idx];
	const char	*path;
	size_t		 i;

	if ((pp->key = strdup(r->key)) == NULL ||
	    (pp->exact = calloc(r->nbinaries + 1, sizeof(char *))) == NULL ||
	    (pp->globs = calloc(r->nbinaries + 1, sizeof(*pp->globs))) ==
	    NULL)
		return -1;
	for (i = 0; i < r->nbinaries; i++) {
		path = policy_s(r->binaries[i].path);
		if (strchr(path, '*') == NULL) {
			if ((pp->exact[pp->nexact++] = strdup(path)) == NULL)
				return -1;
		} else if ((pp->globs[pp->nglobs++] =
		    policy_glob_compile(path, '/')) == NULL)
			return -1;
	}
	for (i = 0; i < r->nendpoints; i++) {
		e->eps[e->neps].pol = idx;
		if (pe_compile_ep(&e->eps[e->neps++], &r->endpoints[i]) == -1)
			return -1;
	}
	return 0;
}

static int
pe_rule_cmp(const void *a, const void *b)
{
	const struct policy_netrule *const *ra = a, *const *rb = b;

	return strcmp((*ra)->key, (*rb)->key);
}

/* Sort every endpoint into the table or list that finds it. */
static int
pe_index(struct policy_engine *e)
{
	const struct pe_ep	*ep;
	const char		*suffix;
	uint32_t		 i;
	int			 rc = 0;

	if (pe_table_init(&e->exact, e->neps) == -1 ||
	    pe_table_init(&e->wild, e->neps) == -1)
		return -1;
	for (i = 0; i < e->neps && rc == 0; i++) {
		ep = &e->eps[i];
		if (ep->nports == 0)
			continue;		/* matches nothing */
		if (*ep->host == '\0')
			rc = ep->has_ips ? pe_list_add(&e->hostless, i) : 0;
		else if (ep->hglob == NULL)
			rc = pe_table_add(&e->exact, ep->host,
			    strlen(ep->host), i);
		else if ((suffix = pe_wild_suffix(ep->host)) != NULL)
			rc = pe_table_add(&e->wild, suffix, strlen(suffix), i);
		else
			rc = pe_list_add(&e->wild_any, i);
	}
	return rc;
}

/*
 * Build an engine from a policy.  The policy is validated first
 * (policy_validate_l7); its errors, joined by "; ", come back in *errp
 * and no engine is built.  Presets and port/ports are applied here, so
 * the policy need not be normalised.  The engine copies what it needs:
 * the policy may be freed afterwards.  The caller owns one reference.
 */
struct policy_engine *
policy_compile(const struct policy *p, char **errp)
{
	struct policy_strv	 errs = { 0 };
	const struct policy_netrule **order = NULL;
	struct policy_engine	*e;
	size_t			 i, neps = 0;

	if (errp != NULL)
		*errp = NULL;
	if (policy_validate_l7(p, &errs, NULL) > 0) {
		if (errp != NULL)
			*errp = policy_strv_join(&errs, "; ");
		policy_strv_free(&errs);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto oom;
	atomic_init(&e->refs, 1);
	for (i = 0; i < p->nrules; i++)
		neps += p->rules[i].nendpoints;
	if ((e->pols = calloc(p->nrules + 1, sizeof(*e->pols))) == NULL ||
	    (e->eps = calloc(neps + 1, sizeof(*e->eps))) == NULL)
		goto oom;
	/* Policy index order must be key order: "smallest key" wins. */
	if ((order = calloc(p->nrules + 1, sizeof(*order))) == NULL)
		goto oom;
	for (i = 0; i < p->nrules; i++)
		order[i] = &p->rules[i];
	qsort(order, p->nrules, sizeof(*order), pe_rule_cmp);
	for (i = 0; i < p->nrules; i++) {
		e->npols++;
		if (pe_compile_pol(e, (uint32_t)i, order[i]) == -1)
			goto oom;
	}
	free(order);
	order = NULL;
	if (pe_index(e) == -1)
		goto oom;
	return e;
 oom:
	free(order);
	pe_free(e);
	if (errp != NULL)
		*errp = strdup("out of memory");
	return NULL;
}

static void
pe_free(struct policy_engine *e)
{
	struct pe_ep	*ep;
	struct pe_rule	*r;
	size_t		 i, j, k, l;

	if (e == NULL)
		return;
	for (i = 0; i < e->npols; i++) {
		for (j = 0; j < e->pols[i].nexact; j++)
			free(e->pols[i].exact[j]);
		for (j = 0; j < e->pols[i].nglobs; j++)
			policy_glob_free(e->pols[i].globs[j]);
		free(e->pols[i].exact);
		free(e->pols[i].globs);
		free(e->pols[i].key);
	}
	for (i = 0; i < e->neps; i++) {
		ep = &e->eps[i];
		for (j = 0; j < ep->nrules; j++) {
			r = &ep->rules[j];
			for (k = 0; k < r->nq; k++) {
				for (l = 0; l < r->q[k].nglobs; l++)
					policy_glob_free(r->q[k].globs[l]);
				free(r->q[k].globs);
				free(r->q[k].key);
			}
			free(r->q);
			free(r->method);
			policy_glob_free(r->path);
		}
		free(ep->rules);
		free(ep->host);
		policy_glob_free(ep->hglob);
		free(ep->ports);
		free(ep->nets);
		free(ep->ips_err);
	}
	pe_table_free(&e->exact);
	pe_table_free(&e->wild);
	free(e->wild_any.v);
	free(e->hostless.v);
	free(e->pols);
	free(e->eps);
	free(e);
}

struct policy_engine *
policy_engine_ref(struct policy_engine *e)
{
	atomic_fetch_add(&e->refs, 1);
	return e;
}

void
policy_engine_unref(struct policy_engine *e)
{
	if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1)
		pe_free(e);
}

size_t
policy_engine_nrules(const struct policy_engine *e)
{
	return e->npols;
}

static int
pe_port(const struct pe_ep *ep, uint16_t port)
{
	size_t	 i;

	for (i = 0; i < ep->nports; i++)
		if (ep->ports[i] == port)
			return 1;
	return 0;
}

/*
 * A binary entry grants the exe itself or any ancestor: exact paths
 * compare as strings, globs match with '/' as delimiter.  cmdline
 * paths never grant access.
 */
static int
pe_binary(const struct pe_pol *pp, const struct policy_exec *x)
{
	const char	*cand;
	size_t		 i, a;

	for (a = 0; a <= x->nancestors; a++) {
		cand = a == 0 ? x->path : x->ancestors[a - 1];
		if (cand == NULL)
			continue;
		for (i = 0; i < pp->nexact; i++)
			if (strcmp(pp->exact[i], cand) == 0)
				return 1;
		for (i = 0; i < pp->nglobs; i++)
			if (policy_glob_match(pp->globs[i], cand, strlen(cand)))
				return 1;
	}
	return 0;
}

static int
pe_binary_memo(struct pe_ctx *c, uint32_t pol)
{
	size_t	 i;
	int	 ok;

	for (i = 0; i < c->nmemo; i++)
		if (c->memo_pol[i] == pol)
			return c->memo_ok[i];
	ok = pe_binary(&c->e->pols[pol], c->exec);
	if (c->nmemo < PE_MEMO) {
		c->memo_pol[c->nmemo] = pol;
		c->memo_ok[c->nmemo++] = (uint8_t)ok;
	}
	return ok;
}

static int
pe_add_match(struct pe_ctx *c, uint32_t idx)
{
	struct policy_l4	*res = c->res;
	uint32_t		*nv;
	size_t			 ncap;

	if (res->neps == res->epscap) {
		ncap = res->epscap * 2;
		if (res->eps == res->eps_inline) {
			if ((nv = calloc(ncap, sizeof(*nv))) != NULL)
				memcpy(nv, res->eps, res->neps * sizeof(*nv));
		} else
			nv = reallocarray(res->eps, ncap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		res->eps = nv;
		res->epscap = ncap;
	}
	res->eps[res->neps++] = idx;
	return 0;
}

/* Endpoint idx is a candidate for the host; check port, glob, binary. */
static void
pe_visit(struct pe_ctx *c, uint32_t idx, int glob)
{
	const struct pe_ep	*ep = &c->e->eps[idx];

	if (!pe_port(ep, c->port))
		return;
	if (glob && !policy_glob_match(ep->hglob, c->host, c->hlen))
		return;
	if (!pe_binary_memo(c, ep->pol)) {
		if (pe_list_add(&c->bmiss, ep->pol) == -1)
			c->oom = 1;
		return;
	}
	if (pe_add_match(c, idx) == -1)
		c->oom = 1;
	if (ep->pol < c->best)
		c->best = ep->pol;
}

static void
pe_visit_list(struct pe_ctx *c, const uint32_t *v, size_t n, int glob)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		pe_visit(c, v[i], glob);
}

static int
pe_u32cmp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The reference's deny reason: every policy whose endpoints miss, in
 * key order, then every policy whose endpoint matched but whose
 * binaries did not; joined by "; ".  Only the first PE_MAX_EPMISS
 * endpoint misses are named (then "... not in N more policies"), so a
 * denied CONNECT costs no more than a few dozen strings however large
 * the policy; binary misses, the useful part, are always all listed.
 */
static char *
pe_deny_reason(struct pe_ctx *c)
{
	const struct policy_exec *x = c->exec;
	struct policy_strv	 parts = { 0 }, anc = { 0 }, cmd = { 0 };
	char			*as, *cs, *out;
	size_t			 i, j = 0, nb, nmiss, named;

	if (c->e->npols == 0)
		return strdup("network connections not allowed by policy");
	if (c->bmiss.n > 1)
		qsort(c->bmiss.v, c->bmiss.n, sizeof(uint32_t), pe_u32cmp);
	for (i = nb = 0; i < c->bmiss.n; i++)
		if (nb == 0 || c->bmiss.v[nb - 1] != c->bmiss.v[i])
			c->bmiss.v[nb++] = c->bmiss.v[i];
	nmiss = c->e->npols - nb;
	for (i = 0, named = 0; i < c->e->npols && named < PE_MAX_EPMISS;
	    i++) {
		if (j < nb && c->bmiss.v[j] == i) {
			j++;
			continue;
		}
		named++;
		policy_strv_addf(&parts, "endpoint %s:%u not in policy '%s'",
		    c->host, c->port, c->e->pols[i].key);
	}
	if (nmiss > PE_MAX_EPMISS)
		policy_strv_addf(&parts, "endpoint %s:%u not in %zu more "
		    "policies", c->host, c->port, nmiss - PE_MAX_EPMISS);
	for (i = 0; nb > 0 && i < x->nancestors; i++)
		policy_strv_add(&anc, policy_s(x->ancestors[i]));
	for (i = 0; nb > 0 && i < x->ncmdline; i++)
		policy_strv_add(&cmd, policy_s(x->cmdline[i]));
	as = nb > 0 ? policy_strv_join(&anc, " -> ") : NULL;
	cs = nb > 0 ? policy_strv_join(&cmd, ", ") : NULL;
	for (i = 0; i < nb; i++)
		policy_strv_addf(&parts, "binary '%s' (ancestors: [%s], "
		    "cmdline: [%s]) not allowed in policy '%s'",
		    policy_s(x->path), policy_s(as), policy_s(cs),
		    c->e->pols[c->bmiss.v[i]].key);
	out = policy_strv_join(&parts, "; ");
	free(as);
	free(cs);
	policy_strv_free(&anc);
	policy_strv_free(&cmd);
	policy_strv_free(&parts);
	return out;
}

/* §2.5 merged over all matching endpoints (rules in the file comment). */
static void
pe_merge(const struct policy_engine *e, struct policy_l4 *res)
{
	const struct pe_ep	*ep;
	size_t			 i;
	int			 skip = 0, rest = 0, sql = 0;

	for (i = 0; i < res->neps; i++) {
		ep = &e->eps[res->eps[i]];
		res->has_allowed_ips |= ep->has_ips;
		skip |= ep->tls_skip;
		if (!ep->tls_skip) {
			rest |= ep->proto == POLICY_PROTO_REST;
			sql |= ep->proto == POLICY_PROTO_SQL;
		}
	}
	res->tls_skip = skip && !rest && !sql;
	res->proto = rest ? POLICY_PROTO_REST : sql ? POLICY_PROTO_SQL :
	    POLICY_PROTO_NONE;
	for (i = 0; i < res->neps && res->proto != POLICY_PROTO_NONE; i++) {
		ep = &e->eps[res->eps[i]];
		if (!ep->tls_skip && ep->proto == res->proto && ep->enforce)
			res->enforce = 1;
	}
}

/*
 * The CONNECT decision for host:port from the process exec (§2.4).
 * Fills res (release it with policy_l4_clear()); returns 1 for allow,
 * 0 for deny, -1 when out of memory (res then denies).
 */
int
policy_decide_l4(const struct policy_engine *e, const char *host,
    uint16_t port, const struct policy_exec *exec, struct policy_l4 *res)
{
	struct pe_ctx		 c;
	struct pe_bucket	*b;
	char			 hbuf[PE_HOSTBUF], *lh;
	size_t			 i;

	memset(res, 0, sizeof(*res));
	res->engine = e;
	res->eps = res->eps_inline;
	res->epscap = POLICY_L4_INLINE;
	memset(&c, 0, sizeof(c));
	c.hlen = strlen(host);
	lh = c.hlen < sizeof(hbuf) ? hbuf : malloc(c.hlen + 1);
	if (lh == NULL)
		return -1;
	for (i = 0; i <= c.hlen; i++)
		lh[i] = (char)tolower((unsigned char)host[i]);
	c.e = e;
	c.host = lh;
	c.port = port;
	c.exec = exec;
	c.res = res;
	c.best = UINT32_MAX;
	if ((b = pe_slot(&e->exact, lh, c.hlen))->key != NULL)
		pe_visit_list(&c, b->eps, b->n, 0);
	for (i = 0; i < c.hlen; i++)
		if (lh[i] == '.' && (b = pe_slot(&e->wild, lh + i,
		    c.hlen - i))->key != NULL)
			pe_visit_list(&c, b->eps, b->n, 1);
	pe_visit_list(&c, e->wild_any.v, e->wild_any.n, 1);
	pe_visit_list(&c, e->hostless.v, e->hostless.n, 0);
	if (!c.oom && res->neps > 0) {
		res->allow = 1;
		res->policy = e->pols[c.best].key;
		pe_merge(e, res);
	} else {
		res->neps = 0;
		if (!c.oom)
			pe_deny(&c);
	}
	free(c.bmiss.v);
	if (lh != hbuf)
		free(lh);
	if (c.oom || (!res->allow && res->reason == NULL &&
	    res->deny_host == NULL))
		return -1;
	return res->allow;
}

/*
 * A CONNECT to a host no endpoint names is the common deny, and its
 * reason lists policies by the dozen: it is written only when asked
 * for (the deny log line), so the decision itself stays cheap.  Binary
 * misses name the process, which the result does not keep: that
 * reason is written now.
 */
static void
pe_deny(struct pe_ctx *c)
{
	if (c->bmiss.n > 0 || c->e->npols == 0) {
		c->res->reason = pe_deny_reason(c);
		return;
	}
	if ((c->res->deny_host = strdup(c->host)) == NULL)
		c->oom = 1;
	c->res->deny_port = c->port;
}

/* The deny reason of res, written on first use; NULL if out of memory. */
const char *
policy_l4_reason(struct policy_l4 *res)
{
	struct pe_ctx	 c;

	if (res->reason != NULL || res->deny_host == NULL)
		return res->reason;
	memset(&c, 0, sizeof(c));
	c.e = res->engine;
	c.host = res->deny_host;
	c.port = res->deny_port;
	res->reason = pe_deny_reason(&c);
	return res->reason;
}

void
policy_l4_clear(struct policy_l4 *res)
{
	if (res->eps != res->eps_inline)
		free(res->eps);
	free(res->reason);
	free(res->deny_host);
	memset(res, 0, sizeof(*res));
}

/*
 * Every key the rule names must be present with at least one value,
 * and every value of it must match one of the matcher's globs.
 */
static int
pe_query_match(const struct pe_qm *qm, const struct policy_param *q,
    size_t nq)
{
	size_t	 i, j, seen = 0;

	for (i = 0; i < nq; i++) {
		if (strcmp(q[i].key, qm->key) != 0)
			continue;
		seen++;
		for (j = 0; j < qm->nglobs; j++)
			if (policy_glob_match(qm->globs[j], q[i].value,
			    strlen(q[i].value)))
				break;
		if (j == qm->nglobs)
			return 0;
	}
	return seen > 0;
}

static int
pe_rule_match(const struct pe_rule *r, const char *method, const char *path,
    const struct policy_param *q, size_t nq)
{
	size_t	 i;

	if (!r->method_any && (*r->method == '\0' ||
	    strcasecmp(r->method, method) != 0))
		return 0;
	if (!r->path_any && !policy_glob_match(r->path, path, strlen(path)))
		return 0;
	for (i = 0; i < r->nq; i++)
		if (!pe_query_match(&r->q[i], q, nq))
			return 0;
	return 1;
}

/*
 * One HTTP request inside an L7 tunnel that l4 allowed.  path is the
 * raw path (no query), q the decoded query multimap.  The request is
 * allowed when any rule of any matching endpoint allows it; otherwise
 * it is denied under enforce and audited under audit.  Returns 0, or
 * -1 when l4 did not allow (the verdict is then deny).
 */
int
policy_decide_l7(const struct policy_engine *e, const struct policy_l4 *l4,
    const char *method, const char *path, const struct policy_param *q,
    size_t nq, struct policy_l7 *d)
{
	const struct pe_ep	*ep;
	size_t			 i, j;
	uint32_t		 best = UINT32_MAX;

	memset(d, 0, sizeof(*d));
	d->verdict = POLICY_DENY;
	d->policy = l4->policy;
	if (!l4->allow || l4->engine != e)
		return -1;
	for (i = 0; i < l4->neps; i++) {
		ep = &e->eps[l4->eps[i]];
		if (ep->pol >= best)
			continue;
		for (j = 0; j < ep->nrules; j++)
			if (pe_rule_match(&ep->rules[j], method, path, q, nq)) {
				best = ep->pol;
				break;
			}
	}
	if (best != UINT32_MAX) {
		d->verdict = POLICY_ALLOW;
		d->rule_policy = e->pols[best].key;
	} else
		d->verdict = l4->enforce ? POLICY_DENY : POLICY_AUDIT;
	return 0;
}

const char *
policy_verdict_str(enum policy_verdict v)
{
	switch (v) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_AUDIT:
		return "audit";
	default:
		return "deny";
	}
}

/* The deny detail of §2.8: "<METHOD> <path> not permitted by policy". */
char *
policy_l7_deny_detail(const char *method, const char *path)
{
	char	*out;

	if (asprintf(&out, "%s %s not permitted by policy", method, path) == -1)
		return NULL;
	return out;
}

/*
 * SSRF check for an allowed CONNECT (§2.6): allowlist mode with the
 * union of the matching endpoints' allowed_ips, or with the host
 * itself when it is an IP literal and no endpoint lists any; default
 * mode otherwise.  Returns 0 to proceed, -1 with *reason set.
 */
int
policy_check_ssrf(const struct policy_l4 *l4, const char *host,
    uint16_t port, const struct sockaddr_storage *addrs, size_t naddrs,
    char **reason)
{
	struct policy_strv	 errs = { 0 };
	struct policy_cidr	*nets = NULL, lit;
	const struct pe_ep	*ep;
	size_t			 i, n = 0, total = 0;
	int			 rc;

	*reason = NULL;
	for (i = 0; i < l4->neps; i++) {
		ep = &l4->engine->eps[l4->eps[i]];
		if (ep->ips_err != NULL && !policy_strv_has(&errs, ep->ips_err))
			policy_strv_add(&errs, ep->ips_err);
		total += ep->nnets;
	}
	if (errs.n > 0) {
		*reason = policy_strv_join(&errs, "; ");
		policy_strv_free(&errs);
		return -1;
	}
	if (total > 0) {
		if ((nets = calloc(total, sizeof(*nets))) == NULL)
			return -1;
		for (i = 0; i < l4->neps; i++) {
			ep = &l4->engine->eps[l4->eps[i]];
			if (ep->nnets == 0)
				continue;
			memcpy(nets + n, ep->nets, ep->nnets * sizeof(*nets));
			n += ep->nnets;
		}
	} else if (strchr(host, '/') == NULL &&
	    policy_cidr_parse(host, &lit) == 0) {
		nets = &lit;
		n = 1;
	}
	rc = policy_ssrf_check(nets, n, host, port, addrs, naddrs, reason);
	if (nets != &lit)
		free(nets);
	return rc;
}
