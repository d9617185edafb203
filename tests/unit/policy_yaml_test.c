/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libpolicy YAML: the reference policies load, strictness (unknown
 * keys, types, required fields, duplicates) with serde's wording and
 * the key path and line, flow style, loose file mode, alias limits,
 * and emit -> parse round trips.
 */

#include <dirent.h>
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
static char		*parse_err(const char *, int);
static char		*roundtrip(const struct policy *);
static const char	*compat_dir(void);

static struct policy *
parse(const char *y, int flags)
{
	struct policy	*p;
	char		*err = NULL;

	p = policy_yaml_parse(y, strlen(y), flags, &err);
	if (p == NULL)
		fail_msg("unexpected parse error: %s", err);
	free(err);
	return p;
}

static char *
parse_err(const char *y, int flags)
{
	struct policy	*p;
	char		*err = NULL;

	p = policy_yaml_parse(y, strlen(y), flags, &err);
	if (p != NULL)
		fail_msg("parse unexpectedly succeeded: %s", y);
	assert_non_null(err);
	return err;
}

/* emit -> parse -> emit must be a fixed point; returns the first text. */
static char *
roundtrip(const struct policy *p)
{
	struct policy	*q;
	char		*a, *b;

	a = policy_yaml_emit(p, NULL);
	assert_non_null(a);
	q = parse(a, 0);
	b = policy_yaml_emit(q, NULL);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(b);
	policy_free(q);
	return a;
}

/*
 * The reference policies live next to the repository (../shared); a
 * tree without them skips the test rather than failing.
 */
static const char *
compat_dir(void)
{
	static const char *const dirs[] = { "../shared/compat/policies",
	    "../../shared/compat/policies" };
	const char	*env = getenv("OPENSHELL_COMPAT_POLICIES");
	DIR		*d;
	size_t		 i;

	if (env != NULL)
		return env;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((d = opendir(dirs[i])) != NULL) {
			closedir(d);
			return dirs[i];
		}
	return NULL;
}

static void
test_compat_policies_load(void **state)
{
	struct policy_strv	 errs = { 0 }, warns = { 0 };
	struct policy_engine	*e;
	struct policy		*p;
	struct dirent		*de;
	const char		*dir;
	char			 path[1024], *err = NULL, *y;
	DIR			*d;
	int			 n = 0;

	(void)state;
	if ((dir = compat_dir()) == NULL)
		skip();
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".yaml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		p = policy_yaml_load(path, 0, &err);
		if (p == NULL)
			fail_msg("%s: %s", path, err);
		assert_int_equal(p->version, 1);
		assert_int_equal(policy_validate_l7(p, &errs, &warns), 0);
		policy_default_process(p);
		assert_null(policy_validate_safety(p));
		assert_non_null(e = policy_compile(p, &err));
		policy_engine_unref(e);
		y = roundtrip(p);
		free(y);
		policy_free(p);
		n++;
	}
	closedir(d);
	policy_strv_free(&errs);
	policy_strv_free(&warns);
	assert_int_equal(n, 4);
}

/* The quickstart policy, inline so the test never depends on files. */
static const char quickstart[] =
    "version: 1\n"
    "filesystem_policy:\n"
    "  include_workdir: true\n"
    "  read_only: [/usr, /lib, /proc, /dev/urandom, /app, /etc, /var/log]\n"
    "  read_write: [/sandbox, /tmp, /dev/null]\n"
    "landlock:\n"
    "  compatibility: best_effort\n"
    "process:\n"
    "  run_as_user: sandbox\n"
    "  run_as_group: sandbox\n"
    "network_policies:\n"
    "  github_api:\n"
    "    name: github-api-readonly\n"
    "    endpoints:\n"
    "      - host: api.github.com\n"
    "        port: 443\n"
    "        protocol: rest\n"
    "        enforcement: enforce\n"
    "        access: read-only\n"
    "    binaries:\n"
    "      - { path: /usr/bin/curl }\n";

