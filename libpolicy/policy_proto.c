/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * struct policy <-> SandboxPolicy (protobuf-c); see policy_proto.h.
 */

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_proto.h"

typedef Openshell__Sandbox__V1__SandboxPolicy		PPolicy;
typedef Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry PEntry;
typedef Openshell__Sandbox__V1__FilesystemPolicy	PFs;
typedef Openshell__Sandbox__V1__LandlockPolicy		PLandlock;
typedef Openshell__Sandbox__V1__ProcessPolicy		PProcess;
typedef Openshell__Sandbox__V1__NetworkPolicyRule	PRule;
typedef Openshell__Sandbox__V1__NetworkEndpoint		PEndpoint;
typedef Openshell__Sandbox__V1__L7Rule			PL7Rule;
typedef Openshell__Sandbox__V1__L7Allow			PAllow;
typedef Openshell__Sandbox__V1__L7Allow__QueryEntry	PQEntry;
typedef Openshell__Sandbox__V1__L7QueryMatcher		PMatcher;
typedef Openshell__Sandbox__V1__NetworkBinary		PBinary;

static const PEntry pp_entry_init =
    OPENSHELL__SANDBOX__V1__SANDBOX_POLICY__NETWORK_POLICIES_ENTRY__INIT;

static int	 pp_harness_get(const PBinary *);
static char	*pp_dup(const char *);
static int	 pp_set(char **, const char *);
static int	 pp_strv_to_model(struct policy_strv *, char *const *,
		    size_t);
static int	 pp_strv_from_model(char ***, size_t *,
		    const struct policy_strv *);
static void	 pp_strv_free(char **, size_t);
static int	 pp_query_to_model(struct policy_l7rule *, const PAllow *);
static int	 pp_l7_to_model(struct policy_endpoint *, const PL7Rule *);
static int	 pp_endpoint_to_model(struct policy_netrule *,
		    const PEndpoint *);
static int	 pp_sections_to_model(struct policy *, const PPolicy *);
static int	 pp_qentry_cmp(const void *, const void *);
static int	 pp_entry_cmp(const void *, const void *);
static int	 pp_qe_cmp(const void *, const void *);
static int	 pp_endpoint_ports(Openshell__Sandbox__V1__NetworkEndpoint *,
		    const struct policy_endpoint *);
static PMatcher	*pp_matcher_from(const struct policy_qmatch *);
static PL7Rule	*pp_l7_from(const struct policy_l7rule *);
static PEndpoint *pp_endpoint_from(const struct policy_endpoint *);
static PBinary	*pp_binary_from(const struct policy_binary *);
static int	 pp_sections_from(PPolicy *, const struct policy *);
static void	 pp_l7_free(PL7Rule *);
static void	 pp_endpoint_free(PEndpoint *);

/*
 * `harness' is deprecated in the proto and ignored by everyone, but
 * a lossless conversion still carries it.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int
pp_harness_get(const PBinary *b)
{
	return b->harness != 0;
}
#pragma GCC diagnostic pop

/* protobuf-c hands out "" for unset strings; the model keeps NULL. */
static char *
pp_dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int
pp_set(char **dst, const char *s)
{
	if (s == NULL || *s == '\0') {
		*dst = NULL;
		return 0;
	}
	return (*dst = strdup(s)) == NULL ? -1 : 0;
}

static int
pp_strv_to_model(struct policy_strv *sv, char *const *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (policy_strv_add(sv, v[i] != NULL ? v[i] : "") == -1)
			return -1;
	return 0;
}

/* ---- proto -> model ---- */

static int
pp_query_to_model(struct policy_l7rule *r, const PAllow *a)
{
	struct policy_qmatch	*q;
	const PMatcher		*m;
	size_t			 i, j, n = 0;

	if (a->n_query == 0)
		return 0;
	if ((r->query = calloc(a->n_query, sizeof(*r->query))) == NULL)
		return -1;
	/* Last duplicate wins: walk backwards, skip keys already taken. */
	for (i = a->n_query; i-- > 0;) {
		for (j = 0; j < n; j++)
			if (strcmp(r->query[j].key, policy_s(a->query[i]->key))
			    == 0)
				break;
		if (j < n)
			continue;
		q = &r->query[n++];
		r->nquery = n;
		if ((q->key = pp_dup(a->query[i]->key)) == NULL)
			return -1;
		if ((m = a->query[i]->value) == NULL)
			continue;
		if (m->glob != NULL && *m->glob != '\0') {
			if ((q->glob = strdup(m->glob)) == NULL)
				return -1;
			q->has_glob = 1;
		}
		if (m->n_any > 0) {
			q->has_any = q->object = 1;
			if (pp_strv_to_model(&q->any, m->any, m->n_any) == -1)
				return -1;
		}
	}
	qsort(r->query, r->nquery, sizeof(*r->query), pp_qentry_cmp);
	return 0;
}

