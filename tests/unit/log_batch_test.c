/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libipc/log.c's opt-in batching (log_batch): stderr lines wait for the
 * end of the loop turn and go out together, in order, none lost: not
 * before the turn, at once when the buffer fills, before a fatal line,
 * at exit and on SIGTERM.  Batching cannot be turned off again, so
 * every case runs in a child of its own whose stderr is a pipe.
 */

#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <cmocka.h>

#include "log.h"

#define OUT_MAX	65536

struct child {
	pid_t	 pid;
	int	 fd;		/* the read end of its stderr */
};

static char	 out[OUT_MAX];

static struct event_base *batch_start(void);
static void	 child_run(struct child *, void (*)(void));
static int	 child_wait(struct child *);

static void
child_run(struct child *ch, void (*fn)(void))
{
	int	 p[2];

	assert_int_equal(pipe(p), 0);
	fflush(stderr);
	ch->pid = fork();
	assert_true(ch->pid != -1);
	if (ch->pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDERR_FILENO) == -1)
			_exit(99);
		close(p[1]);
		fn();
		_exit(98);	/* fn ends the process itself */
	}
	close(p[1]);
	ch->fd = p[0];
}

/* All the child wrote (into out), and its wait status. */
static int
child_wait(struct child *ch)
{
	ssize_t	 n;
	size_t	 off = 0;
	int	 status;

	while ((n = read(ch->fd, out + off, sizeof(out) - 1 - off)) > 0)
		off += (size_t)n;
	out[off] = '\0';
	close(ch->fd);
	assert_int_equal(waitpid(ch->pid, &status, 0), ch->pid);
	return status;
}

static struct event_base *
batch_start(void)
{
	struct event_base	*base;

	log_procinit("t");
	log_setverbose(0);
	if ((base = event_base_new()) == NULL)
		_exit(97);
	log_batch(base);
	return base;
}

/*
 * Lines of one turn: none written before the loop runs (the child
 * finds its own stderr pipe empty), all after it, in order.
 */
static void
turn_child(void)
{
	struct event_base	*base = batch_start();
	int			 n = -1;

	log_info("one");
	log_warnx("two");
	/* Not written yet: nothing readable on our own stderr pipe. */
	if (ioctl(STDERR_FILENO, FIONREAD, &n) == -1 || n != 0)
		_exit(10);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	log_info("three");
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	_exit(0);
}

static void
test_one_write_per_turn(void **state)
{
	struct child	 ch;
	int		 st;

	(void)state;
	child_run(&ch, turn_child);
	st = child_wait(&ch);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);	/* _exit: no atexit flush */
	assert_string_equal(out, "t: one\nt: two\nt: three\n");
}

/* More than a buffer's worth before the loop runs: nothing lost. */
static void
full_child(void)
{
	char	 line[1001];
	int	 i;

	(void)batch_start();
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (i = 0; i < 20; i++)
		log_info("%02d %s", i, line);
	exit(0);
}

static void
test_full_buffer_and_exit(void **state)
{
	struct child	 ch;
	char		*p;
	int		 i, st;

	(void)state;
	child_run(&ch, full_child);
	st = child_wait(&ch);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	p = out;
	for (i = 0; i < 20; i++) {
		char	 want[32], *nl;

		snprintf(want, sizeof(want), "t: %02d x", i);
		assert_memory_equal(p, want, strlen(want));
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_int_equal(nl - p, 3 + 3 + 1000);	/* whole */
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');
}

static void
fatal_child(void)
{
	(void)batch_start();
	log_info("before");
	fatalx("boom %d", 1);
}

static void
test_fatal_flushes_first(void **state)
{
	struct child	 ch;
	int		 st;

	(void)state;
	child_run(&ch, fatal_child);
	st = child_wait(&ch);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	assert_string_equal(out, "t: before\nfatal in t: boom 1\n");
}

static void
term_child(void)
{
	(void)batch_start();
	log_info("last words");
	raise(SIGTERM);
	_exit(96);
}

static void
test_sigterm_flushes_and_still_kills(void **state)
{
	struct child	 ch;
	int		 st;

	(void)state;
	child_run(&ch, term_child);
	st = child_wait(&ch);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	assert_string_equal(out, "t: last words\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_write_per_turn),
		cmocka_unit_test(test_full_buffer_and_exit),
		cmocka_unit_test(test_fatal_flushes_first),
		cmocka_unit_test(test_sigterm_flushes_and_still_kills),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
