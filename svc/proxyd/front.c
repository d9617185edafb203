/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The front end (sandbox.md §2.1): accept on the socket the parent
 * passed, read one request head (8192 bytes, else 431), and hand the
 * connection to the CONNECT or the forward pipeline.  Also the shared
 * steps of both pipelines (identity, decision) and the connection's
 * life: table by id, limits (G10: at most PROXY_MAX_CONNS at once,
 * accept pauses at the limit; a per-state idle limit), replies and
 * close.
 *
 * Bytes the client sent after the head stay in the client
 * bufferevent's input and go upstream when the relay starts (G10).
 * While the pipeline runs the client side is not read, so a client
 * cannot make us buffer more than one socket's worth.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#include "proxyd.h"

static int	 front_cmp(struct conn *, struct conn *);
static void	 front_accept(int, short, void *);
static void	 front_new(struct proxyd *, int);
static void	 front_early(struct conn *, int);
static int	 front_ntop(const struct sockaddr_storage *, char *,
		    uint16_t *);
static int	 front_addrs(struct conn *, int);
static void	 front_pause(struct proxyd *, int);
static void	 front_resume(int, short, void *);
static void	 front_read(struct bufferevent *, void *);
static void	 front_event(struct bufferevent *, short, void *);
static void	 front_drained(struct bufferevent *, void *);
static void	 front_discard(struct bufferevent *, void *);
static void	 front_timer(int, short, void *);
static void	 front_head(struct conn *, size_t);
static time_t	 front_now(void);

RB_GENERATE(conn_tree, conn, c_node, front_cmp);

static int
front_cmp(struct conn *a, struct conn *b)
{
	return a->c_id < b->c_id ? -1 : a->c_id > b->c_id;
}

static time_t
front_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Takes fd, the listening socket (a restarted proxyd gets it again). */
void
front_listen(struct proxyd *pd, int fd)
{
	if (pd->pd_accept != NULL) {
		event_free(pd->pd_accept);
		close(pd->pd_listen);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	pd->pd_listen = fd;
	pd->pd_accept = event_new(pd->pd_base, fd, EV_READ | EV_PERSIST,
	    front_accept, pd);
	if (pd->pd_accept == NULL || event_add(pd->pd_accept, NULL) == -1)
		fatalx("%s: event", __func__);
	pd->pd_paused = 0;
}

static void
front_accept(int fd, short ev, void *arg)
{
	struct proxyd	*pd = arg;
	int		 s;

	(void)ev;
	while (pd->pd_nconns < pd->pd_maxconns) {
		s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s != -1) {
			front_new(pd, s);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			/* Level-triggered: retrying now would spin. */
			log_warn("accept");
			front_pause(pd, 1);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	/* At the limit: the backlog holds the rest until one closes. */
	log_warnx("connection limit %zu reached, accept paused",
	    pd->pd_maxconns);
	pd->pd_st.st_limit_hits++;
	front_pause(pd, 0);
}

/* Stop accepting: until a connection closes, or for a second. */
static void
front_pause(struct proxyd *pd, int timed)
{
	struct timeval	 tv = { 1, 0 };

	event_del(pd->pd_accept);
	pd->pd_paused = 1;
	if (timed)
		event_base_once(pd->pd_base, -1, EV_TIMEOUT, front_resume, pd,
		    &tv);
}

static void
front_resume(int fd, short ev, void *arg)
{
	struct proxyd	*pd = arg;

	(void)fd;
	(void)ev;
	if (!pd->pd_paused || pd->pd_nconns >= pd->pd_maxconns)
		return;
	pd->pd_paused = 0;
	event_add(pd->pd_accept, NULL);
	front_accept(pd->pd_listen, EV_READ, pd);
}

/* A socket address as text and port; -1 for other families. */
static int
front_ntop(const struct sockaddr_storage *ss, char *ip, uint16_t *port)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, ip, INET6_ADDRSTRLEN);
		*port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, INET6_ADDRSTRLEN);
		*port = ntohs(s6->sin6_port);
	} else
		return -1;
	return 0;
}

