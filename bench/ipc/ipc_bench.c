/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * ipc_bench: libipc against raw write()/read() of the same byte counts
 * over one socketpair between two processes, in the same run.
 *
 *   stream  one-way messages/s, the receiver counting (libipc decodes
 *           every payload with ipc_rd).  The raw reference is one
 *           write() and one read() of each message's bytes; the bulk
 *           figure moves the same bytes in 64 KiB write()s and read()s,
 *           the socketpair's copy limit, which libipc (two more copies
 *           of each payload: into the writer, out of the read buffer)
 *           cannot reach.  Best of BENCH_RUNS interleaved runs, against
 *           noisy neighbours.
 *   rtt     ping-pong round trip, p50 and p99 in microseconds, both
 *           processes on one CPU so that cross-CPU wake-ups do not
 *           drown the figures.
 *
 * Payloads are msgpack bins of 64 B and 4 KiB; raw messages are the
 * size of the whole libipc frame.  One line per case; ratio is libipc
 * speed over raw speed (1.0 = parity).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_pack.h"
#include "log.h"

#define BENCH_TYPE	1
#define BENCH_BATCH	(64 * 1024)	/* queued bytes per ipc_write */
#define BENCH_RUNS	3		/* stream runs; the best counts */
#define BENCH_BULK_MSGS(len)	((len) < 256 ? 200000U : 100000U)

struct bench_case {
	size_t		 payload;
	unsigned	 stream_msgs;
	unsigned	 rtt_msgs;
};

static const struct bench_case cases[] = {
	{ 64, BENCH_BULK_MSGS(64), 20000 },
	{ 4096, BENCH_BULK_MSGS(4096), 20000 },
};

static unsigned char	 payload[4096];

static double	 now(void);
static size_t	 frame_size(size_t);
static void	 wait_fd(int, short);
static void	 send_msg(struct ipc_buf *, size_t);
static int	 get_msg(struct ipc_buf *, size_t);
static void	 recv_msg(struct ipc_buf *, size_t);
static void	 lib_stream_rx(int, size_t, unsigned);
static double	 lib_stream(size_t, unsigned);
static void	 raw_stream_rx(int, size_t, unsigned);
static double	 raw_stream(size_t, unsigned, int);
static void	 pin_cpu(void);
static void	 lib_echo(int, size_t, unsigned);
static void	 lib_rtt(size_t, unsigned, double *);
static void	 raw_echo(int, size_t, unsigned);
static void	 raw_rtt(size_t, unsigned, double *);
static void	 readn(int, void *, size_t);
static void	 writen(int, const void *, size_t);
static pid_t	 run_child(int *, void (*)(int, size_t, unsigned), size_t,
		    unsigned);
static void	 reap(pid_t, int);
static int	 cmp_double(const void *, const void *);
static double	 pct(double *, unsigned, double);
static void	 stream_case(const struct bench_case *);
static void	 rtt_case(const struct bench_case *);

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Header, msgpack bin header, payload: what goes on the wire. */
static size_t
frame_size(size_t len)
{
	return IPC_HDR_SIZE + (len < 256 ? 2 : 3) + len;
}

static void
wait_fd(int fd, short events)
{
	struct pollfd	 pfd = { fd, events, 0 };

	if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
		fatal("poll");
}

static void
send_msg(struct ipc_buf *ib, size_t len)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_bin(&w, payload, len);
	if (ipc_wr_close(&w, ib, BENCH_TYPE, 0, 0, -1) == -1)
		fatal("ipc_wr_close");
}

/* One frame, if there is one, decoded as a bin of len bytes. */
static int
get_msg(struct ipc_buf *ib, size_t len)
{
	struct ipc_msg	 msg;
	struct ipc_rd	 r;
	const void	*p;
	size_t		 n;
	int		 rc;

	if ((rc = ipc_get(ib, &msg)) == -1)
		fatal("ipc_get");
	if (rc == 0)
		return 0;
	ipc_rd_init(&r, &msg);
	ipc_rd_bin(&r, &p, &n);
	if (ipc_rd_end(&r) == -1 || n != len)
		fatalx("bad payload");
	ipc_free(&msg);
	return 1;
}

/* Read (waiting as needed) until one frame is available, and take it. */
static void
recv_msg(struct ipc_buf *ib, size_t len)
{
	ssize_t	 n;

	while (!get_msg(ib, len)) {
		if ((n = ipc_read(ib)) == 0)
			fatalx("eof");
		if (n == -1 && errno != EAGAIN)
			fatal("ipc_read");
		if (n == -1)
			wait_fd(ib->ib_fd, POLLIN);
	}
}