static int
pp_qentry_cmp(const void *a, const void *b)
{
	const struct policy_qmatch *qa = a, *qb = b;

	return strcmp(qa->key, qb->key);
}

static int
pp_l7_to_model(struct policy_endpoint *ep, const PL7Rule *pr)
{
	struct policy_l7rule	*r;
	const PAllow		*a = pr->allow;

	if ((r = policy_l7rule_add(ep, NULL, NULL)) == NULL)
		return -1;
	if (a == NULL)
		return 0;
	if (pp_set(&r->method, a->method) == -1 ||
	    pp_set(&r->path, a->path) == -1 ||
	    pp_set(&r->command, a->command) == -1)
		return -1;
	return pp_query_to_model(r, a);
}

static int
pp_endpoint_to_model(struct policy_netrule *r, const PEndpoint *pe)
{
	struct policy_endpoint	*ep;
	size_t			 i;

	if ((ep = policy_endpoint_add(r)) == NULL)
		return -1;
	ep->port = pe->port;
	if (pp_set(&ep->host, pe->host) == -1 ||
	    pp_set(&ep->protocol, pe->protocol) == -1 ||
	    pp_set(&ep->tls, pe->tls) == -1 ||
	    pp_set(&ep->enforcement, pe->enforcement) == -1 ||
	    pp_set(&ep->access, pe->access) == -1)
		return -1;
	if (pe->n_ports > 0) {
		ep->ports = reallocarray(NULL, pe->n_ports, sizeof(*ep->ports));
		if (ep->ports == NULL)
			return -1;
		memcpy(ep->ports, pe->ports, pe->n_ports * sizeof(*ep->ports));
		ep->nports = pe->n_ports;
	}
	for (i = 0; i < pe->n_rules; i++)
		if (pe->rules[i] != NULL &&
		    pp_l7_to_model(ep, pe->rules[i]) == -1)
			return -1;
	return pp_strv_to_model(&ep->allowed_ips, pe->allowed_ips,
	    pe->n_allowed_ips);
}

/*
 * Adds the rule under key (which the caller knows to be new) and
 * re-sorts p->rules, so earlier pointers into it are stale afterwards.
 */
int
policy_proto_rule_to_model(struct policy *p, const char *key,
    const PRule *pr)
{
	struct policy_netrule	*r;
	struct policy_binary	*b;
	size_t			 i;
	int			 rc = 0;

	if ((r = policy_rule_add(p, key)) == NULL)
		return -1;
	if (pp_set(&r->name, pr->name) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < pr->n_endpoints; i++)
		if (pr->endpoints[i] != NULL &&
		    pp_endpoint_to_model(r, pr->endpoints[i]) == -1)
			rc = -1;
	for (i = 0; rc == 0 && i < pr->n_binaries; i++) {
		if (pr->binaries[i] == NULL)
			continue;
		if ((b = policy_binary_add(r,
		    policy_s(pr->binaries[i]->path))) == NULL)
			rc = -1;
		else
			b->harness = pp_harness_get(pr->binaries[i]);
	}
	policy_rules_sort(p);
	return rc;
}

static int
pp_sections_to_model(struct policy *p, const PPolicy *pp)
{
	p->version = pp->version;
	if (pp->filesystem != NULL) {
		p->has_filesystem = p->has_include_workdir = 1;
		p->include_workdir = pp->filesystem->include_workdir != 0;
		if (pp_strv_to_model(&p->read_only, pp->filesystem->read_only,
		    pp->filesystem->n_read_only) == -1 ||
		    pp_strv_to_model(&p->read_write,
		    pp->filesystem->read_write,
		    pp->filesystem->n_read_write) == -1)
			return -1;
	}
	if (pp->landlock != NULL) {
		p->has_landlock = 1;
		if (pp_set(&p->landlock_compat,
		    pp->landlock->compatibility) == -1)
			return -1;
	}
	if (pp->process != NULL) {
		p->has_process = 1;
		if (pp_set(&p->run_as_user, pp->process->run_as_user) == -1 ||
		    pp_set(&p->run_as_group, pp->process->run_as_group) == -1)
			return -1;
	}
	return 0;
}

