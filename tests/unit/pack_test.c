/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The msgpack writer and the sticky-error reader of libipc/ipc_pack.c.
 */

#include <sys/types.h>
#include <sys/socket.h>

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

#include "ipc_pack.h"

/* [nil, true, 7, 2^40, -5, "str", bin "\0\1\2", {"k": 1}] */
static void
write_sample(struct ipc_wr *w)
{
	ipc_wr_init(w);
	ipc_wr_array(w, 8);
	ipc_wr_nil(w);
	ipc_wr_bool(w, 1);
	ipc_wr_u32(w, 7);
	ipc_wr_u64(w, 1ULL << 40);
	ipc_wr_i64(w, -5);
	ipc_wr_str(w, "str");
	ipc_wr_bin(w, "\0\1\2", 3);
	ipc_wr_map(w, 1);
	ipc_wr_str(w, "k");
	ipc_wr_u32(w, 1);
}

static void
rd_sample(struct ipc_wr *w, struct ipc_rd *r)
{
	const void	*d;
	size_t		 len;

	d = ipc_wr_data(w, &len);
	assert_int_equal(ipc_rd_initbuf(r, 1, d, len), 0);
}

static void
test_roundtrip_all_types(void **state)
{
	struct ipc_wr	 w;
	struct ipc_rd	 r;
	uint32_t	 n, u32;
	uint64_t	 u64;
	int64_t		 i64;
	int		 b;
	char		*s, sb[8];
	const void	*p;
	size_t		 len;

	(void)state;
	write_sample(&w);
	rd_sample(&w, &r);
	ipc_wr_free(&w);	/* the reader does not need the buffer */
	ipc_rd_array(&r, &n);
	assert_int_equal(n, 8);
	assert_true(ipc_rd_isnil(&r));
	assert_false(ipc_rd_isnil(&r));
	ipc_rd_bool(&r, &b);
	assert_int_equal(b, 1);
	ipc_rd_u32(&r, &u32);
	assert_int_equal(u32, 7);
	ipc_rd_u64(&r, &u64);
	assert_true(u64 == 1ULL << 40);
	ipc_rd_i64(&r, &i64);
	assert_true(i64 == -5);
	ipc_rd_str(&r, &s);
	assert_string_equal(s, "str");
	free(s);
	ipc_rd_bin(&r, &p, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "\0\1\2", 3);
	ipc_rd_map(&r, &n);
	assert_int_equal(n, 1);
	ipc_rd_strbuf(&r, sb, sizeof(sb));
	assert_string_equal(sb, "k");
	ipc_rd_u32(&r, &u32);
	assert_int_equal(u32, 1);
	ipc_rd_leave(&r);
	ipc_rd_leave(&r);
	assert_int_equal(ipc_rd_error(&r), 0);
	assert_int_equal(ipc_rd_end(&r), 0);
}

/* Every proper prefix of a valid payload is refused. */
static void
test_truncated_rejected(void **state)
{
	struct ipc_wr	 w;
	struct ipc_rd	 r;
	const void	*d;
	size_t		 len, i;

	(void)state;
	write_sample(&w);
	d = ipc_wr_data(&w, &len);
	for (i = 0; i < len; i++) {
		assert_int_equal(ipc_rd_initbuf(&r, 1, d, i), -1);
		assert_int_not_equal(ipc_rd_error(&r), 0);
		assert_int_equal(ipc_rd_end(&r), -1);
	}
	assert_int_equal(ipc_rd_initbuf(&r, 1, NULL, 0), -1);
	ipc_rd_end(&r);
	ipc_wr_free(&w);
}

static void
test_trailing_rejected(void **state)
{
	struct ipc_wr	 w;
	struct ipc_rd	 r;
	unsigned char	 buf[256];
	const void	*d;
	size_t		 len;

	(void)state;
	write_sample(&w);
	d = ipc_wr_data(&w, &len);
	assert_true(len + 1 <= sizeof(buf));
	memcpy(buf, d, len);
	buf[len] = 0xc0;	/* a second value: nil */
	assert_int_equal(ipc_rd_initbuf(&r, 1, buf, len + 1), -1);
	assert_int_equal(ipc_rd_end(&r), -1);
	buf[len] = 0xc1;	/* a byte that is no value at all */
	assert_int_equal(ipc_rd_initbuf(&r, 1, buf, len + 1), -1);
	ipc_rd_end(&r);
	ipc_wr_free(&w);
}

