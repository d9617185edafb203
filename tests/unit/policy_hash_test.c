/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * svc/gatewayd/policy_hash.c: the policy hash follows §2.6 byte for
 * byte, ignores map insertion order and changes with every field; the
 * config revision and the settings blob.
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
#include "libpolicy/policy_proto.h"
#include "svc/gatewayd/policy_hash.h"

typedef Openshell__Sandbox__V1__SandboxPolicy SPolicy;

static void	 hash_of(const struct policy *, char *);
static struct policy *parse(const char *);
static void	 mutate(struct policy *, int);

/* Every field of the model is set somewhere. */
static const char base_yaml[] =
    "version: 1\n"
    "filesystem_policy:\n"
    "  include_workdir: true\n"
    "  read_only: [/usr]\n"
    "  read_write: [/tmp]\n"
    "landlock: { compatibility: best_effort }\n"
    "process: { run_as_user: sandbox, run_as_group: sandbox }\n"
    "network_policies:\n"
    "  one:\n"
    "    name: one\n"
    "    endpoints:\n"
    "      - host: a.example.com\n"
    "        port: 443\n"
    "        protocol: rest\n"
    "        tls: skip\n"
    "        enforcement: enforce\n"
    "        rules:\n"
    "          - allow:\n"
    "              method: GET\n"
    "              path: /x\n"
    "              command: SELECT\n"
    "              query: { q: \"a*\", r: { any: [b] } }\n"
    "        allowed_ips: [10.0.0.1]\n"
    "      - { host: b.example.com, ports: [1, 2], access: full }\n"
    "    binaries: [ { path: /bin/a } ]\n"
    "  two:\n"
    "    name: two\n"
    "    endpoints: [ { host: c.example.com, port: 80 } ]\n"
    "    binaries: [ { path: /bin/b } ]\n";

static struct policy *
parse(const char *y)
{
	struct policy	*p;
	char		*err = NULL;

	if ((p = policy_yaml_parse(y, strlen(y), 0, &err)) == NULL)
		fail_msg("parse: %s", err);
	return p;
}

static void
hash_of(const struct policy *p, char *out)
{
	SPolicy	*pp;

	assert_non_null(pp = policy_proto_from_model(p));
	assert_int_equal(policy_hash_policy(pp, out), 0);
	policy_proto_free(pp);
}

/* The §2.6 byte layout, checked against independently made digests. */
static void
test_known_vectors(void **state)
{
	Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry e =
	    OPENSHELL__SANDBOX__V1__SANDBOX_POLICY__NETWORK_POLICIES_ENTRY__INIT,
	    *ev[1] = { &e };
	Openshell__Sandbox__V1__NetworkPolicyRule r =
	    OPENSHELL__SANDBOX__V1__NETWORK_POLICY_RULE__INIT;
	Openshell__Sandbox__V1__LandlockPolicy ll =
	    OPENSHELL__SANDBOX__V1__LANDLOCK_POLICY__INIT;
	SPolicy		 p =
	    OPENSHELL__SANDBOX__V1__SANDBOX_POLICY__INIT;
	char		 h[POLICY_HASH_LEN];

	(void)state;
	p.version = 1;
	assert_int_equal(policy_hash_policy(&p, h), 0);
	assert_string_equal(h, "67abdd721024f0ff4e0b3f4c2fc13bc5"
	    "bad42d0b7851d456d88d203d15aaa450");
	ll.compatibility = "x";
	r.name = "n";
	e.key = "k";
	e.value = &r;
	p.landlock = &ll;
	p.network_policies = ev;
	p.n_network_policies = 1;
	assert_int_equal(policy_hash_policy(&p, h), 0);
	assert_string_equal(h, "b62eb34d5512362d339d8f8cf8f95a47"
	    "f0b5dcbaefbec92ea0d85733f86c0636");
}

