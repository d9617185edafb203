/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libpolicy decisions: every rule of sandbox.md §2.4-2.6 (hosts,
 * ports, binaries, union over policies, deny texts, L7 method/path/
 * query, presets, audit/enforce), the G6b fix (overlapping policies keep
 * their L7 rules), and the SSRF address classes, modes and texts with
 * the G8 additions.
 */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libpolicy/policy.h"
#include "libpolicy/policy_glob.h"

static struct policy_engine *compile(const char *);
static int	 decide(struct policy_engine *, const char *, uint16_t,
		    const char *, struct policy_l4 *);
static int	 allowed(struct policy_engine *, const char *, uint16_t,
		    const char *);
static enum policy_verdict l7(struct policy_engine *, const char *,
		    const char *, const char *, const struct policy_param *,
		    size_t);
static struct sockaddr_storage addr(const char *);
static int	 internal(const char *);
static char	*ssrf(struct policy_engine *, const char *, uint16_t,
		    const char *, const char *);

static const char *const no_anc[] = { NULL };
static const char *const *anc = no_anc;
static size_t nanc;

/* YAML with the "version: 1\nnetwork_policies:\n" prefix added. */
static struct policy_engine *
compile(const char *rules)
{
	struct policy_engine	*e;
	struct policy		*p;
	char			*y, *err = NULL;

	assert_true(asprintf(&y, "version: 1\nnetwork_policies:\n%s",
	    rules) > 0);
	p = policy_yaml_parse(y, strlen(y), 0, &err);
	if (p == NULL)
		fail_msg("parse: %s", err);
	free(y);
	if ((e = policy_compile(p, &err)) == NULL)
		fail_msg("compile: %s", err);
	policy_free(p);		/* the engine keeps its own copy */
	return e;
}

static int
decide(struct policy_engine *e, const char *host, uint16_t port,
    const char *exe, struct policy_l4 *res)
{
	static const char *const cmd[] = { "/usr/bin/git", "/tmp/s.py" };
	struct policy_exec	 x = { exe, anc, nanc, cmd, 2 };

	return policy_decide_l4(e, host, port, &x, res);
}

static int
allowed(struct policy_engine *e, const char *host, uint16_t port,
    const char *exe)
{
	struct policy_l4	 r;
	int			 rc;

	rc = decide(e, host, port, exe, &r);
	assert_true(rc == 0 || rc == 1);
	assert_int_equal(rc, r.allow);
	assert_true(r.allow ? policy_l4_reason(&r) == NULL : policy_l4_reason(&r) != NULL);
	policy_l4_clear(&r);
	return rc;
}

/* host:443 from /usr/bin/curl, then one request. */
static enum policy_verdict
l7(struct policy_engine *e, const char *host, const char *method,
    const char *path, const struct policy_param *q, size_t nq)
{
	struct policy_l4	 r;
	struct policy_l7	 d;

	assert_int_equal(decide(e, host, 443, "/usr/bin/curl", &r), 1);
	assert_int_equal(policy_decide_l7(e, &r, method, path, q, nq, &d), 0);
	assert_string_equal(d.policy, r.policy);
	policy_l4_clear(&r);
	return d.verdict;
}

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		fail_msg("bad address %s", s);
	return ss;
}

static int
internal(const char *s)
{
	struct sockaddr_storage	 ss = addr(s);

	return policy_addr_internal((struct sockaddr *)&ss);
}

/* Decide host:port for curl, then SSRF-check one resolved address. */
static char *
ssrf(struct policy_engine *e, const char *host, uint16_t port,
    const char *exe, const char *ip)
{
	struct policy_l4	 r;
	struct sockaddr_storage	 ss;
	char			*reason = NULL;
	int			 rc;

	assert_int_equal(decide(e, host, port, exe, &r), 1);
	if (ip != NULL)
		ss = addr(ip);
	rc = policy_check_ssrf(&r, host, port, &ss, ip != NULL, &reason);
	assert_true(rc == 0 ? reason == NULL : reason != NULL);
	policy_l4_clear(&r);
	return reason;
}