static void
test_unread_elements(void **state)
{
	struct ipc_rd	 r;
	uint32_t	 n, v;

	(void)state;
	/* [1, 2, 3] */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x93\x01\x02\x03", 4), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &v);
	ipc_rd_u32(&r, &v);
	assert_int_equal(ipc_rd_error(&r), 0);
	errno = 0;
	assert_int_equal(ipc_rd_end(&r), -1);
	assert_int_equal(errno, EBADMSG);

	/* Leaving early is an error of its own. */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x93\x01\x02\x03", 4), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &v);
	ipc_rd_leave(&r);
	assert_int_not_equal(ipc_rd_error(&r), 0);
	assert_int_equal(ipc_rd_end(&r), -1);

	/* The root itself never read. */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x01", 1), 0);
	assert_int_equal(ipc_rd_end(&r), -1);
}

/* Entered and read to the end without leaving: fully consumed. */
static void
test_consumed_without_leave(void **state)
{
	struct ipc_rd	 r;
	uint32_t	 n, v;

	(void)state;
	/* [1, [2]] */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x92\x01\x91\x02", 4), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &v);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &v);
	assert_int_equal(v, 2);
	assert_int_equal(ipc_rd_end(&r), 0);

	/* Skipping counts as consuming. */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x92\x01\x91\x02", 4), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_skip(&r);
	ipc_rd_skip(&r);
	assert_int_equal(ipc_rd_end(&r), 0);
}

static void
test_type_mismatch_sticky(void **state)
{
	struct ipc_rd	 r;
	uint32_t	 n, v = 99;
	char		*s = (char *)1;

	(void)state;
	/* ["a", 1] */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x92\xa1" "a\x01", 4), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &v);		/* a string */
	assert_int_equal(v, 0);
	assert_int_equal(ipc_rd_error(&r), EBADMSG);
	ipc_rd_u32(&r, &v);		/* would be right, but sticky */
	assert_int_equal(v, 0);
	ipc_rd_str(&r, &s);
	assert_null(s);
	assert_int_equal(ipc_rd_end(&r), -1);
}

static void
test_read_past_end(void **state)
{
	struct ipc_rd	 r;
	uint32_t	 n, v;

	(void)state;
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x91\x01", 2), 0);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &v);
	assert_int_equal(ipc_rd_error(&r), 0);
	ipc_rd_u32(&r, &v);
	assert_int_not_equal(ipc_rd_error(&r), 0);
	assert_int_equal(ipc_rd_end(&r), -1);

	/* Past the root. */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x01", 1), 0);
	ipc_rd_u32(&r, &v);
	ipc_rd_skip(&r);
	assert_int_equal(ipc_rd_end(&r), -1);

	/* leave with nothing entered */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\x01", 1), 0);
	ipc_rd_u32(&r, &v);
	ipc_rd_leave(&r);
	assert_int_equal(ipc_rd_end(&r), -1);
}

static void
test_depth_overflow(void **state)
{
	struct ipc_rd	 r;
	unsigned char	 buf[32];
	uint32_t	 n;
	int		 i;

	(void)state;
	/* IPC_RD_MAXDEPTH - 1 nested arrays fit beside the root frame. */
	memset(buf, 0x91, sizeof(buf));
	buf[IPC_RD_MAXDEPTH - 1] = 0x01;
	assert_int_equal(ipc_rd_initbuf(&r, 1, buf, IPC_RD_MAXDEPTH), 0);
	for (i = 0; i < IPC_RD_MAXDEPTH - 1; i++)
		ipc_rd_array(&r, &n);
	ipc_rd_skip(&r);
	assert_int_equal(ipc_rd_end(&r), 0);

	buf[IPC_RD_MAXDEPTH - 1] = 0x91;
	buf[IPC_RD_MAXDEPTH] = 0x01;
	assert_int_equal(ipc_rd_initbuf(&r, 1, buf, IPC_RD_MAXDEPTH + 1), 0);
	for (i = 0; i < IPC_RD_MAXDEPTH - 1; i++)
		ipc_rd_array(&r, &n);
	assert_int_equal(ipc_rd_error(&r), 0);
	ipc_rd_array(&r, &n);
	assert_int_equal(n, 0);
	assert_int_equal(ipc_rd_error(&r), EBADMSG);
	assert_int_equal(ipc_rd_end(&r), -1);
}

