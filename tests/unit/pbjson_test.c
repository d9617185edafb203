/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * cli/pbjson.c: proto3 JSON of protobuf-c messages, checked on the
 * real generated types (every field type the API uses: strings, bools,
 * enums, 32/64-bit integers, floats, bytes, repeated scalars, nested
 * messages, maps of strings and of messages, oneofs, Struct).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "proto/datamodel.pb-c.h"
#include "proto/inference.pb-c.h"
#include "proto/openshell.pb-c.h"
#include "proto/sandbox.pb-c.h"

/* pbjson.c reports through these; the CLI's own live in openshell.c. */
const char		*cli_progname = "pbjson_test";
struct cli_global	 cli_global;

void
cli_warnx(const char *fmt, ...)
{
	(void)fmt;
}

static json_t	*encode(const ProtobufCMessage *);

static json_t *
encode(const ProtobufCMessage *m)
{
	json_t	*j;

	j = pbjson_encode(m);
	assert_non_null(j);
	return j;
}

static void
test_scalars_enums_int64(void **state)
{
	Openshell__Datamodel__V1__Sandbox	 s =
	    OPENSHELL__DATAMODEL__V1__SANDBOX__INIT;
	json_t					*j;

	(void)state;
	s.id = "id-1";
	s.name = "sb";
	s.phase = OPENSHELL__DATAMODEL__V1__SANDBOX_PHASE__SANDBOX_PHASE_READY;
	s.created_at_ms = 1700000000123LL;
	s.current_policy_version = 7;
	j = encode(&s.base);
	assert_string_equal(json_string_value(json_object_get(j, "id")),
	    "id-1");
	/* Defaults are kept, unset messages are not. */
	assert_string_equal(json_string_value(json_object_get(j,
	    "namespace")), "");
	assert_null(json_object_get(j, "spec"));
	assert_null(json_object_get(j, "status"));
	assert_string_equal(json_string_value(json_object_get(j, "phase")),
	    "SANDBOX_PHASE_READY");
	assert_string_equal(json_string_value(json_object_get(j,
	    "createdAtMs")), "1700000000123");
	assert_int_equal(json_integer_value(json_object_get(j,
	    "currentPolicyVersion")), 7);
	json_decref(j);
}

static void
test_maps_repeated_struct(void **state)
{
	Openshell__Datamodel__V1__SandboxSpec		 spec =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__INIT;
	Openshell__Datamodel__V1__SandboxTemplate	 tpl =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_TEMPLATE__INIT;
	Openshell__Datamodel__V1__SandboxSpec__EnvironmentEntry e1 =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__ENVIRONMENT_ENTRY__INIT;
	Openshell__Datamodel__V1__SandboxSpec__EnvironmentEntry e2 =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__ENVIRONMENT_ENTRY__INIT;
	Openshell__Datamodel__V1__SandboxSpec__EnvironmentEntry *env[2];
	Google__Protobuf__Struct		 st = GOOGLE__PROTOBUF__STRUCT__INIT;
	Google__Protobuf__Struct__FieldsEntry	 f[3], *fp[3];
	Google__Protobuf__Value			 v[5], *lv[2];
	Google__Protobuf__ListValue		 list =
	    GOOGLE__PROTOBUF__LIST_VALUE__INIT;
	char					*providers[] = { "p1", "p2" };
	json_t					*j, *r;
	size_t					 i;

	(void)state;
	e1.key = "B";
	e1.value = "2";
	e2.key = "A";
	e2.value = "1";
	env[0] = &e1;
	env[1] = &e2;
	spec.n_environment = 2;
	spec.environment = env;
	spec.n_providers = 2;
	spec.providers = providers;
	spec.gpu = 1;
	for (i = 0; i < 5; i++)
		google__protobuf__value__init(&v[i]);
	v[0].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
	v[0].string_value = "2";
	v[1].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
	v[1].number_value = 1.5;
	v[2].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
	v[2].bool_value = 1;
	v[3].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
	v[4].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
	v[4].list_value = &list;
	lv[0] = &v[1];
	lv[1] = &v[3];
	list.n_values = 2;
	list.values = lv;
	for (i = 0; i < 3; i++) {
		google__protobuf__struct__fields_entry__init(&f[i]);
		fp[i] = &f[i];
	}
	f[0].key = "cpu";
	f[0].value = &v[0];
	f[1].key = "ok";
	f[1].value = &v[2];
	f[2].key = "list";
	f[2].value = &v[4];
	st.n_fields = 3;
	st.fields = fp;
	tpl.image = "img";
	tpl.resources = &st;
	spec.template_ = &tpl;
	j = encode(&spec.base);
	r = json_pack("{s:s, s:s}", "B", "2", "A", "1");
	assert_true(json_equal(json_object_get(j, "environment"), r));
	json_decref(r);
	r = json_pack("[s, s]", "p1", "p2");
	assert_true(json_equal(json_object_get(j, "providers"), r));
	json_decref(r);
	assert_true(json_is_true(json_object_get(j, "gpu")));
	r = json_pack("{s:s, s:b, s:[f, n]}", "cpu", "2", "ok", 1, "list",
	    1.5);
	assert_true(json_equal(json_object_get(json_object_get(j,
	    "template"), "resources"), r));
	json_decref(r);
	/* Empty maps and lists are there, as {} and []. */
	assert_true(json_is_object(json_object_get(json_object_get(j,
	    "template"), "labels")));
	json_decref(j);
}

