/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libpolicy/policy_proto.c: YAML -> model -> proto -> wire -> proto ->
 * model -> YAML is the identity for every reference policy and for a
 * policy using every field; output maps are sorted; a duplicate map
 * key keeps its last value.
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
#include "libpolicy/policy_proto.h"

typedef Openshell__Sandbox__V1__SandboxPolicy SPolicy;

static const char	*compat_dir(void);
static struct policy	*parse(const char *);
static uint8_t		*pack(const SPolicy *, size_t *);
static struct policy	*through_wire(const struct policy *, uint8_t **,
			    size_t *);
static void		 assert_roundtrip(const struct policy *);

static const char full_yaml[] =
    "version: 7\n"
    "filesystem_policy:\n"
    "  include_workdir: false\n"
    "  read_only: [/usr, /etc]\n"
    "  read_write: [/sandbox]\n"
    "landlock:\n"
    "  compatibility: hard_requirement\n"
    "process:\n"
    "  run_as_user: sandbox\n"
    "  run_as_group: sandbox\n"
    "network_policies:\n"
    "  zeta:\n"
    "    name: Zeta rule\n"
    "    endpoints:\n"
    "      - host: api.example.com\n"
    "        ports: [443, 8443]\n"
    "        protocol: rest\n"
    "        tls: skip\n"
    "        enforcement: enforce\n"
    "        rules:\n"
    "          - allow:\n"
    "              method: GET\n"
    "              path: /v1/**\n"
    "              query:\n"
    "                z: \"*\"\n"
    "                a: { any: [x*, y*] }\n"
    "          - allow:\n"
    "              method: POST\n"
    "              path: /v1/items\n"
    "        allowed_ips: [10.0.0.0/8, 192.168.1.1]\n"
    "      - host: db.example.com\n"
    "        port: 5432\n"
    "        protocol: sql\n"
    "        access: read-only\n"
    "    binaries:\n"
    "      - path: /usr/bin/curl\n"
    "      - path: /usr/bin/**/python*\n"
    "  alpha:\n"
    "    name: alpha\n"
    "    endpoints:\n"
    "      - { host: \"*.example.org\", port: 80 }\n"
    "    binaries:\n"
    "      - { path: /bin/sh }\n";

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

static struct policy *
parse(const char *y)
{
	struct policy	*p;
	char		*err = NULL;

	p = policy_yaml_parse(y, strlen(y), 0, &err);
	if (p == NULL)
		fail_msg("parse: %s", err);
	return p;
}

static uint8_t *
pack(const SPolicy *pp, size_t *len)
{
	uint8_t	*buf;

	*len = openshell__sandbox__v1__sandbox_policy__get_packed_size(pp);
	assert_non_null(buf = malloc(*len + 1));
	openshell__sandbox__v1__sandbox_policy__pack(pp, buf);
	return buf;
}

/* model -> proto -> bytes -> unpacked proto -> model */
static struct policy *
through_wire(const struct policy *p, uint8_t **buf, size_t *len)
{
	SPolicy		*pp, *up;
	struct policy	*q;
	char		*err = NULL;

	assert_non_null(pp = policy_proto_from_model(p));
	*buf = pack(pp, len);
	policy_proto_free(pp);
	assert_non_null(up = openshell__sandbox__v1__sandbox_policy__unpack(
	    NULL, *len, *buf));
	q = policy_proto_to_model(up, &err);
	assert_non_null(q);
	openshell__sandbox__v1__sandbox_policy__free_unpacked(up, NULL);
	return q;
}

