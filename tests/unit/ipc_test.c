/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Framing, fd passing and queueing of libipc/ipc.c over in-process
 * socketpairs.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <dirent.h>
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

#include "ipc.h"

struct pair {
	int		 fd[2];
	struct ipc_buf	 tx;
	struct ipc_buf	 rx;
};

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static void
pair_open(struct pair *p)
{
	assert_int_equal(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p->fd), 0);
	ipc_init(&p->tx, p->fd[0]);
	ipc_init(&p->rx, p->fd[1]);
}

static void
pair_close(struct pair *p)
{
	ipc_clear(&p->tx);
	ipc_clear(&p->rx);
	if (p->fd[0] != -1)
		close(p->fd[0]);
	if (p->fd[1] != -1)
		close(p->fd[1]);
}

static void
raw_write(int fd, const void *buf, size_t len)
{
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

/* Send bytes with the given fds in one SCM_RIGHTS message. */
static void
raw_sendfds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(16 * sizeof(int))];
	} cm;

	assert_true(nfds > 0 && nfds <= 16);
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	assert_int_equal(sendmsg(sock, &msg, 0), (ssize_t)len);
}

static size_t
mkframe(unsigned char *buf, uint32_t type, uint32_t len, uint32_t peerid,
    uint32_t pid, const void *payload, size_t plen)
{
	struct ipc_hdr	 hdr = { type, len, peerid, pid };

	memcpy(buf, &hdr, sizeof(hdr));
	if (plen > 0)
		memcpy(buf + sizeof(hdr), payload, plen);
	return sizeof(hdr) + plen;
}

static void
test_roundtrip(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	const void	*d;
	size_t		 len;

	(void)state;
	pair_open(&p);
	assert_int_equal(ipc_compose(&p.tx, 7, 42, 1234, -1, "hello", 5), 0);
	assert_int_equal(ipc_compose(&p.tx, 8, 0, 0, -1, NULL, 0), 0);
	assert_int_equal(ipc_compose(&p.tx, 9, UINT32_MAX, 1, -1, "\x91\x01",
	    2), 0);
	assert_int_equal(ipc_queuelen(&p.tx), 3);
	assert_int_equal(ipc_flush(&p.tx), 0);
	assert_int_equal(ipc_queuelen(&p.tx), 0);
	assert_int_equal(ipc_read(&p.rx), 16 * 3 + 5 + 2);

	assert_int_equal(ipc_get(&p.rx, &m), 1);
	assert_int_equal(ipc_type(&m), 7);
	assert_int_equal(ipc_peerid(&m), 42);
	assert_int_equal(ipc_pid(&m), 1234);
	d = ipc_data(&m, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(d, "hello", 5);
	assert_int_equal(ipc_fd(&m), -1);
	ipc_free(&m);

	assert_int_equal(ipc_get(&p.rx, &m), 1);
	assert_int_equal(ipc_type(&m), 8);
	assert_int_equal(ipc_pid(&m), getpid());
	ipc_data(&m, &len);
	assert_int_equal(len, 0);
	ipc_free(&m);

	assert_int_equal(ipc_get(&p.rx, &m), 1);
	assert_int_equal(ipc_type(&m), 9);
	assert_int_equal(ipc_peerid(&m), UINT32_MAX);
	d = ipc_data(&m, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(d, "\x91\x01", 2);
	ipc_free(&m);
	assert_int_equal(ipc_get(&p.rx, &m), 0);

	assert_int_equal(p.tx.ib_msgs_out, 3);
	assert_int_equal(p.rx.ib_msgs_in, 3);
	assert_int_equal(p.tx.ib_bytes_out, 16 * 3 + 7);
	assert_int_equal(p.rx.ib_bytes_in, 16 * 3 + 7);
	pair_close(&p);
}

/* Two frames; the first must not appear before its last byte. */
static void
test_split_every_byte(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[128];
	size_t		 n, k, len;
	const void	*d;

	(void)state;
	n = mkframe(buf, 5, 16 + 10, 3, 4, "0123456789", 10);
	for (k = 1; k < n; k++) {
		pair_open(&p);
		raw_write(p.fd[0], buf, k);
		assert_int_equal(ipc_read(&p.rx), (ssize_t)k);
		assert_int_equal(ipc_get(&p.rx, &m), 0);
		raw_write(p.fd[0], buf + k, n - k);
		assert_int_equal(ipc_read(&p.rx), (ssize_t)(n - k));
		assert_int_equal(ipc_get(&p.rx, &m), 1);
		assert_int_equal(ipc_type(&m), 5);
		assert_int_equal(ipc_peerid(&m), 3);
		d = ipc_data(&m, &len);
		assert_int_equal(len, 10);
		assert_memory_equal(d, "0123456789", 10);
		ipc_free(&m);
		assert_int_equal(ipc_get(&p.rx, &m), 0);
		pair_close(&p);
	}
}

/* Byte by byte through two frames back to back. */
static void
test_split_byte_at_a_time(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[128];
	size_t		 n, i;
	int		 got = 0, rc;

	(void)state;
	n = mkframe(buf, 1, 16 + 3, 0, 0, "abc", 3);
	n += mkframe(buf + n, 2, 16, 0, 0, NULL, 0);
	pair_open(&p);
	for (i = 0; i < n; i++) {
		raw_write(p.fd[0], buf + i, 1);
		assert_int_equal(ipc_read(&p.rx), 1);
		while ((rc = ipc_get(&p.rx, &m)) == 1) {
			got++;
			assert_int_equal(ipc_type(&m), got);
			assert_true(i == (got == 1 ? 18U : n - 1));
			ipc_free(&m);
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(got, 2);
	pair_close(&p);
}

static void
test_oversize_compose(void **state)
{
	struct pair	 p;
	char		*big;

	(void)state;
	pair_open(&p);
	big = calloc(1, IPC_MAXSIZE_DEFAULT);
	assert_non_null(big);
	errno = 0;
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, -1, big,
	    IPC_MAXSIZE_DEFAULT - IPC_HDR_SIZE + 1), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, -1, big,
	    IPC_MAXSIZE_DEFAULT - IPC_HDR_SIZE), 0);
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, -1, big, SIZE_MAX), -1);
	assert_int_equal(errno, ERANGE);

	assert_int_equal(ipc_set_maxsize(&p.tx, IPC_MAXSIZE_LIMIT + 1), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(ipc_set_maxsize(&p.tx, IPC_HDR_SIZE - 1), -1);
	assert_int_equal(ipc_set_maxsize(&p.tx, IPC_HDR_SIZE), 0);
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, -1, NULL, 0), 0);
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, -1, big, 1), -1);
	assert_int_equal(errno, ERANGE);
	free(big);
	pair_close(&p);
}