static void
test_hosts(void **state)
{
	struct policy_engine	*e;
	struct policy		*p;
	char			*err = NULL;
	const char		*y;

	(void)state;
	e = compile("  t:\n    endpoints:\n"
	    "    - {host: API.Example.com, port: 443}\n"
	    "    - {host: '*.one.test', port: 443}\n"
	    "    - {host: '**.deep.test', port: 443}\n"
	    "    - {host: '*.{a,b}.alt.test', port: 443}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n");
	assert_true(allowed(e, "api.example.com", 443, "/usr/bin/curl"));
	assert_true(allowed(e, "api.EXAMPLE.COM", 443, "/usr/bin/curl"));
	assert_false(allowed(e, "x.api.example.com", 443, "/usr/bin/curl"));
	/* '*' is one label */
	assert_true(allowed(e, "api.one.test", 443, "/usr/bin/curl"));
	assert_true(allowed(e, "API.One.Test", 443, "/usr/bin/curl"));
	assert_false(allowed(e, "a.b.one.test", 443, "/usr/bin/curl"));
	assert_false(allowed(e, "one.test", 443, "/usr/bin/curl"));
	/* '**' is any depth, never the apex */
	assert_true(allowed(e, "a.deep.test", 443, "/usr/bin/curl"));
	assert_true(allowed(e, "a.b.c.deep.test", 443, "/usr/bin/curl"));
	assert_false(allowed(e, "deep.test", 443, "/usr/bin/curl"));
	assert_false(allowed(e, "xdeep.test", 443, "/usr/bin/curl"));
	assert_true(allowed(e, "x.b.alt.test", 443, "/usr/bin/curl"));
	assert_false(allowed(e, "x.c.alt.test", 443, "/usr/bin/curl"));
	policy_engine_unref(e);

	/* a bare '*' host never compiles */
	y = "version: 1\nnetwork_policies:\n  t:\n    endpoints: [{host: "
	    "'*', port: 443}]\n";
	assert_non_null(p = policy_yaml_parse(y, strlen(y), 0, &err));
	assert_null(policy_compile(p, &err));
	assert_non_null(strstr(err, "matches all hosts"));
	free(err);
	policy_free(p);
}

static void
test_ports(void **state)
{
	struct policy_engine	*e;
	struct policy_l4	 r;

	(void)state;
	e = compile("  t:\n    endpoints:\n"
	    "    - {host: multi.test, ports: [80, 443]}\n"
	    "    - {host: legacy.test, port: 8080}\n"
	    "    - {host: both.test, port: 1, ports: [2]}\n"
	    "    - {host: none.test}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n");
	assert_true(allowed(e, "multi.test", 80, "/usr/bin/curl"));
	assert_true(allowed(e, "multi.test", 443, "/usr/bin/curl"));
	assert_true(allowed(e, "legacy.test", 8080, "/usr/bin/curl"));
	assert_true(allowed(e, "both.test", 2, "/usr/bin/curl"));
	assert_false(allowed(e, "both.test", 1, "/usr/bin/curl"));
	assert_false(allowed(e, "none.test", 0, "/usr/bin/curl"));
	assert_int_equal(decide(e, "multi.test", 81, "/usr/bin/curl", &r), 0);
	assert_string_equal(policy_l4_reason(&r), "endpoint multi.test:81 not in policy "
	    "'t'");
	policy_l4_clear(&r);
	policy_engine_unref(e);
}

