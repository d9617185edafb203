/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libipc/ipc_ev.c: the HELLO handshake, the sender policy, and the
 * closed callback, with both ends in one event base.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc_ev.h"
#include "msgs.h"

struct end {
	struct ipc_ev	 ev;
	int		 ndispatch;
	uint32_t	 last_type;
	uint32_t	 last_peerid;
	int		 last_fd;
	int		 nclosed;
	int		 closed_err;
	int		 free_on_dispatch;
	struct end	**freed;	/* set to NULL when freed */
};

struct fixture {
	struct event_base *base;
	int		 fd[2];
};

static void
on_dispatch(struct ipc_ev *ev, struct ipc_msg *msg, void *arg)
{
	struct end	*e = arg;

	assert_ptr_equal(ev, &e->ev);
	e->ndispatch++;
	e->last_type = ipc_type(msg);
	e->last_peerid = ipc_peerid(msg);
	if (msg->im_fd != -1)
		e->last_fd = ipc_fd(msg);
	if (e->free_on_dispatch) {
		ipc_ev_close(ev);
		*e->freed = NULL;
		free(e);
	}
}

static void
on_closed(struct ipc_ev *ev, int err, void *arg)
{
	struct end	*e = arg;

	assert_ptr_equal(ev, &e->ev);
	e->nclosed++;
	e->closed_err = err;
	ipc_ev_close(ev);
}

static struct end *
end_new(void)
{
	struct end	*e;

	e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->last_fd = -1;
	return e;
}

static void
end_open(struct fixture *f, struct end *e, int i, int self, int peer)
{
	assert_int_equal(ipc_ev_open(&e->ev, f->base, f->fd[i], self, peer,
	    on_dispatch, on_closed, e), 0);
	f->fd[i] = -1;
}

static void
end_free(struct end *e)
{
	if (e == NULL)
		return;
	ipc_ev_close(&e->ev);
	if (e->last_fd != -1)
		close(e->last_fd);
	free(e);
}

/* Run the loop without blocking until *flag is set. */
static void
run_until(struct fixture *f, const int *flag)
{
	int	 i;

	for (i = 0; i < 100 && !*flag; i++)
		assert_int_not_equal(event_base_loop(f->base, EVLOOP_NONBLOCK),
		    -1);
	assert_true(*flag);
}

