/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * svc/logd/{logline,logbus,logstore}.c: the filters of
 * control-plane.md 2.4, the per-sandbox ring, queries with
 * buffer_total, subscriptions (replay, live, lag, drop) and the ring
 * files (append, compaction, reload, torn records).
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "libgrpc/grpc_wire.h"
#include "msgs.h"
#include "svc/logd/logd.h"

#define MAXFRAMES	64

struct frame {
	uint32_t	 f_type;
	uint32_t	 f_peerid;
	char		*f_data;
	size_t		 f_len;
};

struct capture {
	struct frame	 c_frames[MAXFRAMES];
	size_t		 c_n;
	int		 c_fail;	/* refuse frames, as a full queue */
};

static int
capture_send(void *arg, uint32_t type, uint32_t peerid, struct ipc_wr *w)
{
	struct capture	*c = arg;
	const void	*data;
	size_t		 len;

	if (c->c_fail || c->c_n == MAXFRAMES) {
		ipc_wr_free(w);
		return -1;
	}
	data = ipc_wr_data(w, &len);
	c->c_frames[c->c_n].f_type = type;
	c->c_frames[c->c_n].f_peerid = peerid;
	c->c_frames[c->c_n].f_data = malloc(len);
	memcpy(c->c_frames[c->c_n].f_data, data, len);
	c->c_frames[c->c_n].f_len = len;
	c->c_n++;
	ipc_wr_free(w);
	return 0;
}

static void
capture_clear(struct capture *c)
{
	size_t	 i;

	for (i = 0; i < c->c_n; i++)
		free(c->c_frames[i].f_data);
	c->c_n = 0;
}

static struct logline *
mkline(int64_t t, const char *level, const char *source, const char *msg)
{
	struct logline	*ll = calloc(1, sizeof(*ll));

	ll->ll_time = t;
	ll->ll_level = strdup(level);
	ll->ll_target = strdup("t");
	ll->ll_message = strdup(msg);
	ll->ll_source = strdup(source);
	return ll;
}

static void
push(struct logbuses *lbs, const char *id, int from, int n, const char *level,
    const char *source)
{
	struct logline	**lines = calloc((size_t)n, sizeof(*lines));
	char		  msg[32];
	int		  i;

	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "m%d", from + i);
		lines[i] = mkline(1000 + from + i, level, source, msg);
	}
	logbus_append(lbs, logbus_get(lbs, id, 1), lines, (size_t)n);
	free(lines);
}

/* The message of a LINE frame. */
static char *
frame_line_msg(const struct frame *f)
{
	struct ipc_rd	 r;
	struct logline	*ll;
	char		 id[LOGBUS_IDMAX + 1], *msg;

	assert_int_equal(f->f_type, IPC_LOGBUS_LINE);
	assert_int_equal(ipc_rd_initbuf(&r, 0, f->f_data, f->f_len), 0);
	ll = logline_read(&r, id, sizeof(id));
	assert_int_equal(ipc_rd_end(&r), 0);
	assert_non_null(ll);
	msg = strdup(ll->ll_message);
	logline_free(ll);
	return msg;
}

/* [u32 code, str message] */
static void
frame_end(const struct frame *f, uint32_t *code, char *msg, size_t len)
{
	struct ipc_rd	 r;
	uint32_t	 n;

	assert_int_equal(f->f_type, IPC_LOGBUS_END);
	assert_int_equal(ipc_rd_initbuf(&r, 0, f->f_data, f->f_len), 0);
	ipc_rd_array(&r, &n);
	assert_int_equal(n, 2);
	ipc_rd_u32(&r, code);
	ipc_rd_strbuf(&r, msg, len);
	assert_int_equal(ipc_rd_end(&r), 0);
}

static void
test_rank(void **state)
{
	(void)state;
	assert_int_equal(logfilter_rank("ERROR"), 0);
	assert_int_equal(logfilter_rank("warn"), 1);
	assert_int_equal(logfilter_rank("Info"), 2);
	assert_int_equal(logfilter_rank("DEBUG"), 3);
	assert_int_equal(logfilter_rank("trace"), 4);
	assert_int_equal(logfilter_rank("WARNING"), LOGRANK_OTHER);
	assert_int_equal(logfilter_rank(""), LOGRANK_OTHER);
	assert_int_equal(logfilter_rank(NULL), LOGRANK_OTHER);
}