static void
lib_stream_rx(int fd, size_t len, unsigned count)
{
	struct ipc_buf	 ib;
	unsigned	 got = 0;
	ssize_t		 n;

	ipc_init(&ib, fd);
	while (got < count) {
		if ((n = ipc_read(&ib)) == 0)
			fatalx("eof");
		if (n == -1 && errno != EAGAIN)
			fatal("ipc_read");
		if (n == -1)
			wait_fd(fd, POLLIN);
		while (get_msg(&ib, len))
			got++;
	}
	send_msg(&ib, 0);
	if (ipc_flush(&ib) == -1)
		fatal("ipc_flush");
	ipc_clear(&ib);
}

static double
lib_stream(size_t len, unsigned count)
{
	struct ipc_buf	 ib;
	double		 t0, t;
	unsigned	 i;
	pid_t		 pid;
	int		 fd;

	pid = run_child(&fd, lib_stream_rx, len, count);
	ipc_init(&ib, fd);
	t0 = now();
	/* Write in batches and keep the queue small, as on EV_WRITE. */
	for (i = 0; i < count; i++) {
		send_msg(&ib, len);
		while (ib.ib_qbytes >= BENCH_BATCH) {
			if (ipc_write(&ib) == -1)
				fatal("ipc_write");
			if (ib.ib_qbytes >= BENCH_BATCH)
				wait_fd(fd, POLLOUT);
		}
	}
	if (ipc_flush(&ib) == -1)
		fatal("ipc_flush");
	recv_msg(&ib, 0);
	t = now() - t0;
	ipc_clear(&ib);
	reap(pid, fd);
	return count / t;
}