static void
run_idle(struct fixture *f)
{
	int	 i;

	for (i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static int
setup(void **state)
{
	struct fixture	*f;

	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->base = event_base_new()) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, f->fd) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	if (f->fd[0] != -1)
		close(f->fd[0]);
	if (f->fd[1] != -1)
		close(f->fd[1]);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* A raw peer on fd[0]: frames written by hand. */
static void
raw_hello(struct fixture *f, uint32_t version, uint32_t proc, int extra)
{
	struct ipc_buf	 ib;
	struct ipc_wr	 w;

	ipc_init(&ib, f->fd[0]);
	ipc_wr_init(&w);
	ipc_wr_array(&w, extra ? 4 : 3);
	ipc_wr_u32(&w, version);
	ipc_wr_str(&w, IPC_BUILD);
	ipc_wr_u32(&w, proc);
	if (extra)
		ipc_wr_nil(&w);
	assert_int_equal(ipc_wr_close(&w, &ib, IPC_HELLO, 0, 0, -1), 0);
	assert_int_equal(ipc_flush(&ib), 0);
	ipc_clear(&ib);
}

static void
raw_send(struct fixture *f, uint32_t type)
{
	struct ipc_buf	 ib;

	ipc_init(&ib, f->fd[0]);
	assert_int_equal(ipc_compose(&ib, type, 0, 0, -1, "\x90", 1), 0);
	assert_int_equal(ipc_flush(&ib), 0);
	ipc_clear(&ib);
}

static void
test_handshake_and_dispatch(void **state)
{
	struct fixture	*f = *state;
	struct end	*ctl = end_new(), *gw = end_new();

	end_open(f, ctl, 0, PROC_CONTROL, PROC_GATEWAY);
	end_open(f, gw, 1, PROC_GATEWAY, PROC_CONTROL);
	assert_true(ctl->ev.ie_events & EV_WRITE);	/* HELLO queued */
	assert_int_equal(ipc_ev_compose(&ctl->ev, IPC_CTL_STATUS, 17, -1,
	    "\x90", 1), 0);
	run_until(f, &gw->ndispatch);
	assert_int_equal(gw->ndispatch, 1);	/* HELLO is not dispatched */
	assert_int_equal(gw->last_type, IPC_CTL_STATUS);
	assert_int_equal(gw->last_peerid, 17);
	assert_true(gw->ev.ie_hello);

	assert_int_equal(ipc_ev_compose(&gw->ev, IPC_CTL_REPLY, 17, -1,
	    "\x80", 1), 0);
	run_until(f, &ctl->ndispatch);
	assert_int_equal(ctl->last_type, IPC_CTL_REPLY);
	run_idle(f);
	/* Drained: EV_WRITE is no longer armed. */
	assert_false(ctl->ev.ie_events & EV_WRITE);
	assert_false(gw->ev.ie_events & EV_WRITE);
	assert_true(ctl->ev.ie_events & EV_READ);
	assert_int_equal(ctl->nclosed + gw->nclosed, 0);
	end_free(ctl);
	end_free(gw);
}

/* A message on the socket now: no loop turn, EV_WRITE never armed. */
static void
test_send_now(void **state)
{
	struct fixture	*f = *state;
	struct end	*ctl = end_new(), *gw = end_new();
	struct ipc_wr	 w;
	char		 big[8192];
	int		 i;

	end_open(f, ctl, 0, PROC_CONTROL, PROC_GATEWAY);
	end_open(f, gw, 1, PROC_GATEWAY, PROC_CONTROL);
	run_idle(f);
	assert_false(ctl->ev.ie_events & EV_WRITE);
	ipc_wr_init(&w);
	ipc_wr_u32(&w, 5);
	assert_int_equal(ipc_ev_send_wr(&ctl->ev, IPC_CTL_STATUS, 9, -1, &w),
	    0);
	assert_int_equal(ipc_queuelen(&ctl->ev.ie_ib), 0);
	assert_false(ctl->ev.ie_events & EV_WRITE);
	run_until(f, &gw->ndispatch);
	assert_int_equal(gw->last_type, IPC_CTL_STATUS);
	assert_int_equal(gw->last_peerid, 9);

	/* The sender policy holds as for ipc_ev_compose_wr. */
	ipc_wr_init(&w);
	ipc_wr_nil(&w);
	assert_int_equal(ipc_ev_send_wr(&ctl->ev, IPC_CTL_REPLY, 0, -1, &w),
	    -1);
	assert_int_equal(errno, EPERM);

	/* What the socket does not take waits for the write event. */
	memset(big, 'x', sizeof(big));
	for (i = 0; i < 1024 && ipc_queuelen(&ctl->ev.ie_ib) == 0; i++) {
		ipc_wr_init(&w);
		ipc_wr_bin(&w, big, sizeof(big));
		assert_int_equal(ipc_ev_send_wr(&ctl->ev, IPC_CTL_STATUS, 0,
		    -1, &w), 0);
	}
	assert_true(ipc_queuelen(&ctl->ev.ie_ib) > 0);
	assert_true(ctl->ev.ie_events & EV_WRITE);
	end_free(ctl);
	end_free(gw);
}

static void
test_compose_policy(void **state)
{
	struct fixture	*f = *state;
	struct end	*ctl = end_new();

	end_open(f, ctl, 0, PROC_CONTROL, PROC_GATEWAY);
	errno = 0;
	assert_int_equal(ipc_ev_compose(&ctl->ev, IPC_SETUP_PEER, 0, -1,
	    "\x90", 1), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ipc_ev_compose(&ctl->ev, IPC_HELLO, 0, -1,
	    "\x90", 1), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ipc_ev_compose(&ctl->ev, IPC_TYPE_MAX, 0, -1,
	    "\x90", 1), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ipc_queuelen(&ctl->ev.ie_ib), 1);	/* HELLO */
	end_free(ctl);
}

/* The control end forges IPC_SETUP_PEER behind ipc_ev_compose's back. */
static void
test_wrong_sender(void **state)
{
	struct fixture	*f = *state;
	struct end	*ctl = end_new(), *gw = end_new();

	end_open(f, ctl, 0, PROC_CONTROL, PROC_GATEWAY);
	end_open(f, gw, 1, PROC_GATEWAY, PROC_CONTROL);
	assert_int_equal(ipc_compose(&ctl->ev.ie_ib, IPC_SETUP_PEER, 0, 0, -1,
	    "\x91\x01", 2), 0);
	ipc_ev_add(&ctl->ev);
	run_until(f, &gw->nclosed);
	assert_int_equal(gw->nclosed, 1);
	assert_int_equal(gw->closed_err, EPROTO);
	assert_int_equal(gw->ndispatch, 0);
	/* After closing, the channel refuses to queue. */
	errno = 0;
	assert_int_equal(ipc_ev_compose(&gw->ev, IPC_CTL_REPLY, 0, -1,
	    "\x90", 1), -1);
	assert_int_equal(errno, ENOTCONN);
	/* The control end sees EOF. */
	run_until(f, &ctl->nclosed);
	assert_int_equal(ctl->closed_err, 0);
	run_idle(f);
	assert_int_equal(gw->nclosed, 1);
	end_free(ctl);
	end_free(gw);
}

static void
expect_closed_eproto(struct fixture *f, struct end *e)
{
	run_until(f, &e->nclosed);
	assert_int_equal(e->closed_err, EPROTO);
	assert_int_equal(e->ndispatch, 0);
	run_idle(f);
	assert_int_equal(e->nclosed, 1);
}

static void
test_hello_version_mismatch(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	raw_hello(f, IPC_VERSION + 1, PROC_PARENT, 0);
	raw_send(f, IPC_SETUP_DONE);
	expect_closed_eproto(f, gw);
	end_free(gw);
}

/* A newer peer may add fields; the version is still what is reported. */
static void
test_hello_version_mismatch_longer(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	raw_hello(f, IPC_VERSION + 1, PROC_PARENT, 1);
	expect_closed_eproto(f, gw);
	end_free(gw);
}

static void
test_hello_wrong_proc(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	raw_hello(f, IPC_VERSION, PROC_WATCH, 0);
	raw_send(f, IPC_SETUP_DONE);
	expect_closed_eproto(f, gw);
	end_free(gw);
}

static void
test_hello_malformed(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	raw_hello(f, IPC_VERSION, PROC_PARENT, 1);	/* trailing field */
	expect_closed_eproto(f, gw);
	end_free(gw);
}

static void
test_hello_missing(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	raw_send(f, IPC_SETUP_DONE);	/* allowed, but not first */
	expect_closed_eproto(f, gw);
	end_free(gw);
}

static void
test_hello_twice(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	raw_hello(f, IPC_VERSION, PROC_PARENT, 0);
	raw_send(f, IPC_SETUP_DONE);
	run_until(f, &gw->ndispatch);
	raw_hello(f, IPC_VERSION, PROC_PARENT, 0);
	run_until(f, &gw->nclosed);
	assert_int_equal(gw->closed_err, EPROTO);
	assert_int_equal(gw->ndispatch, 1);
	end_free(gw);
}

static void
test_bad_frame(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();
	struct ipc_hdr	 hdr = { IPC_HELLO, IPC_MAXSIZE_DEFAULT + 1, 0, 0 };

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	assert_int_equal(write(f->fd[0], &hdr, sizeof(hdr)), sizeof(hdr));
	expect_closed_eproto(f, gw);
	end_free(gw);
}

static void
test_eof(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new();

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	raw_hello(f, IPC_VERSION, PROC_PARENT, 0);
	close(f->fd[0]);
	f->fd[0] = -1;
	run_until(f, &gw->nclosed);
	assert_int_equal(gw->closed_err, 0);
	run_idle(f);
	assert_int_equal(gw->nclosed, 1);
	assert_int_equal(gw->ndispatch, 0);
	end_free(gw);
}

/* A dispatch callback that frees its channel stops the read loop. */
static void
test_dispatch_frees_channel(void **state)
{
	struct fixture	*f = *state;
	struct end	*gw = end_new(), *ref;
	int		 i;

	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	gw->free_on_dispatch = 1;
	ref = gw;
	gw->freed = &ref;
	raw_hello(f, IPC_VERSION, PROC_PARENT, 0);
	raw_send(f, IPC_SETUP_DONE);
	raw_send(f, IPC_SETUP_DONE);
	raw_send(f, IPC_SETUP_DONE);
	for (i = 0; i < 20 && ref != NULL; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_null(ref);
	run_idle(f);
}

static void
test_fd_passing(void **state)
{
	struct fixture	*f = *state;
	struct end	*parent = end_new(), *gw = end_new();
	int		 pfd[2];
	char		 c;

	end_open(f, parent, 0, PROC_PARENT, PROC_GATEWAY);
	end_open(f, gw, 1, PROC_GATEWAY, PROC_PARENT);
	ipc_allow_fdpass(&parent->ev.ie_ib);
	ipc_allow_fdpass(&gw->ev.ie_ib);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ipc_ev_compose(&parent->ev, IPC_SETUP_PEER, 0, pfd[0],
	    "\x91\x03", 2), 0);
	run_until(f, &gw->ndispatch);
	assert_int_equal(gw->last_type, IPC_SETUP_PEER);
	assert_true(gw->last_fd >= 0);
	assert_true(fcntl(gw->last_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(pfd[1], "f", 1), 1);
	assert_int_equal(read(gw->last_fd, &c, 1), 1);
	assert_int_equal(c, 'f');
	close(pfd[1]);
	end_free(parent);
	end_free(gw);
}

/* ipc_ev_open owns the fd even when it fails. */
static void
test_open_takes_fd(void **state)
{
	struct fixture	*f = *state;
	struct ipc_ev	 ev;
	int		 fd;

	fd = f->fd[1];
	f->fd[1] = -1;
	close(fd);
	errno = 0;
	assert_int_equal(ipc_ev_open(&ev, f->base, fd, PROC_GATEWAY,
	    PROC_PARENT, on_dispatch, on_closed, NULL), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ev.ie_ib.ib_fd, -1);
	ipc_ev_close(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_dispatch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_now, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compose_policy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_sender,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_version_mismatch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_hello_version_mismatch_longer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_wrong_proc,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_malformed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_missing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_twice,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frame,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_frees_channel,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_passing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_takes_fd,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
