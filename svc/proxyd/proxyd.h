/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * proxyd: the sandbox's only way out (sandbox.md §2).  It serves the
 * listening socket the supervisor made in the proxy netns
 * (10.200.0.1:3128) and makes its upstream connections from its own
 * netns.  Files, one concern each:
 *
 *	proxyd.c	main, parent messages, sandboxing, control stats
 *	front.c		accept, connection table, request head, limits
 *	connect.c	the CONNECT pipeline (§2.2, G10)
 *	forward.c	the forward-proxy pipeline (§2.9, G9)
 *	resolve.c	hosts override, then evdns; never blocks
 *	relay.c		upstream connect and the bidirectional copy
 *	splice.c	zero-copy raw tunnels (splice(2) through pipes)
 *	events.c	CONNECT / FORWARD / SSRF log events (§9), dump ring
 *	parse.c		request head, CONNECT target, absolute URI (pure)
 *	rewrite.c	forward-proxy request rewrite (pure)
 *	secrets.c	credential placeholders, fail-closed (pure, §7.3)
 *	hosts.c		hosts-file parsing and lookup (pure)
 *	body.c		forward-proxy request body framing (pure)
 *	http.c		strict requests, path normal form, query (pure)
 *	http.h		the pure HTTP parts' interface, shared with routerd
 *	l7.c		the L7 REST relay on allowed tunnels (§2.8)
 *	tls_mitm.c	TLS termination: sandbox CA, leaves, upstream TLS
 *
 * A connection (struct conn) walks: HEAD (read the head) -> IDENT (the
 * parent names the binary) -> RESOLVE -> CONNECTING -> RELAY, or ends
 * early with a status line.  Every step is asynchronous.
 */

#ifndef PROXYD_H
#define PROXYD_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proc.h"
#include "libpolicy/policy.h"

#include "http.h"

#define PROXY_HEAD_MAX		8192	/* §2.1: then 431 */
#define PROXY_MAX_CONNS		512	/* G10: then accept pauses */
#define PROXY_SPARE_FDS		64	/* channels, listener, DNS */
#define PROXY_FDS_PER_CONN	6	/* 2 sockets, 2 splice pipes */
#define PROXY_HEAD_TIMEOUT	30	/* s to send the request head */
#define PROXY_SETUP_TIMEOUT	60	/* s: identity + DNS + connect */
#define PROXY_CONNECT_TIMEOUT	10	/* s per upstream address */
#define PROXY_IDLE_TIMEOUT	600	/* s without a byte either way */
#define PROXY_LINGER		5	/* s to drain after a final reply */
#define PROXY_LINGER_MAX	(64 * 1024)
#define PROXY_RELAY_HIGH	(256 * 1024)	/* pause the reader */
#define PROXY_RELAY_CHUNK	(128 * 1024)	/* bytes per read/write */
#define PROXY_MAX_ADDRS		16	/* resolved addresses kept */
#define PROXY_IPC_MAX		(4 * 1024 * 1024)	/* policy YAML */

#define PLACEHOLDER_PREFIX	"openshell:resolve:env:"

/* secrets.c: placeholder -> secret, fail-closed (§7.3, G7). */
struct secrets {
	char		**s_key;		/* full placeholders */
	char		**s_val;
	char		**s_hosts;		/* globs "a,b" or NULL */
	size_t		  s_n;
	size_t		  s_nhosts;		/* s_hosts entries set */
};

struct secrets	*secrets_new(void);
void		 secrets_free(struct secrets *);
int		 secrets_add(struct secrets *, const char *, const char *);
int		 secrets_add_bound(struct secrets *, const char *,
		    const char *, const char *);
struct secrets	*secrets_for_host(const struct secrets *, const char *);
const char	*secrets_lookup(const struct secrets *, const char *, size_t);
int		 secrets_header(const struct secrets *, const char *,
		    const char *, char **, int *);
int		 secrets_present(const char *, size_t);
int		 secrets_target_clean(const char *);
int		 secrets_target(const struct secrets *, const char *, char **,
		    char **, int *);

/* rewrite.c: the forward-proxy request head (§2.9 step 7). */
#define REWRITE_OK		0
#define REWRITE_BAD		400
#define REWRITE_SECRET		500
int	 rewrite_forward(const struct http_head *, const struct http_uri *,
	    const struct secrets *, char **, size_t *, int *);

