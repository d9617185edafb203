/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libipc: imsg rebuilt for msgpack.  A channel is a non-blocking
 * AF_UNIX stream socket carrying frames of a 16-byte header and one
 * msgpack value.  At most one fd travels with a frame (SCM_RIGHTS on
 * the frame's first byte); fd passing is opt-in per channel.
 */

#ifndef IPC_H
#define IPC_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#define IPC_HDR_SIZE		16
#define IPC_FLAG_FD		0x80000000U	/* in ih_len: an fd is attached */
#define IPC_LEN_MASK		0x7fffffffU
#define IPC_MAXSIZE_DEFAULT	(16 * 1024)	/* header + payload */
#define IPC_MAXSIZE_LIMIT	(64 * 1024 * 1024)
#define IPC_QUEUE_DEFAULT	(1024 * 1024)	/* bytes queued for output */
#define IPC_READ_CHUNK		65536
#define IPC_VERSION		1		/* checked by IPC_HELLO */

/* Host byte order: both ends are on one host. */
struct ipc_hdr {
	uint32_t	 ih_type;
	uint32_t	 ih_len;	/* header + payload, IPC_FLAG_FD */
	uint32_t	 ih_peerid;	/* correlation id, echoed in replies */
	uint32_t	 ih_pid;	/* originator */
};

struct ipc_msg {
	struct ipc_hdr	 im_hdr;
	void		*im_data;	/* payload, im_hdr.ih_len - 16 bytes */
	int		 im_fd;		/* -1, or owned by the message */
};

struct ipc_obuf {
	TAILQ_ENTRY(ipc_obuf)	 ob_entry;
	unsigned char		*ob_buf;
	size_t			 ob_len;
	size_t			 ob_off;	/* bytes already written */
	int			 ob_fd;		/* sent with ob_buf[0] */
};

struct ipc_buf {
	int			 ib_fd;
	int			 ib_fdpass;	/* accept and send fds */
	size_t			 ib_maxsize;	/* largest frame */
	size_t			 ib_maxqueue;	/* output bytes bound */
	pid_t			 ib_pid;	/* default ih_pid */

	unsigned char		*ib_rbuf;	/* bytes read */
	size_t			 ib_roff;	/* first byte not consumed */
	size_t			 ib_rlen;	/* bytes not consumed */
	size_t			 ib_rsize;
	int			 ib_rfds[4];	/* fds received, in order */
	int			 ib_nrfds;

	TAILQ_HEAD(, ipc_obuf)	 ib_out;
	size_t			 ib_qbytes;	/* queued output bytes */
	size_t			 ib_qmsgs;	/* queued output messages */

	uint64_t		 ib_msgs_in;
	uint64_t		 ib_msgs_out;
	uint64_t		 ib_bytes_in;
	uint64_t		 ib_bytes_out;
};

/* ipc.c */
void	 ipc_init(struct ipc_buf *, int);
void	 ipc_allow_fdpass(struct ipc_buf *);
int	 ipc_set_maxsize(struct ipc_buf *, size_t);
void	 ipc_set_maxqueue(struct ipc_buf *, size_t);

/*
 * ipc_read: read what the socket has.  Returns bytes read, 0 on EOF,
 * -1 with errno set on error (EAGAIN: nothing now).  Received fds are
 * close-on-exec; an fd arriving on a channel that does not allow fd
 * passing, or beyond the one a frame may carry, is closed.  Truncated
 * control data (MSG_CTRUNC) is EPROTO.
 */
ssize_t	 ipc_read(struct ipc_buf *);

/*
 * ipc_get: take the next complete frame.  Returns 1 and fills msg, 0
 * when no complete frame is buffered, -1 with errno on a protocol error
 * (ERANGE: frame larger than the channel maximum or smaller than the
 * header; EBADMSG: fd flag without an fd).  The caller owns msg and
 * frees it with ipc_free.
 */
int	 ipc_get(struct ipc_buf *, struct ipc_msg *);
void	 ipc_free(struct ipc_msg *);

/*
 * ipc_compose: queue one frame.  On success the channel owns fd (it is
 * closed once sent, or by ipc_clear).  On failure (-1, errno ERANGE for
 * a frame over the maximum, ENOBUFS for a full output queue, EINVAL for
 * an fd on a channel without fd passing) the caller keeps fd.
 */
int	 ipc_compose(struct ipc_buf *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
/*
 * ipc_compose_frame: the same without a copy.  The buffer is malloc'ed,
 * IPC_HDR_SIZE bytes of room for the header followed by the payload's
 * len bytes; on success ib owns it (and fd), on failure the caller.
 */
int	 ipc_compose_frame(struct ipc_buf *, uint32_t, uint32_t, pid_t, int,
	    unsigned char *, size_t);
int	 ipc_forward(struct ipc_buf *, const struct ipc_msg *);

/* ipc_write: write queued output; 0 when the queue is empty or the
 * socket would block, -1 with errno on error. */
int	 ipc_write(struct ipc_buf *);
int	 ipc_flush(struct ipc_buf *);	/* blocking until drained */
size_t	 ipc_queuelen(const struct ipc_buf *);
void	 ipc_clear(struct ipc_buf *);	/* drop queues, close held fds */

/* Accessors. */
uint32_t	 ipc_type(const struct ipc_msg *);
uint32_t	 ipc_peerid(const struct ipc_msg *);
pid_t		 ipc_pid(const struct ipc_msg *);
const void	*ipc_data(const struct ipc_msg *, size_t *);
int		 ipc_fd(struct ipc_msg *);	/* transfers ownership */

#endif /* IPC_H */
