/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"

/* Frames handed to one sendmsg; each is one iovec. */
#define IPC_IOV_MAX	64
#define IPC_RFDS_MAX	((int)(sizeof(((struct ipc_buf *)0)->ib_rfds) / \
			    sizeof(int)))

_Static_assert(sizeof(struct ipc_hdr) == IPC_HDR_SIZE, "ipc_hdr layout");

/*
 * Room for one SCM_RIGHTS fd.  Alignment padding lets the kernel fit a
 * second one; more than that arrives as MSG_CTRUNC.
 */
union ipc_cmsg {
	struct cmsghdr	 hdr;
	unsigned char	 buf[CMSG_SPACE(sizeof(int))];
};

static int	 ipc_compose_check(struct ipc_buf *, int, size_t);
static void	 ipc_mkhdr(struct ipc_buf *, struct ipc_hdr *, uint32_t,
		    uint32_t, pid_t, int, size_t);
static void	 ipc_enqueue(struct ipc_buf *, struct ipc_obuf *,
		    unsigned char *, const struct ipc_hdr *, int);
static int	 ipc_rbuf_reserve(struct ipc_buf *);
static void	 ipc_recv_fds(struct ipc_buf *, struct msghdr *);
static void	 ipc_rfds_add(struct ipc_buf *, int);
static int	 ipc_rfds_take(struct ipc_buf *);
static ssize_t	 ipc_send(struct ipc_buf *, size_t *);
static void	 ipc_sent(struct ipc_buf *, size_t);
static void	 ipc_obuf_free(struct ipc_obuf *);

void
ipc_init(struct ipc_buf *ib, int fd)
{
	int	 i;

	memset(ib, 0, sizeof(*ib));
	ib->ib_fd = fd;
	ib->ib_maxsize = IPC_MAXSIZE_DEFAULT;
	ib->ib_maxqueue = IPC_QUEUE_DEFAULT;
	ib->ib_pid = getpid();
	for (i = 0; i < IPC_RFDS_MAX; i++)
		ib->ib_rfds[i] = -1;
	TAILQ_INIT(&ib->ib_out);
}

void
ipc_allow_fdpass(struct ipc_buf *ib)
{
	ib->ib_fdpass = 1;
}

int
ipc_set_maxsize(struct ipc_buf *ib, size_t max)
{
	if (max < IPC_HDR_SIZE || max > IPC_MAXSIZE_LIMIT) {
		errno = ERANGE;
		return -1;
	}
	ib->ib_maxsize = max;
	return 0;
}

void
ipc_set_maxqueue(struct ipc_buf *ib, size_t max)
{
	ib->ib_maxqueue = max;
}

/*
 * Make room to read into: IPC_READ_CHUNK, or the whole frame that the
 * buffered header announces when that is larger, so growth stays
 * bounded by the channel maximum.  Consumed bytes are dropped here
 * rather than in ipc_get so that a batch of frames costs no memmove.
 */
static int
ipc_rbuf_reserve(struct ipc_buf *ib)
{
	struct ipc_hdr	 hdr;
	unsigned char	*p;
	size_t		 need = IPC_READ_CHUNK, len;

	if (ib->ib_roff > 0) {
		memmove(ib->ib_rbuf, ib->ib_rbuf + ib->ib_roff, ib->ib_rlen);
		ib->ib_roff = 0;
	}
	if (ib->ib_rlen >= IPC_HDR_SIZE) {
		memcpy(&hdr, ib->ib_rbuf, sizeof(hdr));
		len = hdr.ih_len & IPC_LEN_MASK;
		if (len > need && len <= ib->ib_maxsize)
			need = len;
	}
	if (need > ib->ib_rsize) {
		if ((p = realloc(ib->ib_rbuf, need)) == NULL)
			return -1;
		ib->ib_rbuf = p;
		ib->ib_rsize = need;
	}
	if (ib->ib_rlen == ib->ib_rsize) {
		/* Full of frames the caller has not taken with ipc_get. */
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

ssize_t
ipc_read(struct ipc_buf *ib)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union ipc_cmsg	 cm;
	ssize_t		 n;

	if (ipc_rbuf_reserve(ib) == -1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = ib->ib_rbuf + ib->ib_rlen;
	iov.iov_len = ib->ib_rsize - ib->ib_rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);

	do {
		n = recvmsg(ib->ib_fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	ipc_recv_fds(ib, &msg);
	ib->ib_rlen += n;
	ib->ib_bytes_in += n;
	if (msg.msg_flags & MSG_CTRUNC) {
		/* An fd was lost: the frame it belongs to cannot be had. */
		errno = EPROTO;
		return -1;
	}
	return n;
}

/*
 * Receive side fd ownership: the first fd of a read is queued on ib
 * (and later owned by the message whose header has IPC_FLAG_FD); every
 * other fd -- channel without fd passing, surplus in one read, a full
 * queue, or control data that was truncated -- is closed here.
 */
static void
ipc_recv_fds(struct ipc_buf *ib, struct msghdr *msg)
{
	struct cmsghdr	*cmsg;
	size_t		 i, n;
	int		 fd, keep;

	keep = ib->ib_fdpass && !(msg->msg_flags & MSG_CTRUNC);
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(fd));
			if (keep) {
				ipc_rfds_add(ib, fd);
				keep = 0;
			} else
				close(fd);
		}
	}
}