/* NULL with *err set (malloc'd) when out of memory. */
struct policy *
policy_proto_to_model(const PPolicy *pp, char **err)
{
	struct policy	*p;
	const PEntry	*e;
	size_t		 i;

	if (err != NULL)
		*err = NULL;
	if ((p = policy_new()) == NULL)
		goto fail;
	if (pp_sections_to_model(p, pp) == -1)
		goto fail;
	for (i = pp->n_network_policies; i-- > 0;) {
		e = pp->network_policies[i];
		if (e == NULL || policy_rule_find(p, policy_s(e->key)) != NULL)
			continue;
		if (e->value == NULL) {
			/* A map entry without a value is an empty rule. */
			if (policy_rule_add(p, policy_s(e->key)) == NULL)
				goto fail;
			policy_rules_sort(p);
			continue;
		}
		if (policy_proto_rule_to_model(p, policy_s(e->key),
		    e->value) == -1)
			goto fail;
	}
	return p;
fail:
	policy_free(p);
	if (err != NULL)
		*err = strdup("out of memory");
	return NULL;
}

/* ---- model -> proto ---- */

static int
pp_strv_from_model(char ***v, size_t *n, const struct policy_strv *sv)
{
	size_t	 i;

	*v = NULL;
	*n = 0;
	if (sv->n == 0)
		return 0;
	if ((*v = calloc(sv->n, sizeof(**v))) == NULL)
		return -1;
	for (i = 0; i < sv->n; i++) {
		if (((*v)[i] = strdup(sv->v[i])) == NULL)
			return -1;
		*n = i + 1;
	}
	return 0;
}

static void
pp_strv_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static PMatcher *
pp_matcher_from(const struct policy_qmatch *q)
{
	PMatcher	*m;

	if ((m = malloc(sizeof(*m))) == NULL)
		return NULL;
	*m = (PMatcher)OPENSHELL__SANDBOX__V1__L7_QUERY_MATCHER__INIT;
	m->glob = pp_dup(q->glob);
	if (m->glob == NULL ||
	    pp_strv_from_model(&m->any, &m->n_any, &q->any) == -1) {
		free(m->glob);
		pp_strv_free(m->any, m->n_any);
		free(m);
		return NULL;
	}
	return m;
}

static PL7Rule *
pp_l7_from(const struct policy_l7rule *r)
{
	PL7Rule		*pr;
	PAllow		*a;
	PQEntry		*qe;
	size_t		 i;

	if ((pr = malloc(sizeof(*pr))) == NULL)
		return NULL;
	*pr = (PL7Rule)OPENSHELL__SANDBOX__V1__L7_RULE__INIT;
	if ((a = pr->allow = calloc(1, sizeof(*a))) == NULL)
		goto fail;
	*a = (PAllow)OPENSHELL__SANDBOX__V1__L7_ALLOW__INIT;
	a->method = pp_dup(r->method);
	a->path = pp_dup(r->path);
	a->command = pp_dup(r->command);
	if (a->method == NULL || a->path == NULL || a->command == NULL)
		goto fail;
	if (r->nquery > 0 &&
	    (a->query = calloc(r->nquery, sizeof(*a->query))) == NULL)
		goto fail;
	for (i = 0; i < r->nquery; i++) {
		if ((qe = malloc(sizeof(*qe))) == NULL)
			goto fail;
		*qe = (PQEntry)
		    OPENSHELL__SANDBOX__V1__L7_ALLOW__QUERY_ENTRY__INIT;
		a->query[a->n_query++] = qe;
		if ((qe->key = pp_dup(r->query[i].key)) == NULL ||
		    (qe->value = pp_matcher_from(&r->query[i])) == NULL)
			goto fail;
	}
	if (a->n_query > 1)
		qsort(a->query, a->n_query, sizeof(*a->query), pp_qe_cmp);
	return pr;
fail:
	pp_l7_free(pr);
	return NULL;
}

static int
pp_qe_cmp(const void *a, const void *b)
{
	const PQEntry *const *ea = a, *const *eb = b;

	return strcmp(policy_s((*ea)->key), policy_s((*eb)->key));
}

static int
pp_entry_cmp(const void *a, const void *b)
{
	const PEntry *const *ea = a, *const *eb = b;

	return strcmp(policy_s((*ea)->key), policy_s((*eb)->key));
}

static int
pp_endpoint_ports(PEndpoint *pe, const struct policy_endpoint *ep)
{
	if (ep->nports == 0)
		return 0;
	if ((pe->ports = reallocarray(NULL, ep->nports,
	    sizeof(*pe->ports))) == NULL)
		return -1;
	memcpy(pe->ports, ep->ports, ep->nports * sizeof(*pe->ports));
	pe->n_ports = ep->nports;
	return 0;
}