/* Same policy, rules and query keys given in another order. */
static void
test_order_independent(void **state)
{
	static const char other_yaml[] =
	    "version: 1\n"
	    "filesystem_policy:\n"
	    "  include_workdir: true\n"
	    "  read_only: [/usr]\n"
	    "  read_write: [/tmp]\n"
	    "landlock: { compatibility: best_effort }\n"
	    "process: { run_as_user: sandbox, run_as_group: sandbox }\n"
	    "network_policies:\n"
	    "  two:\n"
	    "    name: two\n"
	    "    endpoints: [ { host: c.example.com, port: 80 } ]\n"
	    "    binaries: [ { path: /bin/b } ]\n"
	    "  one:\n"
	    "    name: one\n"
	    "    endpoints:\n"
	    "      - host: a.example.com\n"
	    "        port: 443\n"
	    "        protocol: rest\n"
	    "        tls: skip\n"
	    "        enforcement: enforce\n"
	    "        rules:\n"
	    "          - allow:\n"
	    "              method: GET\n"
	    "              path: /x\n"
	    "              command: SELECT\n"
	    "              query: { r: { any: [b] }, q: \"a*\" }\n"
	    "        allowed_ips: [10.0.0.1]\n"
	    "      - { host: b.example.com, ports: [1, 2], access: full }\n"
	    "    binaries: [ { path: /bin/a } ]\n";
	Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry *t;
	struct policy	*a, *b;
	SPolicy		*pp;
	char		 ha[POLICY_HASH_LEN], hb[POLICY_HASH_LEN];
	char		 hc[POLICY_HASH_LEN];

	(void)state;
	a = parse(base_yaml);
	b = parse(other_yaml);
	hash_of(a, ha);
	hash_of(b, hb);
	assert_string_equal(ha, hb);
	/* A message whose map entries arrive in reverse order. */
	assert_non_null(pp = policy_proto_from_model(a));
	t = pp->network_policies[0];
	pp->network_policies[0] = pp->network_policies[1];
	pp->network_policies[1] = t;
	assert_int_equal(policy_hash_policy(pp, hc), 0);
	assert_string_equal(ha, hc);
	policy_proto_free(pp);
	/* And hashing twice gives the same. */
	hash_of(a, hb);
	assert_string_equal(ha, hb);
	policy_free(a);
	policy_free(b);
}

/* One mutation per field of the model; each must change the hash. */
static void
mutate(struct policy *p, int which)
{
	struct policy_netrule	*r = &p->rules[0];
	struct policy_endpoint	*ep = &r->endpoints[0];
	struct policy_l7rule	*l7 = &ep->rules[0];

#define SET(f, v)	do { free(f); f = strdup(v); } while (0)
	switch (which) {
	case 0: p->version = 2; break;
	case 1: p->include_workdir = 0; break;
	case 2: policy_strv_add(&p->read_only, "/etc"); break;
	case 3: policy_strv_add(&p->read_write, "/var"); break;
	case 4: SET(p->landlock_compat, "hard_requirement"); break;
	case 5: SET(p->run_as_user, "other"); break;
	case 6: SET(p->run_as_group, "other"); break;
	case 7: SET(r->name, "renamed"); break;
	case 8: SET(ep->host, "z.example.com"); break;
	case 9: ep->port = 444; break;
	case 10: r->endpoints[1].ports[1] = 3; break;
	case 11: SET(ep->protocol, "sql"); break;
	case 12: SET(ep->tls, "terminate"); break;
	case 13: SET(ep->enforcement, "audit"); break;
	case 14: SET(r->endpoints[1].access, "read-only"); break;
	case 15: SET(l7->method, "POST"); break;
	case 16: SET(l7->path, "/y"); break;
	case 17: SET(l7->command, "INSERT"); break;
	case 18: SET(l7->query[0].glob, "b*"); break;
	case 19: SET(l7->query[1].any.v[0], "c"); break;
	case 20: SET(l7->query[0].key, "p"); break;
	case 21: SET(ep->allowed_ips.v[0], "10.0.0.2"); break;
	case 22: SET(r->binaries[0].path, "/bin/c"); break;
	case 23: r->binaries[0].harness = 1; break;
	case 24: SET(p->rules[1].key, "three"); break;
	case 25: p->has_landlock = 0; break;
	case 26: p->has_process = 0; break;
	case 27: p->has_filesystem = 0; break;
	}
#undef SET
}