static void
test_filter(void **state)
{
	struct logfilter	 lf;
	struct logline		*ll;
	char			*gw = "gateway";

	(void)state;
	memset(&lf, 0, sizeof(lf));
	lf.lf_minrank = LOGRANK_OTHER;
	ll = mkline(100, "bogus", "", "x");
	assert_true(logfilter_match(&lf, ll, 0));	/* no filter at all */
	lf.lf_since = 101;
	assert_false(logfilter_match(&lf, ll, 0));
	assert_true(logfilter_match(&lf, ll, 1));	/* live: no since */
	lf.lf_since = 100;
	assert_true(logfilter_match(&lf, ll, 0));
	/* An empty source counts as "gateway". */
	lf.lf_sources = &gw;
	lf.lf_nsources = 1;
	assert_true(logfilter_match(&lf, ll, 0));
	free(ll->ll_source);
	ll->ll_source = strdup("sandbox");
	assert_false(logfilter_match(&lf, ll, 0));
	lf.lf_nsources = 0;
	/* A known minimum drops unknown levels. */
	lf.lf_minrank = logfilter_rank("INFO");
	assert_false(logfilter_match(&lf, ll, 0));
	free(ll->ll_level);
	ll->ll_level = strdup("warn");
	assert_true(logfilter_match(&lf, ll, 0));
	free(ll->ll_level);
	ll->ll_level = strdup("DEBUG");
	assert_false(logfilter_match(&lf, ll, 0));
	logline_free(ll);
}

static void
test_ring_and_query(void **state)
{
	struct logbuses		 lbs;
	struct capture		 c;
	struct logfilter	 lf;
	struct ipc_rd		 r;
	struct logline		*ll;
	struct logbus		*lb;
	char			 id[LOGBUS_IDMAX + 1];
	uint32_t		 n, total, count, i;
	int			 last;

	(void)state;
	memset(&c, 0, sizeof(c));
	logbus_init(&lbs, capture_send, &c);
	push(&lbs, "sb1", 0, 1500, "INFO", "sandbox");
	push(&lbs, "sb1", 1500, 1000, "DEBUG", "gateway");
	lb = logbus_get(&lbs, "sb1", 0);
	assert_int_equal(lb->lb_count, LOGBUS_RING);
	assert_string_equal(logbus_line(lb, 0)->ll_message, "m500");
	assert_string_equal(logbus_line(lb, LOGBUS_RING - 1)->ll_message,
	    "m2499");

	/* The last 10, of which the INFO ones only: none. */
	memset(&lf, 0, sizeof(lf));
	lf.lf_minrank = logfilter_rank("INFO");
	logbus_query(&lbs, 7, "sb1", 10, &lf);
	assert_int_equal(c.c_n, 1);
	assert_int_equal(c.c_frames[0].f_type, IPC_LOGBUS_RESULT);
	assert_int_equal(c.c_frames[0].f_peerid, 7);
	assert_int_equal(ipc_rd_initbuf(&r, 0, c.c_frames[0].f_data,
	    c.c_frames[0].f_len), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &total);
	ipc_rd_bool(&r, &last);
	ipc_rd_array(&r, &count);
	assert_int_equal(ipc_rd_end(&r), 0);
	assert_int_equal(total, 10);	/* before filtering */
	assert_true(last);
	assert_int_equal(count, 0);
	capture_clear(&c);

	/* Everything (lines 0), since the 1001st line: 1000 - 500 left. */
	lf.lf_minrank = LOGRANK_OTHER;
	lf.lf_since = 1000 + 2000;
	logbus_query(&lbs, 8, "sb1", 0, &lf);
	assert_int_equal(c.c_n, 1);
	assert_int_equal(ipc_rd_initbuf(&r, 0, c.c_frames[0].f_data,
	    c.c_frames[0].f_len), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &total);
	ipc_rd_bool(&r, &last);
	ipc_rd_array(&r, &count);
	assert_int_equal(total, LOGBUS_RING);
	assert_int_equal(count, 500);
	for (i = 0; i < count; i++) {
		ll = logline_read(&r, id, sizeof(id));
		assert_non_null(ll);
		assert_string_equal(id, "sb1");
		assert_int_equal(ll->ll_time, 3000 + i);
		logline_free(ll);
	}
	ipc_rd_leave(&r);
	assert_int_equal(ipc_rd_end(&r), 0);
	capture_clear(&c);

	/* An unknown sandbox: an empty result, and no bus made. */
	logbus_query(&lbs, 9, "nope", 0, &lf);
	assert_int_equal(c.c_n, 1);
	assert_null(logbus_get(&lbs, "nope", 0));
	capture_clear(&c);
	logbus_clear(&lbs);
}