static void
test_string_with_nul(void **state)
{
	struct ipc_rd	 r;
	struct ipc_wr	 w;
	char		*s, sb[8];

	(void)state;
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xa3" "a\0b", 4), 0);
	ipc_rd_str(&r, &s);
	assert_null(s);
	assert_int_equal(ipc_rd_end(&r), -1);
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xa3" "a\0b", 4), 0);
	ipc_rd_strbuf(&r, sb, sizeof(sb));
	assert_string_equal(sb, "");
	assert_int_equal(ipc_rd_end(&r), -1);

	ipc_wr_init(&w);
	ipc_wr_strn(&w, "a\0b", 3);
	assert_int_equal(w.w_err, EINVAL);
	ipc_wr_free(&w);
}

static void
test_strbuf_bounds(void **state)
{
	struct ipc_rd	 r;
	char		 sb[4];

	(void)state;
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xa3" "abc", 4), 0);
	ipc_rd_strbuf(&r, sb, sizeof(sb));
	assert_string_equal(sb, "abc");
	assert_int_equal(ipc_rd_end(&r), 0);
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xa4" "abcd", 5), 0);
	ipc_rd_strbuf(&r, sb, sizeof(sb));
	assert_string_equal(sb, "");
	assert_int_equal(ipc_rd_end(&r), -1);
	/* An empty string, allocated. */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xa0", 1), 0);
	{
		char	*s;

		ipc_rd_str(&r, &s);
		assert_string_equal(s, "");
		free(s);
	}
	assert_int_equal(ipc_rd_end(&r), 0);
}

