/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The upstream side: a non-blocking connect to each resolved address
 * in turn (no re-resolution, §2.2 step 7), PROXY_CONNECT_TIMEOUT each,
 * then the bidirectional copy between the two bufferevents with
 * TCP_NODELAY on both hops, back-pressure (a side stops reading while
 * the other's output holds more than PROXY_RELAY_HIGH), half-close
 * passed on with shutdown(SHUT_WR) (not to a forward-proxy upstream,
 * whose one request is framed by body.c), and the idle limit of
 * front.c.  A raw CONNECT tunnel skips the bufferevents when it can:
 * the 200 and the client's first bytes are written at once and the
 * tunnel is spliced (splice.c) from there, so that the first exchange
 * costs no loop turns.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>

#include "log.h"

#include "proxyd.h"

static void	 relay_try(struct conn *);
static void	 relay_setup(struct conn *);
static int	 relay_fast(struct conn *);
static void	 relay_connect_event(struct bufferevent *, short, void *);
static void	 relay_move(struct conn *, struct bufferevent *);
static void	 relay_body(struct conn *);
static void	 relay_read(struct bufferevent *, void *);
static void	 relay_write(struct bufferevent *, void *);
static void	 relay_event(struct bufferevent *, short, void *);
static void	 relay_shutdown(struct conn *, struct bufferevent *);
static struct bufferevent *relay_other(struct conn *, struct bufferevent *);

void
relay_nodelay(int fd)
{
	int	 one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_debug("TCP_NODELAY: %s", strerror(errno));
}

void
relay_connect(struct conn *c)
{
	c->c_next = 0;
	relay_try(c);
}

/* Next address, or the pipeline's failure answer when none is left. */
static void
relay_try(struct conn *c)
{
	struct timeval		 tv = { PROXY_CONNECT_TIMEOUT, 0 };
	struct sockaddr_storage	*ss;
	socklen_t		 len;

	if (c->c_ubev != NULL) {
		bufferevent_free(c->c_ubev);
		c->c_ubev = NULL;
	}
	if (c->c_next >= c->c_naddrs) {
		if (c->c_mode == MODE_CONNECT)
			connect_failed(c);
		else
			forward_failed(c);
		return;
	}
	ss = &c->c_addrs[c->c_next++];
	len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	c->c_ubev = bufferevent_socket_new(c->c_pd->pd_base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->c_ubev == NULL) {
		relay_try(c);
		return;
	}
	bufferevent_setcb(c->c_ubev, NULL, NULL, relay_connect_event, c);
	bufferevent_set_timeouts(c->c_ubev, NULL, &tv);
	if (bufferevent_socket_connect(c->c_ubev, (struct sockaddr *)ss,
	    (int)len) == -1) {
		log_debug("conn %u: connect attempt %zu failed at once",
		    c->c_id, c->c_next);
		relay_try(c);
	}
}

static void
relay_connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (!(what & BEV_EVENT_CONNECTED)) {
		log_debug("conn %u: upstream %s:%u attempt %zu: %s", c->c_id,
		    c->c_host, c->c_port, c->c_next,
		    (what & BEV_EVENT_TIMEOUT) ? "timed out" :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		relay_try(c);
		return;
	}
	relay_nodelay(bufferevent_getfd(bev));
	bufferevent_set_timeouts(bev, NULL, NULL);
	if (c->c_mode == MODE_CONNECT)
		connect_ready(c);
	else
		forward_ready(c);
}

/* Both bufferevents as the tunnel's, whichever way it then moves. */
static void
relay_setup(struct conn *c)
{
	c->c_state = CONN_RELAY;
	front_limit(c, PROXY_IDLE_TIMEOUT);
	bufferevent_setcb(c->c_cbev, relay_read, relay_write, relay_event, c);
	bufferevent_setcb(c->c_ubev, relay_read, relay_write, relay_event, c);
	bufferevent_setwatermark(c->c_cbev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(c->c_ubev, EV_WRITE, 0, 0);
	/* libevent's 16 KiB default costs a loop turn per 16 KiB. */
	bufferevent_set_max_single_read(c->c_cbev, PROXY_RELAY_CHUNK);
	bufferevent_set_max_single_read(c->c_ubev, PROXY_RELAY_CHUNK);
	bufferevent_set_max_single_write(c->c_cbev, PROXY_RELAY_CHUNK);
	bufferevent_set_max_single_write(c->c_ubev, PROXY_RELAY_CHUNK);
}

/*
 * Both sides connected and the pipeline wrote what goes first: from
 * here the bytes flow raw.  What the client sent after its head is
 * already in its input buffer and goes up first (G10).
 */
void
relay_start(struct conn *c)
{
	if (relay_fast(c) == 0)
		return;
	relay_setup(c);
	bufferevent_enable(c->c_cbev, EV_READ | EV_WRITE);
	bufferevent_enable(c->c_ubev, EV_READ | EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_input(c->c_cbev)) > 0)
		relay_read(c->c_cbev, c);
	/* The L7 relay may hand over with upstream bytes read already. */
	if (c->c_ubev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(c->c_ubev)) > 0)
		relay_read(c->c_ubev, c);
}

/*
 * The answer head to the client now, not on the bufferevent's next
 * loop turn: a new connection's socket buffer is empty.  What does
 * not fit (or meets an error, which the bufferevent then meets too) is
 * queued.  0, or -1 (out of memory: the caller closes).
 */