static void
ipc_rfds_add(struct ipc_buf *ib, int fd)
{
	if (ib->ib_nrfds == IPC_RFDS_MAX) {
		close(fd);
		return;
	}
	ib->ib_rfds[ib->ib_nrfds++] = fd;
}

static int
ipc_rfds_take(struct ipc_buf *ib)
{
	int	 fd;

	if (ib->ib_nrfds == 0)
		return -1;
	fd = ib->ib_rfds[0];
	memmove(&ib->ib_rfds[0], &ib->ib_rfds[1],
	    (ib->ib_nrfds - 1) * sizeof(int));
	ib->ib_rfds[--ib->ib_nrfds] = -1;
	return fd;
}

int
ipc_get(struct ipc_buf *ib, struct ipc_msg *msg)
{
	struct ipc_hdr	 hdr;
	unsigned char	*p;
	size_t		 len;

	memset(msg, 0, sizeof(*msg));
	msg->im_fd = -1;
	if (ib->ib_rlen < IPC_HDR_SIZE)
		return 0;
	p = ib->ib_rbuf + ib->ib_roff;
	memcpy(&hdr, p, sizeof(hdr));
	len = hdr.ih_len & IPC_LEN_MASK;
	if (len < IPC_HDR_SIZE || len > ib->ib_maxsize) {
		errno = ERANGE;
		return -1;
	}
	if (ib->ib_rlen < len)
		return 0;
	if ((hdr.ih_len & IPC_FLAG_FD) && ib->ib_nrfds == 0) {
		errno = EBADMSG;
		return -1;
	}
	if (len > IPC_HDR_SIZE) {
		if ((msg->im_data = malloc(len - IPC_HDR_SIZE)) == NULL)
			return -1;
		memcpy(msg->im_data, p + IPC_HDR_SIZE, len - IPC_HDR_SIZE);
	}
	if (hdr.ih_len & IPC_FLAG_FD)
		msg->im_fd = ipc_rfds_take(ib);
	hdr.ih_len = len;
	msg->im_hdr = hdr;

	ib->ib_rlen -= len;
	ib->ib_roff = ib->ib_rlen == 0 ? 0 : ib->ib_roff + len;
	ib->ib_msgs_in++;
	return 1;
}

void
ipc_free(struct ipc_msg *msg)
{
	free(msg->im_data);
	msg->im_data = NULL;
	if (msg->im_fd != -1) {
		close(msg->im_fd);
		msg->im_fd = -1;
	}
}

