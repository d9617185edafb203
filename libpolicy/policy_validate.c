/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The checks a policy goes through, with the reference's wording:
 *
 *   policy_validate_safety   gateway, CreateSandbox/UpdateConfig
 *                            (control-plane.md §2.6, sandbox.md §1.7b)
 *   policy_validate_update   gateway, live update vs the v1 baseline
 *   policy_validate_l7       sandbox, before the engine is built (§1.7d)
 *   policy_normalize         ports and access presets (§1.6)
 *
 * Departures from the reference (each a fix listed in sandbox.md §11):
 *   - an unknown `access` preset is an error (G15: the reference
 *     silently leaves the endpoint without rules, denying everything);
 *   - an unknown `protocol` is an error (the reference silently falls
 *     back to a raw L4 tunnel, dropping the endpoint's rules);
 *   - `port` together with a different `ports` list, unknown
 *     enforcement/tls values, endpoints that can never match, and bad
 *     or over-broad allowed_ips entries are reported as warnings at load
 *     time instead of (or as well as) per connection.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

static void	 pv_path(const char *, struct policy_strv *);
static void	 pv_process(const struct policy *, struct policy_strv *);
static char	*pv_trunc(const char *);
static int	 pv_has_dotdot(const char *);
static const char *pv_fs_update(const struct policy *,
		    const struct policy *, char **);
static int	 pv_streq(const char *, const char *);
static int	 pv_has_port(const struct policy_endpoint *, uint32_t);
static void	 pv_host(const char *, const char *, struct policy_strv *,
		    struct policy_strv *);
static void	 pv_endpoint(const char *, const struct policy_endpoint *,
		    struct policy_strv *, struct policy_strv *);
static void	 pv_extra(const char *, const struct policy_endpoint *,
		    struct policy_strv *, struct policy_strv *);
static void	 pv_rules(const char *, const struct policy_endpoint *,
		    struct policy_strv *, struct policy_strv *);
static void	 pv_query(const char *, const struct policy_qmatch *,
		    struct policy_strv *, struct policy_strv *);
static void	 pv_query_object(const char *, const struct policy_qmatch *,
		    struct policy_strv *, struct policy_strv *);
static char	*pv_glob_syntax(const char *);
static int	 pv_preset(const char *);
static int	 pv_expand(struct policy_endpoint *);

/* The gateway forces the sandbox identity; empty names mean "sandbox". */
void
policy_default_process(struct policy *p)
{
	if (!p->has_process)
		p->has_process = 1;
	if (p->run_as_user == NULL || *p->run_as_user == '\0') {
		free(p->run_as_user);
		p->run_as_user = strdup("sandbox");
	}
	if (p->run_as_group == NULL || *p->run_as_group == '\0') {
		free(p->run_as_group);
		p->run_as_group = strdup("sandbox");
	}
}

static void
pv_process(const struct policy *p, struct policy_strv *out)
{
	if (!p->has_process)
		return;
	if (strcmp(policy_s(p->run_as_user), "sandbox") != 0)
		policy_strv_addf(out, "run_as_user must be 'sandbox', got '%s'",
		    policy_s(p->run_as_user));
	if (strcmp(policy_s(p->run_as_group), "sandbox") != 0)
		policy_strv_addf(out,
		    "run_as_group must be 'sandbox', got '%s'",
		    policy_s(p->run_as_group));
}

/* Long paths are quoted by their first 77 bytes and "...". */
static char *
pv_trunc(const char *s)
{
	char	*out;
	size_t	 n = 77;

	if (strlen(s) <= 80)
		return strdup(s);
	/* Do not split a UTF-8 sequence. */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	if ((out = malloc(n + 4)) == NULL)
		return NULL;
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return out;
}

/* A ".." component, as Path::components() sees one. */
static int
pv_has_dotdot(const char *s)
{
	const char	*c = s, *e;

	for (;;) {
		e = strchr(c, '/');
		if ((e != NULL ? (size_t)(e - c) : strlen(c)) == 2 &&
		    c[0] == '.' && c[1] == '.')
			return 1;
		if (e == NULL)
			return 0;
		c = e + 1;
	}
}

static void
pv_path(const char *path, struct policy_strv *out)
{
	char		*t;
	size_t		 len = strlen(path);

	if (len > POLICY_MAX_PATH_LEN) {
		t = pv_trunc(path);
		policy_strv_addf(out,
		    "path exceeds maximum length (%zu > %d): %s", len,
		    POLICY_MAX_PATH_LEN, policy_s(t));
		free(t);
		return;
	}
	if (path[0] != '/')
		policy_strv_addf(out,
		    "path must be absolute (start with '/'): %s", path);
	if (pv_has_dotdot(path))
		policy_strv_addf(out,
		    "path contains '..' traversal component: %s", path);
}

/*
 * Gateway safety check: append every violation to out (which may
 * already hold entries) and return how many were found.  Call
 * policy_default_process() first, as the gateway does.
 */
int
policy_check_safety(const struct policy *p, struct policy_strv *out)
{
	size_t	 before = out->n, i, total;
	char	*s;

	pv_process(p, out);
	if (!p->has_filesystem)
		return (int)(out->n - before);
	total = p->read_only.n + p->read_write.n;
	if (total > POLICY_MAX_PATHS)
		policy_strv_addf(out, "too many filesystem paths (%zu > %d)",
		    total, POLICY_MAX_PATHS);
	for (i = 0; i < p->read_only.n; i++)
		pv_path(p->read_only.v[i], out);
	for (i = 0; i < p->read_write.n; i++)
		pv_path(p->read_write.v[i], out);
	/* Only "/" (or "///") is too broad; a read-only "/" is allowed. */
	for (i = 0; i < p->read_write.n; i++) {
		s = p->read_write.v[i];
		if (s[strspn(s, "/")] == '\0')
			policy_strv_addf(out,
			    "read-write path is overly broad: %s", s);
	}
	return (int)(out->n - before);
}

/*
 * The INVALID_ARGUMENT text of CreateSandbox/UpdateConfig, or NULL
 * when the policy is safe: "policy contains unsafe content: v1; v2".
 */
char *
policy_validate_safety(const struct policy *p)
{
	struct policy_strv	 v = { 0 };
	char			*list, *out = NULL;

	if (policy_check_safety(p, &v) == 0) {
		policy_strv_free(&v);
		return NULL;
	}
	if ((list = policy_strv_join(&v, "; ")) == NULL ||
	    asprintf(&out, "policy contains unsafe content: %s", list) == -1)
		out = strdup("policy contains unsafe content");
	free(list);
	policy_strv_free(&v);
	return out;
}

static int
pv_streq(const char *a, const char *b)
{
	return strcmp(policy_s(a), policy_s(b)) == 0;
}

static const char *
pv_fs_update(const struct policy *base, const struct policy *next,
    char **msg)
{
	size_t	 i;

	if (!base->has_filesystem)
		return NULL;
	if (!next->has_filesystem)
		return "filesystem policy cannot be removed on a live sandbox";
	if (base->include_workdir != next->include_workdir)
		return "filesystem include_workdir cannot be changed on a "
		    "live sandbox";
	for (i = 0; i < base->read_only.n; i++)
		if (!policy_strv_has(&next->read_only, base->read_only.v[i])) {
			if (asprintf(msg, "filesystem read_only path '%s' "
			    "cannot be removed on a live sandbox",
			    base->read_only.v[i]) == -1)
				*msg = NULL;
			return "filesystem read_only path cannot be removed";
		}
	for (i = 0; i < base->read_write.n; i++)
		if (!policy_strv_has(&next->read_write,
		    base->read_write.v[i])) {
			if (asprintf(msg, "filesystem read_write path '%s' "
			    "cannot be removed on a live sandbox",
			    base->read_write.v[i]) == -1)
				*msg = NULL;
			return "filesystem read_write path cannot be removed";
		}
	return NULL;
}

/*
 * Live update of a sandbox-scoped policy against its creation-time
 * baseline: the filesystem may only grow, landlock and process may not
 * change.  Returns NULL or the first violation (malloc'd), checked in
 * the reference's order.  Both policies should already have had
 * policy_default_process() applied.
 */
char *
policy_validate_update(const struct policy *base, const struct policy *next)
{
	const char	*e;
	char		*msg = NULL;

	if ((e = pv_fs_update(base, next, &msg)) != NULL)
		return msg != NULL ? msg : strdup(e);
	if (base->has_landlock != next->has_landlock ||
	    !pv_streq(base->landlock_compat, next->landlock_compat))
		return strdup("landlock policy cannot be changed on a live "
		    "sandbox (applied at startup)");
	if (base->has_process != next->has_process ||
	    !pv_streq(base->run_as_user, next->run_as_user) ||
	    !pv_streq(base->run_as_group, next->run_as_group))
		return strdup("process policy cannot be changed on a live "
		    "sandbox (applied at startup)");
	return NULL;
}

/* The effective port list (ports wins over the legacy port). */
static int
pv_has_port(const struct policy_endpoint *ep, uint32_t port)
{
	size_t	 i;

	if (ep->nports == 0)
		return ep->port == port;
	for (i = 0; i < ep->nports; i++)
		if (ep->ports[i] == port)
			return 1;
	return 0;
}

static void
pv_host(const char *loc, const char *host, struct policy_strv *errs,
    struct policy_strv *warns)
{
	const char	*c;
	int		 labels = 1;

	if (strchr(host, '*') == NULL)
		return;
	if (strcmp(host, "*") == 0 || strcmp(host, "**") == 0) {
		policy_strv_addf(errs, "%s: host wildcard '%s' matches all "
		    "hosts; use specific patterns like '*.example.com'",
		    loc, host);
		return;
	}
	if (strncmp(host, "*.", 2) != 0 && strncmp(host, "**.", 3) != 0) {
		policy_strv_addf(errs, "%s: host wildcard must start with "
		    "'*.' or '**.' (e.g., '*.example.com'), got '%s'", loc,
		    host);
		return;
	}
	for (c = host; *c != '\0'; c++)
		labels += *c == '.';
	if (labels <= 2)
		policy_strv_addf(warns, "%s: host wildcard '%s' is very broad "
		    "(covers all subdomains of a TLD)", loc, host);
}

/* 0 unknown, 1 read-only, 2 read-write, 3 full. */
static int
pv_preset(const char *access)
{
	if (strcmp(access, "read-only") == 0)
		return 1;
	if (strcmp(access, "read-write") == 0)
		return 2;
	if (strcmp(access, "full") == 0)
		return 3;
	return 0;
}

static void
pv_endpoint(const char *loc, const struct policy_endpoint *ep,
    struct policy_strv *errs, struct policy_strv *warns)
{
	const char	*proto = policy_s(ep->protocol);
	const char	*tls = policy_s(ep->tls);
	const char	*access = policy_s(ep->access);
	int		 has_rules = ep->nrules > 0;

	pv_host(loc, policy_s(ep->host), errs, warns);
	if (ep->port != 0 && ep->nports > 0 && !pv_has_port(ep, ep->port))
		policy_strv_addf(warns, "%s: port and ports are mutually "
		    "exclusive; use ports for multiple ports", loc);
	if (has_rules && *access != '\0')
		policy_strv_addf(errs, "%s: rules and access are mutually "
		    "exclusive", loc);
	if (*proto != '\0' && !has_rules && *access == '\0')
		policy_strv_addf(errs, "%s: protocol requires rules or access "
		    "to define allowed traffic", loc);
	if (strcmp(tls, "terminate") == 0 || strcmp(tls, "passthrough") == 0)
		policy_strv_addf(warns, "%s: 'tls: %s' is deprecated; TLS "
		    "termination is now automatic. Use 'tls: skip' to "
		    "disable.", loc, tls);
	if (strcmp(tls, "skip") == 0 && *proto != '\0' && pv_has_port(ep, 443))
		policy_strv_addf(warns, "%s: 'tls: skip' with L7 rules on "
		    "port 443 \xe2\x80\x94 L7 inspection cannot work on "
		    "encrypted traffic", loc);
	if (strcmp(proto, "sql") == 0 &&
	    strcmp(policy_s(ep->enforcement), "enforce") == 0)
		policy_strv_addf(errs, "%s: SQL enforcement requires full SQL "
		    "parsing (not available in v1). Use `enforcement: audit`.",
		    loc);
	if (ep->rules_present && ep->nrules == 0)
		policy_strv_addf(errs, "%s: rules list cannot be empty (would "
		    "deny all traffic). Use `access: full` or remove rules.",
		    loc);
	if (has_rules && strcmp(proto, "rest") == 0)
		pv_rules(loc, ep, errs, warns);
	pv_extra(loc, ep, errs, warns);
}

/* Our additions to the reference checks (see the comment on top). */
static void
pv_extra(const char *loc, const struct policy_endpoint *ep,
    struct policy_strv *errs, struct policy_strv *warns)
{
	const char	*proto = policy_s(ep->protocol);
	const char	*tls = policy_s(ep->tls);
	const char	*enf = policy_s(ep->enforcement);
	const char	*access = policy_s(ep->access);

	if (*access != '\0' && pv_preset(access) == 0)
		policy_strv_addf(errs, "%s: unknown access preset '%s'; "
		    "expected read-only, read-write or full", loc, access);
	if (*proto != '\0' && strcasecmp(proto, "rest") != 0 &&
	    strcasecmp(proto, "sql") != 0)
		policy_strv_addf(errs, "%s: unknown protocol '%s'; expected "
		    "rest or sql", loc, proto);
	if (*enf != '\0' && strcmp(enf, "enforce") != 0 &&
	    strcmp(enf, "audit") != 0)
		policy_strv_addf(warns, "%s: unknown enforcement '%s'; "
		    "treated as audit", loc, enf);
	if (*tls != '\0' && strcmp(tls, "skip") != 0 &&
	    strcmp(tls, "terminate") != 0 && strcmp(tls, "passthrough") != 0)
		policy_strv_addf(warns, "%s: unknown tls mode '%s'; treated "
		    "as auto", loc, tls);
	if (ep->nports == 0 && ep->port == 0)
		policy_strv_addf(warns, "%s: endpoint has no port; it matches "
		    "nothing", loc);
	if (policy_s(ep->host)[0] == '\0' && ep->allowed_ips.n == 0)
		policy_strv_addf(warns, "%s: endpoint has neither host nor "
		    "allowed_ips; it matches nothing", loc);
	policy_allowed_ips_warn((const char *const *)ep->allowed_ips.v,
	    ep->allowed_ips.n, loc, warns);
}

static void
pv_rules(const char *loc, const struct policy_endpoint *ep,
    struct policy_strv *errs, struct policy_strv *warns)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT",
	    "DELETE", "PATCH", "OPTIONS", "*" };
	const struct policy_l7rule	*r;
	char				*qloc;
	size_t				 i, j, m;

	for (i = 0; i < ep->nrules; i++) {
		r = &ep->rules[i];
		if (r->method != NULL && *r->method != '\0') {
			for (m = 0; m < sizeof(methods) / sizeof(*methods); m++)
				if (strcasecmp(r->method, methods[m]) == 0)
					break;
			if (m == sizeof(methods) / sizeof(*methods))
				policy_strv_addf(warns, "%s: Unknown HTTP "
				    "method '%s'. Standard methods: GET, HEAD, "
				    "POST, PUT, DELETE, PATCH, OPTIONS.", loc,
				    r->method);
		}
		if (r->query_bad) {
			policy_strv_addf(errs, "%s.rules[%zu].allow.query: "
			    "expected map of query matchers", loc, i);
			continue;
		}
		for (j = 0; j < r->nquery; j++) {
			if (asprintf(&qloc, "%s.rules[%zu].allow.query.%s",
			    loc, i, r->query[j].key) == -1)
				continue;
			pv_query(qloc, &r->query[j], errs, warns);
			free(qloc);
		}
	}
}