static PEndpoint *
pp_endpoint_from(const struct policy_endpoint *ep)
{
	PEndpoint	*pe;
	size_t		 i;

	if ((pe = malloc(sizeof(*pe))) == NULL)
		return NULL;
	*pe = (PEndpoint)OPENSHELL__SANDBOX__V1__NETWORK_ENDPOINT__INIT;
	pe->port = ep->port;
	pe->host = pp_dup(ep->host);
	pe->protocol = pp_dup(ep->protocol);
	pe->tls = pp_dup(ep->tls);
	pe->enforcement = pp_dup(ep->enforcement);
	pe->access = pp_dup(ep->access);
	if (pe->host == NULL || pe->protocol == NULL || pe->tls == NULL ||
	    pe->enforcement == NULL || pe->access == NULL ||
	    pp_endpoint_ports(pe, ep) == -1 ||
	    pp_strv_from_model(&pe->allowed_ips, &pe->n_allowed_ips,
	    &ep->allowed_ips) == -1)
		goto fail;
	if (ep->nrules > 0 &&
	    (pe->rules = calloc(ep->nrules, sizeof(*pe->rules))) == NULL)
		goto fail;
	for (i = 0; i < ep->nrules; i++) {
		if ((pe->rules[i] = pp_l7_from(&ep->rules[i])) == NULL)
			goto fail;
		pe->n_rules = i + 1;
	}
	return pe;
fail:
	pp_endpoint_free(pe);
	return NULL;
}

/* The initialiser sets the deprecated `harness' too. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static PBinary *
pp_binary_from(const struct policy_binary *b)
{
	PBinary	*pb;

	if ((pb = malloc(sizeof(*pb))) == NULL)
		return NULL;
	*pb = (PBinary)OPENSHELL__SANDBOX__V1__NETWORK_BINARY__INIT;
	pb->harness = b->harness != 0;
	if ((pb->path = pp_dup(b->path)) == NULL) {
		free(pb);
		return NULL;
	}
	return pb;
}
#pragma GCC diagnostic pop

PRule *
policy_proto_rule_from_model(const struct policy_netrule *r)
{
	PRule	*pr;
	size_t	 i;

	if ((pr = malloc(sizeof(*pr))) == NULL)
		return NULL;
	*pr = (PRule)OPENSHELL__SANDBOX__V1__NETWORK_POLICY_RULE__INIT;
	if ((pr->name = pp_dup(r->name)) == NULL)
		goto fail;
	if (r->nendpoints > 0 && (pr->endpoints = calloc(r->nendpoints,
	    sizeof(*pr->endpoints))) == NULL)
		goto fail;
	for (i = 0; i < r->nendpoints; i++) {
		if ((pr->endpoints[i] = pp_endpoint_from(&r->endpoints[i]))
		    == NULL)
			goto fail;
		pr->n_endpoints = i + 1;
	}
	if (r->nbinaries > 0 && (pr->binaries = calloc(r->nbinaries,
	    sizeof(*pr->binaries))) == NULL)
		goto fail;
	for (i = 0; i < r->nbinaries; i++) {
		if ((pr->binaries[i] = pp_binary_from(&r->binaries[i])) == NULL)
			goto fail;
		pr->n_binaries = i + 1;
	}
	return pr;
fail:
	policy_proto_rule_free(pr);
	return NULL;
}

static int
pp_sections_from(PPolicy *pp, const struct policy *p)
{
	pp->version = p->version;
	if (p->has_filesystem) {
		if ((pp->filesystem = malloc(sizeof(PFs))) == NULL)
			return -1;
		*pp->filesystem = (PFs)
		    OPENSHELL__SANDBOX__V1__FILESYSTEM_POLICY__INIT;
		pp->filesystem->include_workdir = p->include_workdir != 0;
		if (pp_strv_from_model(&pp->filesystem->read_only,
		    &pp->filesystem->n_read_only, &p->read_only) == -1 ||
		    pp_strv_from_model(&pp->filesystem->read_write,
		    &pp->filesystem->n_read_write, &p->read_write) == -1)
			return -1;
	}
	if (p->has_landlock) {
		if ((pp->landlock = malloc(sizeof(PLandlock))) == NULL)
			return -1;
		*pp->landlock = (PLandlock)
		    OPENSHELL__SANDBOX__V1__LANDLOCK_POLICY__INIT;
		if ((pp->landlock->compatibility =
		    pp_dup(p->landlock_compat)) == NULL)
			return -1;
	}
	if (p->has_process) {
		if ((pp->process = malloc(sizeof(PProcess))) == NULL)
			return -1;
		*pp->process = (PProcess)
		    OPENSHELL__SANDBOX__V1__PROCESS_POLICY__INIT;
		pp->process->run_as_user = pp_dup(p->run_as_user);
		pp->process->run_as_group = pp_dup(p->run_as_group);
		if (pp->process->run_as_user == NULL ||
		    pp->process->run_as_group == NULL)
			return -1;
	}
	return 0;
}

/* NULL when out of memory. */
PPolicy *
policy_proto_from_model(const struct policy *p)
{
	PPolicy		*pp;
	PEntry		*e;
	size_t		 i;

	if ((pp = calloc(1, sizeof(*pp))) == NULL)
		return NULL;
	*pp = (PPolicy)OPENSHELL__SANDBOX__V1__SANDBOX_POLICY__INIT;
	if (pp_sections_from(pp, p) == -1)
		goto fail;
	if (p->nrules > 0 && (pp->network_policies = calloc(p->nrules,
	    sizeof(*pp->network_policies))) == NULL)
		goto fail;
	for (i = 0; i < p->nrules; i++) {
		if ((e = malloc(sizeof(*e))) == NULL)
			goto fail;
		*e = pp_entry_init;
		pp->network_policies[pp->n_network_policies++] = e;
		if ((e->key = pp_dup(p->rules[i].key)) == NULL ||
		    (e->value = policy_proto_rule_from_model(&p->rules[i]))
		    == NULL)
			goto fail;
	}
	if (pp->n_network_policies > 1)
		qsort(pp->network_policies, pp->n_network_policies,
		    sizeof(*pp->network_policies), pp_entry_cmp);
	return pp;
fail:
	policy_proto_free(pp);
	return NULL;
}