static void
test_model(void **state)
{
	struct policy		*p;
	struct policy_netrule	*r;
	struct policy_endpoint	*ep;

	(void)state;
	p = parse(quickstart, 0);
	assert_true(p->has_filesystem);
	assert_true(p->include_workdir && p->has_include_workdir);
	assert_int_equal(p->read_only.n, 7);
	assert_string_equal(p->read_only.v[3], "/dev/urandom");
	assert_int_equal(p->read_write.n, 3);
	assert_true(p->has_landlock);
	assert_string_equal(p->landlock_compat, "best_effort");
	assert_string_equal(p->run_as_group, "sandbox");
	assert_int_equal(p->nrules, 1);
	assert_non_null(r = policy_rule_find(p, "github_api"));
	assert_string_equal(r->name, "github-api-readonly");
	assert_int_equal(r->nendpoints, 1);
	ep = &r->endpoints[0];
	assert_string_equal(ep->host, "api.github.com");
	assert_int_equal(ep->port, 443);
	assert_string_equal(ep->access, "read-only");
	assert_false(ep->rules_present);
	assert_string_equal(r->binaries[0].path, "/usr/bin/curl");
	policy_free(p);
}

static void
test_absent_sections(void **state)
{
	struct policy	*p;

	(void)state;
	p = parse("version: 3\nnetwork_policies:\n  k: {}\n", 0);
	assert_int_equal(p->version, 3);	/* not checked, as upstream */
	assert_false(p->has_filesystem);
	assert_false(p->has_landlock);
	assert_false(p->has_process);
	/* name defaults to the map key */
	assert_string_equal(p->rules[0].name, "k");
	policy_free(p);

	p = parse("version: 1\nfilesystem_policy:\n  read_only: [/x]\n"
	    "landlock: ~\n", 0);
	assert_true(p->has_filesystem);
	assert_false(p->has_include_workdir);
	assert_false(p->include_workdir);
	assert_false(p->has_landlock);
	policy_free(p);
}

static void
test_unknown_keys(void **state)
{
	char	*err;

	(void)state;
	err = parse_err("version: 1\nnetwork_policies:\n  github_api:\n"
	    "    endpoints:\n      - hots: api.github.com\n", 0);
	assert_string_equal(err, "network_policies.github_api.endpoints[0]: "
	    "unknown field `hots`, expected one of `host`, `port`, `ports`, "
	    "`protocol`, `tls`, `enforcement`, `access`, `rules`, "
	    "`allowed_ips` at line 5 column 9");
	free(err);
	err = parse_err("version: 1\ninference: {}\n", 0);
	assert_string_equal(err, "unknown field `inference`, expected one "
	    "of `version`, `filesystem_policy`, `landlock`, `process`, "
	    "`network_policies` at line 2 column 1");
	free(err);
	err = parse_err("version: 1\nlandlock: {mode: x}\n", 0);
	assert_string_equal(err, "landlock: unknown field `mode`, expected "
	    "`compatibility` at line 2 column 12");
	free(err);
	err = parse_err("version: 1\nprocess: {user: x}\n", 0);
	assert_string_equal(err, "process: unknown field `user`, expected "
	    "`run_as_user` or `run_as_group` at line 2 column 11");
	free(err);
	err = parse_err("version: 1\nnetwork_policies:\n  a:\n    endpoints:"
	    "\n    - host: x\n      rules:\n      - allow: {method: GET, "
	    "verb: x}\n", 0);
	assert_non_null(strstr(err, "network_policies.a.endpoints[0]."
	    "rules[0].allow: unknown field `verb`"));
	free(err);
}

