/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The L7 REST relay (sandbox.md §2.8) on an allowed tunnel to an
 * endpoint with `protocol: rest`, with the G6 fixes:
 *
 *	- every request is parsed strictly (http.c) whatever its method:
 *	  nothing falls back to a raw tunnel (G6a); a bad head is 400
 *	  and close;
 *	- the Host header must name the CONNECT target (G6d);
 *	- the path is judged in normal form, and that form is what goes
 *	  upstream, so the server sees what was judged (G6c);
 *	- h2c upgrades are refused; other upgrades (WebSocket) pass only
 *	  when the request was allowed, and only on a 101 the client
 *	  asked for;
 *	- each request is judged by the engine loaded NOW, with the
 *	  identity found at CONNECT time: a reload applies to the next
 *	  request (G6g);
 *	- one request at a time: a pipelined request waits in the
 *	  client's input until the previous response is relayed, then is
 *	  judged on its own;
 *	- credential placeholders in headers are resolved with the
 *	  secrets bound to this host only (G7); any other placeholder,
 *	  and any in the target, fails closed with 500.
 *
 * The same relay runs on TLS-terminated streams (tls_mitm.c swaps the
 * bufferevents for TLS filters), and, without rules, as the
 * credential-injecting passthrough of §2.7 for any terminated tunnel;
 * a plaintext tunnel to an endpoint without REST rules is relayed raw.
 * TLS seen where termination is off: closed under enforced REST rules
 * (fail closed), raw otherwise.
 *
 * States (c_l7): REQ (head) -> REQBODY -> RESP (head) -> RESPBODY ->
 * REQ ...  A 101 the client asked for hands the tunnel to relay.c.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#include "proxyd.h"

#define L7_JSON_MAX	4096
#define L7_READ_HIGH	PROXY_RELAY_CHUNK	/* client input held */
#define L7_RECORD	16384	/* a TLS record's plaintext at most */

struct l7_target {
	char			*t_send;	/* resolved, normal form */
	char			*t_redacted;	/* [CREDENTIAL], normal form */
	char			*t_path;	/* its path: what is judged */
	struct http_query	 t_query;	/* its query, decoded */
	int			 t_ncred;	/* credentials injected */
};

static void	 l7_cread(struct bufferevent *, void *);
static void	 l7_uread(struct bufferevent *, void *);
static void	 l7_cwrite(struct bufferevent *, void *);
static void	 l7_uwrite(struct bufferevent *, void *);
static void	 l7_event(struct bufferevent *, short, void *);
static void	 l7_request(struct conn *);
static void	 l7_tls(struct conn *);
static void	 l7_raw(struct conn *);
static void	 l7_handoff(struct conn *);
static void	 l7_want_read(struct bufferevent *);
static struct bufferevent *l7_sock(struct bufferevent *);
static void	 l7_batch(struct bufferevent *, int);
static void	 l7_batch_cb(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);
static void	 l7_queue(struct bufferevent *);
static void	 l7_flush(evutil_socket_t, short, void *);
static void	 l7_write(struct bufferevent *);
static void	 l7_judge(struct conn *);
static int	 l7_targets(struct conn *, struct l7_target *);
static char	*l7_form(const char *, int, char **);
static void	 l7_target_free(struct l7_target *);
static int	 l7_decide(struct conn *, const char *, struct http_query *,
		    struct policy_l7 *, char **);
static void	 l7_deny(struct conn *, const char *, const char *,
		    const char *, const char *);
static int	 l7_send_head(struct conn *, const char *, const char *,
		    int *);
static void	 l7_add3(struct evbuffer *, const char *, const char *,
		    const char *);
static void	 l7_reqbody(struct conn *);
static void	 l7_interim(struct conn *);
static void	 l7_response(struct conn *);
static int	 l7_resp_framing(struct conn *, const unsigned char *, size_t,
		    int *);
static void	 l7_respbody(struct conn *);
static void	 l7_commit(struct conn *, struct evbuffer *);
static void	 l7_resp_done(struct conn *);
static char	*l7_query_text(const struct http_query *);
static void	 l7_json_str(char *, size_t, const char *);

/* Sockets to write at the end of this loop turn (l7_flush). */
static struct bufferevent	**l7_dirty;
static size_t			  l7_ndirty, l7_dirtycap;
static struct event		 *l7_flushev;
/*
 * A final response's head waits here for the body bytes that came
 * with it: they go to the client in one piece, one TLS record rather
 * than two.  Empty outside l7_response and l7_respbody.
 */
static struct evbuffer		 *l7_stage;

