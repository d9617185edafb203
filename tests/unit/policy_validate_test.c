/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libpolicy checks: every gateway safety text, the live-update
 * immutability texts and their order, every sandbox-side L7 error and
 * warning (sandbox.md §1.7d), presets and port normalisation.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libpolicy/policy.h"

static struct policy	*parse(const char *, int);
static struct policy	*ep_policy(const char *, int);
static void		 expect(const struct policy_strv *, const char *);
static void		 l7(const struct policy *, struct policy_strv *,
			    struct policy_strv *);

static struct policy *
parse(const char *y, int flags)
{
	struct policy	*p;
	char		*err = NULL;

	p = policy_yaml_parse(y, strlen(y), flags, &err);
	if (p == NULL)
		fail_msg("parse error: %s", err);
	return p;
}

/* A policy "t" with one endpoint given as a YAML flow map body. */
static struct policy *
ep_policy(const char *ep, int flags)
{
	char		*y;
	struct policy	*p;

	assert_true(asprintf(&y, "version: 1\nnetwork_policies:\n  t:\n"
	    "    endpoints:\n    - {%s}\n    binaries: [{path: /b}]\n",
	    ep) > 0);
	p = parse(y, flags);
	free(y);
	return p;
}

static void
expect(const struct policy_strv *sv, const char *s)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return;
	for (i = 0; i < sv->n; i++)
		print_message("have: %s\n", sv->v[i]);
	fail_msg("missing: %s", s);
}

static void
l7(const struct policy *p, struct policy_strv *e, struct policy_strv *w)
{
	policy_strv_free(e);
	policy_strv_free(w);
	policy_validate_l7(p, e, w);
}

static void
test_safety_process(void **state)
{
	struct policy	*p;
	char		*msg;

	(void)state;
	p = parse("version: 1\nprocess: {run_as_user: root}\n", 0);
	policy_default_process(p);
	assert_string_equal(p->run_as_group, "sandbox");
	msg = policy_validate_safety(p);
	assert_string_equal(msg, "policy contains unsafe content: "
	    "run_as_user must be 'sandbox', got 'root'");
	free(msg);
	free(p->run_as_group);
	p->run_as_group = strdup("wheel");
	msg = policy_validate_safety(p);
	assert_string_equal(msg, "policy contains unsafe content: "
	    "run_as_user must be 'sandbox', got 'root'; run_as_group must be "
	    "'sandbox', got 'wheel'");
	free(msg);
	policy_free(p);

	/* absent process: the gateway fills in sandbox/sandbox */
	p = parse("version: 1\n", 0);
	policy_default_process(p);
	assert_true(p->has_process);
	assert_string_equal(p->run_as_user, "sandbox");
	assert_null(policy_validate_safety(p));
	policy_free(p);
}

static void
test_safety_paths(void **state)
{
	struct policy	*p;
	char		*msg, *exp, longp[POLICY_MAX_PATH_LEN + 2];

	(void)state;
	p = parse("version: 1\nfilesystem_policy:\n  read_only: [/, etc/x, "
	    "/usr/../etc/shadow, /a/..b]\n  read_write: [/, ///, /ok/]\n", 0);
	policy_default_process(p);
	msg = policy_validate_safety(p);
	assert_string_equal(msg, "policy contains unsafe content: "
	    "path must be absolute (start with '/'): etc/x; "
	    "path contains '..' traversal component: /usr/../etc/shadow; "
	    "read-write path is overly broad: /; "
	    "read-write path is overly broad: ///");
	free(msg);
	policy_free(p);

	p = policy_default();
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	policy_strv_add(&p->read_only, longp);
	msg = policy_validate_safety(p);
	assert_true(asprintf(&exp, "policy contains unsafe content: path "
	    "exceeds maximum length (4097 > 4096): %.77s...", longp) > 0);
	assert_string_equal(msg, exp);
	free(exp);
	free(msg);
	policy_free(p);

	p = policy_default();
	while (p->read_only.n + p->read_write.n <= POLICY_MAX_PATHS)
		policy_strv_add(&p->read_write, "/tmp/x");
	msg = policy_validate_safety(p);
	assert_string_equal(msg, "policy contains unsafe content: too many "
	    "filesystem paths (257 > 256)");
	free(msg);
	policy_free(p);
}