static void
test_wrong_types(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*err;
	} cases[] = {
		{ "version: \"1\"\n",
		  "version: invalid type: string \"1\", expected u32 at line 1 "
		  "column 10" },
		{ "version: -1\n",
		  "version: invalid value: integer `-1`, expected u32 at line 1 "
		  "column 10" },
		{ "version: 1\nfilesystem_policy:\n  read_only: /usr\n",
		  "filesystem_policy.read_only: invalid type: string \"/usr\", "
		  "expected a sequence at line 3 column 14" },
		{ "version: 1\nfilesystem_policy: {include_workdir: yes}\n",
		  "filesystem_policy.include_workdir: invalid type: string "
		  "\"yes\", expected a boolean at line 2 column 38" },
		{ "version: 1\nlandlock: best_effort\n",
		  "landlock: invalid type: string \"best_effort\", expected "
		  "struct LandlockDef at line 2 column 11" },
		{ "version: 1\nnetwork_policies: [a]\n",
		  "network_policies: invalid type: sequence, expected a map at "
		  "line 2 column 19" },
		{ "version: 1\nnetwork_policies:\n  a:\n    endpoints: "
		  "[{host: x, port: https}]\n",
		  "network_policies.a.endpoints[0].port: invalid type: string "
		  "\"https\", expected u16 at line 4 column 33" },
		{ "version: 1\nnetwork_policies:\n  a:\n    endpoints: "
		  "[{host: x, port: 70000}]\n",
		  "network_policies.a.endpoints[0].port: invalid value: integer "
		  "`70000`, expected u16 at line 4 column 33" },
		{ "version: 1\nnetwork_policies:\n  a:\n    endpoints: "
		  "[{host: x, ports: [443, true]}]\n",
		  "network_policies.a.endpoints[0].ports[1]: invalid type: "
		  "boolean `true`, expected u16 at line 4 column 40" },
		{ "version: 1\nnetwork_policies:\n  a:\n    endpoints: "
		  "[{host: [x]}]\n",
		  "network_policies.a.endpoints[0].host: invalid type: sequence, "
		  "expected a string at line 4 column 24" },
		{ "version: 1\nnetwork_policies:\n  a:\n    binaries: "
		  "[/usr/bin/curl]\n",
		  "network_policies.a.binaries[0]: invalid type: string "
		  "\"/usr/bin/curl\", expected struct NetworkBinaryDef at line 4 "
		  "column 16" },
		{ "version: 1\nnetwork_policies:\n  a:\n    endpoints: [{host: x,"
		  " rules: [{allow: {query: {page: 5}}}]}]\n",
		  "network_policies.a.endpoints[0].rules[0].allow.query.page: "
		  "data did not match any variant of untagged enum "
		  "QueryMatcherDef at line 4 column 58" },
		{ "version: 1\nnetwork_policies:\n  a:\n    endpoints: [{host: x,"
		  " rules: [{allow: {query: {page: {glob: x}}}}]}]\n",
		  "network_policies.a.endpoints[0].rules[0].allow.query.page: "
		  "data did not match any variant of untagged enum "
		  "QueryMatcherDef at line 4 column 58" },
	};
	size_t	 i;
	char	*err;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = parse_err(cases[i].yaml, 0);
		assert_string_equal(err, cases[i].err);
		free(err);
	}
}

static void
test_scalars_as_strings(void **state)
{
	struct policy	*p;

	(void)state;
	/* serde_yaml gives a String field any scalar's text. */
	p = parse("version: 1\nprocess: {run_as_user: 1000, run_as_group: "
	    "true}\n", 0);
	assert_string_equal(p->run_as_user, "1000");
	assert_string_equal(p->run_as_group, "true");
	policy_free(p);
	/* hex and octal ports, as YAML 1.2 */
	p = parse("version: 0x1\nnetwork_policies:\n  a:\n    endpoints: "
	    "[{host: h, port: 0o17}]\n", 0);
	assert_int_equal(p->version, 1);
	assert_int_equal(p->rules[0].endpoints[0].port, 15);
	policy_free(p);
}

static void
test_missing_and_duplicate(void **state)
{
	struct policy	*p;
	char		*err;

	(void)state;
	err = parse_err("network_policies: {}\n", 0);
	assert_string_equal(err, "missing field `version` at line 1 column 1");
	free(err);
	/* the dev file mode does not require it */
	p = parse("network_policies: {}\n", POLICY_YAML_LOOSE);
	policy_free(p);
	err = parse_err("version: 1\nnetwork_policies:\n  a:\n    binaries: "
	    "[{harness: true}]\n", 0);
	assert_string_equal(err, "network_policies.a.binaries[0]: missing "
	    "field `path` at line 4 column 16");
	free(err);
	err = parse_err("version: 1\nnetwork_policies:\n  a:\n    endpoints: "
	    "[{host: x, rules: [{}]}]\n", 0);
	assert_string_equal(err, "network_policies.a.endpoints[0].rules[0]: "
	    "missing field `allow` at line 4 column 35");
	free(err);
	err = parse_err("version: 1\nversion: 2\n", 0);
	assert_string_equal(err, "duplicate field `version` at line 2 "
	    "column 1");
	free(err);
	err = parse_err("version: 1\nnetwork_policies:\n  a: {}\n  b: {}\n"
	    "  a: {}\n", 0);
	assert_string_equal(err, "network_policies: duplicate entry with key "
	    "\"a\" at line 5 column 3");
	free(err);
}