#define NMUTATIONS	28

static void
test_every_field_counts(void **state)
{
	struct policy	*p;
	char		 base[POLICY_HASH_LEN], h[POLICY_HASH_LEN];
	int		 i;

	(void)state;
	p = parse(base_yaml);
	hash_of(p, base);
	policy_free(p);
	for (i = 0; i < NMUTATIONS; i++) {
		p = parse(base_yaml);
		mutate(p, i);
		hash_of(p, h);
		if (strcmp(h, base) == 0)
			fail_msg("mutation %d does not change the hash", i);
		policy_free(p);
	}
}

static void
test_config_revision(void **state)
{
	Openshell__Sandbox__V1__GetSandboxConfigResponse__SettingsEntry e[2],
	    *ev[2], *rv[2];
	Openshell__Sandbox__V1__EffectiveSetting es[2];
	Openshell__Sandbox__V1__SettingValue v;
	uint64_t	 a, b;

	(void)state;
	/* LE32 source, then the hash string, nothing else. */
	assert_int_equal(policy_hash_config_revision(2, "abc", NULL, 0),
	    7098489739215425048ULL);
	openshell__sandbox__v1__setting_value__init(&v);
	v.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE;
	v.int_value = 5;
	for (int i = 0; i < 2; i++) {
		openshell__sandbox__v1__get_sandbox_config_response__settings_entry__init(
		    &e[i]);
		openshell__sandbox__v1__effective_setting__init(&es[i]);
		e[i].value = &es[i];
		ev[i] = &e[i];
	}
	e[0].key = "a";
	e[1].key = "b";
	es[1].value = &v;
	es[1].scope = 2;
	rv[0] = ev[1];
	rv[1] = ev[0];
	a = policy_hash_config_revision(1, "h", ev, 2);
	b = policy_hash_config_revision(1, "h", rv, 2);
	assert_true(a == b);
	assert_true(a != policy_hash_config_revision(2, "h", ev, 2));
	assert_true(a != policy_hash_config_revision(1, NULL, ev, 2));
	v.int_value = 6;
	assert_true(a != policy_hash_config_revision(1, "h", ev, 2));
}

static void
test_settings_blob(void **state)
{
	static const char blob[] = "{\"revision\":3,\"settings\":{"
	    "\"b\":{\"type\":\"Bool\",\"value\":true},"
	    "\"i\":{\"type\":\"Int\",\"value\":-5},"
	    "\"policy\":{\"type\":\"Bytes\",\"value\":\"0a00\"},"
	    "\"s\":{\"type\":\"String\",\"value\":\"x\"}}}";
	struct policy_hash_settings	 s;
	struct policy_hash_setting	 v = { "a", PH_STRING, "y", 0 };
	const struct policy_hash_setting *g;
	char				*err, *out;

	(void)state;
	assert_int_equal(policy_hash_settings_load(NULL, 0, &s, &err), 0);
	assert_int_equal(s.revision, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(policy_hash_settings_load((const uint8_t *)blob,
	    strlen(blob), &s, &err), 0);
	assert_int_equal(s.revision, 3);
	assert_int_equal(s.n, 4);
	assert_non_null(g = policy_hash_settings_get(&s, "i"));
	assert_int_equal(g->num, -5);
	assert_non_null(out = policy_hash_settings_dump(&s));
	assert_string_equal(out, blob);
	free(out);
	assert_int_equal(policy_hash_settings_put(&s, &v), 1);
	assert_int_equal(policy_hash_settings_put(&s, &v), 0);
	assert_string_equal(s.v[0].key, "a");
	assert_int_equal(policy_hash_settings_del(&s, "policy"), 1);
	assert_int_equal(policy_hash_settings_del(&s, "policy"), 0);
	assert_null(policy_hash_settings_get(&s, "policy"));
	policy_hash_settings_clear(&s);
	assert_int_equal(policy_hash_settings_load((const uint8_t *)"{", 1,
	    &s, &err), -1);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_every_field_counts),
		cmocka_unit_test(test_config_revision),
		cmocka_unit_test(test_settings_blob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