static void
test_subscribe(void **state)
{
	struct logbuses		 lbs;
	struct capture		 c;
	struct logfilter	 lf;
	char			*m, msg[128];
	uint32_t		 code;

	(void)state;
	memset(&c, 0, sizeof(c));
	logbus_init(&lbs, capture_send, &c);
	push(&lbs, "sb1", 0, 10, "INFO", "sandbox");
	memset(&lf, 0, sizeof(lf));
	lf.lf_minrank = logfilter_rank("INFO");
	lf.lf_since = 1008;
	/* Tail 5 of which two are not older than since. */
	assert_int_equal(logbus_subscribe(&lbs, 42, "sb1", 5, &lf), 0);
	assert_int_equal(logbus_subscribe(&lbs, 42, "sb1", 5, &lf), -1);
	assert_int_equal(c.c_n, 2);
	m = frame_line_msg(&c.c_frames[0]);
	assert_string_equal(m, "m8");
	free(m);
	assert_int_equal(c.c_frames[1].f_peerid, 42);
	capture_clear(&c);
	/* Live: since no longer applies, the level does. */
	push(&lbs, "sb1", 100, 1, "INFO", "sandbox");
	push(&lbs, "sb1", 101, 1, "DEBUG", "sandbox");
	assert_int_equal(c.c_n, 1);
	m = frame_line_msg(&c.c_frames[0]);
	assert_string_equal(m, "m100");
	free(m);
	capture_clear(&c);
	/* A full queue: dropped, then the end as soon as it can be said. */
	c.c_fail = 1;
	push(&lbs, "sb1", 102, 1, "INFO", "sandbox");
	c.c_fail = 0;
	push(&lbs, "sb1", 103, 1, "INFO", "sandbox");
	assert_int_equal(c.c_n, 1);
	frame_end(&c.c_frames[0], &code, msg, sizeof(msg));
	assert_int_equal(code, GRPC_RESOURCE_EXHAUSTED);
	assert_string_equal(msg, "watch stream lagged; dropped 2 messages");
	assert_int_equal(lbs.lbs_subs.s_nsubs, 0);
	capture_clear(&c);
	/* Drop: the subscribers end CANCELLED, the ring goes. */
	assert_int_equal(logbus_subscribe(&lbs, 43, "sb1", 0, &lf), 0);
	logbus_drop(&lbs, "sb1");
	assert_int_equal(c.c_n, 1);
	frame_end(&c.c_frames[0], &code, msg, sizeof(msg));
	assert_int_equal(code, GRPC_CANCELLED);
	assert_string_equal(msg, "stream closed");
	assert_null(logbus_get(&lbs, "sb1", 0));
	assert_int_equal(lbs.lbs_subs.s_nsubs, 0);
	capture_clear(&c);
	logfilter_clear(&lf);
	logbus_clear(&lbs);
}

static int
opendir_tmp(char *path)
{
	int	 fd;

	strcpy(path, "/tmp/logbus_test.XXXXXX");
	assert_non_null(mkdtemp(path));
	fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(fd != -1);
	return fd;
}

static off_t
file_size(int dirfd, const char *name)
{
	struct stat	 st;

	if (fstatat(dirfd, name, &st, 0) == -1)
		return -1;
	return st.st_size;
}

static void
test_persist(void **state)
{
	struct logbuses		 lbs, back;
	struct capture		 c;
	struct logbus		*lb;
	char			 dir[64];
	off_t			 big;
	int			 fd, dfd;

	(void)state;
	memset(&c, 0, sizeof(c));
	dfd = opendir_tmp(dir);
	logbus_init(&lbs, capture_send, &c);
	lbs.lbs_dirfd = dfd;
	push(&lbs, "sb-1", 0, 100, "INFO", "sandbox");
	push(&lbs, "../evil", 0, 3, "INFO", "sandbox");	/* memory only */
	assert_int_equal(logbus_get(&lbs, "sb-1", 0)->lb_infile, 100);
	/* Past twice the ring the file is rewritten to the ring. */
	push(&lbs, "sb-1", 100, LOGBUS_COMPACT, "INFO", "sandbox");
	lb = logbus_get(&lbs, "sb-1", 0);
	assert_int_equal(lb->lb_infile, LOGBUS_RING);
	big = file_size(dfd, "sb-1.log");
	assert_true(big > 0);
	assert_int_equal(file_size(dfd, "sb-1.tmp"), -1);

	/* A torn record at the end (a crash mid-write). */
	fd = openat(dfd, "sb-1.log", O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "\x97\xa4sb-1", 6), 6);
	close(fd);
	logbus_init(&back, capture_send, &c);
	back.lbs_dirfd = dfd;
	logstore_load(&back);
	lb = logbus_get(&back, "sb-1", 0);
	assert_non_null(lb);
	assert_int_equal(lb->lb_count, LOGBUS_RING);
	assert_string_equal(logbus_line(lb, 0)->ll_message, "m2100");
	assert_string_equal(logbus_line(lb, LOGBUS_RING - 1)->ll_message,
	    "m4099");
	assert_string_equal(logbus_line(lb, 0)->ll_target, "t");
	assert_int_equal(file_size(dfd, "sb-1.log"), big);	/* rewritten */
	assert_int_equal(back.lbs_subs.s_nbuses, 1);
	assert_int_equal(back.lbs_errors, 0);

	/* Dropping the sandbox removes its file. */
	logbus_drop(&back, "sb-1");
	assert_int_equal(file_size(dfd, "sb-1.log"), -1);
	logbus_clear(&back);
	lbs.lbs_dirfd = -1;
	logbus_clear(&lbs);
	close(dfd);
	rmdir(dir);
	capture_clear(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_ring_and_query),
		cmocka_unit_test(test_subscribe),
		cmocka_unit_test(test_persist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