static void
test_syntax_errors(void **state)
{
	char	*err;

	(void)state;
	err = parse_err("", 0);
	assert_string_equal(err, "EOF while parsing a value");
	free(err);
	err = parse_err("version: 1\n---\nversion: 1\n", 0);
	assert_string_equal(err, "deserializing from YAML containing more "
	    "than one document is not supported");
	free(err);
	err = parse_err("version: 1\nread_only: [a, b\n", 0);
	assert_non_null(strstr(err, "did not find expected ',' or ']'"));
	assert_non_null(strstr(err, "at line 3 column 1"));
	free(err);
	err = parse_err("version: 1\n\tfoo: x\n", 0);
	assert_non_null(strstr(err, "line 2"));
	free(err);
	err = parse_err("- a\n- b\n", 0);
	assert_string_equal(err, "invalid type: sequence, expected struct "
	    "PolicyFile at line 1 column 1");
	free(err);
}

static void
test_flow_style(void **state)
{
	struct policy		*p;
	struct policy_endpoint	*ep;
	char			*y;

	(void)state;
	p = parse("{version: 1, filesystem_policy: {include_workdir: false, "
	    "read_only: [/usr], read_write: [/tmp]}, network_policies: {k: "
	    "{endpoints: [{host: a.example.com, ports: [80, 443], protocol: "
	    "rest, rules: [{allow: {method: GET, path: '/v1/**', query: "
	    "{repo: 'NVIDIA/*', tag: {any: [a, 'b*']}}}}]}], binaries: "
	    "[{path: /usr/bin/curl, harness: true}]}}}", 0);
	assert_false(p->include_workdir);
	assert_true(p->has_include_workdir);
	ep = &p->rules[0].endpoints[0];
	assert_int_equal(ep->nports, 2);
	assert_int_equal(ep->ports[1], 443);
	assert_int_equal(ep->nrules, 1);
	assert_string_equal(ep->rules[0].path, "/v1/**");
	assert_int_equal(ep->rules[0].nquery, 2);
	assert_string_equal(ep->rules[0].query[0].key, "repo");
	assert_string_equal(ep->rules[0].query[0].glob, "NVIDIA/*");
	assert_string_equal(ep->rules[0].query[1].key, "tag");
	assert_int_equal(ep->rules[0].query[1].any.n, 2);
	assert_true(p->rules[0].binaries[0].harness);
	y = roundtrip(p);
	/* harness is dropped on output, like the reference serialiser */
	assert_null(strstr(y, "harness"));
	assert_non_null(strstr(y, "ports:\n"));
	free(y);
	policy_free(p);
}

static void
test_roundtrip_shapes(void **state)
{
	struct policy		*p, *q;
	char			*y;

	(void)state;
	p = parse("version: 1\n"
	    "process: {run_as_user: '', run_as_group: ''}\n"
	    "landlock: {}\n"
	    "network_policies:\n"
	    "  z:\n"
	    "    endpoints:\n"
	    "    - {host: h, ports: [443], rules: [], allowed_ips: "
	    "['10.0.0.0/8']}\n"
	    "    - {host: '*.x.com', port: 8443, protocol: rest, access: full}\n"
	    "  a:\n"
	    "    name: '443'\n"
	    "    endpoints:\n"
	    "    - {host: 'true', port: 1, protocol: rest, rules: [{allow: "
	    "{method: '*', path: '**', query: {n: '5', e: {any: []}}}}]}\n",
	    0);
	y = roundtrip(p);
	/* one port collapses to port:, empty process is left out */
	assert_non_null(strstr(y, "port: 443\n"));
	assert_null(strstr(y, "process"));
	assert_non_null(strstr(y, "landlock: {}\n"));
	assert_non_null(strstr(y, "rules: []\n"));
	assert_non_null(strstr(y, "name: '443'\n"));
	assert_non_null(strstr(y, "host: 'true'\n"));
	assert_non_null(strstr(y, "n: '5'\n"));
	/* sorted by key: a before z */
	assert_true(strstr(y, "  a:\n") < strstr(y, "  z:\n"));
	q = parse(y, 0);
	assert_true(q->rules[1].endpoints[0].rules_present);
	assert_int_equal(q->rules[1].endpoints[0].nrules, 0);
	assert_string_equal(q->rules[0].endpoints[0].rules[0].method, "*");
	assert_true(q->rules[0].endpoints[0].rules[0].query[0].has_any);
	policy_free(q);
	free(y);
	policy_free(p);

	p = policy_default();
	y = roundtrip(p);
	assert_non_null(strstr(y, "include_workdir: true\n"));
	free(y);
	policy_free(p);
}