/* Both ends of the accepted connection, for identity and logs. */
static int
front_addrs(struct conn *c, int s)
{
	struct sockaddr_storage	 peer, self;
	socklen_t		 plen = sizeof(peer), slen = sizeof(self);

	if (getpeername(s, (struct sockaddr *)&peer, &plen) == -1 ||
	    getsockname(s, (struct sockaddr *)&self, &slen) == -1)
		return -1;
	if (front_ntop(&peer, c->c_src, &c->c_sport) == -1 ||
	    front_ntop(&self, c->c_dst, &c->c_dport) == -1)
		return -1;
	return 0;
}

/* s is the accepted socket; the connection's bufferevent owns it. */
static void
front_new(struct proxyd *pd, int s)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		close(s);
		return;
	}
	c->c_pd = pd;
	c->c_id = ++pd->pd_nextid;
	if (front_addrs(c, s) == -1) {
		log_warn("%s: peer address", __func__);
		close(s);
		free(c);
		return;
	}
	relay_nodelay(s);
	c->c_cbev = bufferevent_socket_new(pd->pd_base, s,
	    BEV_OPT_CLOSE_ON_FREE);
	c->c_timer = evtimer_new(pd->pd_base, front_timer, c);
	if (c->c_cbev == NULL || c->c_timer == NULL) {
		log_warnx("%s: out of memory", __func__);
		if (c->c_cbev == NULL)
			close(s);
		else
			bufferevent_free(c->c_cbev);
		if (c->c_timer != NULL)
			event_free(c->c_timer);
		free(c);
		return;
	}
	RB_INSERT(conn_tree, &pd->pd_conns, c);
	pd->pd_nconns++;
	pd->pd_st.st_total++;
	c->c_state = CONN_HEAD;
	front_limit(c, PROXY_HEAD_TIMEOUT);
	bufferevent_setcb(c->c_cbev, front_read, NULL, front_event, c);
	bufferevent_enable(c->c_cbev, EV_READ);
	front_early(c, s);	/* may free c */
}

/*
 * A client speaks first, and by the time we accept it mostly has: its
 * head is read now, not on the next loop turn.  Nothing yet (or EOF):
 * the read event sees to it.  The bufferevent keeps its input's end
 * frozen but while it reads itself.  May free c.
 */
static void
front_early(struct conn *c, int s)
{
	struct evbuffer	*in = bufferevent_get_input(c->c_cbev);
	int		 n;

	evbuffer_unfreeze(in, 0);
	n = evbuffer_read(in, s, PROXY_HEAD_MAX);
	evbuffer_freeze(in, 0);
	if (n > 0)
		front_read(c->c_cbev, c);
}

struct conn *
front_find(struct proxyd *pd, uint32_t id)
{
	struct conn	 key;

	key.c_id = id;
	return RB_FIND(conn_tree, &pd->pd_conns, &key);
}

/* Restart the idle clock with a new limit (seconds). */
void
front_limit(struct conn *c, time_t limit)
{
	struct timeval	 tv = { limit, 0 };

	c->c_limit = limit;
	c->c_last = front_now();
	evtimer_add(c->c_timer, &tv);
}

void
front_touch(struct conn *c)
{
	c->c_last = front_now();
}

/* Re-armed lazily: activity only stamps c_last. */
static void
front_timer(int fd, short ev, void *arg)
{
	struct conn	*c = arg;
	struct timeval	 tv = { 0, 0 };
	time_t		 idle;

	(void)fd;
	(void)ev;
	idle = front_now() - c->c_last;
	if (idle < c->c_limit) {
		tv.tv_sec = c->c_limit - idle;
		evtimer_add(c->c_timer, &tv);
		return;
	}
	if (c->c_state == CONN_IDENT)
		log_warnx("conn %u: no identity from the parent in %lds, "
		    "denied", c->c_id, (long)idle);
	else if (c->c_limit > 0)	/* 0: front_sent's close */
		log_debug("conn %u: idle for %lds in state %d, closing",
		    c->c_id, (long)idle, (int)c->c_state);
	if (c->c_state == CONN_HEAD)
		front_close(c);
	else if (c->c_state != CONN_RELAY && c->c_state != CONN_CLOSING) {
		c->c_pd->pd_st.st_failed++;
		front_reply(c, c->c_state == CONN_CONNECTING ?
		    "HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n" :
		    "HTTP/1.1 403 Forbidden\r\n\r\n");
	} else
		front_close(c);
}

