/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

/*
 * The pure parts of openshell-sandbox: the TCP table match behind the
 * binary identity (ident.c), the baseline enrichment and the agent's
 * environment (config.c), binary symlinks (binalias.c) in a root made
 * here.
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

/* A root: usr/bin/python3.11 and links to it, safe and not. */
static void
alias_root(char *root, size_t len)
{
	static const char *const links[][2] = {
		{ "bin", "usr/bin" },			/* merged /usr */
		{ "usr/bin/python3", "python3.11" },
		{ "usr/local/bin/py", "/usr/bin/python3" },
		{ "usr/bin/up", "../../../../usr/bin/python3.11" },
		{ "usr/bin/intmp", "/tmp/x" },
		{ "usr/bin/inrw", "/opt/rw/tool" },
		{ "usr/bin/dir", "/usr" },
		{ "usr/bin/loop1", "loop2" },
		{ "usr/bin/loop2", "loop1" },
		{ "usr/bin/nowhere", "missing" },
	};
	static const char *const dirs[] = {
		"usr", "usr/bin", "usr/local", "usr/local/bin", "tmp", "opt",
		"opt/rw",
	};
	char	 p[PATH_MAX * 2];
	size_t	 i;
	FILE	*fp;

	assert_true(strlcpy(root, "/tmp/sbxtest.XXXXXX", len) < len);
	assert_non_null(mkdtemp(root));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", root, i == 0 ?
		    "usr/bin/python3.11" : i == 1 ? "tmp/x" : "opt/rw/tool");
		assert_non_null(fp = fopen(p, "w"));
		fclose(fp);
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, links[i][0]);
		assert_int_equal(symlink(links[i][1], p), 0);
	}
}

static void
test_binalias(void **state)
{
	struct policy_strv	 rw = { 0 };
	struct policy		*p;
	struct policy_netrule	*r;
	char			 root[PATH_MAX], out[PATH_MAX], cmd[PATH_MAX + 16];

	(void)state;
	alias_root(root, sizeof(root));
	policy_strv_add(&rw, "/opt/rw");
	assert_int_equal(binalias_resolve(root, "/usr/bin/python3", &rw, out,
	    sizeof(out)), 1);
	assert_string_equal(out, "/usr/bin/python3.11");
	/* through a directory link, an absolute link (in root, not in
	 * ours) and a ".." that would climb out of the root */
	assert_int_equal(binalias_resolve(root, "/bin/python3", &rw, out,
	    sizeof(out)), 1);
	assert_string_equal(out, "/usr/bin/python3.11");
	assert_int_equal(binalias_resolve(root, "/usr/local/bin/py", &rw, out,
	    sizeof(out)), 1);
	assert_string_equal(out, "/usr/bin/python3.11");
	assert_int_equal(binalias_resolve(root, "/usr/bin/up", &rw, out,
	    sizeof(out)), 1);
	assert_string_equal(out, "/usr/bin/python3.11");
	/* no link, or nothing there: the path alone */
	assert_int_equal(binalias_resolve(root, "/usr/bin/python3.11", &rw,
	    out, sizeof(out)), 0);
	assert_int_equal(binalias_resolve(root, "/usr/bin/absent", &rw, out,
	    sizeof(out)), 0);
	assert_int_equal(binalias_resolve(root, "/usr/bin/nowhere", &rw, out,
	    sizeof(out)), 0);
	/* into what the agent writes or sees its own way, to a directory,
	 * round in circles: never */
	assert_int_equal(binalias_resolve(root, "/usr/bin/intmp", &rw, out,
	    sizeof(out)), -1);
	assert_int_equal(binalias_resolve(root, "/usr/bin/inrw", &rw, out,
	    sizeof(out)), -1);
	assert_int_equal(binalias_resolve(root, "/usr/bin/dir", &rw, out,
	    sizeof(out)), -1);
	assert_int_equal(binalias_resolve(root, "/usr/bin/loop1", &rw, out,
	    sizeof(out)), -1);

	/* The policy: each alias once, next to its path; globs alone. */
	assert_non_null(p = policy_new());
	policy_strv_add(&p->read_write, "/opt/rw");
	assert_non_null(r = policy_rule_add(p, "py"));
	assert_non_null(policy_binary_add(r, "/usr/bin/python3"));
	assert_non_null(policy_binary_add(r, "/bin/python3"));
	assert_non_null(policy_binary_add(r, "/usr/bin/*"));
	assert_non_null(policy_binary_add(r, "/usr/bin/inrw"));
	assert_int_equal(binalias_policy(p, root), 1);
	assert_int_equal(r->nbinaries, 5);
	assert_true(binalias_listed(r, "/usr/bin/python3.11"));
	assert_false(binalias_listed(r, "/opt/rw/tool"));
	assert_int_equal(binalias_policy(p, root), 0);	/* idempotent */
	policy_free(p);
	policy_strv_free(&rw);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_match_both_ends),
		cmocka_unit_test(test_enrich),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_binalias),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