/* hosts.c: the hosts-file override (names -> addresses). */
struct hosts_ent {
	char			*he_name;	/* lower case */
	struct sockaddr_storage	 he_addr;
};

struct hosts {
	struct hosts_ent	*h_ent;
	size_t			 h_n;
};

struct hosts	*hosts_parse(const char *);
void		 hosts_free(struct hosts *);
size_t		 hosts_lookup(const struct hosts *, const char *,
		    struct sockaddr_storage *, size_t);


/* What the parent says about the process at the agent's end. */
struct ident {
	int		 i_ok;
	char		*i_error;
	uint32_t	 i_pid;
	char		*i_exe;
	char		**i_anc;
	size_t		 i_nanc;
	char		**i_cmd;
	size_t		 i_ncmd;
};

/* splice.c: one direction of a zero-copy tunnel. */
struct conn;
struct splice_dir {
	struct conn	*sd_conn;
	int		 sd_src;	/* sockets, owned by the bufferevents */
	int		 sd_dst;
	int		 sd_pr;		/* the pipe, ours */
	int		 sd_pw;
	size_t		 sd_inpipe;	/* bytes in the pipe */
	size_t		 sd_cap;	/* the pipe's size */
	int		 sd_full;	/* no room: wait for a drain */
	int		 sd_eof;	/* source sent EOF */
	int		 sd_shut;	/* EOF passed on */
	struct event	*sd_rev;
	struct event	*sd_wev;
};

enum conn_state {
	CONN_HEAD,
	CONN_IDENT,
	CONN_RESOLVE,
	CONN_CONNECTING,
	CONN_RELAY,
	CONN_CLOSING
};

enum conn_mode {
	MODE_NONE,
	MODE_CONNECT,
	MODE_FORWARD
};

struct proxyd;
struct resolve_req;

struct conn {
	RB_ENTRY(conn)		 c_node;	/* by c_id */
	struct proxyd		*c_pd;
	uint32_t		 c_id;
	enum conn_state		 c_state;
	enum conn_mode		 c_mode;
	struct bufferevent	*c_cbev;	/* the agent's side */
	struct bufferevent	*c_ubev;	/* upstream, once connecting */
	struct event		*c_timer;
	time_t			 c_last;	/* last activity (monotonic) */
	time_t			 c_limit;	/* idle limit of the state */

	char			 c_src[INET6_ADDRSTRLEN];
	uint16_t		 c_sport;
	char			 c_dst[INET6_ADDRSTRLEN];
	uint16_t		 c_dport;

	struct http_head	 c_head;
	int			 c_has_head;
	char			 c_host[256];	/* destination, no brackets */
	uint16_t		 c_port;
	struct http_uri		 c_uri;		/* forward mode */
	int			 c_has_uri;

	struct ident		 c_ident;
	struct policy_engine	*c_engine;	/* ref held with c_l4 */
	struct policy_l4	 c_l4;
	int			 c_has_l4;

	struct resolve_req	*c_dns;
	struct sockaddr_storage	 c_addrs[PROXY_MAX_ADDRS];
	size_t			 c_naddrs;
	size_t			 c_next;	/* next address to try */

	struct body		 c_body;	/* forward: one request */
	uint64_t		 c_dropped;	/* bytes after that request */
	char			*c_out;		/* forward: rewritten head */
	size_t			 c_outlen;

	int			 c_tls;		/* terminated: 1, +2 agent
						   +4 upstream handshakes */
	int			 c_l7;		/* l7.c: L7_* state */
	struct http_req		 c_req;		/* the request judged now */
	int			 c_has_req;
	uint32_t		 c_reqnum;
	int			 c_req_head;	/* it was HEAD: no body back */
	int			 c_req_close;	/* last on the connection */
	int			 c_req_upgrade;	/* allowed to upgrade */
	struct body		 c_rbody;	/* the response's framing */
	int			 c_rclose;	/* body runs to upstream EOF */

	size_t			 c_lingered;	/* bytes dropped after reply */
	int			 c_ceof;	/* client sent EOF */
	int			 c_ueof;
	int			 c_spliced;	/* c_sp in use (splice.c) */
	struct splice_dir	 c_sp[2];	/* to upstream, to client */
};

RB_HEAD(conn_tree, conn);
RB_PROTOTYPE(conn_tree, conn, c_node, front_cmp);