static void
test_binaries(void **state)
{
	static const char *const chain[] = { "/bin/sh", "/usr/bin/python3",
	    "/usr/bin/bash", "/usr/bin/tmux", "/opt/agent/bin/agent",
	    "/sbin/init" };
	struct policy_engine	*e;
	struct policy_l4	 r;

	(void)state;
	e = compile("  exact:\n    endpoints: [{host: a.test, port: 443}]\n"
	    "    binaries: [{path: /usr/bin/curl}]\n"
	    "  deep:\n    endpoints: [{host: b.test, port: 443}]\n"
	    "    binaries: [{path: /opt/agent/bin/agent}]\n"
	    "  star:\n    endpoints: [{host: c.test, port: 443}]\n"
	    "    binaries: [{path: '/home/*/bin/tool'}]\n"
	    "  super:\n    endpoints: [{host: d.test, port: 443}]\n"
	    "    binaries: [{path: '/opt/**/tool'}]\n"
	    "  nobin:\n    endpoints: [{host: e.test, port: 443}]\n"
	    "  noep:\n    binaries: [{path: /usr/bin/curl}]\n");
	assert_true(allowed(e, "a.test", 443, "/usr/bin/curl"));
	assert_false(allowed(e, "a.test", 443, "/usr/bin/curl2"));
	assert_false(allowed(e, "a.test", 443, "/USR/bin/curl"));
	/* an ancestor grants, however deep */
	anc = chain;
	nanc = 6;
	assert_true(allowed(e, "b.test", 443, "/usr/bin/wget"));
	nanc = 4;
	assert_false(allowed(e, "b.test", 443, "/usr/bin/wget"));
	assert_true(allowed(e, "a.test", 443, "/usr/bin/curl"));
	nanc = 0;
	anc = no_anc;
	/* '*' stays inside one path segment, '**' crosses them */
	assert_true(allowed(e, "c.test", 443, "/home/bob/bin/tool"));
	assert_false(allowed(e, "c.test", 443, "/home/bob/x/bin/tool"));
	assert_false(allowed(e, "c.test", 443, "/home/bin/tool"));
	assert_true(allowed(e, "d.test", 443, "/opt/a/b/c/tool"));
	assert_true(allowed(e, "d.test", 443, "/opt/a/tool"));
	assert_false(allowed(e, "d.test", 443, "/usr/a/tool"));
	/* empty binaries / empty endpoints match nothing */
	assert_false(allowed(e, "e.test", 443, "/usr/bin/curl"));
	/* cmdline paths (/usr/bin/git here) never grant */
	assert_int_equal(decide(e, "a.test", 443, "/usr/bin/python3", &r), 0);
	assert_non_null(strstr(policy_l4_reason(&r), "binary '/usr/bin/python3' "
	    "(ancestors: [], cmdline: [/usr/bin/git, /tmp/s.py]) not allowed "
	    "in policy 'exact'"));
	policy_l4_clear(&r);
	policy_engine_unref(e);
}

static void
test_union_and_reasons(void **state)
{
	static const char *const chain[] = { "/bin/bash", "/sbin/init" };
	struct policy_engine	*e;
	struct policy_l4	 r;

	(void)state;
	e = compile("  zeta:\n    endpoints: [{host: shared.test, port: 443}]\n"
	    "    binaries: [{path: /usr/bin/curl}, {path: /usr/bin/git}]\n"
	    "  alpha:\n    endpoints: [{host: shared.test, port: 443}]\n"
	    "    binaries: [{path: /usr/bin/curl}]\n"
	    "  mid:\n    endpoints: [{host: other.test, port: 443}]\n"
	    "    binaries: [{path: /usr/bin/node}]\n");
	assert_int_equal(decide(e, "shared.test", 443, "/usr/bin/curl", &r),
	    1);
	assert_string_equal(r.policy, "alpha");	/* smallest key */
	policy_l4_clear(&r);
	assert_int_equal(decide(e, "shared.test", 443, "/usr/bin/git", &r), 1);
	assert_string_equal(r.policy, "zeta");	/* only zeta grants git */
	policy_l4_clear(&r);
	anc = chain;
	nanc = 2;
	assert_int_equal(decide(e, "shared.test", 443, "/usr/bin/wget", &r),
	    0);
	assert_string_equal(policy_l4_reason(&r),
	    "endpoint shared.test:443 not in policy 'mid'; "
	    "binary '/usr/bin/wget' (ancestors: [/bin/bash -> /sbin/init], "
	    "cmdline: [/usr/bin/git, /tmp/s.py]) not allowed in policy "
	    "'alpha'; "
	    "binary '/usr/bin/wget' (ancestors: [/bin/bash -> /sbin/init], "
	    "cmdline: [/usr/bin/git, /tmp/s.py]) not allowed in policy 'zeta'");
	policy_l4_clear(&r);
	nanc = 0;
	anc = no_anc;
	assert_int_equal(decide(e, "nowhere.test", 443, "/usr/bin/curl", &r),
	    0);
	assert_string_equal(policy_l4_reason(&r),
	    "endpoint nowhere.test:443 not in policy 'alpha'; "
	    "endpoint nowhere.test:443 not in policy 'mid'; "
	    "endpoint nowhere.test:443 not in policy 'zeta'");
	policy_l4_clear(&r);
	policy_engine_unref(e);

	e = compile("  {}\n");
	assert_int_equal(decide(e, "a.test", 443, "/usr/bin/curl", &r), 0);
	assert_string_equal(policy_l4_reason(&r), "network connections not allowed by "
	    "policy");
	policy_l4_clear(&r);
	policy_engine_unref(e);
}