int
relay_head(struct conn *c, const char *resp, size_t len)
{
	ssize_t	 n = 0;

	if (evbuffer_get_length(bufferevent_get_output(c->c_cbev)) == 0 &&
	    (n = send(bufferevent_getfd(c->c_cbev), resp, len,
	    MSG_DONTWAIT | MSG_NOSIGNAL)) < 0)
		n = 0;
	if ((size_t)n == len)
		return 0;
	return bufferevent_write(c->c_cbev, resp + n, len - (size_t)n);
}

/*
 * A raw CONNECT tunnel without the bufferevents' loop turns: the
 * client's early bytes (after the head, or what the L7 relay sniffed)
 * go up now, to an upstream socket that has sent nothing yet, and the
 * tunnel is spliced from here.  0 when spliced; -1 when it cannot be
 * or anything is left over: the bufferevents go on, the bytes still
 * queued.
 */
static int
relay_fast(struct conn *c)
{
	struct evbuffer	*early = bufferevent_get_input(c->c_cbev);

	if (c->c_mode != MODE_CONNECT || c->c_tls || c->c_spliced)
		return -1;
	if (evbuffer_get_length(early) > 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->c_ubev)) == 0 &&
	    evbuffer_write(early, bufferevent_getfd(c->c_ubev)) == -1)
		return -1;
	if (!splice_ready(c))
		return -1;
	relay_setup(c);
	return splice_start(c);
}

static struct bufferevent *
relay_other(struct conn *c, struct bufferevent *bev)
{
	return bev == c->c_cbev ? c->c_ubev : c->c_cbev;
}

/* bev's input to the other side's output. */
static void
relay_move(struct conn *c, struct bufferevent *bev)
{
	if (bev == c->c_cbev && c->c_mode == MODE_FORWARD)
		relay_body(c);
	else
		evbuffer_add_buffer(bufferevent_get_output(relay_other(c,
		    bev)), bufferevent_get_input(bev));
}

/*
 * The bytes of in that belong to body b, up to its end, go to dst
 * (b_done at the end, b_err on bad framing).  Chunk by chunk, empty
 * ones skipped: libevent may keep an empty chain first in a buffer
 * (the TLS filter reserves space it does not fill), which
 * evbuffer_peek returns like any other -- taken as the next chunk, a
 * loop on it never ends.
 */
void
relay_move_body(struct body *b, struct evbuffer *in, struct evbuffer *dst)
{
	struct evbuffer_iovec	 v[4];
	size_t			 take;
	int			 i, n;

	while (!b->b_done && !b->b_err && evbuffer_get_length(in) > 0) {
		n = evbuffer_peek(in, -1, NULL, v, 4);
		for (i = 0; i < n && v[i].iov_len == 0; i++)
			;
		if (i == n) {	/* empty ones in sight only: coalesce */
			if (evbuffer_pullup(in, 1) == NULL)
				return;
			continue;
		}
		take = body_scan(b, v[i].iov_base, v[i].iov_len);
		if (take > 0 && evbuffer_remove_buffer(in, dst, take) == -1)
			b->b_err = 1;
		if (take < v[i].iov_len)
			return;
	}
}

/*
 * Forward mode, client to upstream: the one request's body and not a
 * byte more (body.c); what follows is read and dropped.
 */
static void
relay_body(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_cbev);

	relay_move_body(&c->c_body, in, bufferevent_get_output(c->c_ubev));
	if (c->c_body.b_done && evbuffer_get_length(in) > 0) {
		if (c->c_dropped == 0)
			log_info("FORWARD %s:%u: dropping bytes after the "
			    "request", c->c_host, c->c_port);
		c->c_dropped += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
	}
}

static void
relay_read(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*out;

	front_touch(c);
	relay_move(c, bev);
	if (c->c_body.b_err) {
		log_warnx("FORWARD %s:%u: malformed chunked body, closing",
		    c->c_host, c->c_port);
		front_close(c);
		return;
	}
	out = bufferevent_get_output(relay_other(c, bev));
	if (evbuffer_get_length(out) >= PROXY_RELAY_HIGH)
		bufferevent_disable(bev, EV_READ);
}

/* to's output drained: resume its peer, pass on a pending EOF. */
static void
relay_write(struct bufferevent *to, void *arg)
{
	struct conn		*c = arg;
	struct bufferevent	*from = relay_other(c, to);
	int			 from_eof = from == c->c_cbev ? c->c_ceof :
				    c->c_ueof;

	front_touch(c);
	if (from_eof) {
		relay_shutdown(c, to);
		return;
	}
	if (splice_ready(c) && splice_start(c) == 0)
		return;
	bufferevent_enable(from, EV_READ);
}

/* The peer of `to` has sent EOF and all of it is written to `to`. */
static void
relay_shutdown(struct conn *c, struct bufferevent *to)
{
	/* A forwarded request is framed: no half-close for the upstream
	 * to take for an abort. */
	if (to == c->c_cbev || c->c_mode != MODE_FORWARD)
		shutdown(bufferevent_getfd(to), SHUT_WR);
	if (c->c_ceof && c->c_ueof &&
	    evbuffer_get_length(bufferevent_get_output(c->c_cbev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->c_ubev)) == 0)
		front_close(c);
}

static void
relay_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn		*c = arg;
	struct bufferevent	*to = relay_other(c, bev);

	if (what & BEV_EVENT_ERROR) {
		front_close(c);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	if (bev == c->c_cbev)
		c->c_ceof = 1;
	else
		c->c_ueof = 1;
	/* Whatever is still buffered in input goes over first. */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		relay_move(c, bev);
	if (evbuffer_get_length(bufferevent_get_output(to)) == 0)
		relay_shutdown(c, to);
}