static void
pv_query(const char *p, const struct policy_qmatch *q,
    struct policy_strv *errs, struct policy_strv *warns)
{
	char	*w;

	if (q->object) {
		pv_query_object(p, q, errs, warns);
		return;
	}
	if (q->bad & POLICY_QM_BAD_TYPE) {
		policy_strv_addf(errs, "%s: expected string glob or object "
		    "with `any`", p);
		return;
	}
	if ((w = pv_glob_syntax(policy_s(q->glob))) != NULL) {
		policy_strv_addf(warns, "%s: %s", p, w);
		free(w);
	}
}

static void
pv_query_object(const char *p, const struct policy_qmatch *q,
    struct policy_strv *errs, struct policy_strv *warns)
{
	size_t	 i;
	char	*w;

	if (q->bad & POLICY_QM_BAD_KEYS)
		policy_strv_addf(errs, "%s: unknown matcher keys; only `glob` "
		    "or `any` are supported", p);
	else if (q->has_glob && q->has_any)
		policy_strv_addf(errs, "%s: matcher cannot specify both "
		    "`glob` and `any`", p);
	else if (!q->has_glob && !q->has_any)
		policy_strv_addf(errs, "%s: object matcher requires `glob` "
		    "string or non-empty `any` list", p);
	else if (q->has_glob) {
		if (q->bad & POLICY_QM_BAD_GLOBTYPE)
			policy_strv_addf(errs, "%s.glob: expected glob string",
			    p);
		else if ((w = pv_glob_syntax(policy_s(q->glob))) != NULL) {
			policy_strv_addf(warns, "%s.glob: %s", p, w);
			free(w);
		}
	} else if (q->bad & POLICY_QM_BAD_ANYTYPE)
		policy_strv_addf(errs, "%s.any: expected array of glob "
		    "strings", p);
	else if (q->any.n == 0 && !(q->bad & POLICY_QM_BAD_ANYITEM))
		policy_strv_addf(errs, "%s.any: list must not be empty", p);
	else {
		if (q->bad & POLICY_QM_BAD_ANYITEM)
			policy_strv_addf(errs, "%s.any: all values must be "
			    "strings", p);
		for (i = 0; i < q->any.n; i++)
			if ((w = pv_glob_syntax(q->any.v[i])) != NULL) {
				policy_strv_addf(warns, "%s.any: %s", p, w);
				free(w);
			}
	}
}