static void
test_hostless(void **state)
{
	struct policy_engine	*e;
	char			*reason;

	(void)state;
	e = compile("  internal:\n    endpoints:\n"
	    "    - {port: 5432, allowed_ips: [10.1.0.0/16]}\n"
	    "    - {port: 6000}\n"
	    "    binaries: [{path: /usr/bin/psql}]\n");
	assert_true(allowed(e, "db.cluster.local", 5432, "/usr/bin/psql"));
	assert_true(allowed(e, "anything", 5432, "/usr/bin/psql"));
	assert_false(allowed(e, "db.cluster.local", 5433, "/usr/bin/psql"));
	assert_false(allowed(e, "x", 6000, "/usr/bin/psql"));
	reason = ssrf(e, "db.cluster.local", 5432, "/usr/bin/psql",
	    "10.1.2.3");
	assert_null(reason);
	reason = ssrf(e, "evil.test", 5432, "/usr/bin/psql", "10.2.0.1");
	assert_string_equal(reason, "evil.test resolves to 10.2.0.1 which is "
	    "not in allowed_ips, connection rejected");
	free(reason);
	policy_engine_unref(e);
}

static void
test_l7_rules(void **state)
{
	struct policy_engine	*e;
	struct policy_param	 q[3];

	(void)state;
	e = compile("  api:\n    endpoints:\n"
	    "    - host: api.test\n      port: 443\n      protocol: rest\n"
	    "      enforcement: enforce\n      rules:\n"
	    "      - allow: {method: get, path: '/repos/*/issues'}\n"
	    "      - allow: {method: '*', path: '/admin/**'}\n"
	    "      - allow: {method: POST, path: '**'}\n"
	    "      - allow: {method: GET, path: /search, query: {q: 'NVIDIA/*',"
	    " v: {any: ['v1', 'v2*']}}}\n"
	    "      - allow: {command: SELECT}\n"
	    "      - allow: {method: PUT}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n");
	assert_int_equal(l7(e, "api.test", "GET", "/repos/x/issues", NULL, 0),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "api.test", "Get", "/repos/x/issues", NULL, 0),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "api.test", "GET", "/repos/x/y/issues", NULL,
	    0), POLICY_DENY);
	assert_int_equal(l7(e, "api.test", "DELETE", "/admin/a/b", NULL, 0),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "api.test", "POST", "/anything/at/all", NULL,
	    0), POLICY_ALLOW);
	assert_int_equal(l7(e, "api.test", "PATCH", "/repos/x/issues", NULL,
	    0), POLICY_DENY);
	/* a rule without path only matches the empty path */
	assert_int_equal(l7(e, "api.test", "PUT", "/x", NULL, 0), POLICY_DENY);
	/* SQL rules never match REST */
	assert_int_equal(l7(e, "api.test", "SELECT", "/", NULL, 0),
	    POLICY_DENY);
	/* query: every listed key present, every value matching */
	q[0] = (struct policy_param){ "q", "NVIDIA/openshell" };
	q[1] = (struct policy_param){ "v", "v2beta" };
	q[2] = (struct policy_param){ "other", "free" };
	assert_int_equal(l7(e, "api.test", "GET", "/search", q, 3),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "api.test", "GET", "/search", q, 1),
	    POLICY_DENY);			/* v missing */
	q[1].value = "v3";
	assert_int_equal(l7(e, "api.test", "GET", "/search", q, 2),
	    POLICY_DENY);			/* no any matches */
	/* duplicate keys: all values must match */
	q[1] = (struct policy_param){ "q", "NVIDIA/x" };
	q[2] = (struct policy_param){ "v", "v1" };
	assert_int_equal(l7(e, "api.test", "GET", "/search", q, 3),
	    POLICY_ALLOW);
	q[1].value = "openai/x";
	assert_int_equal(l7(e, "api.test", "GET", "/search", q, 3),
	    POLICY_DENY);
	/* query globs use '.' as delimiter: 'v2*' stops at a dot */
	q[1].value = "NVIDIA/y";
	q[2].value = "v2.1";
	assert_int_equal(l7(e, "api.test", "GET", "/search", q, 3),
	    POLICY_DENY);
	policy_engine_unref(e);
}

