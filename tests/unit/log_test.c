/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libipc/log.c: line format on stderr, the hook and its recursion
 * guard, verbosity, and fatal.  log_init is never called: logging must
 * work before it, on stderr.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

struct capture {
	int	 pipe[2];
	int	 saved;
};

static char	 hook_level[16];
static char	 hook_msg[256];
static int	 hook_calls;

static void
capture_start(struct capture *c)
{
	fflush(stderr);
	assert_int_equal(pipe(c->pipe), 0);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_int_not_equal(dup2(c->pipe[1], STDERR_FILENO), -1);
	close(c->pipe[1]);
}

/* Restores stderr and returns what was written (static buffer). */
static const char *
capture_end(struct capture *c)
{
	static char	 buf[4096];
	ssize_t		 n;
	size_t		 off = 0;

	fflush(stderr);
	assert_int_not_equal(dup2(c->saved, STDERR_FILENO), -1);
	close(c->saved);
	while ((n = read(c->pipe[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += n;
	close(c->pipe[0]);
	buf[off] = '\0';
	return buf;
}

static void
hook(const char *level, const char *msg)
{
	hook_calls++;
	strlcpy(hook_level, level, sizeof(hook_level));
	strlcpy(hook_msg, msg, sizeof(hook_msg));
}

static void
hook_that_logs(const char *level, const char *msg)
{
	hook(level, msg);
	log_warnx("from the hook");
}

static void
hook_print(const char *level, const char *msg)
{
	log_warnx("hook %s: %s", level, msg);
}

static int
setup(void **state)
{
	(void)state;
	log_procinit("test");
	log_setverbose(0);
	log_sethook(NULL);
	hook_calls = 0;
	hook_level[0] = hook_msg[0] = '\0';
	return 0;
}

static void
test_format_stderr(void **state)
{
	struct capture	 c;

	(void)state;
	capture_start(&c);
	log_warnx("x %d", 1);
	log_info("info %s", "line");
	assert_string_equal(capture_end(&c), "test: x 1\ntest: info line\n");
	assert_string_equal(log_procname(), "test");
}

static void
test_warn_appends_strerror(void **state)
{
	struct capture	 c;

	(void)state;
	capture_start(&c);
	errno = ENOENT;
	log_warn("open %s", "f");
	assert_int_equal(errno, ENOENT);	/* preserved */
	assert_string_equal(capture_end(&c),
	    "test: open f: No such file or directory\n");
}

static void
test_debug_needs_verbose(void **state)
{
	struct capture	 c;

	(void)state;
	log_sethook(hook);
	capture_start(&c);
	log_debug("quiet");
	log_setverbose(1);
	assert_int_equal(log_getverbose(), 1);
	log_debug("loud");
	assert_string_equal(capture_end(&c), "test: loud\n");
	assert_int_equal(hook_calls, 1);
	assert_string_equal(hook_level, "DEBUG");
	assert_string_equal(hook_msg, "loud");
}

/* "log-level warn" keeps warnings and drops info and debug lines. */
static void
test_warn_level_drops_info(void **state)
{
	struct capture	 c;

	(void)state;
	log_sethook(hook);
	log_setverbose(-1);
	capture_start(&c);
	log_info("chatter");
	log_debug("noise");
	log_warnx("kept");
	assert_string_equal(capture_end(&c), "test: kept\n");
	assert_int_equal(hook_calls, 1);
	assert_string_equal(hook_level, "WARN");
}

static void
test_hook_levels(void **state)
{
	struct capture	 c;

	(void)state;
	log_sethook(hook);
	capture_start(&c);
	log_warnx("w");
	assert_string_equal(hook_level, "WARN");
	assert_string_equal(hook_msg, "w");
	errno = EPERM;
	log_warn("e");
	assert_string_equal(hook_level, "WARN");
	assert_string_equal(hook_msg, "e: Operation not permitted");
	log_info("i");
	assert_string_equal(hook_level, "INFO");
	capture_end(&c);
	assert_int_equal(hook_calls, 3);
}

/* A hook that logs reaches stderr but never itself again. */
static void
test_hook_recursion(void **state)
{
	struct capture	 c;

	(void)state;
	log_sethook(hook_that_logs);
	capture_start(&c);
	log_warnx("outer");
	assert_string_equal(capture_end(&c),
	    "test: outer\ntest: from the hook\n");
	assert_int_equal(hook_calls, 1);
	assert_string_equal(hook_msg, "outer");
	/* The guard is released afterwards. */
	capture_start(&c);
	log_info("again");
	capture_end(&c);
	assert_int_equal(hook_calls, 2);
}

static void
run_fatal(int withx, char *out, size_t outlen, int *status)
{
	int	 p[2];
	pid_t	 pid;
	ssize_t	 n;
	size_t	 off = 0;

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		log_sethook(hook_print);
		errno = EACCES;
		if (withx)
			fatalx("bad %s", "msg");
		fatal("setup");
	}
	close(p[1]);
	while ((n = read(p[0], out + off, outlen - 1 - off)) > 0)
		off += n;
	out[off] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
}

static void
test_fatal(void **state)
{
	char	 out[1024];
	int	 status;

	(void)state;
	run_fatal(1, out, sizeof(out), &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_string_equal(out, "fatal in test: bad msg\n"
	    "test: hook ERROR: fatal in test: bad msg\n");
	run_fatal(0, out, sizeof(out), &status);
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_string_equal(out, "fatal in test: setup: Permission denied\n"
	    "test: hook ERROR: fatal in test: setup: Permission denied\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_format_stderr, setup),
		cmocka_unit_test_setup(test_warn_appends_strerror, setup),
		cmocka_unit_test_setup(test_debug_needs_verbose, setup),
		cmocka_unit_test_setup(test_warn_level_drops_info, setup),
		cmocka_unit_test_setup(test_hook_levels, setup),
		cmocka_unit_test_setup(test_hook_recursion, setup),
		cmocka_unit_test_setup(test_fatal, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