static void
front_read(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 p;
	size_t			 len = evbuffer_get_length(in);

	p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (p.pos != -1 && (size_t)p.pos + 4 <= PROXY_HEAD_MAX) {
		front_head(c, (size_t)p.pos + 4);
		return;
	}
	if (p.pos != -1 || len >= PROXY_HEAD_MAX) {
		c->c_pd->pd_st.st_head_errors++;
		front_reply(c, "HTTP/1.1 431 Request Header Fields Too Large"
		    "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	}
}

/* The head is complete: parse it and pick the pipeline. */
static void
front_head(struct conn *c, size_t len)
{
	struct evbuffer	*in = bufferevent_get_input(c->c_cbev);
	unsigned char	*data;

	bufferevent_disable(c->c_cbev, EV_READ);
	data = evbuffer_pullup(in, (ev_ssize_t)len);
	if (data == NULL || parse_head((char *)data, len, &c->c_head) == -1) {
		c->c_pd->pd_st.st_head_errors++;
		front_reply(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0"
		    "\r\nConnection: close\r\n\r\n");
		return;
	}
	evbuffer_drain(in, len);
	c->c_has_head = 1;
	front_limit(c, PROXY_SETUP_TIMEOUT);
	if (strcmp(c->c_head.h_method, "CONNECT") == 0) {
		c->c_mode = MODE_CONNECT;
		connect_start(c);
	} else {
		c->c_mode = MODE_FORWARD;
		forward_start(c);
	}
}

/* Identity first, for every connection (G5). */
void
front_decide(struct conn *c)
{
	c->c_state = CONN_IDENT;
	if (proxyd_ident_request(c) == -1) {
		log_warn("conn %u: identity request", c->c_id);
		c->c_ident.i_ok = 0;
		c->c_ident.i_error = strdup("identity service unavailable");
		front_ident_done(c);
	}
}

/*
 * The parent answered.  A failed identity denies with its text; else
 * the policy decides with the engine current now (held until close).
 */
void
front_ident_done(struct conn *c)
{
	struct proxyd		*pd = c->c_pd;
	struct policy_exec	 ex;
	char			*r;

	memset(&ex, 0, sizeof(ex));
	c->c_has_l4 = 1;
	if (!c->c_ident.i_ok) {
		r = strdup(c->c_ident.i_error != NULL && *c->c_ident.i_error ?
		    c->c_ident.i_error : "binary identity unknown");
		memset(&c->c_l4, 0, sizeof(c->c_l4));
		c->c_l4.reason = r;
	} else if (pd->pd_engine == NULL) {
		memset(&c->c_l4, 0, sizeof(c->c_l4));
		c->c_l4.reason = strdup("network connections not allowed by "
		    "policy");
	} else {
		ex.path = c->c_ident.i_exe != NULL ? c->c_ident.i_exe : "";
		ex.ancestors = (const char *const *)c->c_ident.i_anc;
		ex.nancestors = c->c_ident.i_nanc;
		ex.cmdline = (const char *const *)c->c_ident.i_cmd;
		ex.ncmdline = c->c_ident.i_ncmd;
		c->c_engine = policy_engine_ref(pd->pd_engine);
		if (policy_decide_l4(c->c_engine, c->c_host, c->c_port, &ex,
		    &c->c_l4) == -1 && policy_l4_reason(&c->c_l4) == NULL) {
			c->c_l4.allow = 0;
			c->c_l4.reason = strdup("policy evaluation failed");
		}
	}
	if (c->c_mode == MODE_CONNECT)
		connect_decided(c);
	else
		forward_decided(c);
}

static void
front_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	/*
	 * Under TLS the client's end is seen apart from our writing: it
	 * may come while the last responses still wait in the socket's
	 * output (a pipelining client that half-closed at once).  They
	 * go first; front_sent closes after them.
	 */
	if (!(what & BEV_EVENT_ERROR) && c->c_state == CONN_CLOSING &&
	    tls_unsent(c)) {
		c->c_ceof = 1;
		return;
	}
	front_close(c);
}

/*
 * The final response is written: half-close, then read and drop what
 * the client still sends until its EOF (or PROXY_LINGER seconds, or
 * PROXY_LINGER_MAX bytes), so that closing with unread input does not
 * reset the connection and destroy the response before it is read.
 */
static void
front_drained(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (!c->c_tls && shutdown(bufferevent_getfd(bev), SHUT_WR) == -1) {
		front_close(c);
		return;
	}
	front_limit(c, PROXY_LINGER);
	bufferevent_setcb(bev, front_discard, NULL, front_event, c);
	/* Under TLS the bytes may still sit in the plain side: the
	 * half-close waits for them (tls_close_notify). */
	if (c->c_tls)
		tls_close_notify(c);
	bufferevent_enable(bev, EV_READ);
	front_discard(bev, c);
}

/*
 * Under TLS our half-close is done, every byte on the wire: when the
 * client's end came before, nothing is left to wait for.  Closed by
 * the timer, not here: this runs inside the socket buffer's callback.
 */
void
front_sent(struct conn *c)
{
	if (c->c_ceof)
		front_limit(c, 0);
}

static void
front_discard(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	c->c_lingered += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->c_lingered > PROXY_LINGER_MAX)
		front_close(c);
}