static void
test_update_immutability(void **state)
{
	struct policy	*base, *next;
	char		*msg;

	(void)state;
	base = policy_default();
	next = policy_default();
	assert_null(policy_validate_update(base, next));
	/* growth is fine */
	policy_strv_add(&next->read_only, "/opt");
	assert_null(policy_validate_update(base, next));
	next->include_workdir = 0;
	msg = policy_validate_update(base, next);
	assert_string_equal(msg, "filesystem include_workdir cannot be "
	    "changed on a live sandbox");
	free(msg);
	next->include_workdir = 1;
	free(next->read_only.v[0]);
	next->read_only.v[0] = strdup("/usr2");
	msg = policy_validate_update(base, next);
	assert_string_equal(msg, "filesystem read_only path '/usr' cannot be "
	    "removed on a live sandbox");
	free(msg);
	free(next->read_only.v[0]);
	next->read_only.v[0] = strdup("/usr");
	next->read_write.n--;
	free(next->read_write.v[next->read_write.n]);
	msg = policy_validate_update(base, next);
	assert_string_equal(msg, "filesystem read_write path '/dev/null' "
	    "cannot be removed on a live sandbox");
	free(msg);
	policy_strv_add(&next->read_write, "/dev/null");
	/* filesystem is checked before landlock and process */
	free(next->landlock_compat);
	next->landlock_compat = strdup("hard_requirement");
	free(next->run_as_user);
	next->run_as_user = strdup("x");
	next->has_filesystem = 0;
	msg = policy_validate_update(base, next);
	assert_string_equal(msg, "filesystem policy cannot be removed on a "
	    "live sandbox");
	free(msg);
	next->has_filesystem = 1;
	msg = policy_validate_update(base, next);
	assert_string_equal(msg, "landlock policy cannot be changed on a live "
	    "sandbox (applied at startup)");
	free(msg);
	free(next->landlock_compat);
	next->landlock_compat = strdup("best_effort");
	next->has_landlock = 0;		/* presence counts too */
	msg = policy_validate_update(base, next);
	assert_string_equal(msg, "landlock policy cannot be changed on a live "
	    "sandbox (applied at startup)");
	free(msg);
	next->has_landlock = 1;
	msg = policy_validate_update(base, next);
	assert_string_equal(msg, "process policy cannot be changed on a live "
	    "sandbox (applied at startup)");
	free(msg);
	/* a baseline without filesystem accepts one */
	base->has_filesystem = 0;
	free(next->run_as_user);
	next->run_as_user = strdup("sandbox");
	assert_null(policy_validate_update(base, next));
	policy_free(base);
	policy_free(next);
}

static void
test_l7_host_errors(void **state)
{
	struct policy_strv	 e = { 0 }, w = { 0 };
	struct policy		*p;

	(void)state;
	p = ep_policy("host: '*', port: 443", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 1);
	expect(&e, "t.endpoints[0]: host wildcard '*' matches all hosts; use "
	    "specific patterns like '*.example.com'");
	policy_free(p);
	p = ep_policy("host: '**', port: 443", 0);
	l7(p, &e, &w);
	expect(&e, "t.endpoints[0]: host wildcard '**' matches all hosts; use "
	    "specific patterns like '*.example.com'");
	policy_free(p);
	p = ep_policy("host: 'api*.example.com', port: 443", 0);
	l7(p, &e, &w);
	expect(&e, "t.endpoints[0]: host wildcard must start with '*.' or "
	    "'**.' (e.g., '*.example.com'), got 'api*.example.com'");
	policy_free(p);
	p = ep_policy("host: '*.com', port: 443", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 0);
	expect(&w, "t.endpoints[0]: host wildcard '*.com' is very broad "
	    "(covers all subdomains of a TLD)");
	policy_free(p);
	p = ep_policy("host: '*.example.com', port: 443", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n + w.n, 0);
	policy_free(p);
	policy_strv_free(&e);
	policy_strv_free(&w);
}

static void
test_l7_endpoint_errors(void **state)
{
	struct policy_strv	 e = { 0 }, w = { 0 };
	struct policy		*p;

	(void)state;
	p = ep_policy("host: h, port: 443, protocol: rest, access: full, "
	    "rules: [{allow: {method: GET, path: /}}]", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 1);
	expect(&e, "t.endpoints[0]: rules and access are mutually exclusive");
	policy_free(p);
	p = ep_policy("host: h, port: 443, protocol: rest", 0);
	l7(p, &e, &w);
	expect(&e, "t.endpoints[0]: protocol requires rules or access to "
	    "define allowed traffic");
	policy_free(p);
	p = ep_policy("host: h, port: 5432, protocol: sql, enforcement: "
	    "enforce, rules: [{allow: {command: SELECT}}]", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 1);
	expect(&e, "t.endpoints[0]: SQL enforcement requires full SQL parsing "
	    "(not available in v1). Use `enforcement: audit`.");
	policy_free(p);
	p = ep_policy("host: h, port: 443, rules: []", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 1);
	expect(&e, "t.endpoints[0]: rules list cannot be empty (would deny "
	    "all traffic). Use `access: full` or remove rules.");
	policy_free(p);
	/* G15: an unknown preset is an error, not a silent deny-all */
	p = ep_policy("host: h, port: 443, protocol: rest, access: readonly",
	    0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 1);
	expect(&e, "t.endpoints[0]: unknown access preset 'readonly'; "
	    "expected read-only, read-write or full");
	policy_free(p);
	p = ep_policy("host: h, port: 443, protocol: grpc, access: full", 0);
	l7(p, &e, &w);
	expect(&e, "t.endpoints[0]: unknown protocol 'grpc'; expected rest "
	    "or sql");
	policy_free(p);
	policy_strv_free(&e);
	policy_strv_free(&w);
}