static void
test_integer_ranges(void **state)
{
	struct ipc_rd	 r;
	uint32_t	 u32;
	uint64_t	 u64;
	int64_t		 i64;

	(void)state;
	/* u64 2^32 into u32 */
	assert_int_equal(ipc_rd_initbuf(&r, 1,
	    "\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 9), 0);
	ipc_rd_u32(&r, &u32);
	assert_int_equal(u32, 0);
	assert_int_equal(ipc_rd_end(&r), -1);
	/* UINT32_MAX fits */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xce\xff\xff\xff\xff", 5), 0);
	ipc_rd_u32(&r, &u32);
	assert_int_equal(u32, UINT32_MAX);
	assert_int_equal(ipc_rd_end(&r), 0);
	/* -1 into u32 and u64 */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xff", 1), 0);
	ipc_rd_u32(&r, &u32);
	assert_int_equal(ipc_rd_end(&r), -1);
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xff", 1), 0);
	ipc_rd_u64(&r, &u64);
	assert_true(u64 == 0);
	assert_int_equal(ipc_rd_end(&r), -1);
	/* int8 5 is a positive integer for msgpack-c, fine as u32 */
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xd0\x05", 2), 0);
	ipc_rd_u32(&r, &u32);
	assert_int_equal(u32, 5);
	assert_int_equal(ipc_rd_end(&r), 0);
	/* u64 above INT64_MAX into i64 */
	assert_int_equal(ipc_rd_initbuf(&r, 1,
	    "\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9), 0);
	ipc_rd_i64(&r, &i64);
	assert_true(i64 == 0);
	assert_int_equal(ipc_rd_end(&r), -1);
	/* INT64_MIN */
	assert_int_equal(ipc_rd_initbuf(&r, 1,
	    "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9), 0);
	ipc_rd_i64(&r, &i64);
	assert_true(i64 == INT64_MIN);
	assert_int_equal(ipc_rd_end(&r), 0);
}

/* A few bytes announcing billions of elements cost nothing. */
static void
test_huge_container_header(void **state)
{
	struct ipc_rd	 r;

	(void)state;
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xdd\xff\xff\xff\xff\x01", 6),
	    -1);
	ipc_rd_end(&r);
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xdf\x7f\xff\xff\xff", 5), -1);
	ipc_rd_end(&r);
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xc6\xff\xff\xff\xff", 5), -1);
	ipc_rd_end(&r);
	assert_int_equal(ipc_rd_initbuf(&r, 1, "\xc9\x00\x00\x00\x01\x05",
	    6), -1);
	ipc_rd_end(&r);
	/* well-formed ext and float values parse, and can be skipped */
	assert_int_equal(ipc_rd_initbuf(&r, 1,
	    "\x92\xc7\x01\x05\xaa\xca\x00\x00\x00\x00", 10), 0);
	{
		uint32_t	 n;

		ipc_rd_array(&r, &n);
		assert_int_equal(n, 2);
	}
	ipc_rd_skip(&r);
	ipc_rd_skip(&r);
	assert_int_equal(ipc_rd_end(&r), 0);
}

static void
test_map_pairs(void **state)
{
	struct ipc_rd	 r;
	struct ipc_wr	 w;
	const void	*d;
	size_t		 len;
	uint32_t	 n, i, v;
	char		 k[4];

	(void)state;
	ipc_wr_init(&w);
	ipc_wr_map(&w, 3);
	for (i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		ipc_wr_str(&w, k);
		ipc_wr_u32(&w, i * 10);
	}
	d = ipc_wr_data(&w, &len);
	assert_int_equal(ipc_rd_initbuf(&r, 1, d, len), 0);
	ipc_rd_map(&r, &n);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		ipc_rd_strbuf(&r, k, sizeof(k));
		ipc_rd_u32(&r, &v);
		assert_int_equal(v, i * 10);
	}
	ipc_rd_leave(&r);
	assert_int_equal(ipc_rd_end(&r), 0);
	/* Only the keys read: values remain. */
	assert_int_equal(ipc_rd_initbuf(&r, 1, d, len), 0);
	ipc_rd_map(&r, &n);
	for (i = 0; i < n; i++)
		ipc_rd_strbuf(&r, k, sizeof(k));
	ipc_rd_leave(&r);
	assert_int_equal(ipc_rd_end(&r), -1);
	ipc_wr_free(&w);
}

/* Bins point into the reader's copy, not into the caller's buffer. */
static void
test_bin_outlives_buffer(void **state)
{
	struct ipc_rd	 r;
	unsigned char	*buf;
	const void	*p;
	size_t		 len;

	(void)state;
	buf = malloc(4);
	assert_non_null(buf);
	memcpy(buf, "\xc4\x02xy", 4);
	assert_int_equal(ipc_rd_initbuf(&r, 1, buf, 4), 0);
	memset(buf, 0, 4);
	free(buf);
	ipc_rd_bin(&r, &p, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "xy", 2);
	assert_int_equal(ipc_rd_end(&r), 0);
}

static void
test_writer_errors(void **state)
{
	struct ipc_wr	 w;
	struct ipc_buf	 ib;
	const void	*p;
	size_t		 len;
	int		 fd[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd), 0);
	ipc_init(&ib, fd[0]);
	ipc_wr_init(&w);
	errno = 0;
	assert_int_equal(ipc_wr_close(&w, &ib, 1, 0, 0, -1), -1);
	assert_int_equal(errno, EINVAL);	/* no value */

	ipc_wr_init(&w);
	ipc_wr_bin(&w, NULL, 3);
	ipc_wr_u32(&w, 1);
	assert_int_equal(ipc_wr_close(&w, &ib, 1, 0, 0, -1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_queuelen(&ib), 0);

	/* ipc_wr_str(NULL) is nil */
	ipc_wr_init(&w);
	ipc_wr_str(&w, NULL);
	p = ipc_wr_data(&w, &len);
	assert_int_equal(len, 1);
	assert_int_equal(*(const unsigned char *)p, 0xc0);
	assert_int_equal(ipc_wr_close(&w, &ib, 1, 0, 0, -1), 0);
	assert_int_equal(ipc_queuelen(&ib), 1);
	ipc_clear(&ib);
	close(fd[0]);
	close(fd[1]);
}

/* Writer to frame to reader, across a socketpair. */
static void
test_frame_roundtrip(void **state)
{
	struct ipc_wr	 w;
	struct ipc_rd	 r;
	struct ipc_buf	 tx, rx;
	struct ipc_msg	 m;
	int		 fd[2];
	uint32_t	 n, v;
	char		*s;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd), 0);
	ipc_init(&tx, fd[0]);
	ipc_init(&rx, fd[1]);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_u32(&w, 77);
	ipc_wr_str(&w, "hi");
	assert_int_equal(ipc_wr_close(&w, &tx, 12, 5, 0, -1), 0);
	assert_int_equal(ipc_flush(&tx), 0);
	assert_true(ipc_read(&rx) > 0);
	assert_int_equal(ipc_get(&rx, &m), 1);
	assert_int_equal(ipc_rd_init(&r, &m), 0);
	ipc_free(&m);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &v);
	ipc_rd_str(&r, &s);
	assert_int_equal(v, 77);
	assert_string_equal(s, "hi");
	free(s);
	assert_int_equal(r.r_type, 12);
	assert_int_equal(ipc_rd_end(&r), 0);
	ipc_clear(&tx);
	ipc_clear(&rx);
	close(fd[0]);
	close(fd[1]);
}

/* w framed through a socketpair into m (the caller frees it). */
static void
frame_of(struct ipc_wr *w, struct ipc_msg *m)
{
	struct ipc_buf	 tx, rx;
	int		 fd[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd), 0);
	ipc_init(&tx, fd[0]);
	ipc_init(&rx, fd[1]);
	assert_int_equal(ipc_wr_close(w, &tx, 12, 5, 0, -1), 0);
	assert_int_equal(ipc_flush(&tx), 0);
	assert_true(ipc_read(&rx) > 0);
	assert_int_equal(ipc_get(&rx, m), 1);
	ipc_clear(&tx);
	ipc_clear(&rx);
	close(fd[0]);
	close(fd[1]);
}