/* Rejected on the header alone, before the payload arrives. */
static void
test_oversize_receive(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[64];
	uint32_t	 lens[] = { IPC_MAXSIZE_DEFAULT + 1,
			    (IPC_MAXSIZE_DEFAULT + 1) | IPC_FLAG_FD,
			    IPC_LEN_MASK, UINT32_MAX };
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		pair_open(&p);
		n = mkframe(buf, 1, lens[i], 0, 0, NULL, 0);
		raw_write(p.fd[0], buf, n);
		assert_int_equal(ipc_read(&p.rx), (ssize_t)n);
		errno = 0;
		assert_int_equal(ipc_get(&p.rx, &m), -1);
		assert_int_equal(errno, ERANGE);
		assert_null(m.im_data);
		assert_int_equal(m.im_fd, -1);
		/* The error sticks: the stream cannot be resynchronised. */
		assert_int_equal(ipc_get(&p.rx, &m), -1);
		assert_int_equal(p.rx.ib_rsize, IPC_READ_CHUNK);
		pair_close(&p);
	}
}

static void
test_undersize_receive(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[64];
	uint32_t	 lens[] = { 0, 1, IPC_HDR_SIZE - 1,
			    IPC_FLAG_FD | (IPC_HDR_SIZE - 1) };
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		pair_open(&p);
		n = mkframe(buf, 1, lens[i], 0, 0, "pad", 3);
		raw_write(p.fd[0], buf, n);
		assert_int_equal(ipc_read(&p.rx), (ssize_t)n);
		errno = 0;
		assert_int_equal(ipc_get(&p.rx, &m), -1);
		assert_int_equal(errno, ERANGE);
		pair_close(&p);
	}
}

