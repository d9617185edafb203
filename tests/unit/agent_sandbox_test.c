/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

/*
 * The agent's half of libipc/sandbox.c: sandbox_landlock_paths() and
 * sandbox_agent_filter().  Each case runs in a forked child, which
 * exits 0 when every check held and reports the failed line otherwise.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

#define NEED(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "line %d: %s\n", __LINE__, #c);	\
		_exit(1);						\
	}								\
} while (0)

static char	 dir[64];

static int
child(void (*fn)(void))
{
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == 0) {
		fn();
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
setup(void **state)
{
	char	 p[128];
	int	 fd;

	(void)state;
	strlcpy(dir, "/tmp/agent_sandbox.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/ro", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/rw", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ro/f", dir);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0644)) == -1)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "%s/other", dir);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0644)) == -1)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
ll_apply(void)
{
	char		 ro[96], rw[96], p[128], st[SANDBOX_LL_STATUSLEN];
	const char	*ros[2], *rws[2];
	int		 fd;

	snprintf(ro, sizeof(ro), "%s/ro", dir);
	snprintf(rw, sizeof(rw), "%s/rw", dir);
	ros[0] = ro;
	ros[1] = "/nonexistent-agent-sandbox";
	rws[0] = rw;
	NEED(sandbox_landlock_paths(ros, 2, rws, 1, 0, st, sizeof(st)) == 0);
	if (sandbox_landlock_abi() == 0) {
		NEED(strstr(st, "enforced=no") != NULL);
		return;
	}
	NEED(strstr(st, "enforced=yes") != NULL);
	NEED(strstr(st, "rules=2 skipped=1") != NULL);
	NEED(strstr(st, "/nonexistent-agent-sandbox") != NULL);
	snprintf(p, sizeof(p), "%s/ro/f", dir);
	NEED((fd = open(p, O_RDONLY)) != -1);
	close(fd);
	NEED(open(p, O_WRONLY) == -1 && errno == EACCES);
	snprintf(p, sizeof(p), "%s/rw/new", dir);
	NEED((fd = open(p, O_WRONLY | O_CREAT, 0644)) != -1);
	close(fd);
	NEED(unlink(p) == 0);
	snprintf(p, sizeof(p), "%s/other", dir);
	NEED(open(p, O_RDONLY) == -1 && errno == EACCES);
	NEED(open("/etc/hostname", O_RDONLY) == -1 && errno == EACCES);
}

static void
test_landlock_paths(void **state)
{
	(void)state;
	assert_int_equal(child(ll_apply), 0);
}

static void
ll_hard(void)
{
	char		 st[SANDBOX_LL_STATUSLEN];
	const char	*ros[1] = { "/nonexistent-agent-sandbox" };
	const char	*rws[1] = { "/tmp" };

	NEED(sandbox_landlock_paths(ros, 1, rws, 1, 1, st, sizeof(st)) == -1);
	NEED(strstr(st, "enforced=no") != NULL);
	NEED(strstr(st, "compatibility=hard_requirement") != NULL);
	/* nothing was restricted */
	NEED(open("/etc/hostname", O_RDONLY) != -1 || errno != EACCES);
}

static void
test_landlock_hard(void **state)
{
	(void)state;
	assert_int_equal(child(ll_hard), 0);
}

static void
filter(void)
{
	long	 r;

	sandbox_nnp();
	NEED(sandbox_agent_filter() == 0);
	NEED(socket(AF_NETLINK, SOCK_RAW, 0) == -1 && errno == EPERM);
	NEED(socket(AF_PACKET, SOCK_RAW, 0) == -1 && errno == EPERM);
	NEED(syscall(SYS_socket, 0x100000000UL | AF_NETLINK, SOCK_RAW, 0) ==
	    -1 && errno == EPERM);
	NEED(unshare(CLONE_NEWUSER) == -1 && errno == EPERM);
	NEED(unshare(CLONE_NEWNET) == -1 && errno == EPERM);
	NEED(syscall(SYS_setns, -1, 0) == -1 && errno == EPERM);
	NEED(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
	NEED(syscall(SYS_bpf, -1, NULL, 0) == -1 && errno == EPERM);
	NEED(syscall(SYS_keyctl, 0, -2, 0) == -1 && errno == EPERM);
	/* what an agent does every day still works */
	NEED(socket(AF_INET, SOCK_STREAM, 0) >= 0);
	NEED(socket(AF_UNIX, SOCK_STREAM, 0) >= 0);
	r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	NEED(r > 0 && waitpid((pid_t)r, NULL, 0) == r);
	NEED(unshare(CLONE_FILES) == 0);
}

static void
test_agent_filter(void **state)
{
	(void)state;
	assert_int_equal(child(filter), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_landlock_paths),
		cmocka_unit_test(test_landlock_hard),
		cmocka_unit_test(test_agent_filter),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