/* Unbalanced [ ] or { }: OPA would fail to compile the glob. */
static char *
pv_glob_syntax(const char *pat)
{
	static const char pairs[2][2] = { { '[', ']' }, { '{', '}' } };
	const char	*c;
	char		*out = NULL;
	int		 depth, k;

	for (k = 0; k < 2; k++) {
		depth = 0;
		for (c = pat; *c != '\0'; c++) {
			if (*c == pairs[k][0])
				depth++;
			else if (*c == pairs[k][1] && depth-- == 0) {
				if (asprintf(&out, "glob pattern '%s' has "
				    "unmatched '%c'", pat, pairs[k][1]) == -1)
					out = NULL;
				return out;
			}
		}
		if (depth > 0) {
			if (asprintf(&out, "glob pattern '%s' has unclosed "
			    "'%c'", pat, pairs[k][0]) == -1)
				out = NULL;
			return out;
		}
	}
	return NULL;
}

/*
 * Sandbox-side validation run before an engine is built (§1.7d).
 * Errors make the load fail; warnings are only logged.  Either list
 * may be NULL.  Returns the number of errors.
 */
int
policy_validate_l7(const struct policy *p, struct policy_strv *errs,
    struct policy_strv *warns)
{
	struct policy_strv	 e = { 0 }, w = { 0 };
	char			*loc;
	size_t			 i, j;
	int			 nerr;