static const char l7_400[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char l7_431[] = "HTTP/1.1 431 Request Header Fields Too Large"
    "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char l7_500[] = "HTTP/1.1 500 Internal Server Error\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

/*
 * Does this allowed tunnel go through the relay (rather than raw)?
 * REST endpoints always; any other (not `tls: skip`) when termination
 * is on, so that TLS is terminated and placeholders resolved (§2.7).
 */
int
l7_wanted(const struct conn *c)
{
	if (c->c_l4.tls_skip || c->c_l4.proto == POLICY_PROTO_SQL)
		return 0;
	return c->c_l4.proto == POLICY_PROTO_REST || tls_available(c->c_pd);
}

/* The tunnel is up and 200 is queued: judge requests from here on. */
void
l7_start(struct conn *c)
{
	c->c_state = CONN_RELAY;
	c->c_l7 = L7_REQ;
	front_limit(c, PROXY_IDLE_TIMEOUT);
	bufferevent_setcb(c->c_cbev, l7_cread, l7_cwrite, l7_event, c);
	bufferevent_setcb(c->c_ubev, l7_uread, l7_uwrite, l7_event, c);
	bufferevent_setwatermark(c->c_cbev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(c->c_ubev, EV_WRITE, 0, 0);
	/*
	 * Both sides stay readable from here on: turning reading off and
	 * on around every exchange costs system calls per request.  What
	 * a client pipelines waits in its input, bounded by this mark;
	 * bytes upstream sends unasked end the tunnel (l7_uread).
	 */
	bufferevent_setwatermark(c->c_cbev, EV_READ, 0, L7_READ_HIGH);
	bufferevent_enable(c->c_cbev, EV_READ | EV_WRITE);
	bufferevent_enable(c->c_ubev, EV_WRITE);
	/* REST: the client speaks first; else the server may (raw). */
	if (c->c_l4.proto == POLICY_PROTO_REST || c->c_tls)
		bufferevent_disable(c->c_ubev, EV_READ);
	else
		bufferevent_enable(c->c_ubev, EV_READ);
	l7_batch(l7_sock(c->c_cbev), 1);
	l7_batch(l7_sock(c->c_ubev), 1);
	if (evbuffer_get_length(bufferevent_get_input(c->c_cbev)) > 0)
		l7_request(c);
	else if (c->c_ceof)	/* ended during the TLS handshakes */
		front_close(c);
}

/* The bufferevent on the socket: bev, or a TLS filter's underlying. */
static struct bufferevent *
l7_sock(struct bufferevent *bev)
{
	struct bufferevent	*u = bufferevent_get_underlying(bev);

	return u != NULL ? u : bev;
}

/*
 * Batched writes (on) for the relay: what is queued on a socket while
 * EV_WRITE is off goes out at the end of this loop turn, one writev
 * per socket for all the turn gave it (a response's TLS records, say),
 * from l7_flush.  libevent would arm EPOLLOUT, write on the next turn
 * and disarm it: two epoll_ctl and a turn per write, four per
 * request.  What the socket does not take (EAGAIN, an error) goes back
 * to libevent: EV_WRITE on until drained, so order, back-pressure and
 * error reports stay libevent's.  Off (the raw relay takes over):
 * libevent's own writing again.
 */
static void
l7_batch(struct bufferevent *sock, int on)
{
	struct evbuffer	*out = bufferevent_get_output(sock);

	(void)evbuffer_remove_cb(out, l7_batch_cb, sock);
	if (!on) {
		bufferevent_enable(sock, EV_WRITE);
		return;
	}
	if (evbuffer_add_cb(out, l7_batch_cb, sock) == NULL) {
		bufferevent_enable(sock, EV_WRITE);
		return;
	}
	if (evbuffer_get_length(out) == 0)
		bufferevent_disable(sock, EV_WRITE);
}

/*
 * Bytes added with EV_WRITE off: the first since the socket was last
 * written queues it for l7_flush.  Drained by libevent: EV_WRITE off.
 */
static void
l7_batch_cb(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct bufferevent	*sock = arg;
	int			 writing;

	writing = bufferevent_get_enabled(sock) & EV_WRITE;
	if (info->n_added > 0 && !writing) {
		if (info->orig_size == 0)
			l7_queue(sock);
	} else if (info->n_deleted > 0 && writing &&
	    evbuffer_get_length(out) == 0)
		bufferevent_disable(sock, EV_WRITE);
}

/* The queue holds a reference: sock may be freed before the flush. */
static void
l7_queue(struct bufferevent *sock)
{
	struct bufferevent	**n;
	size_t			 cap;

	if (l7_flushev == NULL)
		l7_flushev = event_new(bufferevent_get_base(sock), -1, 0,
		    l7_flush, NULL);
	if (l7_ndirty == l7_dirtycap && l7_flushev != NULL) {
		cap = l7_dirtycap ? l7_dirtycap * 2 : 64;
		if ((n = reallocarray(l7_dirty, cap, sizeof(*n))) != NULL) {
			l7_dirty = n;
			l7_dirtycap = cap;
		}
	}
	if (l7_flushev == NULL || l7_ndirty == l7_dirtycap) {
		bufferevent_enable(sock, EV_WRITE);	/* libevent's way */
		return;
	}
	bufferevent_incref(sock);
	l7_dirty[l7_ndirty++] = sock;
	if (l7_ndirty == 1)
		event_active(l7_flushev, EV_TIMEOUT, 1);
}

/* End of the loop turn: every queued socket written once. */
static void
l7_flush(evutil_socket_t fd, short event, void *arg)
{
	size_t	 i;

	(void)fd;
	(void)event;
	(void)arg;
	for (i = 0; i < l7_ndirty; i++) {
		l7_write(l7_dirty[i]);
		bufferevent_decref(l7_dirty[i]);
	}
	l7_ndirty = 0;
}

static void
l7_write(struct bufferevent *sock)
{
	struct evbuffer		*out = bufferevent_get_output(sock);
	bufferevent_data_cb	 rcb, wcb;
	bufferevent_event_cb	 ecb;
	int			 rc;

	/* Freed since (no callbacks left), or libevent's again. */
	bufferevent_getcb(sock, &rcb, &wcb, &ecb, NULL);
	if ((rcb == NULL && wcb == NULL && ecb == NULL) ||
	    (bufferevent_get_enabled(sock) & EV_WRITE) ||
	    evbuffer_get_length(out) == 0)
		return;
	/* A socket bufferevent keeps its output's front frozen except
	 * while it writes itself: so do we. */
	evbuffer_unfreeze(out, 1);
	rc = evbuffer_write(out, bufferevent_getfd(sock));
	evbuffer_freeze(out, 1);
	if (rc == -1 || evbuffer_get_length(out) > 0)
		bufferevent_enable(sock, EV_WRITE);
	else	/* as libevent's own write: the drained output's callback
		 * (a TLS filter above resumes there) */
		bufferevent_trigger(sock, EV_WRITE, 0);
}

void
l7_free(struct conn *c)
{
	if (c->c_has_req)
		http_req_free(&c->c_req);
	c->c_has_req = 0;
}

static void
l7_cread(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	front_touch(c);
	/* Else a pipelined request waits for this response. */
	if (c->c_l7 == L7_REQ)
		l7_request(c);
	else if (c->c_l7 == L7_REQBODY)
		l7_reqbody(c);
}

static void
l7_uread(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	front_touch(c);
	if (c->c_l7 == L7_RESP)
		l7_response(c);
	else if (c->c_l7 == L7_RESPBODY)
		l7_respbody(c);
	else if (c->c_l7 == L7_REQBODY)
		l7_interim(c);
	else if (c->c_reqnum == 0 && !c->c_tls &&
	    c->c_l4.proto != POLICY_PROTO_REST)
		l7_raw(c);	/* the server speaks first: not HTTP */
	else {
		/* A response nobody asked for: the stream is broken. */
		log_info("L7 %s:%u: unsolicited bytes from upstream, closing",
		    c->c_host, c->c_port);
		front_finish(c);
	}
}

/* The client took what we queued: upstream may be read again. */
static void
l7_cwrite(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	front_touch(c);
	if (c->c_l7 == L7_RESP || c->c_l7 == L7_RESPBODY)
		l7_want_read(c->c_ubev);
}

static void
l7_uwrite(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	front_touch(c);
	if (c->c_l7 == L7_REQBODY)
		l7_want_read(c->c_cbev);
}

/* Reading on, without the cost of asking when it is on already. */
static void
l7_want_read(struct bufferevent *bev)
{
	if (!(bufferevent_get_enabled(bev) & EV_READ))
		bufferevent_enable(bev, EV_READ);
}

static void
l7_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_ERROR) {
		front_close(c);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	if (bev == c->c_cbev) {
		c->c_ceof = 1;
		/*
		 * Between requests, or mid-request: nothing more comes.
		 * What the last response left in the socket's output
		 * still goes (front_finish), the end may come before.
		 */
		if (c->c_l7 == L7_REQ || c->c_l7 == L7_REQBODY)
			front_finish(c);
		return;
	}
	c->c_ueof = 1;
	if (c->c_l7 == L7_RESPBODY && c->c_rclose) {
		l7_respbody(c);
		front_finish(c);
		return;
	}
	if (c->c_l7 == L7_RESP || c->c_l7 == L7_RESPBODY)
		log_info("L7 %s:%u: upstream closed mid-response", c->c_host,
		    c->c_port);
	front_finish(c);
}

/* Is a complete request head in the client's input? */
static void
l7_request(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->c_cbev);
	size_t		 len = evbuffer_get_length(in), n;
	unsigned char	*p;
	ssize_t		 end;

	if (len == 0)
		return;
	n = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	if ((p = evbuffer_pullup(in, (ev_ssize_t)n)) == NULL) {
		front_close(c);
		return;
	}
	if (c->c_reqnum == 0 && n >= 3 && p[0] == 0x16 && p[1] == 0x03 &&
	    p[2] <= 0x04) {
		l7_tls(c);
		return;
	}
	if (c->c_reqnum == 0 && !c->c_tls &&
	    c->c_l4.proto != POLICY_PROTO_REST) {
		l7_raw(c);
		return;
	}
	end = http_head_end(p, n);
	if (end == 0) {
		if (c->c_ceof)	/* the client ended mid-head */
			front_finish(c);
		return;
	}
	if (end == HTTP_TOO_BIG || end == HTTP_BAD ||
	    http_req_parse(p, (size_t)end, &c->c_req) == -1) {
		c->c_pd->pd_st.st_head_errors++;
		log_info("L7_REQUEST dst_host=%s dst_port=%u: malformed "
		    "request (%s), 400 and close", c->c_host, c->c_port,
		    end == HTTP_TOO_BIG ? "head too large" :
		    n >= 14 && memcmp(p, "PRI * HTTP/2.0", 14) == 0 ?
		    "HTTP/2 preface: only HTTP/1.1 is inspected" :
		    "strict parse");
		front_reply(c, end == HTTP_TOO_BIG ? l7_431 : l7_400);
		return;
	}
	c->c_has_req = 1;
	evbuffer_drain(in, (size_t)end);
	c->c_reqnum++;
	l7_judge(c);
}

