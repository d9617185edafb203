/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * svc/watchd/watchbus.c: who gets snapshots and platform events, the
 * 50-event replay, stop_on_terminal on READY only, lag, deletion and a
 * gatewayd reset (control-plane.md 2.5).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libgrpc/grpc_wire.h"
#include "msgs.h"
#include "svc/watchd/watchd.h"

#define MAXFRAMES	128

struct frame {
	uint32_t	 f_type;
	uint32_t	 f_peerid;
	uint32_t	 f_a;		/* kind, or code */
	char		 f_text[128];	/* event bytes, or message */
};

struct capture {
	struct frame	 c_frames[MAXFRAMES];
	size_t		 c_n;
	int		 c_fail;
};

static int
capture_send(void *arg, uint32_t type, uint32_t peerid, struct ipc_wr *w)
{
	struct capture	*c = arg;
	struct frame	*f;
	struct ipc_rd	 r;
	const void	*data, *bin;
	size_t		 len, blen;
	uint32_t	 n, phase;

	if (c->c_fail || c->c_n == MAXFRAMES) {
		ipc_wr_free(w);
		return -1;
	}
	f = &c->c_frames[c->c_n++];
	memset(f, 0, sizeof(*f));
	f->f_type = type;
	f->f_peerid = peerid;
	data = ipc_wr_data(w, &len);
	assert_int_equal(ipc_rd_initbuf(&r, type, data, len), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &f->f_a);
	if (type == IPC_WATCH_EVENT) {
		ipc_rd_u32(&r, &phase);
		ipc_rd_bin(&r, &bin, &blen);
		assert_true(blen < sizeof(f->f_text));
		memcpy(f->f_text, bin, blen);
	} else if (!ipc_rd_isnil(&r))
		ipc_rd_strbuf(&r, f->f_text, sizeof(f->f_text));
	assert_int_equal(ipc_rd_end(&r), 0);
	ipc_wr_free(w);
	return 0;
}

static void
platform(struct watchbuses *wbs, const char *id, int i)
{
	char	 ev[16];

	snprintf(ev, sizeof(ev), "ev%d", i);
	watchbus_platform(wbs, id, ev, strlen(ev));
}

static void
test_replay_and_follow(void **state)
{
	struct watchbuses	 wbs;
	struct capture		 c;
	int			 i;

	(void)state;
	memset(&c, 0, sizeof(c));
	watchbus_init(&wbs, capture_send, &c);
	for (i = 0; i < 60; i++)
		platform(&wbs, "sb", i);
	/* Status only: no replay; events: the last 50, in order. */
	assert_int_equal(watchbus_subscribe(&wbs, 1, "sb", 1, 0, 0), 0);
	assert_int_equal(c.c_n, 0);
	assert_int_equal(watchbus_subscribe(&wbs, 2, "sb", 0, 1, 0), 0);
	assert_int_equal(c.c_n, WATCHBUS_EVENTS);
	assert_string_equal(c.c_frames[0].f_text, "ev10");
	assert_string_equal(c.c_frames[49].f_text, "ev59");
	assert_int_equal(c.c_frames[0].f_a, WATCH_KIND_PLATFORM);
	assert_int_equal(c.c_frames[0].f_peerid, 2);
	c.c_n = 0;
	watchbus_snapshot(&wbs, "sb", 1, "snap", 4);
	assert_int_equal(c.c_n, 1);
	assert_int_equal(c.c_frames[0].f_peerid, 1);
	assert_int_equal(c.c_frames[0].f_a, WATCH_KIND_SANDBOX);
	c.c_n = 0;
	platform(&wbs, "sb", 60);
	assert_int_equal(c.c_n, 1);
	assert_int_equal(c.c_frames[0].f_peerid, 2);
	c.c_n = 0;
	subs_unsubscribe(&wbs.wbs_subs, 2);
	platform(&wbs, "sb", 61);
	assert_int_equal(c.c_n, 0);
	assert_int_equal(wbs.wbs_subs.s_nsubs, 1);
	subs_reset(&wbs.wbs_subs);
	assert_int_equal(wbs.wbs_subs.s_nsubs, 0);
	subs_clear(&wbs.wbs_subs);
}

static void
test_stop_lag_gone(void **state)
{
	struct watchbuses	 wbs;
	struct capture		 c;

	(void)state;
	memset(&c, 0, sizeof(c));
	watchbus_init(&wbs, capture_send, &c);
	assert_int_equal(watchbus_subscribe(&wbs, 1, "sb", 1, 0, 1), 0);
	assert_int_equal(watchbus_subscribe(&wbs, 2, "sb", 1, 0, 0), 0);
	assert_int_equal(watchbus_subscribe(&wbs, 3, "sb", 1, 0, 0), 0);
	/* ERROR (3) never stops a stream; READY (2) stops stop_on_terminal. */
	watchbus_snapshot(&wbs, "sb", 3, "e", 1);
	assert_int_equal(c.c_n, 3);
	c.c_n = 0;
	watchbus_snapshot(&wbs, "sb", WATCH_PHASE_READY, "r", 1);
	assert_int_equal(c.c_n, 4);
	assert_int_equal(c.c_frames[1].f_type, IPC_WATCH_END);
	assert_int_equal(c.c_frames[1].f_peerid, 1);
	assert_int_equal(c.c_frames[1].f_a, GRPC_OK);
	assert_int_equal(wbs.wbs_subs.s_nsubs, 2);
	c.c_n = 0;
	/* A full queue: both lag; the next change ends them. */
	c.c_fail = 1;
	watchbus_snapshot(&wbs, "sb", 1, "p", 1);
	c.c_fail = 0;
	watchbus_snapshot(&wbs, "sb", 1, "p", 1);
	assert_int_equal(c.c_n, 2);
	assert_int_equal(c.c_frames[0].f_a, GRPC_RESOURCE_EXHAUSTED);
	assert_string_equal(c.c_frames[0].f_text,
	    "watch stream lagged; dropped 2 messages");
	assert_int_equal(wbs.wbs_subs.s_nsubs, 0);
	c.c_n = 0;
	/* Deletion closes the stream. */
	assert_int_equal(watchbus_subscribe(&wbs, 4, "sb", 0, 0, 0), 0);
	subs_drop(&wbs.wbs_subs, "sb");
	assert_int_equal(c.c_n, 1);
	assert_int_equal(c.c_frames[0].f_type, IPC_WATCH_END);
	assert_int_equal(c.c_frames[0].f_a, GRPC_CANCELLED);
	assert_string_equal(c.c_frames[0].f_text, "stream closed");
	assert_int_equal(wbs.wbs_subs.s_nbuses, 0);
	subs_clear(&wbs.wbs_subs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_and_follow),
		cmocka_unit_test(test_stop_lag_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