struct proxyd_stats {
	uint64_t	 st_total;
	uint64_t	 st_allowed;
	uint64_t	 st_denied;
	uint64_t	 st_ssrf;
	uint64_t	 st_failed;	/* 502 and friends */
	uint64_t	 st_head_errors;
	uint64_t	 st_limit_hits;
	uint64_t	 st_spliced;	/* tunnels moved to splice(2) */
	uint64_t	 st_inference;	/* handed to routerd */
};

struct proxyd {
	struct proc_self	 pd_ps;
	struct event_base	*pd_base;
	struct evdns_base	*pd_dns;
	struct policy_engine	*pd_engine;	/* NULL: deny everything */
	size_t			 pd_nrules;
	struct secrets		*pd_secrets;
	struct tls_mitm		*pd_tls;	/* NULL: no termination */
	struct hosts		*pd_hosts;
	int			 pd_listen;
	struct event		*pd_accept;
	int			 pd_paused;
	struct conn_tree	 pd_conns;
	size_t			 pd_nconns;
	size_t			 pd_maxconns;	/* fits RLIMIT_NOFILE */
	uint32_t		 pd_nextid;
	struct proxyd_stats	 pd_st;
};

/* proxyd.c */
int	 proxyd_ident_request(struct conn *);
void	 proxyd_ident_clear(struct ident *);

/* front.c */
void	 front_listen(struct proxyd *, int);
void	 front_close(struct conn *);
void	 front_reply(struct conn *, const char *);
void	 front_finish(struct conn *);
void	 front_sent(struct conn *);
void	 front_reload(struct proxyd *);
void	 front_touch(struct conn *);
void	 front_limit(struct conn *, time_t);
struct conn *front_find(struct proxyd *, uint32_t);
void	 front_ident_done(struct conn *);
void	 front_decide(struct conn *);

/* connect.c */
void	 connect_start(struct conn *);
void	 connect_decided(struct conn *);
void	 connect_ready(struct conn *);
void	 connect_failed(struct conn *);

/* forward.c */
void	 forward_start(struct conn *);
void	 forward_decided(struct conn *);
void	 forward_ready(struct conn *);
void	 forward_failed(struct conn *);

/* resolve.c */
typedef void (*resolve_cb)(struct conn *, int, const char *);
int	 resolve_init(struct proxyd *);
void	 resolve_start(struct conn *, resolve_cb);
void	 resolve_cancel(struct conn *);

/* l7.c: the L7 REST relay on an allowed tunnel (§2.8, G6). */
#define L7_OFF		0
#define L7_REQ		1	/* reading a request head */
#define L7_REQBODY	2	/* its body goes up */
#define L7_RESP		3	/* reading the response head */
#define L7_RESPBODY	4
void	 l7_start(struct conn *);
void	 l7_free(struct conn *);
int	 l7_wanted(const struct conn *);

/* tls_mitm.c: TLS termination (§4, G16). */
struct tls_mitm;
void	 tls_init(struct proxyd *);
void	 tls_free(struct tls_mitm *);
int	 tls_trust(struct proxyd *, const char *);
int	 tls_available(const struct proxyd *);
int	 tls_router_leaf(struct proxyd *, const char **, const char **);
int	 tls_start(struct conn *);
void	 tls_close_notify(struct conn *);
int	 tls_unsent(const struct conn *);
void	 tls_conn_free(struct conn *);
void	 tls_stats(const struct proxyd *, uint64_t *, uint64_t *);

/* relay.c */
void	 relay_connect(struct conn *);
void	 relay_start(struct conn *);
void	 relay_move_body(struct body *, struct evbuffer *, struct evbuffer *);
int	 relay_head(struct conn *, const char *, size_t);
void	 relay_nodelay(int);

/* splice.c */
int	 splice_ready(struct conn *);
int	 splice_start(struct conn *);
void	 splice_free(struct conn *);

/* events.c */
void	 events_conn(struct conn *, const char *, const char *,
	    const char *);
void	 events_forward(struct conn *, const char *, const char *);
void	 events_forward_l7(struct conn *, const char *,
	    enum policy_verdict);
void	 events_ssrf(struct conn *, const char *, const char *);
void	 events_l7(struct conn *, const char *, const char *, const char *,
	    const char *, const char *);
void	 events_http(struct conn *, const char *, const char *, int);
void	 events_dump(struct ipc_wr *);

#endif /* PROXYD_H */