/* Neither TLS nor a REST endpoint: nothing to inspect, raw copy. */
static void
l7_raw(struct conn *c)
{
	c->c_l7 = L7_OFF;
	l7_handoff(c);
}

/* The raw relay takes the tunnel over, with its own flow control. */
static void
l7_handoff(struct conn *c)
{
	l7_batch(l7_sock(c->c_cbev), 0);
	l7_batch(l7_sock(c->c_ubev), 0);
	bufferevent_setwatermark(c->c_cbev, EV_READ, 0, 0);
	relay_start(c);
}

/*
 * The client speaks TLS.  Without termination the requests cannot be
 * seen: under enforcement the tunnel is closed (fail closed, G6a);
 * audit mode relays it raw, as the reference does.
 */
static void
l7_tls(struct conn *c)
{
	if (!c->c_tls && tls_available(c->c_pd)) {
		if (tls_start(c) == -1) {
			log_warnx("TLS %s:%u: cannot terminate, closing",
			    c->c_host, c->c_port);
			front_close(c);
		}
		return;
	}
	if (c->c_l4.enforce && c->c_l4.proto == POLICY_PROTO_REST) {
		events_l7(c, "-", "-", NULL, "deny", "TLS on an enforced L7 "
		    "endpoint and TLS termination unavailable");
		front_close(c);
		return;
	}
	log_warnx("CONNECT_L7 %s:%u: TLS without termination, audit mode: "
	    "raw tunnel", c->c_host, c->c_port);
	c->c_l7 = L7_OFF;
	l7_handoff(c);
}