static void
test_l7_warnings(void **state)
{
	struct policy_strv	 e = { 0 }, w = { 0 };
	struct policy		*p;

	(void)state;
	p = ep_policy("host: h, port: 443, protocol: rest, access: full, "
	    "tls: terminate", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 0);
	expect(&w, "t.endpoints[0]: 'tls: terminate' is deprecated; TLS "
	    "termination is now automatic. Use 'tls: skip' to disable.");
	policy_free(p);
	p = ep_policy("host: h, port: 443, tls: passthrough", 0);
	l7(p, &e, &w);
	expect(&w, "t.endpoints[0]: 'tls: passthrough' is deprecated; TLS "
	    "termination is now automatic. Use 'tls: skip' to disable.");
	policy_free(p);
	p = ep_policy("host: h, ports: [80, 443], protocol: rest, access: "
	    "read-only, tls: skip", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 0);
	expect(&w, "t.endpoints[0]: 'tls: skip' with L7 rules on port 443 "
	    "\xe2\x80\x94 L7 inspection cannot work on encrypted traffic");
	policy_free(p);
	p = ep_policy("host: h, port: 80, protocol: rest, rules: [{allow: "
	    "{method: PROPFIND, path: '/**'}}, {allow: {method: get, path: "
	    "/}}]", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 0);
	assert_int_equal(w.n, 1);
	expect(&w, "t.endpoints[0]: Unknown HTTP method 'PROPFIND'. Standard "
	    "methods: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS.");
	policy_free(p);
	p = ep_policy("host: h, port: 80, protocol: rest, rules: [{allow: "
	    "{method: GET, path: /, query: {a: 'x[', b: 'y]', c: {any: ['{z', "
	    "'ok']}, d: 'w}'}}}]", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 0);
	expect(&w, "t.endpoints[0].rules[0].allow.query.a: glob pattern 'x[' "
	    "has unclosed '['");
	expect(&w, "t.endpoints[0].rules[0].allow.query.b: glob pattern 'y]' "
	    "has unmatched ']'");
	expect(&w, "t.endpoints[0].rules[0].allow.query.c.any: glob pattern "
	    "'{z' has unclosed '{'");
	expect(&w, "t.endpoints[0].rules[0].allow.query.d: glob pattern 'w}' "
	    "has unmatched '}'");
	policy_free(p);
	/* our load-time additions */
	p = ep_policy("host: h, port: 80, ports: [443], enforcement: enforced, "
	    "allowed_ips: [bogus, 10.0.0.0/8, 127.0.0.0/8]", 0);
	l7(p, &e, &w);
	assert_int_equal(e.n, 0);
	expect(&w, "t.endpoints[0]: port and ports are mutually exclusive; "
	    "use ports for multiple ports");
	expect(&w, "t.endpoints[0]: unknown enforcement 'enforced'; treated "
	    "as audit");
	expect(&w, "t.endpoints[0]: invalid CIDR/IP in allowed_ips: bogus");
	expect(&w, "t.endpoints[0]: allowed_ips entry has a very broad CIDR "
	    "10.0.0.0/8 (/8) < /16; this may expose control-plane services on "
	    "the same network");
	expect(&w, "t.endpoints[0]: allowed_ips entry 127.0.0.0/8 overlaps an "
	    "always-blocked range (loopback/link-local/unspecified/sandbox "
	    "subnet); those addresses are always rejected");
	policy_free(p);
	policy_strv_free(&e);
	policy_strv_free(&w);
}