/*
 * Send a final response and close once it is written.  Whatever the
 * pipeline held (DNS query, upstream attempt) is dropped first.
 */
void
front_reply(struct conn *c, const char *resp)
{
	if (bufferevent_write(c->c_cbev, resp, strlen(resp)) == -1)
		front_close(c);
	else
		front_finish(c);	/* may free c */
}

/*
 * Close once what is queued for the client is written (the L7 relay's
 * last response); the upstream side goes now.  May free c.
 */
void
front_finish(struct conn *c)
{
	resolve_cancel(c);
	if (c->c_ubev != NULL) {
		bufferevent_free(c->c_ubev);
		c->c_ubev = NULL;
	}
	c->c_state = CONN_CLOSING;
	c->c_l7 = L7_OFF;
	front_limit(c, PROXY_HEAD_TIMEOUT);
	bufferevent_disable(c->c_cbev, EV_READ);
	bufferevent_setwatermark(c->c_cbev, EV_WRITE, 0, 0);
	bufferevent_setcb(c->c_cbev, NULL, front_drained, front_event, c);
	bufferevent_enable(c->c_cbev, EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(c->c_cbev)) == 0)
		front_drained(c->c_cbev, c);
}

/*
 * A new policy is loaded: a tunnel it no longer allows is closed (G6g;
 * an L7 tunnel's next request is judged by it anyway).  The identity
 * is the one the tunnel was opened with.
 */
void
front_reload(struct proxyd *pd)
{
	struct conn		*c, *tmp;
	struct policy_exec	 ex;
	struct policy_l4	 l4;
	int			 ok;

	RB_FOREACH_SAFE(c, conn_tree, &pd->pd_conns, tmp) {
		if (c->c_state != CONN_RELAY || c->c_mode != MODE_CONNECT)
			continue;
		memset(&ex, 0, sizeof(ex));
		memset(&l4, 0, sizeof(l4));
		ex.path = c->c_ident.i_exe != NULL ? c->c_ident.i_exe : "";
		ex.ancestors = (const char *const *)c->c_ident.i_anc;
		ex.nancestors = c->c_ident.i_nanc;
		ok = pd->pd_engine != NULL && policy_decide_l4(pd->pd_engine,
		    c->c_host, c->c_port, &ex, &l4) == 1;
		policy_l4_clear(&l4);
		if (ok)
			continue;
		events_conn(c, "CONNECT", "close", "tunnel no longer allowed "
		    "by the reloaded policy");
		front_close(c);
	}
}

void
front_close(struct conn *c)
{
	struct proxyd	*pd = c->c_pd;

	resolve_cancel(c);
	splice_free(c);		/* its events watch the sockets */
	tls_conn_free(c);
	RB_REMOVE(conn_tree, &pd->pd_conns, c);
	pd->pd_nconns--;
	if (c->c_ubev != NULL)
		bufferevent_free(c->c_ubev);
	bufferevent_free(c->c_cbev);
	event_free(c->c_timer);
	if (c->c_has_head)
		parse_head_free(&c->c_head);
	l7_free(c);
	parse_uri_free(&c->c_uri);
	proxyd_ident_clear(&c->c_ident);
	if (c->c_has_l4)
		policy_l4_clear(&c->c_l4);
	if (c->c_engine != NULL)
		policy_engine_unref(c->c_engine);
	if (c->c_out != NULL) {
		explicit_bzero(c->c_out, c->c_outlen);
		free(c->c_out);
	}
	free(c);
	front_resume(-1, 0, pd);
}
