/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The CONNECT pipeline, in the normative order of sandbox.md §2.2:
 *
 *	1 target host:port, or [v6]:port (G10); bad -> close, no status
 *	2 inference.local -> 200, and the connection goes to routerd
 *	  (sandbox.md §6); without routerd or a CA it is closed
 *	3 identity from the parent (every connection, G5)
 *	4 policy (libpolicy engine)
 *	5 deny -> bare 403, CONNECT action=deny
 *	6 resolve (hosts override, evdns), SSRF on every address (G8)
 *	7 connect to the resolved addresses, no re-resolution; all fail
 *	  -> 502 (G10)
 *	8 200 Connection Established (written at once), then the
 *	  CONNECT / CONNECT_L7 action=allow line
 *	9 an endpoint with REST rules (not `tls: skip`): the L7 relay
 *	  (l7.c) judges every request; otherwise a raw tunnel, spliced
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#include "proxyd.h"

static void	 connect_inference(struct conn *);
static void	 connect_dns_done(struct conn *, int, const char *);
static void	 connect_resolved(struct conn *);

static const char connect_403[] = "HTTP/1.1 403 Forbidden\r\n\r\n";
static const char connect_200[] = "HTTP/1.1 200 Connection Established\r\n\r\n";
static const char connect_502[] = "HTTP/1.1 502 Bad Gateway\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

void
connect_start(struct conn *c)
{
	if (parse_connect_target(c->c_head.h_target, c->c_host,
	    sizeof(c->c_host), &c->c_port) == -1) {
		log_info("CONNECT src_addr=%s src_port=%u: bad target, closing",
		    c->c_src, c->c_sport);
		c->c_pd->pd_st.st_head_errors++;
		front_close(c);
		return;
	}
	if (strcasecmp(c->c_host, "inference.local") == 0) {
		connect_inference(c);
		return;
	}
	front_decide(c);
}

/*
 * Any binary may reach inference.local (no identity, no policy): 200,
 * then the connection is routerd's, with inference.local's leaf.  We
 * write the 200 ourselves and hand over a duplicate; our copy goes
 * with c.  Bytes the agent sent before our 200 would be lost: such a
 * connection is closed instead.
 */
static void
connect_inference(struct conn *c)
{
	struct ipc_wr	 w;
	const char	*cert, *key, *why = NULL;
	int		 fd = -1;

	if (evbuffer_get_length(bufferevent_get_input(c->c_cbev)) > 0)
		why = "data before the 200";
	else if (tls_router_leaf(c->c_pd, &cert, &key) == -1)
		why = "no TLS termination";
	else if (!c->c_pd->pd_ps.ps_chans[PROC_ROUTER].ch_open)
		why = "no inference router";
	else if (write(bufferevent_getfd(c->c_cbev), connect_200,
	    sizeof(connect_200) - 1) != (ssize_t)sizeof(connect_200) - 1 ||
	    (fd = dup(bufferevent_getfd(c->c_cbev))) == -1)
		why = "cannot answer";
	if (why != NULL) {
		log_info("CONNECT inference.local:%u from %s:%u: inference "
		    "interception denied: %s", c->c_port, c->c_src,
		    c->c_sport, why);
		front_reply(c, connect_200);
		return;
	}
	ipc_wr_init(&w);
	ipc_wr_array(&w, 4);
	ipc_wr_str(&w, c->c_src);
	ipc_wr_u32(&w, c->c_sport);
	ipc_wr_str(&w, cert);
	ipc_wr_str(&w, key);
	/* The channel owns fd once composed; else it is still ours. */
	if (proc_child_compose_wr(&c->c_pd->pd_ps, PROC_ROUTER,
	    IPC_ROUTER_TUNNEL, 0, fd, &w) == -1) {
		log_warn("CONNECT inference.local: to routerd");
		close(fd);
	}
	c->c_pd->pd_st.st_inference++;
	front_close(c);
}

void
connect_decided(struct conn *c)
{
	if (!c->c_l4.allow) {
		c->c_pd->pd_st.st_denied++;
		events_conn(c, "CONNECT", "deny", policy_l4_reason(&c->c_l4));
		front_reply(c, connect_403);
		return;
	}
	c->c_state = CONN_RESOLVE;
	resolve_start(c, connect_dns_done);
}

/* err: a resolution failure text (already a complete reason). */
static void
connect_dns_done(struct conn *c, int ok, const char *err)
{
	char	*reason = NULL;

	if (!ok) {
		c->c_pd->pd_st.st_ssrf++;
		events_ssrf(c, "CONNECT", err);
		front_reply(c, connect_403);
		return;
	}
	if (policy_check_ssrf(&c->c_l4, c->c_host, c->c_port, c->c_addrs,
	    c->c_naddrs, &reason) == -1) {
		c->c_pd->pd_st.st_ssrf++;
		events_ssrf(c, "CONNECT", reason != NULL ? reason :
		    "SSRF check failed");
		free(reason);
		front_reply(c, connect_403);
		return;
	}
	connect_resolved(c);
}

static void
connect_resolved(struct conn *c)
{
	c->c_state = CONN_CONNECTING;
	relay_connect(c);
}

/* Upstream is up: answer 200, then the tunnel (pending bytes first). */
void
connect_ready(struct conn *c)
{
	int	 l7 = c->c_l4.proto != POLICY_PROTO_NONE;

	c->c_pd->pd_st.st_allowed++;
	/* The 200 first, the log line after: the client waits for one. */
	if (relay_head(c, connect_200, sizeof(connect_200) - 1) == -1) {
		front_close(c);
		return;
	}
	events_conn(c, l7 ? "CONNECT_L7" : "CONNECT", "allow", NULL);
	if (l7 && !l7_wanted(c))
		log_warnx("CONNECT_L7 %s:%u: %s, raw tunnel", c->c_host,
		    c->c_port, c->c_l4.tls_skip ? "tls: skip" :
		    "SQL rules are not inspected");
	if (l7_wanted(c))
		l7_start(c);
	else
		relay_start(c);
}

void
connect_failed(struct conn *c)
{
	c->c_pd->pd_st.st_failed++;
	log_info("CONNECT %s:%u: upstream connect failed, 502", c->c_host,
	    c->c_port);
	front_reply(c, connect_502);
}
