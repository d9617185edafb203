/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * svc/logd/ring.c: order, overwrite of the oldest, counters, and the
 * scrubbing of control characters.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "svc/logd/logd.h"

static void
test_order_and_wrap(void **state)
{
	struct ring		 r;
	const struct ring_event	*re;
	char			 msg[16];
	int			 i;

	(void)state;
	ring_init(&r, 4);
	assert_null(ring_get(&r, 0));
	for (i = 0; i < 6; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		assert_non_null(ring_push(&r, 1000 + i, "watchd", 7, "INFO",
		    msg));
	}
	assert_int_equal(r.r_count, 4);
	assert_int_equal(r.r_total, 6);
	for (i = 0; i < 4; i++) {
		re = ring_get(&r, (size_t)i);
		snprintf(msg, sizeof(msg), "m%d", i + 2);
		assert_string_equal(re->re_msg, msg);
		assert_int_equal(re->re_time, 1002 + i);
		assert_string_equal(re->re_proc, "watchd");
		assert_int_equal(re->re_pid, 7);
	}
	assert_null(ring_get(&r, 4));
	ring_free(&r);
}

static void
test_scrub(void **state)
{
	struct ring		 r;
	const struct ring_event	*re;

	(void)state;
	ring_init(&r, 2);
	re = ring_push(&r, 0, "gw\x1b[1m", 1, "IN\nFO",
	    "line\nforged 2026 logd[1] INFO: x\x7f\t");
	assert_string_equal(re->re_proc, "gw?[1m");
	assert_string_equal(re->re_level, "IN?FO");
	assert_string_equal(re->re_msg, "line?forged 2026 logd[1] INFO: x??");
	ring_free(&r);
}

static void
test_long_fields_cut(void **state)
{
	struct ring		 r;
	const struct ring_event	*re;
	char			 proc[100];

	(void)state;
	memset(proc, 'p', sizeof(proc) - 1);
	proc[sizeof(proc) - 1] = '\0';
	ring_init(&r, 1);
	re = ring_push(&r, 0, proc, 1, "WARNINGLEVEL", "m");
	assert_int_equal(strlen(re->re_proc), LOGD_PROC_MAX - 1);
	assert_int_equal(strlen(re->re_level), LOGD_LEVEL_MAX - 1);
	ring_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_wrap),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_long_fields_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
