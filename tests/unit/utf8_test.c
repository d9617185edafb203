/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * svc/gatewayd/utf8.c: strict UTF-8 and the descriptor-driven walk
 * over a request's string fields.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/openshell.pb-c.h"
#include "svc/gatewayd/utf8.h"

static int
ok(const char *s)
{
	return utf8_valid(s, strlen(s));
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(ok(""));
	assert_true(ok("plain ascii"));
	assert_true(ok("caf\xc3\xa9"));			/* U+00E9 */
	assert_true(ok("\xc2\x80"));			/* U+0080, smallest 2 */
	assert_true(ok("\xe0\xa0\x80"));		/* U+0800, smallest 3 */
	assert_true(ok("\xed\x9f\xbf"));		/* U+D7FF */
	assert_true(ok("\xee\x80\x80"));		/* U+E000 */
	assert_true(ok("\xef\xbf\xbf"));		/* U+FFFF */
	assert_true(ok("\xf0\x90\x80\x80"));		/* U+10000 */
	assert_true(ok("\xf0\x9f\x98\x80"));		/* an emoji */
	assert_true(ok("\xf4\x8f\xbf\xbf"));		/* U+10FFFF, the last */
	assert_true(utf8_valid("a\0b", 3));		/* U+0000 is valid */
}

static void
test_invalid(void **state)
{
	(void)state;
	assert_false(ok("q\xc3\x28q"));		/* lead without continuation */
	assert_false(ok("\xc3"));		/* truncated at the end */
	assert_false(ok("\xe2\x82"));
	assert_false(ok("\xf0\x9f\x98"));
	assert_false(ok("\x80"));		/* lone continuation */
	assert_false(ok("\xbf"));
	assert_false(ok("\xc0\xaf"));		/* overlong '/' */
	assert_false(ok("\xc1\xbf"));		/* overlong U+007F */
	assert_false(ok("\xe0\x80\xaf"));	/* overlong, 3 bytes */
	assert_false(ok("\xe0\x9f\xbf"));	/* overlong U+07FF */
	assert_false(ok("\xf0\x80\x80\xaf"));	/* overlong, 4 bytes */
	assert_false(ok("\xf0\x8f\xbf\xbf"));	/* overlong U+FFFF */
	assert_false(ok("\xed\xa0\x80"));	/* surrogate U+D800 */
	assert_false(ok("\xed\xbf\xbf"));	/* surrogate U+DFFF */
	assert_false(ok("\xf4\x90\x80\x80"));	/* U+110000 */
	assert_false(ok("\xf5\x80\x80\x80"));
	assert_false(ok("\xf8\x88\x80\x80\x80"));	/* 5-byte form */
	assert_false(ok("\xfe"));
	assert_false(ok("\xff"));
	assert_false(ok("\xe2\x28\xa1"));	/* bad second of three */
	assert_false(ok("\xe2\x82\x28"));	/* bad third */
	assert_false(ok("\xf0\x9f\x28\x80"));	/* bad third of four */
	assert_false(ok("\xf0\x9f\x98\x28"));	/* bad fourth */
	/* len, not the NUL, bounds the check. */
	assert_false(utf8_valid("\xc3\xa9", 1));
}

/* A string deep in a repeated message field. */
static void
test_message_repeated(void **state)
{
	Openshell__V1__PushSandboxLogsRequest	 req =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_REQUEST__INIT;
	Openshell__V1__SandboxLogLine		 l0 =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	Openshell__V1__SandboxLogLine		 l1 =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	Openshell__V1__SandboxLogLine		*lines[] = { &l0, &l1 };
	const char				*bad = NULL;

	(void)state;
	req.sandbox_id = "id";
	req.logs = lines;
	req.n_logs = 2;
	l0.message = "fine \xc3\xa9";
	l1.message = "also fine";
	assert_true(utf8_pb_valid(&req.base, &bad));
	assert_null(bad);
	l1.message = "q\xc3\x28q";
	assert_false(utf8_pb_valid(&req.base, &bad));
	assert_string_equal(bad, "message");
	l1.message = "ok";
	req.sandbox_id = "\xed\xa0\x80";
	assert_false(utf8_pb_valid(&req.base, &bad));
	assert_string_equal(bad, "sandbox_id");
}

/* Map values are repeated entry messages. */
static void
test_message_map(void **state)
{
	Openshell__V1__CreateSandboxRequest	 req =
	    OPENSHELL__V1__CREATE_SANDBOX_REQUEST__INIT;
	Openshell__Datamodel__V1__SandboxSpec	 spec =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__INIT;
	Openshell__Datamodel__V1__SandboxSpec__EnvironmentEntry e =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__ENVIRONMENT_ENTRY__INIT;
	Openshell__Datamodel__V1__SandboxSpec__EnvironmentEntry *env[] =
	    { &e };
	const char				*bad = NULL;

	(void)state;
	req.name = "sb";
	req.spec = &spec;
	spec.environment = env;
	spec.n_environment = 1;
	e.key = "K";
	e.value = "v";
	assert_true(utf8_pb_valid(&req.base, &bad));
	e.value = "\xc0\xaf";
	assert_false(utf8_pb_valid(&req.base, &bad));
	assert_string_equal(bad, "value");
	e.value = "v";
	e.key = "\xf4\x90\x80\x80";
	assert_false(utf8_pb_valid(&req.base, &bad));
	assert_string_equal(bad, "key");
}

/* Only the member a oneof holds is read: the others share its bytes. */
static void
test_message_oneof(void **state)
{
	Openshell__Sandbox__V1__SettingValue	 v =
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__INIT;
	const char				*bad = NULL;

	(void)state;
	assert_true(utf8_pb_valid(&v.base, &bad));
	v.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE;
	v.int_value = 0x4141414141414141LL;	/* not a pointer */
	assert_true(utf8_pb_valid(&v.base, &bad));
	v.value_case =
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE;
	v.string_value = "ok";
	assert_true(utf8_pb_valid(&v.base, &bad));
	v.string_value = "\xed\xa0\x80";
	assert_false(utf8_pb_valid(&v.base, &bad));
	assert_string_equal(bad, "string_value");
}

/* Unpacked from the wire, as rpc.c does. */
static void
test_unpacked(void **state)
{
	Openshell__V1__GetSandboxRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	ProtobufCMessage			*m;
	uint8_t					 buf[64];
	size_t					 len;
	const char				*bad = NULL;

	(void)state;
	req.name = "qzqz";
	len = protobuf_c_message_pack(&req.base, buf);
	memcpy(memmem(buf, len, "qzqz", 4), "q\xc3\x28q", 4);
	m = protobuf_c_message_unpack(
	    &openshell__v1__get_sandbox_request__descriptor, NULL, len, buf);
	assert_non_null(m);	/* protobuf-c itself lets it through */
	assert_false(utf8_pb_valid(m, &bad));
	assert_string_equal(bad, "name");
	protobuf_c_message_free_unpacked(m, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_message_repeated),
		cmocka_unit_test(test_message_map),
		cmocka_unit_test(test_message_oneof),
		cmocka_unit_test(test_unpacked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
