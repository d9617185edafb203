/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The inference routes file (svc/sandbox/routefile.c): fields, the key
 * from the file or the environment, protocols normalised, and every
 * error naming its route.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc/sandbox/supervisor.h"

static char	 path[] = "/tmp/routefile_test.XXXXXX";

static int
load(const char *yaml, struct sroute **r, size_t *n, char *err, size_t len)
{
	int	 fd;

	strcpy(path, "/tmp/routefile_test.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		fail();
	if (write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml))
		fail();
	close(fd);
	err[0] = '\0';
	fd = routefile_load(path, r, n, err, len);
	unlink(path);
	return fd;
}

static void
test_routes(void **state)
{
	struct sroute	*r;
	size_t		 n;
	char		 err[256];

	(void)state;
	setenv("ROUTEFILE_TEST_KEY", "sk-env", 1);
	assert_int_equal(load("routes:\n"
	    "  - name: a\n    endpoint: http://h/v1\n    model: m\n"
	    "    protocols: [\" OpenAI_Chat_Completions \", "
	    "openai_chat_completions, '', model_discovery]\n"
	    "    api_key: sk-file\n"
	    "  - name: b\n    endpoint: mock://b\n    model: mb\n"
	    "    provider_type: anthropic\n"
	    "    protocols: [anthropic_messages]\n"
	    "    api_key_env: ROUTEFILE_TEST_KEY\n", &r, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].sr_name, "a");
	assert_string_equal(r[0].sr_url, "http://h/v1");
	assert_string_equal(r[0].sr_key, "sk-file");
	assert_string_equal(r[0].sr_type, "");
	assert_int_equal(r[0].sr_nprotos, 2);
	assert_string_equal(r[0].sr_protos[0], "openai_chat_completions");
	assert_string_equal(r[0].sr_protos[1], "model_discovery");
	assert_null(r[0].sr_env);
	assert_string_equal(r[1].sr_key, "sk-env");
	assert_string_equal(r[1].sr_env, "ROUTEFILE_TEST_KEY");
	assert_string_equal(r[1].sr_type, "anthropic");
	routefile_free(r, n);
	assert_int_equal(load("routes: []\n", &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	routefile_free(r, n);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*err;
	} bad[] = {
		{ "{}\n", "no \"routes\" list" },
		{ "routes: 1\n", "no \"routes\" list" },
		{ "routes: [1]\n", "a route is not a mapping" },
		{ "routes:\n  - name: a\n    model: m\n    api_key: k\n"
		    "    protocols: [x]\n", "route a: name, endpoint and model" },
		{ "routes:\n  - {name: a, endpoint: e, model: m, "
		    "protocols: [x]}\n", "route a: no api_key" },
		{ "routes:\n  - {name: a, endpoint: e, model: m, "
		    "protocols: [x], api_key_env: ROUTEFILE_UNSET}\n",
		    "route a: no api_key" },
		{ "routes:\n  - {name: a, endpoint: e, model: m, "
		    "protocols: [x], api_key_env: 'A=B'}\n",
		    "route a: api_key_env: not a variable name" },
		{ "routes:\n  - {name: a, endpoint: e, model: m, "
		    "protocols: [' '], api_key: k}\n", "route a: no protocols" },
		{ "routes:\n  - {name: a, endpoint: e, model: m, "
		    "protocols: x, api_key: k}\n", "route a: protocols:" },
		{ "routes:\n  - {name: a, endpoint: [e], model: m}\n",
		    "route a: endpoint: not a string" },
		{ "routes: [\n", "line" },
	};
	struct sroute	*r;
	size_t		 i, n;
	char		 err[256];

	(void)state;
	unsetenv("ROUTEFILE_UNSET");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(bad[i].yaml, &r, &n, err, sizeof(err)),
		    -1);
		assert_null(r);
		assert_int_equal(n, 0);
		if (strstr(err, bad[i].err) == NULL)
			fail_msg("%s: got \"%s\"", bad[i].yaml, err);
	}
	assert_int_equal(routefile_load("/nonexistent/routes.yaml", &r, &n,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