/* A header announcing a big frame grows the buffer to that, no more. */
static void
test_read_buffer_bounded(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[64];
	size_t		 n, max = 4 * IPC_READ_CHUNK + 123;

	(void)state;
	pair_open(&p);
	assert_int_equal(ipc_set_maxsize(&p.rx, max), 0);
	n = mkframe(buf, 1, max, 0, 0, NULL, 0);
	raw_write(p.fd[0], buf, n);
	assert_int_equal(ipc_read(&p.rx), (ssize_t)n);
	assert_int_equal(ipc_get(&p.rx, &m), 0);
	assert_int_equal(p.rx.ib_rsize, IPC_READ_CHUNK);
	errno = 0;
	assert_int_equal(ipc_read(&p.rx), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(p.rx.ib_rsize, max);
	pair_close(&p);
}

static void
test_fdpass(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	int		 pfd[2], fd, base;
	char		 c;

	(void)state;
	pair_open(&p);
	ipc_allow_fdpass(&p.tx);
	ipc_allow_fdpass(&p.rx);
	assert_int_equal(pipe(pfd), 0);
	base = count_fds();
	assert_int_equal(ipc_compose(&p.tx, 3, 0, 0, pfd[0], "x", 1), 0);
	assert_int_equal(ipc_flush(&p.tx), 0);
	/* The sender's copy is closed once sent. */
	assert_int_equal(count_fds(), base - 1);
	assert_true(ipc_read(&p.rx) > 0);
	assert_int_equal(ipc_get(&p.rx, &m), 1);
	assert_int_equal(ipc_type(&m), 3);
	fd = ipc_fd(&m);
	assert_true(fd >= 0);
	assert_int_equal(ipc_fd(&m), -1);
	ipc_free(&m);
	assert_int_equal(count_fds(), base);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(pfd[1], "z", 1), 1);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'z');
	close(fd);
	close(pfd[1]);
	pair_close(&p);
}

/* ipc_free closes an fd nobody took. */
static void
test_fdpass_free_closes(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	int		 pfd[2], base;

	(void)state;
	pair_open(&p);
	ipc_allow_fdpass(&p.tx);
	ipc_allow_fdpass(&p.rx);
	base = count_fds();
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ipc_compose(&p.tx, 3, 0, 0, pfd[0], "x", 1), 0);
	close(pfd[1]);
	assert_int_equal(ipc_flush(&p.tx), 0);
	assert_true(ipc_read(&p.rx) > 0);
	assert_int_equal(ipc_get(&p.rx, &m), 1);
	assert_int_equal(count_fds(), base + 1);
	ipc_free(&m);
	assert_int_equal(count_fds(), base);
	pair_close(&p);
}

static void
test_fd_refused_on_compose(void **state)
{
	struct pair	 p;

	(void)state;
	pair_open(&p);
	errno = 0;
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, 0, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	ipc_allow_fdpass(&p.tx);
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, -2, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, -1, NULL, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_queuelen(&p.tx), 0);
	pair_close(&p);
}

/* A channel without fd passing closes whatever fd arrives. */
static void
test_fd_unexpected_closed(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[64];
	int		 pfd[2], base, n;

	(void)state;
	pair_open(&p);
	assert_int_equal(pipe(pfd), 0);
	base = count_fds();
	n = mkframe(buf, 1, 16 + 1, 0, 0, "x", 1);
	raw_sendfds(p.fd[0], buf, n, &pfd[0], 1);
	close(pfd[0]);
	assert_int_equal(count_fds(), base - 1);
	assert_int_equal(ipc_read(&p.rx), n);
	assert_int_equal(count_fds(), base - 1);
	assert_int_equal(ipc_get(&p.rx, &m), 1);
	assert_int_equal(m.im_fd, -1);
	ipc_free(&m);

	/* Flagged: the fd was dropped, so the frame is bad. */
	n = mkframe(buf, 1, (16 + 1) | IPC_FLAG_FD, 0, 0, "x", 1);
	raw_sendfds(p.fd[0], buf, n, &pfd[1], 1);
	assert_int_equal(ipc_read(&p.rx), n);
	assert_int_equal(count_fds(), base - 1);
	errno = 0;
	assert_int_equal(ipc_get(&p.rx, &m), -1);
	assert_int_equal(errno, EBADMSG);
	close(pfd[1]);
	pair_close(&p);
}