static void
readn(int fd, void *buf, size_t len)
{
	ssize_t	 n;
	size_t	 off = 0;

	while (off < len) {
		if ((n = read(fd, (char *)buf + off, len - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			fatal("read");
		off += n;
	}
}

static void
writen(int fd, const void *buf, size_t len)
{
	ssize_t	 n;
	size_t	 off = 0;

	while (off < len) {
		if ((n = write(fd, (const char *)buf + off, len - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			fatal("write");
		off += n;
	}
}

/* count is the number of messages, or 0 for bulk reads of the total. */
static void
raw_stream_rx(int fd, size_t len, unsigned count)
{
	static char	 buf[IPC_READ_CHUNK];
	size_t		 sz = frame_size(len);
	uint64_t	 total, got = 0;
	ssize_t		 n;
	unsigned	 i;

	if (count > 0) {
		for (i = 0; i < count; i++)
			readn(fd, buf, sz);
		writen(fd, "", 1);
		return;
	}
	total = (uint64_t)sz * BENCH_BULK_MSGS(len);
	while (got < total) {
		if ((n = read(fd, buf, sizeof(buf))) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("read");
		got += n;
	}
	writen(fd, "", 1);
}

/* bulk: the same bytes in IPC_READ_CHUNK writes and reads. */
static double
raw_stream(size_t len, unsigned count, int bulk)
{
	static char	 buf[IPC_READ_CHUNK];
	uint64_t	 total, chunk;
	double		 t0, t;
	pid_t		 pid;
	int		 fd;
	char		 c;

	total = (uint64_t)frame_size(len) * count;
	chunk = bulk ? sizeof(buf) : frame_size(len);
	pid = run_child(&fd, raw_stream_rx, len, bulk ? 0 : count);
	t0 = now();
	for (; total > 0; total -= chunk) {
		chunk = chunk < total ? chunk : total;
		writen(fd, buf, chunk);
	}
	readn(fd, &c, 1);
	t = now() - t0;
	reap(pid, fd);
	return count / t;
}

/* Decode each request and answer with a fresh frame of the same size. */
static void
lib_echo(int fd, size_t len, unsigned count)
{
	struct ipc_buf	 ib;
	unsigned	 i;

	ipc_init(&ib, fd);
	for (i = 0; i < count; i++) {
		recv_msg(&ib, len);
		send_msg(&ib, len);
		if (ipc_flush(&ib) == -1)
			fatal("ipc_flush");
	}
	ipc_clear(&ib);
}

static void
lib_rtt(size_t len, unsigned count, double *lat)
{
	struct ipc_buf	 ib;
	double		 t0;
	unsigned	 i;
	pid_t		 pid;
	int		 fd;

	pid = run_child(&fd, lib_echo, len, count);
	ipc_init(&ib, fd);
	for (i = 0; i < count; i++) {
		t0 = now();
		send_msg(&ib, len);
		if (ipc_flush(&ib) == -1)
			fatal("ipc_flush");
		recv_msg(&ib, len);
		lat[i] = now() - t0;
	}
	ipc_clear(&ib);
	reap(pid, fd);
}

static void
raw_echo(int fd, size_t len, unsigned count)
{
	static char	 buf[8192];
	size_t		 sz = frame_size(len);
	unsigned	 i;

	for (i = 0; i < count; i++) {
		readn(fd, buf, sz);
		writen(fd, buf, sz);
	}
}

static void
raw_rtt(size_t len, unsigned count, double *lat)
{
	static char	 buf[8192];
	size_t		 sz = frame_size(len);
	double		 t0;
	unsigned	 i;
	pid_t		 pid;
	int		 fd;

	pid = run_child(&fd, raw_echo, len, count);
	for (i = 0; i < count; i++) {
		t0 = now();
		writen(fd, buf, sz);
		readn(fd, buf, sz);
		lat[i] = now() - t0;
	}
	reap(pid, fd);
}

/*
 * The child gets one end of a fresh socketpair and runs fn on it; the
 * parent keeps the other end in *fd.  libipc ends are non-blocking
 * (as in a daemon), raw ends blocking (the best case for raw).
 */
static pid_t
run_child(int *fd, void (*fn)(int, size_t, unsigned), size_t len,
    unsigned count)
{
	int	 sp[2], nb;
	pid_t	 pid;

	nb = fn == lib_stream_rx || fn == lib_echo ? SOCK_NONBLOCK : 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | nb, 0, sp) == -1)
		fatal("socketpair");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(sp[0]);
		if (fn == lib_echo || fn == raw_echo)
			pin_cpu();
		fn(sp[1], len, count);
		_exit(0);
	}
	close(sp[1]);
	*fd = sp[0];
	return pid;
}

static void
pin_cpu(void)
{
	cpu_set_t	 set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1)
		log_warn("sched_setaffinity");
}

static void
reap(pid_t pid, int fd)
{
	int	 status;

	close(fd);
	if (waitpid(pid, &status, 0) == -1)
		fatal("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fatalx("child failed");
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p-th percentile in microseconds; sorts lat. */
static double
pct(double *lat, unsigned n, double p)
{
	qsort(lat, n, sizeof(*lat), cmp_double);
	return lat[(unsigned)(p * (n - 1))] * 1e6;
}

static void
stream_case(const struct bench_case *c)
{
	double	 lib = 0, raw = 0, bulk = 0, v;
	int	 i;

	for (i = 0; i < BENCH_RUNS; i++) {
		if ((v = lib_stream(c->payload, c->stream_msgs)) > lib)
			lib = v;
		if ((v = raw_stream(c->payload, c->stream_msgs, 0)) > raw)
			raw = v;
		if ((v = raw_stream(c->payload, c->stream_msgs, 1)) > bulk)
			bulk = v;
	}
	printf("ipc stream %4zu B: libipc %8.0f msg/s, raw %8.0f msg/s, "
	    "ratio %.2f; raw bulk 64K %9.0f msg/s, ratio %.2f\n", c->payload,
	    lib, raw, lib / raw, bulk, lib / bulk);
	fflush(stdout);
}

static void
rtt_case(const struct bench_case *c)
{
	double		*ll, *rl, l50, l99, r50, r99;
	cpu_set_t	 all;

	if ((ll = calloc(c->rtt_msgs, sizeof(*ll))) == NULL ||
	    (rl = calloc(c->rtt_msgs, sizeof(*rl))) == NULL)
		fatal("calloc");
	if (sched_getaffinity(0, sizeof(all), &all) == -1)
		fatal("sched_getaffinity");
	pin_cpu();
	lib_rtt(c->payload, c->rtt_msgs, ll);
	raw_rtt(c->payload, c->rtt_msgs, rl);
	if (sched_setaffinity(0, sizeof(all), &all) == -1)
		fatal("sched_setaffinity");
	l50 = pct(ll, c->rtt_msgs, 0.50);
	l99 = pct(ll, c->rtt_msgs, 0.99);
	r50 = pct(rl, c->rtt_msgs, 0.50);
	r99 = pct(rl, c->rtt_msgs, 0.99);
	printf("ipc rtt    %4zu B: libipc p50 %6.1f p99 %6.1f us, "
	    "raw p50 %6.1f p99 %6.1f us, ratio %.2f\n", c->payload, l50, l99,
	    r50, r99, r50 / l50);
	fflush(stdout);
	free(ll);
	free(rl);
}

int
main(void)
{
	size_t	 i;

	log_procinit("ipc_bench");
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 131);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stream_case(&cases[i]);
		rtt_case(&cases[i]);
	}
	return 0;
}