static int
ipc_compose_check(struct ipc_buf *ib, int fd, size_t len)
{
	size_t	 total;

	if (fd < -1 || (fd != -1 && !ib->ib_fdpass)) {
		errno = EINVAL;
		return -1;
	}
	if (len > ib->ib_maxsize - IPC_HDR_SIZE) {
		errno = ERANGE;
		return -1;
	}
	total = IPC_HDR_SIZE + len;
	if (ib->ib_qbytes > ib->ib_maxqueue ||
	    total > ib->ib_maxqueue - ib->ib_qbytes) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

static void
ipc_enqueue(struct ipc_buf *ib, struct ipc_obuf *ob, unsigned char *frame,
    const struct ipc_hdr *hdr, int fd)
{
	memcpy(frame, hdr, sizeof(*hdr));
	ob->ob_buf = frame;
	ob->ob_len = hdr->ih_len & IPC_LEN_MASK;
	ob->ob_off = 0;
	ob->ob_fd = fd;
	TAILQ_INSERT_TAIL(&ib->ib_out, ob, ob_entry);
	ib->ib_qbytes += ob->ob_len;
	ib->ib_qmsgs++;
}

static void
ipc_mkhdr(struct ipc_buf *ib, struct ipc_hdr *hdr, uint32_t type,
    uint32_t peerid, pid_t pid, int fd, size_t len)
{
	hdr->ih_type = type;
	hdr->ih_len = (IPC_HDR_SIZE + len) | (fd != -1 ? IPC_FLAG_FD : 0);
	hdr->ih_peerid = peerid;
	hdr->ih_pid = pid != 0 ? (uint32_t)pid : (uint32_t)ib->ib_pid;
}

/*
 * On success the frame and fd belong to ib: fd is closed once sendmsg
 * has carried it, or by ipc_clear.  On failure the caller keeps fd.
 */
int
ipc_compose(struct ipc_buf *ib, uint32_t type, uint32_t peerid, pid_t pid,
    int fd, const void *data, size_t len)
{
	struct ipc_obuf	*ob;
	struct ipc_hdr	 hdr;
	unsigned char	*frame;

	if (data == NULL && len > 0) {
		errno = EINVAL;
		return -1;
	}
	if (ipc_compose_check(ib, fd, len) == -1)
		return -1;
	if ((ob = malloc(sizeof(*ob) + IPC_HDR_SIZE + len)) == NULL)
		return -1;
	frame = (unsigned char *)(ob + 1);
	if (len > 0)
		memcpy(frame + IPC_HDR_SIZE, data, len);
	ipc_mkhdr(ib, &hdr, type, peerid, pid, fd, len);
	ipc_enqueue(ib, ob, frame, &hdr, fd);
	return 0;
}

/*
 * As ipc_compose, for a payload already in place: frame is a malloc'ed
 * buffer of IPC_HDR_SIZE + len bytes, the header to be written into
 * its first IPC_HDR_SIZE.  On success ib owns frame (and fd); on
 * failure the caller keeps both.
 */
int
ipc_compose_frame(struct ipc_buf *ib, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, unsigned char *frame, size_t len)
{
	struct ipc_obuf	*ob;
	struct ipc_hdr	 hdr;

	if (frame == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ipc_compose_check(ib, fd, len) == -1)
		return -1;
	if ((ob = malloc(sizeof(*ob))) == NULL)
		return -1;
	ipc_mkhdr(ib, &hdr, type, peerid, pid, fd, len);
	ipc_enqueue(ib, ob, frame, &hdr, fd);
	return 0;
}

/* The message keeps its fd: forwarding never passes one on. */
int
ipc_forward(struct ipc_buf *ib, const struct ipc_msg *msg)
{
	const void	*data;
	size_t		 len;

	data = ipc_data(msg, &len);
	return ipc_compose(ib, ipc_type(msg), ipc_peerid(msg), ipc_pid(msg),
	    -1, data, len);
}

/*
 * One sendmsg over as many queued frames as possible.  A frame's fd
 * must travel with its first byte, so a batch may start with an
 * fd-carrying frame but never contain one further on.  Sets *want to
 * the bytes offered.
 */
static ssize_t
ipc_send(struct ipc_buf *ib, size_t *want)
{
	struct iovec	 iov[IPC_IOV_MAX];
	struct msghdr	 msg;
	union ipc_cmsg	 cm;
	struct cmsghdr	*cmsg;
	struct ipc_obuf	*ob, *first;
	ssize_t		 n;
	int		 i = 0;

	*want = 0;
	first = TAILQ_FIRST(&ib->ib_out);
	TAILQ_FOREACH(ob, &ib->ib_out, ob_entry) {
		if (i == IPC_IOV_MAX || (ob != first && ob->ob_fd != -1))
			break;
		iov[i].iov_base = ob->ob_buf + ob->ob_off;
		iov[i].iov_len = ob->ob_len - ob->ob_off;
		*want += iov[i].iov_len;
		i++;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = i;
	if (first->ob_fd != -1) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &first->ob_fd, sizeof(int));
	}
	do {
		n = sendmsg(ib->ib_fd, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n > 0 && first->ob_fd != -1) {
		/* The peer has its own reference now. */
		close(first->ob_fd);
		first->ob_fd = -1;
	}
	return n;
}

static void
ipc_sent(struct ipc_buf *ib, size_t n)
{
	struct ipc_obuf	*ob;
	size_t		 left;

	ib->ib_bytes_out += n;
	while (n > 0 && (ob = TAILQ_FIRST(&ib->ib_out)) != NULL) {
		left = ob->ob_len - ob->ob_off;
		if (n < left) {
			ob->ob_off += n;
			return;
		}
		n -= left;
		TAILQ_REMOVE(&ib->ib_out, ob, ob_entry);
		ib->ib_qbytes -= ob->ob_len;
		ib->ib_qmsgs--;
		ib->ib_msgs_out++;
		ipc_obuf_free(ob);
	}
}

int
ipc_write(struct ipc_buf *ib)
{
	ssize_t	 n;
	size_t	 want;

	while (!TAILQ_EMPTY(&ib->ib_out)) {
		if ((n = ipc_send(ib, &want)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		ipc_sent(ib, n);
		if ((size_t)n < want)
			return 0;	/* socket buffer full */
	}
	return 0;
}

int
ipc_flush(struct ipc_buf *ib)
{
	struct pollfd	 pfd;

	for (;;) {
		if (ipc_write(ib) == -1)
			return -1;
		if (TAILQ_EMPTY(&ib->ib_out))
			return 0;
		pfd.fd = ib->ib_fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
}

/* Messages queued for output (imsg's msgbuf_queuelen). */
size_t
ipc_queuelen(const struct ipc_buf *ib)
{
	return ib->ib_qmsgs;
}

/* Drops both directions and closes every fd ib holds, but not ib_fd. */
void
ipc_clear(struct ipc_buf *ib)
{
	struct ipc_obuf	*ob;
	int		 fd;

	while ((ob = TAILQ_FIRST(&ib->ib_out)) != NULL) {
		TAILQ_REMOVE(&ib->ib_out, ob, ob_entry);
		ipc_obuf_free(ob);
	}
	ib->ib_qbytes = 0;
	ib->ib_qmsgs = 0;
	while ((fd = ipc_rfds_take(ib)) != -1)
		close(fd);
	free(ib->ib_rbuf);
	ib->ib_rbuf = NULL;
	ib->ib_roff = ib->ib_rlen = ib->ib_rsize = 0;
}

/* Frames from ipc_compose_frame live in a buffer of their own. */
static void
ipc_obuf_free(struct ipc_obuf *ob)
{
	if (ob->ob_fd != -1)
		close(ob->ob_fd);
	if (ob->ob_buf != (unsigned char *)(ob + 1))
		free(ob->ob_buf);
	free(ob);
}

uint32_t
ipc_type(const struct ipc_msg *msg)
{
	return msg->im_hdr.ih_type;
}

uint32_t
ipc_peerid(const struct ipc_msg *msg)
{
	return msg->im_hdr.ih_peerid;
}

pid_t
ipc_pid(const struct ipc_msg *msg)
{
	return (pid_t)msg->im_hdr.ih_pid;
}

const void *
ipc_data(const struct ipc_msg *msg, size_t *len)
{
	size_t	 n = msg->im_hdr.ih_len & IPC_LEN_MASK;

	*len = n > IPC_HDR_SIZE ? n - IPC_HDR_SIZE : 0;
	return msg->im_data;
}

/* The caller owns the returned fd; the message no longer has one. */
int
ipc_fd(struct ipc_msg *msg)
{
	int	 fd = msg->im_fd;

	msg->im_fd = -1;
	return fd;
}