/* Two fds in one SCM_RIGHTS: the frame gets one, the other is closed. */
static void
test_fd_surplus_closed(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[64];
	int		 pfd[2], base, n, fd;
	char		 c;

	(void)state;
	pair_open(&p);
	ipc_allow_fdpass(&p.rx);
	assert_int_equal(pipe(pfd), 0);
	base = count_fds();
	n = mkframe(buf, 1, (16 + 1) | IPC_FLAG_FD, 0, 0, "x", 1);
	raw_sendfds(p.fd[0], buf, n, pfd, 2);
	assert_int_equal(ipc_read(&p.rx), n);
	assert_int_equal(count_fds(), base + 1);
	assert_int_equal(ipc_get(&p.rx, &m), 1);
	fd = ipc_fd(&m);
	ipc_free(&m);
	/* The first fd sent is the one kept. */
	assert_int_equal(write(pfd[1], "q", 1), 1);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'q');
	close(fd);
	assert_int_equal(count_fds(), base);
	close(pfd[0]);
	close(pfd[1]);
	pair_close(&p);
}

static void
test_fd_flag_without_fd(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[64];
	int		 n;

	(void)state;
	pair_open(&p);
	ipc_allow_fdpass(&p.rx);
	n = mkframe(buf, 1, (16 + 2) | IPC_FLAG_FD, 0, 0, "xy", 2);
	raw_write(p.fd[0], buf, n);
	assert_int_equal(ipc_read(&p.rx), n);
	errno = 0;
	assert_int_equal(ipc_get(&p.rx, &m), -1);
	assert_int_equal(errno, EBADMSG);
	pair_close(&p);
}

/* More fds than the receiver has room for: EPROTO and nothing leaks. */
static void
test_fd_ctrunc(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	 buf[64];
	int		 fds[8], base, n, i, pfd[2];

	(void)state;
	for (i = 0; i < 2; i++) {
		pair_open(&p);
		if (i == 1)
			ipc_allow_fdpass(&p.rx);
		assert_int_equal(pipe(pfd), 0);
		base = count_fds();
		for (n = 0; n < 8; n++)
			fds[n] = pfd[n % 2];
		n = mkframe(buf, 1, (16 + 1) | IPC_FLAG_FD, 0, 0, "x", 1);
		raw_sendfds(p.fd[0], buf, n, fds, 8);
		errno = 0;
		assert_int_equal(ipc_read(&p.rx), -1);
		assert_int_equal(errno, EPROTO);
		assert_int_equal(count_fds(), base);
		assert_int_equal(p.rx.ib_nrfds, 0);
		assert_int_equal(ipc_get(&p.rx, &m), -1);
		assert_int_equal(errno, EBADMSG);
		close(pfd[0]);
		close(pfd[1]);
		pair_close(&p);
	}
}

/* ipc_clear closes the fds of queued frames and of received ones. */
static void
test_clear_closes_fds(void **state)
{
	struct pair	 p;
	unsigned char	 buf[64];
	int		 pfd[2], base, n;

	(void)state;
	pair_open(&p);
	ipc_allow_fdpass(&p.tx);
	ipc_allow_fdpass(&p.rx);
	base = count_fds();
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ipc_compose(&p.tx, 1, 0, 0, pfd[0], "x", 1), 0);
	n = mkframe(buf, 1, (16 + 1) | IPC_FLAG_FD, 0, 0, "x", 1);
	raw_sendfds(p.fd[0], buf, n, &pfd[1], 1);
	close(pfd[1]);
	assert_int_equal(ipc_read(&p.rx), n);
	assert_int_equal(count_fds(), base + 2);
	ipc_clear(&p.tx);
	ipc_clear(&p.rx);
	assert_int_equal(count_fds(), base);
	assert_int_equal(ipc_queuelen(&p.tx), 0);
	pair_close(&p);
}

/*
 * Compose without a reader until ENOBUFS, then drain: every message
 * arrives, in order.
 */