/* ipc_rd_onestr takes [str] and nothing else. */
static void
test_onestr(void **state)
{
	struct ipc_wr	 w;
	struct ipc_msg	 m;
	char		*s;
	int		 k;

	(void)state;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, "policy");
	frame_of(&w, &m);
	assert_int_equal(ipc_rd_onestr(&m, &s), 0);
	assert_string_equal(s, "policy");
	free(s);
	ipc_free(&m);
	/* [], [str, str], [u32] */
	for (k = 0; k < 3; k++) {
		ipc_wr_init(&w);
		ipc_wr_array(&w, (uint32_t[]){ 0, 2, 1 }[k]);
		if (k == 1) {
			ipc_wr_str(&w, "a");
			ipc_wr_str(&w, "b");
		} else if (k == 2)
			ipc_wr_u32(&w, 7);
		frame_of(&w, &m);
		s = (char *)"untouched";
		assert_int_equal(ipc_rd_onestr(&m, &s), -1);
		assert_null(s);
		ipc_free(&m);
	}
}

static void
strv_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* ipc_rd_strv: [[str...]] up to its maximum, nothing else. */
static void
test_strv(void **state)
{
	struct ipc_wr	 w;
	struct ipc_rd	 r;
	char		**v;
	size_t		 n;
	int		 k;

	(void)state;
	for (k = 0; k < 4; k++) {
		ipc_wr_init(&w);
		ipc_wr_array(&w, 1);
		ipc_wr_array(&w, k == 3 ? 2 : (uint32_t)k + 1);
		ipc_wr_str(&w, "a");
		if (k == 1)
			ipc_wr_str(&w, "b");
		else if (k == 2) {
			ipc_wr_str(&w, "b");
			ipc_wr_str(&w, "c");	/* over the maximum */
		} else if (k == 3)
			ipc_wr_u32(&w, 7);	/* not a string */
		rd_sample(&w, &r);
		ipc_rd_array(&r, &(uint32_t){ 0 });
		assert_int_equal(ipc_rd_strv(&r, 2, &v, &n), k < 2 ? 0 : -1);
		if (k == 1) {
			assert_int_equal(n, 2);
			assert_string_equal(v[0], "a");
			assert_string_equal(v[1], "b");
			assert_null(v[2]);
		}
		assert_int_equal(ipc_rd_end(&r), k < 2 ? 0 : -1);
		strv_free(v);
		ipc_wr_free(&w);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_types),
		cmocka_unit_test(test_truncated_rejected),
		cmocka_unit_test(test_trailing_rejected),
		cmocka_unit_test(test_unread_elements),
		cmocka_unit_test(test_consumed_without_leave),
		cmocka_unit_test(test_type_mismatch_sticky),
		cmocka_unit_test(test_read_past_end),
		cmocka_unit_test(test_depth_overflow),
		cmocka_unit_test(test_string_with_nul),
		cmocka_unit_test(test_strbuf_bounds),
		cmocka_unit_test(test_integer_ranges),
		cmocka_unit_test(test_huge_container_header),
		cmocka_unit_test(test_map_pairs),
		cmocka_unit_test(test_bin_outlives_buffer),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_onestr),
		cmocka_unit_test(test_strv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