static void
test_map_of_messages_repeated_u32(void **state)
{
	Openshell__Sandbox__V1__SandboxPolicy	 p =
	    OPENSHELL__SANDBOX__V1__SANDBOX_POLICY__INIT;
	Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry e =
	    OPENSHELL__SANDBOX__V1__SANDBOX_POLICY__NETWORK_POLICIES_ENTRY__INIT;
	Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry *ep = &e;
	Openshell__Sandbox__V1__NetworkPolicyRule rule =
	    OPENSHELL__SANDBOX__V1__NETWORK_POLICY_RULE__INIT;
	Openshell__Sandbox__V1__NetworkEndpoint	 ne =
	    OPENSHELL__SANDBOX__V1__NETWORK_ENDPOINT__INIT, *nep = &ne;
	uint32_t				 ports[] = { 443, 8443 };
	json_t					*j, *ej, *r;

	(void)state;
	ne.host = "api.github.com";
	ne.n_ports = 2;
	ne.ports = ports;
	rule.name = "gh";
	rule.n_endpoints = 1;
	rule.endpoints = &nep;
	e.key = "github";
	e.value = &rule;
	p.n_network_policies = 1;
	p.network_policies = &ep;
	j = encode(&p.base);
	ej = json_object_get(json_object_get(j, "networkPolicies"), "github");
	assert_string_equal(json_string_value(json_object_get(ej, "name")),
	    "gh");
	ej = json_array_get(json_object_get(ej, "endpoints"), 0);
	r = json_pack("[i, i]", 443, 8443);
	assert_true(json_equal(json_object_get(ej, "ports"), r));
	json_decref(r);
	assert_string_equal(json_string_value(json_object_get(ej, "host")),
	    "api.github.com");
	assert_int_equal(json_array_size(json_object_get(ej, "allowedIps")),
	    0);
	json_decref(j);
}

static void
test_oneof_bytes(void **state)
{
	Openshell__Sandbox__V1__SettingValue	 v =
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__INIT;
	uint8_t					 data[] = { 'h', 'i', 0 };
	json_t					*j;

	(void)state;
	j = encode(&v.base);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
	v.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BYTES_VALUE;
	v.bytes_value.data = data;
	v.bytes_value.len = sizeof(data);
	j = encode(&v.base);
	assert_int_equal(json_object_size(j), 1);
	assert_string_equal(json_string_value(json_object_get(j,
	    "bytesValue")), "aGkA");
	json_decref(j);
	v.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE;
	v.int_value = -42;
	j = encode(&v.base);
	assert_string_equal(json_string_value(json_object_get(j,
	    "intValue")), "-42");
	json_decref(j);
}

static void
test_float_int32_uint64(void **state)
{
	Openshell__V1__PolicyChunk		 c =
	    OPENSHELL__V1__POLICY_CHUNK__INIT;
	Openshell__Inference__V1__InferenceRoute r =
	    OPENSHELL__INFERENCE__V1__INFERENCE_ROUTE__INIT;
	json_t					*j;

	(void)state;
	c.confidence = 0.5f;
	c.hit_count = -3;
	j = encode(&c.base);
	assert_true(json_is_real(json_object_get(j, "confidence")));
	assert_true(json_real_value(json_object_get(j, "confidence")) == 0.5);
	assert_int_equal(json_integer_value(json_object_get(j, "hitCount")),
	    -3);
	assert_true(json_is_array(json_object_get(j, "denialSummaryIds")));
	json_decref(j);
	r.version = UINT64_MAX;
	j = encode(&r.base);
	assert_string_equal(json_string_value(json_object_get(j, "version")),
	    "18446744073709551615");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_enums_int64),
		cmocka_unit_test(test_maps_repeated_struct),
		cmocka_unit_test(test_map_of_messages_repeated_u32),
		cmocka_unit_test(test_oneof_bytes),
		cmocka_unit_test(test_float_int32_uint64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
