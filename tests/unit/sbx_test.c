/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

/*
 * The pure parts of openshell-sandbox: the TCP table match behind the
 * binary identity (ident.c), the baseline enrichment and the agent's
 * environment (config.c).
 */

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "libpolicy/policy.h"
#include "svc/sandbox/supervisor.h"

/* Rows as Linux prints them: 10.200.0.2:40000 -> 10.200.0.1:3128 etc. */
static const char tcp4[] =
"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
"retrnsmt   uid  timeout inode\n"
"   0: 0100C80A:0C38 00000000:0000 0A 00000000:00000000 00:00000000 "
"00000000     0        0 1111 1 0000000000000000 100 0 0 10 0\n"
"   1: 0200C80A:9C40 0100C80A:0C38 06 00000000:00000000 00:00000000 "
"00000000   995        0 0 1 0000000000000000 20 4 30 10 -1\n"
"   2: 0200C80A:9C40 0100C80A:0C39 01 00000000:00000000 00:00000000 "
"00000000   995        0 2222 1 0000000000000000 20 4 30 10 -1\n"
"   3: 0200C80A:9C40 0100C80A:0C38 01 00000000:00000000 00:00000000 "
"00000000   995        0 3333 1 0000000000000000 20 4 30 10 -1\n";

static const char tcp6[] =
"  sl  local_address                         remote_address          "
"              st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
"inode\n"
"   0: 0000000000000000FFFF00000200C80A:9C41 0000000000000000FFFF0000"
"0100C80A:0C38 01 00000000:00000000 00:00000000 00000000   995        0 "
"4444 1 0000000000000000 20 4 30 10 -1\n";

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	fclose(fp);
}

static void
test_tcp_match_both_ends(void **state)
{
	char		 d[] = "/tmp/sbx_test.XXXXXX", p4[64], p6[64];
	unsigned long	 ino = 0;

	(void)state;
	assert_non_null(mkdtemp(d));
	snprintf(p4, sizeof(p4), "%s/tcp", d);
	snprintf(p6, sizeof(p6), "%s/tcp6", d);
	write_file(p4, tcp4);
	write_file(p6, tcp6);
	/* ESTABLISHED, both ends: row 3 (row 1 is TIME_WAIT, row 2 is
	 * another remote port) */
	assert_int_equal(ident_tcp_find(p4, "10.200.0.2", 40000, "10.200.0.1",
	    3128, &ino), 0);
	assert_int_equal(ino, 3333);
	/* the remote end must match too: no borrowing by local port */
	assert_int_equal(ident_tcp_find(p4, "10.200.0.2", 40000, "10.200.0.1",
	    3130, &ino), -1);
	assert_int_equal(ident_tcp_find(p4, "10.200.0.3", 40000, "10.200.0.1",
	    3128, &ino), -1);
	assert_int_equal(ident_tcp_find(p4, "10.200.0.2", 40001, "10.200.0.1",
	    3128, &ino), -1);
	/* a dual-stack socket shows v4-mapped addresses in tcp6 */
	assert_int_equal(ident_tcp_find(p6, "10.200.0.2", 40001, "10.200.0.1",
	    3128, &ino), 0);
	assert_int_equal(ino, 4444);
	assert_int_equal(ident_tcp_find(p6, "not-an-ip", 1, "10.200.0.1",
	    3128, &ino), -1);
	unlink(p4);
	unlink(p6);
	rmdir(d);
}

static void
test_enrich(void **state)
{
	struct policy	*p;

	(void)state;
	assert_non_null(p = policy_new());
	policy_strv_add(&p->read_only, "/usr");
	policy_strv_add(&p->read_write, "/etc");	/* kept, not duplicated */
	config_enrich(p, "/");
	assert_true(policy_strv_has(&p->read_only, "/lib"));
	assert_true(policy_strv_has(&p->read_only, "/proc"));
	assert_true(policy_strv_has(&p->read_only, "/dev/urandom"));
	assert_false(policy_strv_has(&p->read_only, "/etc"));
	assert_true(policy_strv_has(&p->read_write, "/sandbox"));
	assert_true(policy_strv_has(&p->read_write, "/tmp"));
	/* only what exists in the root */
	if (access("/app", F_OK) == -1)
		assert_false(policy_strv_has(&p->read_only, "/app"));
	policy_free(p);
}

static const char *
env_get(char **env, const char *key)
{
	size_t	 n = strlen(key);

	for (; *env != NULL; env++)
		if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static void
test_env(void **state)
{
	static struct sandbox	 sb;
	char			 hs[] = "OPENSHELL_SSH_HANDSHAKE_SECRET=s3cret";
	char			 tk[] = "TOKEN=v4lue";
	char			 hp[] = "HTTP_PROXY=http://elsewhere:1";
	char			 keep[] = "LANG=C";
	char			*envp[] = { hs, tk, hp, keep, NULL };

	(void)state;
	assert_non_null(sb.sb_policy = policy_new());
	sb.sb_policy->run_as_user = strdup("sandbox");
	sb.sb_creds[0].cr_key = "TOKEN";
	sb.sb_creds[0].cr_value = "v4lue";
	sb.sb_ncreds = 1;
	config_env(&sb, envp);
	assert_null(env_get(sb.sb_env, "OPENSHELL_SSH_HANDSHAKE_SECRET"));
	assert_string_equal(env_get(sb.sb_env, "TOKEN"),
	    "openshell:resolve:env:TOKEN");
	assert_string_equal(env_get(sb.sb_env, "HTTP_PROXY"),
	    "http://10.200.0.1:3128");
	assert_string_equal(env_get(sb.sb_env, "https_proxy"),
	    "http://10.200.0.1:3128");
	assert_string_equal(env_get(sb.sb_env, "NO_PROXY"),
	    "127.0.0.1,localhost,::1");
	assert_string_equal(env_get(sb.sb_env, "NODE_USE_ENV_PROXY"), "1");
	assert_string_equal(env_get(sb.sb_env, "OPENSHELL_SANDBOX"), "1");
	assert_string_equal(env_get(sb.sb_env, "LANG"), "C");
	assert_string_equal(env_get(sb.sb_env, "HOME"), "/sandbox");
	policy_free(sb.sb_policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_match_both_ends),
		cmocka_unit_test(test_enrich),
		cmocka_unit_test(test_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