static void
test_presets_and_audit(void **state)
{
	struct policy_engine	*e;

	(void)state;
	e = compile("  t:\n    endpoints:\n"
	    "    - {host: ro.test, port: 443, protocol: rest, access: "
	    "read-only, enforcement: enforce}\n"
	    "    - {host: rw.test, port: 443, protocol: rest, access: "
	    "read-write, enforcement: enforce}\n"
	    "    - {host: full.test, port: 443, protocol: rest, access: full, "
	    "enforcement: enforce}\n"
	    "    - {host: audit.test, port: 443, protocol: rest, access: "
	    "read-only}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n");
	assert_int_equal(l7(e, "ro.test", "GET", "/a", NULL, 0), POLICY_ALLOW);
	assert_int_equal(l7(e, "ro.test", "HEAD", "/a", NULL, 0),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "ro.test", "OPTIONS", "/", NULL, 0),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "ro.test", "POST", "/a", NULL, 0), POLICY_DENY);
	assert_int_equal(l7(e, "rw.test", "POST", "/a", NULL, 0),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "rw.test", "PUT", "/a", NULL, 0), POLICY_ALLOW);
	assert_int_equal(l7(e, "rw.test", "PATCH", "/a", NULL, 0),
	    POLICY_ALLOW);
	assert_int_equal(l7(e, "rw.test", "DELETE", "/a", NULL, 0),
	    POLICY_DENY);
	assert_int_equal(l7(e, "full.test", "DELETE", "/a", NULL, 0),
	    POLICY_ALLOW);
	/* audit (the default) lets a violation through, labelled */
	assert_int_equal(l7(e, "audit.test", "DELETE", "/a", NULL, 0),
	    POLICY_AUDIT);
	assert_string_equal(policy_verdict_str(POLICY_AUDIT), "audit");
	assert_string_equal(policy_verdict_str(POLICY_DENY), "deny");
	assert_string_equal(policy_verdict_str(POLICY_ALLOW), "allow");
	policy_engine_unref(e);
}

/*
 * G6b: the reference returns the first matching endpoint with
 * "extended config" only, so a policy ranked first with just
 * allowed_ips hid another policy's L7 rules.  Here every policy's rules
 * stay in force.
 */
static void
test_overlap_keeps_l7(void **state)
{
	struct policy_engine	*e;
	struct policy_l4	 r;
	struct policy_l7	 d;
	char			*reason;

	(void)state;
	e = compile("  a_ips:\n    endpoints:\n"
	    "    - {host: api.test, port: 443, allowed_ips: [10.9.0.1]}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n"
	    "  b_rest:\n    endpoints:\n"
	    "    - {host: api.test, port: 443, protocol: rest, enforcement: "
	    "enforce, allowed_ips: [10.9.0.2], rules: [{allow: {method: GET, "
	    "path: /b}}]}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n"
	    "  c_rest:\n    endpoints:\n"
	    "    - {host: api.test, port: 443, protocol: rest, rules: [{allow: "
	    "{method: GET, path: /c}}]}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n"
	    "  d_skip:\n    endpoints:\n"
	    "    - {host: api.test, port: 443, tls: skip}\n"
	    "    - {host: raw.test, port: 443, tls: skip}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n");
	assert_int_equal(decide(e, "api.test", 443, "/usr/bin/curl", &r), 1);
	assert_string_equal(r.policy, "a_ips");
	assert_int_equal(r.proto, POLICY_PROTO_REST);	/* L7 still applies */
	assert_true(r.enforce);
	assert_false(r.tls_skip);		/* d_skip cannot switch it off */
	assert_true(r.has_allowed_ips);
	policy_decide_l7(e, &r, "GET", "/b", NULL, 0, &d);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	assert_string_equal(d.rule_policy, "b_rest");
	assert_string_equal(d.policy, "a_ips");
	policy_decide_l7(e, &r, "GET", "/c", NULL, 0, &d);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	assert_string_equal(d.rule_policy, "c_rest");
	policy_decide_l7(e, &r, "POST", "/b", NULL, 0, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	assert_null(d.rule_policy);
	policy_l4_clear(&r);
	/* allowed_ips is the union */
	assert_null(ssrf(e, "api.test", 443, "/usr/bin/curl", "10.9.0.1"));
	assert_null(ssrf(e, "api.test", 443, "/usr/bin/curl", "10.9.0.2"));
	reason = ssrf(e, "api.test", 443, "/usr/bin/curl", "10.9.0.3");
	assert_string_equal(reason, "api.test resolves to 10.9.0.3 which is "
	    "not in allowed_ips, connection rejected");
	free(reason);
	/* skip alone still gives a raw tunnel */
	assert_int_equal(decide(e, "raw.test", 443, "/usr/bin/curl", &r), 1);
	assert_true(r.tls_skip);
	assert_int_equal(r.proto, POLICY_PROTO_NONE);
	policy_l4_clear(&r);
	policy_engine_unref(e);
}

static void
test_special_addresses(void **state)
{
	static const char *const inside[] = {
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1",
		"100.127.255.254", "127.0.0.1", "127.255.0.1", "169.254.169.254",
		"172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1",
		"192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.1",
		"198.51.100.7", "203.0.113.9", "224.0.0.251", "239.1.1.1",
		"240.0.0.1", "255.255.255.255",
		"::", "::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
		"::ffff:0:10.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b::7f00:1",
		"64:ff9b:1::1", "64:ff9b:1:ffff::8.8.8.8", "100::1",
		"2001::1", "2001:0:4136:e378::1", "2001:1ff::1", "2001:db8::1",
		"2002:a00:1::1", "2002:c0a8:101::1", "fc00::1", "fd12:3456::1",
		"fe80::1", "febf::1", "fec0::1", "ff02::1", "::8.8.8.8",
		"::10.0.0.1", "3fff::1",
	};
	static const char *const outside[] = {
		"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1",
		"172.15.255.255", "172.32.0.1", "192.0.1.1", "192.88.98.1",
		"198.17.255.255", "198.20.0.1", "223.255.255.254",
		"2606:4700:4700::1111", "2a00:1450::1", "::ffff:8.8.8.8",
		"64:ff9b::808:808", "2002:808:808::1", "2001:200::1",
		"2001:4860::8888",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++)
		if (!internal(inside[i]))
			fail_msg("%s should be internal", inside[i]);
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		if (internal(outside[i]))
			fail_msg("%s should be public", outside[i]);
}

static void
test_always_blocked(void **state)
{
	static const char *const blocked[] = { "127.0.0.1", "127.1.2.3",
	    "169.254.169.254", "0.0.0.0", "10.200.0.1", "10.200.0.255", "::1",
	    "::", "fe80::1", "::ffff:127.0.0.1", "::ffff:169.254.1.1",
	    "::ffff:10.200.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1" };
	static const char *const fine[] = { "10.200.1.1", "10.0.0.1",
	    "192.168.1.1", "fc00::1", "8.8.8.8" };
	struct sockaddr_storage	 ss;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		ss = addr(blocked[i]);
		if (!policy_addr_always_blocked((struct sockaddr *)&ss))
			fail_msg("%s should be always blocked", blocked[i]);
	}
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		ss = addr(fine[i]);
		if (policy_addr_always_blocked((struct sockaddr *)&ss))
			fail_msg("%s should not be always blocked", fine[i]);
	}
	assert_true(policy_port_control_plane(6443));
	assert_true(policy_port_control_plane(2379));
	assert_true(policy_port_control_plane(2380));
	assert_true(policy_port_control_plane(10250));
	assert_true(policy_port_control_plane(10255));
	assert_false(policy_port_control_plane(443));
}