	for (i = 0; i < p->nrules; i++)
		for (j = 0; j < p->rules[i].nendpoints; j++) {
			if (asprintf(&loc, "%s.endpoints[%zu]",
			    p->rules[i].key, j) == -1)
				continue;
			pv_endpoint(loc, &p->rules[i].endpoints[j], &e, &w);
			free(loc);
		}
	nerr = (int)e.n;
	for (i = 0; errs != NULL && i < e.n; i++)
		policy_strv_add(errs, e.v[i]);
	for (i = 0; warns != NULL && i < w.n; i++)
		policy_strv_add(warns, w.v[i]);
	policy_strv_free(&e);
	policy_strv_free(&w);
	return nerr;
}

/* Replace a known access preset by its explicit rules. */
static int
pv_expand(struct policy_endpoint *ep)
{
	static const char *const methods[] = { "GET", "HEAD", "OPTIONS",
	    "POST", "PUT", "PATCH" };
	size_t	 i;
	int	 preset;

	if (ep->access == NULL || *ep->access == '\0' || ep->nrules > 0)
		return 0;
	if ((preset = pv_preset(ep->access)) == 0)
		return 0;	/* left for policy_validate_l7() to reject */
	if (preset == 3) {
		if (policy_l7rule_add(ep, "*", "**") == NULL)
			return -1;
	} else
		for (i = 0; i < (preset == 1 ? 3u : 6u); i++)
			if (policy_l7rule_add(ep, methods[i], "**") == NULL)
				return -1;
	free(ep->access);
	ep->access = NULL;
	return 0;
}

/*
 * §1.6 in place: `port` becomes `ports: [port]` (ports wins when both
 * are given) and known presets become explicit rules (the preset is
 * then dropped so the result still validates).  Unknown presets are
 * left for policy_validate_l7() to report.  Returns -1 when out of
 * memory (the policy is then partly normalised).
 */
int
policy_normalize(struct policy *p)
{
	struct policy_endpoint	*ep;
	size_t			 i, j;

	for (i = 0; i < p->nrules; i++)
		for (j = 0; j < p->rules[i].nendpoints; j++) {
			ep = &p->rules[i].endpoints[j];
			if (ep->nports == 0 && ep->port != 0) {
				if ((ep->ports = malloc(sizeof(*ep->ports))) ==
				    NULL)
					return -1;
				ep->ports[0] = ep->port;
				ep->nports = 1;
			}
			ep->port = 0;
			if (pv_expand(ep) == -1)
				return -1;
		}
	return 0;
}