/*
 * Decide one request and send it on (or answer it).  The target sent
 * upstream is the normalised path plus the raw query.
 */
static void
l7_judge(struct conn *c)
{
	struct http_req		*r = &c->c_req;
	const char		*method = r->r_head.h_method, *label;
	struct l7_target	 t;
	struct policy_l7	 d;
	char			*qtext = NULL, *why = NULL;

	if (l7_targets(c, &t) == -1)
		return;
	qtext = l7_query_text(&t.t_query);
	if (l7_decide(c, t.t_path, &t.t_query, &d, &why) == -1) {
		label = "deny";
	} else if (d.verdict == POLICY_DENY)
		label = "deny";
	else if (d.verdict == POLICY_AUDIT)
		label = "audit";
	else
		label = r->r_upgrade ? "allow_upgrade" : "allow";
	if (d.verdict == POLICY_AUDIT && why == NULL)
		why = policy_l7_deny_detail(method, t.t_path);
	/* Passthrough (no REST rules): HTTP_REQUEST once it went up. */
	if (c->c_l4.proto == POLICY_PROTO_REST || d.verdict == POLICY_DENY)
		events_l7(c, method, t.t_redacted, qtext, label, why);
	if (d.verdict == POLICY_DENY) {
		c->c_pd->pd_st.st_denied++;
		l7_deny(c, method, t.t_redacted, t.t_path, why);
	} else {
		c->c_req_upgrade = r->r_upgrade;
		if (l7_send_head(c, method, t.t_send, &t.t_ncred) == 0) {
			if (c->c_l4.proto != POLICY_PROTO_REST)
				events_http(c, method, t.t_redacted,
				    t.t_ncred);
			l7_reqbody(c);
		}
	}
	free(qtext);
	free(why);
	l7_target_free(&t);
}