/* ---- freeing what policy_proto_from_model() made ---- */

static void
pp_l7_free(PL7Rule *pr)
{
	PAllow	*a;
	size_t	 i;

	if (pr == NULL)
		return;
	if ((a = pr->allow) != NULL) {
		free(a->method);
		free(a->path);
		free(a->command);
		for (i = 0; i < a->n_query; i++) {
			free(a->query[i]->key);
			if (a->query[i]->value != NULL) {
				free(a->query[i]->value->glob);
				pp_strv_free(a->query[i]->value->any,
				    a->query[i]->value->n_any);
				free(a->query[i]->value);
			}
			free(a->query[i]);
		}
		free(a->query);
		free(a);
	}
	free(pr);
}

static void
pp_endpoint_free(PEndpoint *pe)
{
	size_t	 i;

	if (pe == NULL)
		return;
	free(pe->host);
	free(pe->protocol);
	free(pe->tls);
	free(pe->enforcement);
	free(pe->access);
	free(pe->ports);
	pp_strv_free(pe->allowed_ips, pe->n_allowed_ips);
	for (i = 0; i < pe->n_rules; i++)
		pp_l7_free(pe->rules[i]);
	free(pe->rules);
	free(pe);
}

void
policy_proto_rule_free(PRule *pr)
{
	size_t	 i;

	if (pr == NULL)
		return;
	free(pr->name);
	for (i = 0; i < pr->n_endpoints; i++)
		pp_endpoint_free(pr->endpoints[i]);
	free(pr->endpoints);
	for (i = 0; i < pr->n_binaries; i++) {
		free(pr->binaries[i]->path);
		free(pr->binaries[i]);
	}
	free(pr->binaries);
	free(pr);
}

void
policy_proto_free(PPolicy *pp)
{
	size_t	 i;

	if (pp == NULL)
		return;
	if (pp->filesystem != NULL) {
		pp_strv_free(pp->filesystem->read_only,
		    pp->filesystem->n_read_only);
		pp_strv_free(pp->filesystem->read_write,
		    pp->filesystem->n_read_write);
		free(pp->filesystem);
	}
	if (pp->landlock != NULL) {
		free(pp->landlock->compatibility);
		free(pp->landlock);
	}
	if (pp->process != NULL) {
		free(pp->process->run_as_user);
		free(pp->process->run_as_group);
		free(pp->process);
	}
	for (i = 0; i < pp->n_network_policies; i++) {
		free(pp->network_policies[i]->key);
		policy_proto_rule_free(pp->network_policies[i]->value);
		free(pp->network_policies[i]);
	}
	free(pp->network_policies);
	free(pp);
}
