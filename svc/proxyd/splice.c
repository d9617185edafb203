/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Zero-copy tunnels.  Once a CONNECT tunnel is raw and the bufferevents
 * hold nothing (the 200 and the client's early bytes are written),
 * the bytes move socket -> pipe -> socket with splice(2) and never
 * enter our address space: half the CPU of the bufferevent copy on a
 * busy tunnel.  The bufferevents stay, disabled, as the owners of the
 * sockets; each direction has two events of its own.
 *
 * A direction holds a pipe only while the pipe holds bytes (its
 * destination was full); an empty pipe goes back to a small pool
 * that every direction draws from.  Pipes are few then: one per stuck
 * direction plus the pool, not two per tunnel.  That matters because
 * the kernel counts pipe pages per user (fs.pipe-user-pages-soft,
 * 64 MiB): with two 256 KiB pipes per tunnel, 128 idle tunnels used
 * it up and every later tunnel got 8 KiB pipes: a splice(2) pair per
 * 8 KiB, twice the CPU per byte.
 *
 * A direction reads while its pipe has room and waits for its
 * destination to become writable while the pipe holds bytes, so each
 * tunnel buffers at most one pipe (SPLICE_PIPE) per direction.  EOF is
 * passed on with shutdown(SHUT_WR) once the pipe is drained; the
 * connection closes when both directions are done.  If no pipe can be
 * had at the start (descriptor limit), the tunnel stays on
 * bufferevents; later, the connection is closed.
 */

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#include "proxyd.h"

#define SPLICE_PIPE	(1024 * 1024)	/* pipe size asked for, */
#define SPLICE_NBIG	16		/* while we have fewer such, */
#define SPLICE_PIPE2	(256 * 1024)	/* else this */
#define SPLICE_ROUNDS	4		/* fill/drain turns per wakeup */
#define SPLICE_POOL	8		/* idle pipes kept, */
#define SPLICE_POOLMAX	(2 * 1024 * 1024)	/* bytes of them at most */
#define SPLICE_MINPIPE	65536		/* smaller ones are not kept */

/* An idle, empty pipe, owned by the pool. */
struct splice_pipe {
	int	 pp_r;
	int	 pp_w;
	size_t	 pp_cap;
};

static struct splice_pipe splice_pool[SPLICE_POOL];
static int	 splice_npool;
static size_t	 splice_pooled;		/* bytes of pipe in the pool */
static int	 splice_nbig;		/* pipes of ours > SPLICE_PIPE2 */

static int	 splice_dir_open(struct conn *, struct splice_dir *, int, int);
static void	 splice_dir_close(struct splice_dir *);
static void	 splice_cb(int, short, void *);
static int	 splice_pump(struct splice_dir *);
static void	 splice_arm(struct splice_dir *);
static int	 splice_pipe_get(struct splice_dir *);
static void	 splice_pipe_put(struct splice_dir *);
static int	 splice_room(struct splice_dir *);
static void	 splice_pipe_close(struct splice_dir *);

/* Both bufferevents idle and empty, no EOF yet: switch if we can. */
int
splice_ready(struct conn *c)
{
	return c->c_mode == MODE_CONNECT && !c->c_spliced && !c->c_ceof &&
	    !c->c_tls &&
	    !c->c_ueof &&
	    evbuffer_get_length(bufferevent_get_input(c->c_cbev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->c_cbev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_input(c->c_ubev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->c_ubev)) == 0;
}

/*
 * Take the tunnel over from the bufferevents.  Returns 0, or -1 with
 * nothing changed (the bufferevents go on).  The sockets stay owned by
 * the bufferevents; the events are ours until splice_free, a pipe
 * while it holds bytes.
 */
int
splice_start(struct conn *c)
{
	int	 cfd = bufferevent_getfd(c->c_cbev);
	int	 ufd = bufferevent_getfd(c->c_ubev);

	if (splice_dir_open(c, &c->c_sp[0], cfd, ufd) == -1)
		return -1;
	/* One pipe now, or none later either: to the pool with it. */
	if (splice_pipe_get(&c->c_sp[0]) == -1) {
		log_debug("conn %u: no pipe for splice: %s", c->c_id,
		    strerror(errno));
		splice_dir_close(&c->c_sp[0]);
		return -1;
	}
	splice_pipe_put(&c->c_sp[0]);
	if (splice_dir_open(c, &c->c_sp[1], ufd, cfd) == -1) {
		splice_dir_close(&c->c_sp[0]);
		return -1;
	}
	bufferevent_disable(c->c_cbev, EV_READ | EV_WRITE);
	bufferevent_disable(c->c_ubev, EV_READ | EV_WRITE);
	c->c_spliced = 1;
	c->c_pd->pd_st.st_spliced++;
	splice_arm(&c->c_sp[0]);
	splice_arm(&c->c_sp[1]);
	return 0;
}

static int
splice_dir_open(struct conn *c, struct splice_dir *d, int src, int dst)
{
	struct event_base	*base = c->c_pd->pd_base;

	memset(d, 0, sizeof(*d));
	d->sd_pr = d->sd_pw = -1;
	d->sd_conn = c;
	d->sd_src = src;
	d->sd_dst = dst;
	d->sd_rev = event_new(base, src, EV_READ | EV_PERSIST, splice_cb, d);
	d->sd_wev = event_new(base, dst, EV_WRITE | EV_PERSIST, splice_cb, d);
	if (d->sd_rev == NULL || d->sd_wev == NULL) {
		splice_dir_close(d);
		return -1;
	}
	return 0;
}

static void
splice_dir_close(struct splice_dir *d)
{
	if (d->sd_rev != NULL)
		event_free(d->sd_rev);
	if (d->sd_wev != NULL)
		event_free(d->sd_wev);
	splice_pipe_put(d);
	/* Still holding bytes: not reusable. */
	splice_pipe_close(d);
	memset(d, 0, sizeof(*d));
	d->sd_pr = d->sd_pw = -1;
}

/* Before the bufferevents (and so the sockets) go. */
void
splice_free(struct conn *c)
{
	if (!c->c_spliced)
		return;
	splice_dir_close(&c->c_sp[0]);
	splice_dir_close(&c->c_sp[1]);
	c->c_spliced = 0;
}

/* Wait for the source while the pipe has room, for the sink while it
 * holds bytes. */
static void
splice_arm(struct splice_dir *d)
{
	if (d->sd_inpipe > 0)
		event_add(d->sd_wev, NULL);
	else
		event_del(d->sd_wev);
	if (!d->sd_eof && !d->sd_full && splice_room(d))
		event_add(d->sd_rev, NULL);
	else
		event_del(d->sd_rev);
}

/* No pipe yet (one will come from the pool), or room in ours. */
static int
splice_room(struct splice_dir *d)
{
	return d->sd_pr == -1 || d->sd_inpipe < d->sd_cap;
}

/*
 * d gets a pipe from the pool, or a new one; 0, or -1 (errno).  The
 * pipe is d's until splice_pipe_put or splice_dir_close.
 */
static int
splice_pipe_get(struct splice_dir *d)
{
	struct splice_pipe	*pp;
	int			 p[2], n;

	if (d->sd_pr != -1)
		return 0;
	if (splice_npool > 0) {
		pp = &splice_pool[--splice_npool];
		d->sd_pr = pp->pp_r;
		d->sd_pw = pp->pp_w;
		d->sd_cap = pp->pp_cap;
		splice_pooled -= pp->pp_cap;
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	/*
	 * Best effort.  1 MiB (the default fs.pipe-max-size) halves our
	 * CPU per byte against 256 KiB when tunnels compete for the loop
	 * (bench/proxy, 8 tunnels): more bytes per splice and per wakeup.
	 * But the kernel counts pipe pages per user (every proxyd of the
	 * host is _openshell; 64 MiB soft), past which it refuses growth
	 * and new pipes are tiny: only the first SPLICE_NBIG busy pipes
	 * of a proxyd are big.  The default 64 KiB works too.
	 */
	n = -1;
	if (splice_nbig < SPLICE_NBIG)
		n = fcntl(p[1], F_SETPIPE_SZ, SPLICE_PIPE);
	if (n == -1 && (n = fcntl(p[1], F_SETPIPE_SZ, SPLICE_PIPE2)) == -1)
		n = fcntl(p[1], F_GETPIPE_SZ);
	if (n > SPLICE_PIPE2)
		splice_nbig++;
	d->sd_cap = n > 0 ? (size_t)n : 4096;
	d->sd_pr = p[0];
	d->sd_pw = p[1];
	return 0;
}

/*
 * An empty pipe of d goes to the pool (which owns it then), or is
 * closed when the pool is full (SPLICE_POOL pipes, SPLICE_POOLMAX
 * bytes) or the pipe is a small one the kernel handed out under the
 * per-user limit (a new one may be bigger).  The pool serves the
 * tunnels that exchange messages: each takes a pipe and gives it back
 * within one callback, so two suffice for any number of them.
 */
static void
splice_pipe_put(struct splice_dir *d)
{
	struct splice_pipe	*pp;

	if (d->sd_pr == -1 || d->sd_inpipe > 0)
		return;
	if (splice_npool < SPLICE_POOL && d->sd_cap >= SPLICE_MINPIPE &&
	    splice_pooled + d->sd_cap <= SPLICE_POOLMAX) {
		pp = &splice_pool[splice_npool++];
		pp->pp_r = d->sd_pr;
		pp->pp_w = d->sd_pw;
		pp->pp_cap = d->sd_cap;
		splice_pooled += d->sd_cap;
		d->sd_pr = d->sd_pw = -1;
		d->sd_cap = 0;
	} else
		splice_pipe_close(d);
}

/* d's pipe, if any, closed (whatever it holds is lost). */
static void
splice_pipe_close(struct splice_dir *d)
{
	if (d->sd_pr == -1)
		return;
	if (d->sd_cap > SPLICE_PIPE2)
		splice_nbig--;
	close(d->sd_pr);
	close(d->sd_pw);
	d->sd_pr = d->sd_pw = -1;
	d->sd_cap = 0;
}

/*
 * Move what can be moved now.  Returns 1 while the direction lives, 0
 * once it is done (EOF passed on), -1 on an error.
 */
static int
splice_pump(struct splice_dir *d)
{
	ssize_t	 n;
	int	 i, moved = 1;

	if (!d->sd_eof && splice_pipe_get(d) == -1)
		return -1;
	for (i = 0; i < SPLICE_ROUNDS && moved; i++) {
		moved = 0;
		if (!d->sd_eof && d->sd_inpipe < d->sd_cap) {
			n = splice(d->sd_src, NULL, d->sd_pw, NULL,
			    d->sd_cap - d->sd_inpipe,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == 0)
				d->sd_eof = 1;
			else if (n > 0) {
				d->sd_inpipe += (size_t)n;
				moved = 1;
			} else if (errno == EAGAIN && d->sd_inpipe > 0)
				/* the socket or the pipe (partly filled
				 * pages): wait for a drain, do not spin */
				d->sd_full = 1;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (d->sd_inpipe > 0) {
			n = splice(d->sd_pr, NULL, d->sd_dst, NULL,
			    d->sd_inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->sd_inpipe -= (size_t)n;
				d->sd_full = 0;
			} else if (n == -1 && errno != EAGAIN &&
			    errno != EINTR)
				return -1;
			else
				moved = 0;	/* the sink is full */
		}
	}
	splice_pipe_put(d);
	if (d->sd_eof && d->sd_inpipe == 0) {
		if (!d->sd_shut && shutdown(d->sd_dst, SHUT_WR) == -1 &&
		    errno != ENOTCONN)
			return -1;
		d->sd_shut = 1;
		return 0;
	}
	return 1;
}

static void
splice_cb(int fd, short ev, void *arg)
{
	struct splice_dir	*d = arg;
	struct conn		*c = d->sd_conn;
	int			 rc;

	(void)fd;
	(void)ev;
	front_touch(c);
	if ((rc = splice_pump(d)) == -1) {
		log_debug("conn %u: splice: %s", c->c_id, strerror(errno));
		front_close(c);
		return;
	}
	if (rc == 0 && c->c_sp[0].sd_shut && c->c_sp[1].sd_shut) {
		front_close(c);
		return;
	}
	splice_arm(d);
}