/* Path (normal form) + query of target into a malloc'd string. */
static char *
l7_form(const char *target, int judge, char **pathp)
{
	const char	*q = strchr(target, '?');
	char		*path, *out;

	if (http_path_normalize(target, q != NULL ? (size_t)(q - target) :
	    strlen(target), &path) == -1)
		return NULL;
	if (asprintf(&out, "%s%s", path, q != NULL ? q : "") == -1)
		out = NULL;
	if (judge && out != NULL)
		*pathp = path;
	else
		free(path);
	return out;
}

/*
 * The three forms of the request target: resolved placeholders (with
 * the secrets bound to this host) in normal form to send, redacted in
 * normal form to judge and log, and the redacted query.  -1 after
 * answering 400 (malformed) or 500 (placeholder, fail closed).
 */
static int
l7_targets(struct conn *c, struct l7_target *t)
{
	struct secrets	*sec;
	char		*res = NULL, *red = NULL;
	const char	*q;
	int		 n = 0, rc;

	memset(t, 0, sizeof(*t));
	if ((sec = secrets_for_host(c->c_pd->pd_secrets, c->c_host)) == NULL) {
		front_close(c);
		return -1;
	}
	rc = secrets_target(sec, c->c_req.r_head.h_target, &res, &red, &n);
	t->t_ncred = n;
	secrets_free(sec);
	if (rc == -1) {
		events_l7(c, c->c_req.r_head.h_method, "[CREDENTIAL]", NULL,
		    "deny", "credential placeholder in the target not "
		    "resolvable for this host");
		front_reply(c, l7_500);
		return -1;
	}
	t->t_send = l7_form(res, 0, NULL);
	t->t_redacted = l7_form(red, 1, &t->t_path);
	q = strchr(red, '?');
	explicit_bzero(res, strlen(res));
	free(res);
	if (t->t_send == NULL || t->t_redacted == NULL ||
	    http_query_parse(q != NULL ? q + 1 : "", &t->t_query) == -1) {
		free(red);
		l7_target_free(t);
		log_info("L7_REQUEST dst_host=%s dst_port=%u: bad path or "
		    "query, 400 and close", c->c_host, c->c_port);
		front_reply(c, l7_400);
		return -1;
	}
	free(red);
	return 0;
}

static void
l7_target_free(struct l7_target *t)
{
	if (t->t_send != NULL)
		explicit_bzero(t->t_send, strlen(t->t_send));
	free(t->t_send);
	free(t->t_redacted);
	free(t->t_path);
	http_query_free(&t->t_query);
	memset(t, 0, sizeof(*t));
}

/*
 * The verdict for this request with the engine loaded now.  0, or -1
 * (deny, *why set) when the tunnel itself is no longer allowed, or the
 * request is refused before the rules (h2c, Host).
 */
static int
l7_decide(struct conn *c, const char *path, struct http_query *q,
    struct policy_l7 *d, char **why)
{
	struct proxyd		*pd = c->c_pd;
	struct http_req		*r = &c->c_req;
	struct policy_exec	 ex;
	struct policy_param	 params[HTTP_MAX_PARAMS];
	const char		*reason;
	size_t			 i;
	int			 rc = -1;