static void
test_ssrf_modes(void **state)
{
	struct policy_engine	*e;
	struct policy_l4	 r;
	struct sockaddr_storage	 two[2];
	char			*reason;

	(void)state;
	e = compile("  t:\n    endpoints:\n"
	    "    - {host: public.test, port: 443}\n"
	    "    - {host: svc.test, ports: [443, 6443], allowed_ips: "
	    "[10.0.0.0/8, 2001:db8::/32]}\n"
	    "    - {host: 10.0.0.5, port: 443}\n"
	    "    - {host: 127.0.0.1, port: 443}\n"
	    "    - {host: bad.test, port: 443, allowed_ips: [10.0.0.0/33, "
	    "nope]}\n"
	    "    binaries: [{path: /usr/bin/curl}]\n");
	/* 1: host only -> public addresses only */
	assert_null(ssrf(e, "public.test", 443, "/usr/bin/curl", "8.8.8.8"));
	reason = ssrf(e, "public.test", 443, "/usr/bin/curl", "192.168.1.5");
	assert_string_equal(reason, "public.test resolves to internal "
	    "address 192.168.1.5, connection rejected");
	free(reason);
	reason = ssrf(e, "public.test", 443, "/usr/bin/curl", "100.64.1.1");
	assert_non_null(strstr(reason, "internal address 100.64.1.1"));
	free(reason);
	reason = ssrf(e, "public.test", 443, "/usr/bin/curl", "::ffff:10.1.1.1");
	assert_string_equal(reason, "public.test resolves to internal "
	    "address ::ffff:10.1.1.1, connection rejected");
	free(reason);
	/* every address must pass */
	assert_int_equal(decide(e, "public.test", 443, "/usr/bin/curl", &r), 1);
	two[0] = addr("8.8.8.8");
	two[1] = addr("10.0.0.1");
	assert_int_equal(policy_check_ssrf(&r, "public.test", 443, two, 2,
	    &reason), -1);
	assert_non_null(strstr(reason, "internal address 10.0.0.1"));
	free(reason);
	assert_int_equal(policy_check_ssrf(&r, "public.test", 443, two, 0,
	    &reason), -1);
	assert_string_equal(reason, "DNS resolution returned no addresses for "
	    "public.test:443");
	free(reason);
	policy_l4_clear(&r);
	/* 2: host + allowed_ips */
	assert_null(ssrf(e, "svc.test", 443, "/usr/bin/curl", "10.3.4.5"));
	assert_null(ssrf(e, "svc.test", 443, "/usr/bin/curl", "2001:db8::5"));
	reason = ssrf(e, "svc.test", 443, "/usr/bin/curl", "8.8.8.8");
	assert_string_equal(reason, "svc.test resolves to 8.8.8.8 which is "
	    "not in allowed_ips, connection rejected");
	free(reason);
	reason = ssrf(e, "svc.test", 6443, "/usr/bin/curl", "10.3.4.5");
	assert_string_equal(reason, "port 6443 is a blocked control-plane "
	    "port, connection rejected");
	free(reason);
	/* G8: the sandbox subnet stays out even inside 10.0.0.0/8 */
	reason = ssrf(e, "svc.test", 443, "/usr/bin/curl", "10.200.0.1");
	assert_string_equal(reason, "svc.test resolves to always-blocked "
	    "address 10.200.0.1, connection rejected");
	free(reason);
	/* 3: a literal IP host is its own allowlist */
	assert_null(ssrf(e, "10.0.0.5", 443, "/usr/bin/curl", "10.0.0.5"));
	reason = ssrf(e, "127.0.0.1", 443, "/usr/bin/curl", "127.0.0.1");
	assert_string_equal(reason, "127.0.0.1 resolves to always-blocked "
	    "address 127.0.0.1, connection rejected");
	free(reason);
	/* invalid entries fail the connection with the reference text */
	reason = ssrf(e, "bad.test", 443, "/usr/bin/curl", "10.0.0.1");
	assert_string_equal(reason, "invalid CIDR/IP in allowed_ips: "
	    "10.0.0.0/33; invalid CIDR/IP in allowed_ips: nope");
	free(reason);
	policy_engine_unref(e);
}