static void
test_l7_query_errors(void **state)
{
	struct policy_strv	 e = { 0 }, w = { 0 };
	struct policy		*p;

	(void)state;
	p = ep_policy("host: h, port: 80, protocol: rest, rules: [{allow: "
	    "{method: GET, path: /, query: {a: 5, b: {glob: x, any: [y]}, "
	    "c: {nope: 1}, d: {any: x}, e: {any: [1, z]}, f: {glob: 7}, g: "
	    "{any: []}, h: {}, i: {glob: ok}}}}]", POLICY_YAML_LOOSE);
	l7(p, &e, &w);
	assert_int_equal(e.n, 8);
	expect(&e, "t.endpoints[0].rules[0].allow.query.a: expected string "
	    "glob or object with `any`");
	expect(&e, "t.endpoints[0].rules[0].allow.query.b: matcher cannot "
	    "specify both `glob` and `any`");
	expect(&e, "t.endpoints[0].rules[0].allow.query.c: unknown matcher "
	    "keys; only `glob` or `any` are supported");
	expect(&e, "t.endpoints[0].rules[0].allow.query.d.any: expected array "
	    "of glob strings");
	expect(&e, "t.endpoints[0].rules[0].allow.query.e.any: all values "
	    "must be strings");
	expect(&e, "t.endpoints[0].rules[0].allow.query.f.glob: expected glob "
	    "string");
	expect(&e, "t.endpoints[0].rules[0].allow.query.g.any: list must not "
	    "be empty");
	expect(&e, "t.endpoints[0].rules[0].allow.query.h: object matcher "
	    "requires `glob` string or non-empty `any` list");
	policy_free(p);
	p = ep_policy("host: h, port: 80, protocol: rest, rules: [{allow: "
	    "{method: GET, path: /, query: [x]}}]", POLICY_YAML_LOOSE);
	l7(p, &e, &w);
	expect(&e, "t.endpoints[0].rules[0].allow.query: expected map of "
	    "query matchers");
	policy_free(p);
	/* the strict parser's {any: []} reaches validation too */
	p = ep_policy("host: h, port: 80, protocol: rest, rules: [{allow: "
	    "{method: GET, path: /, query: {g: {any: []}}}}]", 0);
	l7(p, &e, &w);
	expect(&e, "t.endpoints[0].rules[0].allow.query.g.any: list must not "
	    "be empty");
	policy_free(p);
	policy_strv_free(&e);
	policy_strv_free(&w);
}

static void
test_compile_reports_errors(void **state)
{
	struct policy		*p;
	char			*err = NULL;

	(void)state;
	p = ep_policy("host: '*', port: 443, rules: []", 0);
	assert_null(policy_compile(p, &err));
	assert_string_equal(err, "t.endpoints[0]: host wildcard '*' matches "
	    "all hosts; use specific patterns like '*.example.com'; "
	    "t.endpoints[0]: rules list cannot be empty (would deny all "
	    "traffic). Use `access: full` or remove rules.");
	free(err);
	policy_free(p);
}

static void
test_normalize(void **state)
{
	static const char *const rw[] = { "GET", "HEAD", "OPTIONS", "POST",
	    "PUT", "PATCH" };
	struct policy_strv	 e = { 0 }, w = { 0 };
	struct policy_endpoint	*ep;
	struct policy		*p;
	size_t			 i;

	(void)state;
	p = parse("version: 1\nnetwork_policies:\n  t:\n    endpoints:\n"
	    "    - {host: a, port: 443, protocol: rest, access: read-only}\n"
	    "    - {host: b, port: 80, ports: [8080, 8443], protocol: rest, "
	    "access: read-write}\n"
	    "    - {host: c, port: 1, protocol: rest, access: full}\n"
	    "    - {host: d, port: 1, protocol: rest, access: nope}\n"
	    "    - {host: e, port: 1, protocol: rest, rules: [{allow: "
	    "{method: GET, path: /x}}]}\n", 0);
	assert_int_equal(policy_normalize(p), 0);
	ep = p->rules[0].endpoints;
	assert_int_equal(ep[0].nports, 1);
	assert_int_equal(ep[0].ports[0], 443);
	assert_int_equal(ep[0].port, 0);
	assert_int_equal(ep[0].nrules, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(ep[0].rules[i].method, rw[i]);
		assert_string_equal(ep[0].rules[i].path, "**");
	}
	assert_null(ep[0].access);
	/* ports wins over port; read-write has no DELETE */
	assert_int_equal(ep[1].nports, 2);
	assert_int_equal(ep[1].ports[0], 8080);
	assert_int_equal(ep[1].nrules, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(ep[1].rules[i].method, rw[i]);
	assert_int_equal(ep[2].nrules, 1);
	assert_string_equal(ep[2].rules[0].method, "*");
	assert_string_equal(ep[2].rules[0].path, "**");
	/* unknown preset left for validation */
	assert_int_equal(ep[3].nrules, 0);
	assert_string_equal(ep[3].access, "nope");
	assert_int_equal(ep[4].nrules, 1);
	l7(p, &e, &w);
	assert_int_equal(e.n, 1);
	expect(&e, "t.endpoints[3]: unknown access preset 'nope'; expected "
	    "read-only, read-write or full");
	policy_free(p);
	policy_strv_free(&e);
	policy_strv_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safety_process),
		cmocka_unit_test(test_safety_paths),
		cmocka_unit_test(test_update_immutability),
		cmocka_unit_test(test_l7_host_errors),
		cmocka_unit_test(test_l7_endpoint_errors),
		cmocka_unit_test(test_l7_warnings),
		cmocka_unit_test(test_l7_query_errors),
		cmocka_unit_test(test_compile_reports_errors),
		cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