	memset(d, 0, sizeof(*d));
	d->verdict = POLICY_DENY;
	d->policy = c->c_l4.policy;
	if (r->r_h2c) {
		*why = strdup("h2c upgrade refused");
		return -1;
	}
	if (r->r_host == NULL || !http_host_matches(r->r_host, c->c_host,
	    c->c_port, c->c_tls ? 443 : 80)) {
		*why = strdup("Host header does not name the CONNECT target");
		return -1;
	}
	if (pd->pd_engine == NULL) {
		*why = strdup("no policy loaded");
		return -1;
	}
	memset(&ex, 0, sizeof(ex));
	ex.path = c->c_ident.i_exe != NULL ? c->c_ident.i_exe : "";
	ex.ancestors = (const char *const *)c->c_ident.i_anc;
	ex.nancestors = c->c_ident.i_nanc;
	/* The judging engine replaces the one the tunnel opened with. */
	policy_l4_clear(&c->c_l4);
	if (c->c_engine != NULL)
		policy_engine_unref(c->c_engine);
	c->c_engine = policy_engine_ref(pd->pd_engine);
	if (policy_decide_l4(c->c_engine, c->c_host, c->c_port, &ex,
	    &c->c_l4) == -1 || !c->c_l4.allow) {
		reason = policy_l4_reason(&c->c_l4);
		*why = strdup(reason != NULL ? reason :
		    "tunnel no longer allowed by policy");
		return -1;
	}
	d->policy = c->c_l4.policy;
	if (c->c_l4.proto != POLICY_PROTO_REST) {
		/* The reloaded policy dropped the rules: all requests go. */
		d->verdict = POLICY_ALLOW;
		return 0;
	}
	for (i = 0; i < q->q_n; i++) {
		params[i].key = q->q_p[i].key;
		params[i].value = q->q_p[i].value;
	}
	rc = policy_decide_l7(c->c_engine, &c->c_l4, r->r_head.h_method, path,
	    params, q->q_n, d);
	if (rc == 0 && d->verdict == POLICY_DENY)
		*why = policy_l7_deny_detail(r->r_head.h_method, path);
	return rc;
}

/* Escape s as the inside of a JSON string. */
static void
l7_json_str(char *out, size_t len, const char *s)
{
	size_t	 k = 0;

	for (; s != NULL && *s != '\0' && k + 7 < len; s++) {
		if (*s == '"' || *s == '\\') {
			out[k++] = '\\';
			out[k++] = *s;
		} else if ((unsigned char)*s < 0x20)
			k += (size_t)snprintf(out + k, len - k, "\\u%04x",
			    (unsigned char)*s);
		else
			out[k++] = *s;
	}
	out[k] = '\0';
}

/* §2.8's deny response, then close. */
static void
l7_deny(struct conn *c, const char *method, const char *target,
    const char *path, const char *why)
{
	char	 pol[512], m[128], t[L7_JSON_MAX], p[L7_JSON_MAX];
	char	 body[4 * L7_JSON_MAX], *resp = NULL;
	int	 n;

	(void)why;
	l7_json_str(pol, sizeof(pol), c->c_l4.policy != NULL ?
	    c->c_l4.policy : "-");
	l7_json_str(m, sizeof(m), method);
	l7_json_str(t, sizeof(t), target);
	l7_json_str(p, sizeof(p), path);
	n = snprintf(body, sizeof(body), "{\"error\":\"policy_denied\","
	    "\"policy\":\"%s\",\"rule\":\"%s %s\",\"detail\":\"%s %s not "
	    "permitted by policy\"}", pol, m, t, m, p);
	if (n < 0 || (size_t)n >= sizeof(body) || asprintf(&resp,
	    "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\nX-OpenShell-Policy: %s\r\n"
	    "Connection: close\r\n\r\n%s", n, c->c_l4.policy != NULL ?
	    c->c_l4.policy : "-", body) == -1) {
		front_close(c);
		return;
	}
	front_reply(c, resp);
	free(resp);
}

/* Three strings in a row (no format to parse: once per header). */
static void
l7_add3(struct evbuffer *b, const char *s1, const char *s2, const char *s3)
{
	evbuffer_add(b, s1, strlen(s1));
	evbuffer_add(b, s2, strlen(s2));
	evbuffer_add(b, s3, strlen(s3));
}

/*
 * The request head as it goes upstream: the judged target, headers
 * with placeholders resolved from the secrets bound to this host.
 * 0, or -1 after answering (500) or closing.
 */
static int
l7_send_head(struct conn *c, const char *method, const char *target,
    int *ncred)
{
	struct http_head	*h = &c->c_req.r_head;
	struct evbuffer		*out = bufferevent_get_output(c->c_ubev);
	struct evbuffer		*tmp;
	struct secrets		*sec;
	char			*v;
	size_t			 i;
	int			 bad = 0;

	if ((tmp = evbuffer_new()) == NULL ||
	    (sec = secrets_for_host(c->c_pd->pd_secrets, c->c_host)) == NULL) {
		if (tmp != NULL)
			evbuffer_free(tmp);
		front_close(c);
		return -1;
	}
	l7_add3(tmp, method, " ", target);
	l7_add3(tmp, " ", h->h_version, "\r\n");
	for (i = 0; i < h->h_nhdrs && !bad; i++) {
		if (secrets_header(sec, h->h_hdrs[i].name, h->h_hdrs[i].value,
		    &v, ncred) == -1 || secrets_present(v, strlen(v))) {
			bad = 1;
		} else {
			l7_add3(tmp, h->h_hdrs[i].name, ": ", v);
			evbuffer_add(tmp, "\r\n", 2);
		}
		if (v != NULL)
			explicit_bzero(v, strlen(v));
		free(v);
	}
	secrets_free(sec);
	if (bad) {
		/* Unknown, unbound or unsafe: nothing goes upstream. */
		log_warnx("L7_REQUEST dst_host=%s dst_port=%u: credential "
		    "placeholder not resolvable for this host, 500",
		    c->c_host, c->c_port);
		evbuffer_free(tmp);
		front_reply(c, l7_500);
		return -1;
	}
	evbuffer_add(tmp, "\r\n", 2);
	evbuffer_add_buffer(out, tmp);
	evbuffer_free(tmp);
	c->c_req_head = strcmp(method, "HEAD") == 0;
	c->c_req_close = c->c_req.r_close;
	c->c_l7 = L7_REQBODY;
	l7_want_read(c->c_ubev);	/* 100 Continue */
	return 0;
}

