/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for the libipc reader.  Input: one control byte,
 * then a byte stream written through a socketpair in chunks into
 * ipc_read/ipc_get on a channel with a small maximum.  Each frame is
 * forwarded and read back (it must come out identical), and its payload
 * is walked with ipc_rd_*, steered by msgpack-c's own decoding of the
 * same bytes: every read the oracle says is valid must succeed.
 *
 * Control byte: bits 0-5 chunk size (63 = all at once), bit 6 sends a
 * pipe fd with every chunk, bit 7 lets the channel accept fds.  The
 * walk mode is taken from the frame's peer id.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_pack.h"

#define FUZZ_MAXSIZE	512

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 fuzz_check(int, const char *);
static int	 fuzz_walk(struct ipc_rd *, const msgpack_object *, int, int);
static void	 fuzz_payload(const struct ipc_msg *);
static void	 fuzz_forward(const struct ipc_msg *);
static void	 fuzz_send(int, const uint8_t *, size_t, int);

static void
fuzz_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "ipc_fuzz: %s\n", what);
		abort();
	}
}

/*
 * Read o with the matching ipc_rd call.  Returns 1 if the reader was
 * expected to fail (a NUL in a string, nesting past IPC_RD_MAXDEPTH),
 * after which the sticky error makes further reads pointless.
 */
static int
fuzz_walk(struct ipc_rd *r, const msgpack_object *o, int depth, int leave)
{
	const void	*p;
	char		*s;
	size_t		 len;
	uint64_t	 u64;
	uint32_t	 i, n, u32;
	int64_t		 i64;
	int		 b;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fuzz_check(ipc_rd_isnil(r), "nil");
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		ipc_rd_bool(r, &b);
		fuzz_check(b == o->via.boolean, "bool");
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 <= UINT32_MAX) {
			ipc_rd_u32(r, &u32);
			fuzz_check(u32 == o->via.u64, "u32");
		} else if (o->via.u64 <= INT64_MAX) {
			ipc_rd_i64(r, &i64);
			fuzz_check((uint64_t)i64 == o->via.u64, "i64");
		} else {
			ipc_rd_u64(r, &u64);
			fuzz_check(u64 == o->via.u64, "u64");
		}
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		ipc_rd_i64(r, &i64);
		fuzz_check(i64 == o->via.i64, "negative");
		return 0;
	case MSGPACK_OBJECT_STR:
		ipc_rd_str(r, &s);
		if (memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
			fuzz_check(s == NULL && ipc_rd_error(r), "NUL str");
			return 1;
		}
		fuzz_check(s != NULL && strlen(s) == o->via.str.size &&
		    memcmp(s, o->via.str.ptr, o->via.str.size) == 0, "str");
		free(s);
		return 0;
	case MSGPACK_OBJECT_BIN:
		ipc_rd_bin(r, &p, &len);
		fuzz_check(len == o->via.bin.size && (len == 0 ||
		    memcmp(p, o->via.bin.ptr, len) == 0), "bin");
		return 0;
	case MSGPACK_OBJECT_ARRAY:
	case MSGPACK_OBJECT_MAP:
		if (o->type == MSGPACK_OBJECT_ARRAY)
			ipc_rd_array(r, &n);
		else
			ipc_rd_map(r, &n);
		if (depth + 1 >= IPC_RD_MAXDEPTH) {
			fuzz_check(ipc_rd_error(r) != 0, "depth");
			return 1;
		}
		if (o->type == MSGPACK_OBJECT_ARRAY) {
			fuzz_check(n == o->via.array.size, "array size");
			for (i = 0; i < n; i++)
				if (fuzz_walk(r, &o->via.array.ptr[i],
				    depth + 1, leave))
					return 1;
		} else {
			fuzz_check(n == o->via.map.size, "map size");
			for (i = 0; i < n; i++)
				if (fuzz_walk(r, &o->via.map.ptr[i].key,
				    depth + 1, leave) ||
				    fuzz_walk(r, &o->via.map.ptr[i].val,
				    depth + 1, leave))
					return 1;
		}
		/* Not leaving is only possible for the root container. */
		if (leave || depth > 0)
			ipc_rd_leave(r);
		return 0;
	default:
		ipc_rd_skip(r);
		return 0;
	}
}

/*
 * Walk modes: 0 full walk, 1 full walk that never leaves the root
 * container (still fully consumed), 2 skip the root, 3 read nothing
 * (must fail).
 */