/* Same YAML after the trip, and the trip is idempotent on the wire. */
static void
assert_roundtrip(const struct policy *p)
{
	struct policy	*q, *r;
	uint8_t		*b1, *b2;
	size_t		 l1, l2;
	char		*a, *b;

	q = through_wire(p, &b1, &l1);
	a = policy_yaml_emit(p, NULL);
	b = policy_yaml_emit(q, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	r = through_wire(q, &b2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	free(a);
	free(b);
	free(b1);
	free(b2);
	policy_free(q);
	policy_free(r);
}

static void
test_compat_roundtrip(void **state)
{
	struct dirent	*de;
	struct policy	*p;
	const char	*dir;
	char		 path[1024], *err = NULL;
	DIR		*d;
	int		 n = 0;

	(void)state;
	if ((dir = compat_dir()) == NULL)
		skip();
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".yaml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((p = policy_yaml_load(path, 0, &err)) == NULL)
			fail_msg("%s: %s", path, err);
		assert_roundtrip(p);
		policy_free(p);
		n++;
	}
	closedir(d);
	assert_true(n >= 4);
}

static void
test_full_roundtrip(void **state)
{
	struct policy		*p, *q;
	struct policy_netrule	*r;
	uint8_t			*buf;
	size_t			 len;

	(void)state;
	p = parse(full_yaml);
	assert_roundtrip(p);
	q = through_wire(p, &buf, &len);
	free(buf);
	assert_int_equal(q->version, 7);
	assert_true(q->has_filesystem && !q->include_workdir);
	assert_string_equal(q->landlock_compat, "hard_requirement");
	assert_int_equal(q->nrules, 2);
	assert_string_equal(q->rules[0].key, "alpha");
	r = &q->rules[1];
	assert_string_equal(r->key, "zeta");
	assert_string_equal(r->name, "Zeta rule");
	assert_int_equal(r->endpoints[0].nports, 2);
	assert_int_equal(r->endpoints[0].ports[1], 8443);
	assert_string_equal(r->endpoints[0].tls, "skip");
	assert_int_equal(r->endpoints[0].allowed_ips.n, 2);
	assert_int_equal(r->endpoints[0].nrules, 2);
	assert_int_equal(r->endpoints[0].rules[0].nquery, 2);
	assert_string_equal(r->endpoints[0].rules[0].query[0].key, "a");
	assert_int_equal(r->endpoints[0].rules[0].query[0].any.n, 2);
	assert_string_equal(r->endpoints[0].rules[0].query[1].glob, "*");
	assert_int_equal(r->endpoints[1].port, 5432);
	assert_string_equal(r->endpoints[1].access, "read-only");
	assert_string_equal(r->binaries[1].path, "/usr/bin/**/python*");
	policy_free(q);
	policy_free(p);
}

/* Sections absent stay absent; present but empty stay present. */
static void
test_presence(void **state)
{
	struct policy	*p, *q;
	SPolicy		*pp;
	uint8_t		*buf;
	size_t		 len;

	(void)state;
	p = parse("version: 1\n");
	assert_non_null(pp = policy_proto_from_model(p));
	assert_null(pp->filesystem);
	assert_null(pp->landlock);
	assert_null(pp->process);
	assert_int_equal(pp->n_network_policies, 0);
	policy_proto_free(pp);
	p->has_process = 1;
	q = through_wire(p, &buf, &len);
	assert_true(q->has_process);
	assert_false(q->has_filesystem);
	free(buf);
	policy_free(q);
	policy_free(p);
}

/* Keys sorted on output whatever the input order; last duplicate wins. */
static void
test_map_order(void **state)
{
	Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry e[3],
	    *ev[3];
	Openshell__Sandbox__V1__NetworkPolicyRule r[3];
	SPolicy		 in = OPENSHELL__SANDBOX__V1__SANDBOX_POLICY__INIT;
	SPolicy		*out;
	struct policy	*p;
	static char	*keys[] = { "m", "b", "m" };
	static char	*names[] = { "first", "bee", "second" };
	size_t		 i;
	char		*err = NULL;

	(void)state;
	for (i = 0; i < 3; i++) {
		openshell__sandbox__v1__sandbox_policy__network_policies_entry__init(
		    &e[i]);
		openshell__sandbox__v1__network_policy_rule__init(&r[i]);
		r[i].name = names[i];
		e[i].key = keys[i];
		e[i].value = &r[i];
		ev[i] = &e[i];
	}
	in.version = 1;
	in.network_policies = ev;
	in.n_network_policies = 3;
	assert_non_null(p = policy_proto_to_model(&in, &err));
	assert_int_equal(p->nrules, 2);
	assert_string_equal(p->rules[0].key, "b");
	assert_string_equal(p->rules[1].name, "second");
	assert_non_null(out = policy_proto_from_model(p));
	assert_string_equal(out->network_policies[0]->key, "b");
	assert_string_equal(out->network_policies[1]->key, "m");
	policy_proto_free(out);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_roundtrip),
		cmocka_unit_test(test_full_roundtrip),
		cmocka_unit_test(test_presence),
		cmocka_unit_test(test_map_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