/*
 * Upstream answers while the request body is still coming: an interim
 * 1xx (100 Continue) goes to the client now; a final answer waits in
 * the buffer until the body is through (upstream reading pauses).
 */
static void
l7_interim(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_ubev);
	struct evbuffer_ptr	 e;
	unsigned char		*p;

	for (;;) {
		e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (e.pos == -1 || e.pos + 4 > HTTP_HEAD_MAX) {
			if (evbuffer_get_length(in) >= HTTP_HEAD_MAX)
				bufferevent_disable(c->c_ubev, EV_READ);
			return;
		}
		p = evbuffer_pullup(in, 13);
		if (p == NULL || memcmp(p, "HTTP/1.", 7) != 0 || p[9] != '1' ||
		    memcmp(p + 9, "101", 3) == 0) {
			bufferevent_disable(c->c_ubev, EV_READ);
			return;
		}
		evbuffer_remove_buffer(in, bufferevent_get_output(c->c_cbev),
		    (size_t)e.pos + 4);
	}
}

/* The request's body, exactly its framing, goes up. */
static void
l7_reqbody(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_cbev);
	struct evbuffer		*out = bufferevent_get_output(c->c_ubev);
	struct body		*b = &c->c_req.r_body;

	relay_move_body(b, in, out);
	if (b->b_err) {
		log_info("L7 %s:%u: malformed request body, closing",
		    c->c_host, c->c_port);
		front_close(c);
		return;
	}
	if (!b->b_done) {
		if (c->c_ceof)	/* the client ended mid-body */
			front_finish(c);
		else if (evbuffer_get_length(out) >= PROXY_RELAY_HIGH)
			bufferevent_disable(c->c_cbev, EV_READ);
		return;
	}
	/* What follows is the next request: it waits in the input. */
	c->c_l7 = L7_RESP;
	l7_want_read(c->c_ubev);
	if (evbuffer_get_length(bufferevent_get_input(c->c_ubev)) > 0)
		l7_response(c);
}

/* A response head from upstream: relay it and frame its body. */
static void
l7_response(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_ubev);
	struct evbuffer_ptr	 e;
	unsigned char		*p;
	int			 status;

	while (c->c_l7 == L7_RESP) {
		e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (e.pos == -1 || e.pos + 4 > HTTP_HEAD_MAX) {
			if (e.pos != -1 ||
			    evbuffer_get_length(in) >= HTTP_HEAD_MAX) {
				log_info("L7 %s:%u: response head too large",
				    c->c_host, c->c_port);
				front_finish(c);
			}
			return;
		}
		p = evbuffer_pullup(in, e.pos + 4);
		if (p == NULL || l7_resp_framing(c, p, (size_t)e.pos + 4,
		    &status) == -1) {
			log_info("L7 %s:%u: bad response head, closing",
			    c->c_host, c->c_port);
			front_finish(c);
			return;
		}
		if (status >= 200 && (l7_stage != NULL ||
		    (l7_stage = evbuffer_new()) != NULL)) {
			evbuffer_remove_buffer(in, l7_stage, (size_t)e.pos + 4);
			c->c_l7 = L7_RESPBODY;
			break;
		}
		evbuffer_remove_buffer(in, bufferevent_get_output(c->c_cbev),
		    (size_t)e.pos + 4);
		if (status == 101) {
			if (!c->c_req_upgrade) {
				front_finish(c);
				return;
			}
			/* No inspection after an upgrade (G6e, documented). */
			c->c_l7 = L7_OFF;
			l7_handoff(c);
			return;
		}
		if (status >= 200)
			c->c_l7 = L7_RESPBODY;
	}
	l7_respbody(c);
}

/*
 * Status and body framing of the response head p[0..n).  Lenient
 * about what it does not use; refuses ambiguous framing.
 */