static void
fuzz_payload(const struct ipc_msg *msg)
{
	struct ipc_rd		 r;
	msgpack_unpacked	 up;
	const void		*data;
	size_t			 len, off = 0;
	int			 mode = ipc_peerid(msg) & 3, bad = 0;

	if (ipc_rd_init(&r, msg) == -1) {
		fuzz_check(ipc_rd_error(&r) != 0, "init error");
		fuzz_check(ipc_rd_end(&r) == -1, "end after failed init");
		return;
	}
	data = ipc_data(msg, &len);
	msgpack_unpacked_init(&up);
	fuzz_check(msgpack_unpack_next(&up, data, len, &off) ==
	    MSGPACK_UNPACK_SUCCESS && off == len, "oracle disagrees");
	if (mode == 0 || mode == 1)
		bad = fuzz_walk(&r, &up.data, 0, mode == 0);
	else if (mode == 2)
		ipc_rd_skip(&r);
	if (mode == 3 || bad)
		fuzz_check(ipc_rd_end(&r) == -1, "end should fail");
	else
		fuzz_check(ipc_rd_end(&r) == 0, "end should succeed");
	msgpack_unpacked_destroy(&up);
}

/*
 * ipc_forward, then read back: the same frame, without an fd, and with
 * our pid if the original had none (as imsg_forward).
 */
static void
fuzz_forward(const struct ipc_msg *msg)
{
	struct ipc_buf	 tx, rx;
	struct ipc_msg	 out;
	const void	*a, *b;
	size_t		 alen, blen;
	pid_t		 pid;
	int		 fd[2];

	pid = ipc_pid(msg) != 0 ? ipc_pid(msg) : getpid();
	fuzz_check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd) == 0, "socketpair (fd leak?)");
	ipc_init(&tx, fd[0]);
	ipc_init(&rx, fd[1]);
	ipc_set_maxsize(&tx, FUZZ_MAXSIZE);
	ipc_set_maxsize(&rx, FUZZ_MAXSIZE);
	fuzz_check(ipc_forward(&tx, msg) == 0, "forward");
	fuzz_check(ipc_flush(&tx) == 0, "flush");
	fuzz_check(ipc_read(&rx) > 0, "read back");
	fuzz_check(ipc_get(&rx, &out) == 1, "get back");
	a = ipc_data(msg, &alen);
	b = ipc_data(&out, &blen);
	fuzz_check(ipc_type(&out) == ipc_type(msg) &&
	    ipc_peerid(&out) == ipc_peerid(msg) &&
	    ipc_pid(&out) == pid && alen == blen &&
	    (alen == 0 || memcmp(a, b, alen) == 0) && out.im_fd == -1,
	    "forwarded frame differs");
	ipc_free(&out);
	ipc_clear(&tx);
	ipc_clear(&rx);
	close(fd[0]);
	close(fd[1]);
}

static void
fuzz_send(int sock, const uint8_t *buf, size_t len, int withfd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr	*cmsg;
	int		 p[2] = { -1, -1 };

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (withfd) {
		fuzz_check(pipe(p) == 0, "pipe (fd leak?)");
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &p[0], sizeof(int));
	}
	fuzz_check(sendmsg(sock, &msg, 0) == (ssize_t)len, "sendmsg");
	if (withfd) {
		close(p[0]);
		close(p[1]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_buf	 rx;
	struct ipc_msg	 msg;
	size_t		 chunk, off, n;
	ssize_t		 r;
	int		 fd[2], ctl, rc = 0;

	if (size < 2)
		return 0;
	ctl = data[0];
	data++;
	size--;
	chunk = (ctl & 0x3f) == 0x3f ? size : (size_t)(ctl & 0x3f) + 1;
	fuzz_check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd) == 0, "socketpair (fd leak?)");
	ipc_init(&rx, fd[1]);
	ipc_set_maxsize(&rx, FUZZ_MAXSIZE);
	if (ctl & 0x80)
		ipc_allow_fdpass(&rx);

	for (off = 0; off < size && rc != -1; off += n) {
		n = size - off < chunk ? size - off : chunk;
		fuzz_send(fd[0], data + off, n, ctl & 0x40);
		if ((r = ipc_read(&rx)) == -1)
			break;
		fuzz_check(r > 0, "short read");
		while ((rc = ipc_get(&rx, &msg)) == 1) {
			fuzz_check(msg.im_fd == -1 || (ctl & 0x80), "fd");
			fuzz_payload(&msg);
			fuzz_forward(&msg);
			ipc_free(&msg);
		}
		if (rc == -1)
			fuzz_check(errno == ERANGE || errno == EBADMSG,
			    "ipc_get errno");
	}
	ipc_clear(&rx);
	close(fd[0]);
	close(fd[1]);
	return 0;
}