static void
test_loose_mode(void **state)
{
	struct policy		*p;
	struct policy_l7rule	*r;

	(void)state;
	p = parse("version: 1\nextra: 1\nnetwork_policies:\n  a:\n"
	    "    endpoints:\n    - host: x\n      bogus: 1\n      rules:\n"
	    "      - allow:\n          query:\n            a: 5\n"
	    "            b: {glob: x, any: [y]}\n            c: {nope: 1}\n"
	    "            d: {any: x}\n            e: {any: [1, z]}\n"
	    "            f: {glob: 7}\n", POLICY_YAML_LOOSE);
	r = &p->rules[0].endpoints[0].rules[0];
	assert_int_equal(r->nquery, 6);
	assert_true(r->query[0].bad & POLICY_QM_BAD_TYPE);
	assert_true(r->query[1].has_glob && r->query[1].has_any);
	assert_true(r->query[2].bad & POLICY_QM_BAD_KEYS);
	assert_true(r->query[3].bad & POLICY_QM_BAD_ANYTYPE);
	assert_true(r->query[4].bad & POLICY_QM_BAD_ANYITEM);
	assert_int_equal(r->query[4].any.n, 1);
	assert_true(r->query[5].bad & POLICY_QM_BAD_GLOBTYPE);
	policy_free(p);
	p = parse("version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
	    "    - {host: x, rules: [{allow: {query: [1]}}]}\n",
	    POLICY_YAML_LOOSE);
	assert_true(p->rules[0].endpoints[0].rules[0].query_bad);
	policy_free(p);
}

static void
test_alias_limits(void **state)
{
	char	*err, buf[8192];
	size_t	 len;
	int	 i, j;

	(void)state;
	/* A node that contains itself. */
	err = parse_err("version: 1\nfilesystem_policy:\n  read_only: "
	    "&a [*a]\n", 0);
	assert_non_null(strstr(err, "invalid type: sequence"));
	free(err);
	err = parse_err("version: 1\nnetwork_policies: &a\n  k:\n    name: "
	    "x\n  j: *a\n", 0);
	assert_non_null(strstr(err, "unknown field `k`"));
	free(err);
	/*
	 * Billion laughs: one rule of 100 query matchers, aliased 10 times
	 * per endpoint, 10 endpoints per policy, 20 policies: millions of
	 * node visits from a 4 KiB document.
	 */
	len = (size_t)snprintf(buf, sizeof(buf), "version: 1\n"
	    "network_policies:\n  p0: &p\n    endpoints:\n"
	    "    - &e {host: h, port: 1, rules: [&r {allow: {query: {");
	for (j = 0; j < 100; j++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%sq%d: {any: [a, b, c, d, e, f, g, h, i, j]}",
		    j ? ", " : "", j);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len,
	    "}}}, *r, *r, *r, *r, *r, *r, *r, *r, *r]}\n");
	for (j = 0; j < 9; j++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "    - *e\n");
	for (i = 1; i < 20; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "  p%d: *p\n", i);
	assert_true(len < sizeof(buf) - 1);
	err = parse_err(buf, 0);
	assert_non_null(strstr(err, "repetition limit exceeded"));
	free(err);
}

static void
test_load_file_errors(void **state)
{
	char	*err = NULL;

	(void)state;
	assert_null(policy_yaml_load("/nonexistent/policy.yaml", 0, &err));
	assert_non_null(strstr(err, "failed to read sandbox policy from "
	    "/nonexistent/policy.yaml"));
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_policies_load),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_absent_sections),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_scalars_as_strings),
		cmocka_unit_test(test_missing_and_duplicate),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_flow_style),
		cmocka_unit_test(test_roundtrip_shapes),
		cmocka_unit_test(test_loose_mode),
		cmocka_unit_test(test_alias_limits),
		cmocka_unit_test(test_load_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