static void
test_cidr_parse(void **state)
{
	struct policy_cidr	 c;
	struct sockaddr_storage	 ss;
	char			*err;
	struct policy_cidr	*nets;
	size_t			 n;
	const char		*v[] = { "10.0.0.1", "fd00::/8", "x/1" };

	(void)state;
	assert_int_equal(policy_cidr_parse("10.1.2.3", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(policy_cidr_parse("10.1.2.3/8", &c), 0);
	ss = addr("10.200.3.4");
	assert_true(policy_cidr_contains(&c, (struct sockaddr *)&ss));
	ss = addr("11.0.0.1");
	assert_false(policy_cidr_contains(&c, (struct sockaddr *)&ss));
	ss = addr("::ffff:10.0.0.1");
	assert_false(policy_cidr_contains(&c, (struct sockaddr *)&ss));
	assert_int_equal(policy_cidr_parse("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(policy_cidr_parse("10.0.0.0/", &c), -1);
	assert_int_equal(policy_cidr_parse("10.0.0.0/-1", &c), -1);
	assert_int_equal(policy_cidr_parse("::/129", &c), -1);
	assert_int_equal(policy_cidr_parse("[::1]", &c), -1);
	assert_int_equal(policy_cidr_parse("fe80::1%eth0", &c), -1);
	assert_int_equal(policy_allowed_ips_parse(v, 2, &nets, &n, &err), 0);
	assert_int_equal(n, 2);
	free(nets);
	assert_int_equal(policy_allowed_ips_parse(v, 3, &nets, &n, &err), -1);
	assert_string_equal(err, "invalid CIDR/IP in allowed_ips: x/1");
	free(err);
}

static void
test_glob_dialect(void **state)
{
	static const struct {
		const char	*pat;
		char		 delim;
		const char	*s;
		int		 match;
	} cases[] = {
		{ "*", '/', "abc", 1 }, { "*", '/', "a/b", 0 },
		{ "**", '/', "a/b", 1 }, { "/a/**", '/', "/a/b/c", 1 },
		{ "/a/**", '/', "/b/c", 0 }, { "a?c", '/', "abc", 1 },
		{ "a?c", '/', "a/c", 0 }, { "[a-c]x", '/', "bx", 1 },
		{ "[!a-c]x", '/', "bx", 0 }, { "[!a-c]x", '/', "dx", 1 },
		{ "{foo,bar}.txt", '/', "bar.txt", 1 },
		{ "{foo,bar}.txt", '/', "baz.txt", 0 },
		{ "{a,{b,c}d}", '/', "cd", 1 }, { "{a,}x", '/', "x", 1 },
		{ "\\*", '/', "*", 1 }, { "\\*", '/', "a", 0 },
		{ "", '/', "", 1 }, { "", '/', "a", 0 },
		{ "x[", '/', "x[", 0 }, { "{a", '/', "a", 0 },
		{ "*.é.test", '.', "a.é.test", 1 }, { "?", '.', "é", 1 },
		{ "*a*a*a*a*a*a*a*a*b", '/', "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	};
	struct policy_glob	*g;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_non_null(g = policy_glob_compile(cases[i].pat,
		    cases[i].delim));
		if (policy_glob_match(g, cases[i].s, strlen(cases[i].s)) !=
		    cases[i].match)
			fail_msg("glob '%s' vs '%s': expected %d", cases[i].pat,
			    cases[i].s, cases[i].match);
		policy_glob_free(g);
	}
}

static void
test_refcount_and_scale(void **state)
{
	struct policy_engine	*e, *e2;
	struct policy		*p;
	struct policy_netrule	*r;
	struct policy_endpoint	*ep;
	struct policy_l4	 res;
	char			 key[32], host[64], *err = NULL;
	int			 i;

	(void)state;
	assert_non_null(p = policy_new());
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "p%05d", i);
		assert_non_null(r = policy_rule_add(p, key));
		assert_non_null(ep = policy_endpoint_add(r));
		snprintf(host, sizeof(host), i % 10 ? "h%d.example.com" :
		    "*.w%d.example.com", i);
		ep->host = strdup(host);
		ep->port = 443;
		assert_non_null(policy_binary_add(r, i % 2 ? "/usr/bin/curl" :
		    "/usr/bin/git"));
	}
	policy_rules_sort(p);
	assert_non_null(e = policy_compile(p, &err));
	policy_free(p);
	assert_int_equal(policy_engine_nrules(e), 10000);
	e2 = policy_engine_ref(e);
	policy_engine_unref(e);		/* e2 still holds it */
	assert_int_equal(decide(e2, "h9999.example.com", 443, "/usr/bin/curl",
	    &res), 1);
	assert_string_equal(res.policy, "p09999");
	policy_l4_clear(&res);
	assert_int_equal(decide(e2, "a.w9990.example.com", 443,
	    "/usr/bin/git", &res), 1);
	assert_string_equal(res.policy, "p09990");
	policy_l4_clear(&res);
	assert_int_equal(decide(e2, "h9998.example.com", 443, "/usr/bin/curl",
	    &res), 0);
	assert_non_null(strstr(policy_l4_reason(&res), "not allowed in policy 'p09998'"));
	policy_l4_clear(&res);
	policy_engine_unref(e2);

	/* built by hand and never sorted: key order still decides */
	assert_non_null(p = policy_new());
	for (i = 0; i < 2; i++) {
		assert_non_null(r = policy_rule_add(p, i ? "aa" : "zz"));
		assert_non_null(ep = policy_endpoint_add(r));
		ep->host = strdup("same.test");
		ep->port = 443;
		assert_non_null(policy_binary_add(r, "/usr/bin/curl"));
	}
	assert_non_null(e = policy_compile(p, &err));
	policy_free(p);
	assert_int_equal(decide(e, "same.test", 443, "/usr/bin/curl", &res), 1);
	assert_string_equal(res.policy, "aa");
	policy_l4_clear(&res);
	policy_engine_unref(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_binaries),
		cmocka_unit_test(test_union_and_reasons),
		cmocka_unit_test(test_hostless),
		cmocka_unit_test(test_l7_rules),
		cmocka_unit_test(test_presets_and_audit),
		cmocka_unit_test(test_overlap_keeps_l7),
		cmocka_unit_test(test_special_addresses),
		cmocka_unit_test(test_always_blocked),
		cmocka_unit_test(test_ssrf_modes),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_glob_dialect),
		cmocka_unit_test(test_refcount_and_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