static void
test_queue_bound(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	char		 payload[1000];
	const void	*d;
	uint32_t	 sent = 0, got = 0;
	size_t		 len;
	int		 rc;

	(void)state;
	pair_open(&p);
	ipc_set_maxqueue(&p.tx, 64 * 1024);
	for (;;) {
		memset(payload, (int)(sent & 0xff), sizeof(payload));
		if (ipc_compose(&p.tx, 1, sent, 0, -1, payload,
		    sizeof(payload)) == -1)
			break;
		sent++;
		assert_int_equal(ipc_write(&p.tx), 0);
		assert_true(sent < 100000);
	}
	assert_int_equal(errno, ENOBUFS);
	assert_true(p.tx.ib_qbytes <= 64 * 1024);
	assert_true(p.tx.ib_qbytes + 16 + sizeof(payload) > 64 * 1024);
	assert_true(ipc_queuelen(&p.tx) > 0);

	while (got < sent) {
		assert_int_equal(ipc_write(&p.tx), 0);
		if (ipc_read(&p.rx) == -1)
			assert_int_equal(errno, EAGAIN);
		while ((rc = ipc_get(&p.rx, &m)) == 1) {
			assert_int_equal(ipc_peerid(&m), got);
			d = ipc_data(&m, &len);
			assert_int_equal(len, sizeof(payload));
			assert_int_equal(((const unsigned char *)d)[len - 1],
			    got & 0xff);
			ipc_free(&m);
			got++;
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(ipc_queuelen(&p.tx), 0);
	assert_int_equal(p.tx.ib_qbytes, 0);
	assert_int_equal(p.tx.ib_msgs_out, sent);
	pair_close(&p);
}

static void
fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 31 + seed * 7) ^ (i >> 8));
}

/*
 * Small socket buffers and big frames: every frame goes out in many
 * pieces, and the fd of a frame in the middle still reaches the right
 * message.
 */