static int
l7_resp_framing(struct conn *c, const unsigned char *p, size_t n,
    int *status)
{
	struct http_head	 h;
	char			*buf, *line, *next, *colon, *v;
	struct http_hdr		*nh;
	const char		*conn;
	int			 rc = -1, http10, hascl;

	memset(&h, 0, sizeof(h));
	if (n < 16 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' &&
	    p[7] != '1') || p[8] != ' ' || p[9] < '1' || p[9] > '5' ||
	    p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
		return -1;
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	http10 = p[7] == '0';
	if ((buf = malloc(n + 1)) == NULL)
		return -1;
	memcpy(buf, p, n);
	buf[n - 4] = '\0';
	h.h_buf = buf;
	next = strstr(buf, "\r\n");
	while (next != NULL) {
		*next = '\0';
		line = next + 2;
		if ((next = strstr(line, "\r\n")) != NULL)
			*next = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			goto out;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if ((nh = reallocarray(h.h_hdrs, h.h_nhdrs + 1,
		    sizeof(*nh))) == NULL)
			goto out;
		h.h_hdrs = nh;
		nh[h.h_nhdrs].name = line;
		nh[h.h_nhdrs++].value = v;
	}
	c->c_rclose = 0;
	memset(&c->c_rbody, 0, sizeof(c->c_rbody));
	if (*status < 200 || c->c_req_head || *status == 204 ||
	    *status == 304) {
		c->c_rbody.b_done = 1;
		rc = 0;
		goto out;
	}
	if (body_init(&c->c_rbody, &h) == -1)
		goto out;
	hascl = parse_header(&h, "Content-Length") != NULL;
	conn = parse_header(&h, "Connection");
	if (c->c_rbody.b_mode == BODY_NONE && !hascl && (http10 ||
	    (conn != NULL && strcasestr(conn, "close") != NULL))) {
		c->c_rclose = 1;
		c->c_rbody.b_done = 0;
	}
	if (http10 || (conn != NULL && strcasestr(conn, "close") != NULL))
		c->c_req_close = 1;
	rc = 0;
out:
	parse_head_free(&h);
	return rc;
}

static void
l7_respbody(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_ubev);
	struct evbuffer		*out = bufferevent_get_output(c->c_cbev);
	struct evbuffer		*dst = out;
	struct body		*b = &c->c_rbody;

	if (l7_stage != NULL && evbuffer_get_length(l7_stage) > 0)
		dst = l7_stage;		/* behind the head */
	if (c->c_rclose) {
		evbuffer_add_buffer(dst, in);
		l7_commit(c, out);
	} else {
		relay_move_body(b, in, dst);
		l7_commit(c, out);
		if (b->b_err) {
			log_info("L7 %s:%u: malformed response body",
			    c->c_host, c->c_port);
			front_finish(c);
			return;
		}
		if (b->b_done) {
			l7_resp_done(c);
			return;
		}
	}
	if (evbuffer_get_length(out) >= PROXY_RELAY_HIGH)
		bufferevent_disable(c->c_ubev, EV_READ);
}

/* The staged head and body to the client, in one piece if small. */
static void
l7_commit(struct conn *c, struct evbuffer *out)
{
	size_t	 len;

	if (l7_stage == NULL || (len = evbuffer_get_length(l7_stage)) == 0)
		return;
	if (c->c_tls && len <= L7_RECORD)
		(void)evbuffer_pullup(l7_stage, -1);
	evbuffer_add_buffer(out, l7_stage);
}

/* One exchange done: the next request, or close. */
static void
l7_resp_done(struct conn *c)
{
	l7_free(c);
	/* A client's EOF after pipelined requests: those still count. */
	if (c->c_req_close ||
	    evbuffer_get_length(bufferevent_get_input(c->c_ubev)) > 0 ||
	    (c->c_ceof &&
	    evbuffer_get_length(bufferevent_get_input(c->c_cbev)) == 0)) {
		front_finish(c);
		return;
	}
	c->c_l7 = L7_REQ;
	l7_want_read(c->c_cbev);
	if (evbuffer_get_length(bufferevent_get_input(c->c_cbev)) > 0)
		l7_request(c);
}

/* "k=v&k2=v2" of the decoded parameters, for the log. */
static char *
l7_query_text(const struct http_query *q)
{
	char	*s = NULL, *t;
	size_t	 i;

	if (q->q_n == 0)
		return NULL;
	for (i = 0; i < q->q_n; i++) {
		if (asprintf(&t, "%s%s%s=%s", s != NULL ? s : "",
		    i > 0 ? "&" : "", q->q_p[i].key, q->q_p[i].value) == -1) {
			free(s);
			return NULL;
		}
		free(s);
		s = t;
	}
	return s;
}