static void
test_partial_writes(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	unsigned char	*buf, *want;
	const void	*d;
	size_t		 len, max = 300 * 1024;
	int		 sz = 4096, writes = 0, got = 0, i, pfd[2], fd, rc;
	int		 halfway = 0;
	char		 c;

	(void)state;
	pair_open(&p);
	assert_int_equal(setsockopt(p.fd[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	assert_int_equal(setsockopt(p.fd[1], SOL_SOCKET, SO_RCVBUF, &sz,
	    sizeof(sz)), 0);
	assert_int_equal(ipc_set_maxsize(&p.tx, max), 0);
	assert_int_equal(ipc_set_maxsize(&p.rx, max), 0);
	ipc_set_maxqueue(&p.tx, 8 * max);
	ipc_allow_fdpass(&p.tx);
	ipc_allow_fdpass(&p.rx);
	assert_int_equal(pipe(pfd), 0);
	buf = malloc(max);
	want = malloc(max);
	assert_non_null(buf);
	assert_non_null(want);
	for (i = 0; i < 6; i++) {
		len = max - IPC_HDR_SIZE - i * 17011;
		fill_pattern(buf, len, i);
		assert_int_equal(ipc_compose(&p.tx, 10 + i, i, 0,
		    i == 3 ? pfd[0] : -1, buf, len), 0);
	}
	while (got < 6) {
		assert_int_equal(ipc_write(&p.tx), 0);
		writes++;
		if (!TAILQ_EMPTY(&p.tx.ib_out) &&
		    TAILQ_FIRST(&p.tx.ib_out)->ob_off > 0)
			halfway++;
		if (ipc_read(&p.rx) == -1)
			assert_int_equal(errno, EAGAIN);
		while ((rc = ipc_get(&p.rx, &m)) == 1) {
			assert_int_equal(ipc_type(&m), 10 + got);
			d = ipc_data(&m, &len);
			assert_int_equal(len, max - IPC_HDR_SIZE - got * 17011);
			fill_pattern(want, len, got);
			assert_memory_equal(d, want, len);
			fd = ipc_fd(&m);
			if (got == 3) {
				assert_true(fd >= 0);
				assert_int_equal(write(pfd[1], "p", 1), 1);
				assert_int_equal(read(fd, &c, 1), 1);
				assert_int_equal(c, 'p');
				close(fd);
			} else
				assert_int_equal(fd, -1);
			ipc_free(&m);
			got++;
		}
		assert_int_equal(rc, 0);
		assert_true(writes < 100000);
	}
	assert_true(halfway > 6);
	assert_true(writes > 6 * (int)(max / (64 * 1024)));
	assert_int_equal(ipc_queuelen(&p.tx), 0);
	free(buf);
	free(want);
	close(pfd[1]);
	pair_close(&p);
}

/* Forwarding keeps type, peer id, pid and payload; never the fd. */
static void
test_forward(void **state)
{
	struct pair	 a, b;
	struct ipc_msg	 m, f;
	int		 pfd[2];
	const void	*d;
	size_t		 len;

	(void)state;
	pair_open(&a);
	pair_open(&b);
	ipc_allow_fdpass(&a.tx);
	ipc_allow_fdpass(&a.rx);
	ipc_allow_fdpass(&b.tx);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(ipc_compose(&a.tx, 4, 99, 777, pfd[0], "fw", 2), 0);
	assert_int_equal(ipc_flush(&a.tx), 0);
	assert_true(ipc_read(&a.rx) > 0);
	assert_int_equal(ipc_get(&a.rx, &m), 1);
	assert_int_equal(ipc_forward(&b.tx, &m), 0);
	assert_int_equal(ipc_flush(&b.tx), 0);
	assert_true(ipc_read(&b.rx) > 0);
	assert_int_equal(ipc_get(&b.rx, &f), 1);
	assert_int_equal(ipc_type(&f), 4);
	assert_int_equal(ipc_peerid(&f), 99);
	assert_int_equal(ipc_pid(&f), 777);
	d = ipc_data(&f, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(d, "fw", 2);
	assert_int_equal(ipc_fd(&f), -1);
	assert_true(m.im_fd >= 0);
	ipc_free(&f);
	ipc_free(&m);
	close(pfd[1]);
	pair_close(&a);
	pair_close(&b);
}

static void
test_eof_and_epipe(void **state)
{
	struct pair	 p;

	(void)state;
	pair_open(&p);
	close(p.fd[0]);
	p.fd[0] = -1;
	assert_int_equal(ipc_read(&p.rx), 0);
	/* MSG_NOSIGNAL: no SIGPIPE kills the test. */
	assert_int_equal(ipc_compose(&p.rx, 1, 0, 0, -1, "x", 1), 0);
	errno = 0;
	assert_int_equal(ipc_write(&p.rx), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(ipc_flush(&p.rx), -1);
	pair_close(&p);
}

/*
 * Reading without taking frames stops at a full buffer (ENOBUFS)
 * instead of growing it; taking them makes room again.
 */
static void
test_read_without_get(void **state)
{
	struct pair	 p;
	struct ipc_msg	 m;
	char		 payload[1000];
	int		 i, n = 0, full = 0;

	(void)state;
	pair_open(&p);
	memset(payload, 'a', sizeof(payload));
	for (i = 0; i < 100; i++)
		assert_int_equal(ipc_compose(&p.tx, 1, i, 0, -1, payload,
		    sizeof(payload)), 0);
	for (i = 0; i < 1000 && !full; i++) {
		assert_int_equal(ipc_write(&p.tx), 0);
		if (ipc_read(&p.rx) == -1) {
			assert_true(errno == EAGAIN || errno == ENOBUFS);
			full = errno == ENOBUFS;
		}
	}
	assert_true(full);
	assert_int_equal(p.rx.ib_rsize, IPC_READ_CHUNK);
	while (n < 100) {
		while (ipc_get(&p.rx, &m) == 1) {
			assert_int_equal(ipc_peerid(&m), n++);
			ipc_free(&m);
		}
		assert_int_equal(ipc_write(&p.tx), 0);
		if (n < 100 && ipc_read(&p.rx) == -1)
			assert_int_equal(errno, EAGAIN);
	}
	assert_int_equal(p.rx.ib_rsize, IPC_READ_CHUNK);
	pair_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_split_byte_at_a_time),
		cmocka_unit_test(test_oversize_compose),
		cmocka_unit_test(test_oversize_receive),
		cmocka_unit_test(test_undersize_receive),
		cmocka_unit_test(test_read_buffer_bounded),
		cmocka_unit_test(test_fdpass),
		cmocka_unit_test(test_fdpass_free_closes),
		cmocka_unit_test(test_fd_refused_on_compose),
		cmocka_unit_test(test_fd_unexpected_closed),
		cmocka_unit_test(test_fd_surplus_closed),
		cmocka_unit_test(test_fd_flag_without_fd),
		cmocka_unit_test(test_fd_ctrunc),
		cmocka_unit_test(test_clear_closes_fds),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_partial_writes),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_eof_and_epipe),
		cmocka_unit_test(test_read_without_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
