/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * routerd: the sandbox's inference router (sandbox.md §6).  proxyd
 * answers the agent's CONNECT to inference.local with 200 and hands
 * the socket over (IPC_ROUTER_TUNNEL) with inference.local's leaf;
 * routerd terminates TLS and sends every inference API request to a
 * model backend from the route table the parent keeps current
 * (IPC_ROUTER_ROUTES).  Files, one concern each:
 *
 *	routerd.c	main, IPC handlers, route table swap, stats, sandbox
 *	serve.c		TLS accept, the request loop, replies, JSON errors
 *	upstream.c	the backend request (evhttp) and streaming back
 *	mock.c		canned answers of mock:// routes
 *	route.c		classification, selection, URL, headers, model
 *			rewrite, dechunking (pure)
 *
 * A tunnel walks HANDSHAKE -> HEAD -> BODY -> BUSY -> HEAD ... one
 * request at a time, or ends in LINGER (a final reply draining).
 */

#ifndef ROUTERD_H
#define ROUTERD_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "proc.h"

#include "svc/proxyd/http.h"

#define ROUTER_MAX_TUNNELS	256
#define ROUTER_IDLE_TIMEOUT	600	/* s with no request in progress */
#define ROUTER_HEAD_TIMEOUT	30	/* s to handshake / send a head */
#define ROUTER_LINGER		5	/* s to drain after a final reply */
#define ROUTER_BODY_MAX		(10 * 1024 * 1024)	/* decoded */
#define ROUTER_RAW_MAX		(ROUTER_BODY_MAX + 1024 * 1024)
#define ROUTER_IPC_MAX		(1024 * 1024)	/* routes, tunnel PEMs */
#define ROUTER_TIMEOUT_DEFAULT	60	/* s, a route's timeout 0 */
#define ROUTER_OUT_HIGH		(1024 * 1024)	/* pause the backend */
#define ROUTER_UP_HEAD_MAX	(64 * 1024)

/* route.c */
struct route {
	char		 *r_name;
	char		 *r_url;		/* base_url */
	char		**r_protos;
	size_t		  r_nprotos;
	char		 *r_key;		/* api key: never logged */
	char		 *r_model;
	char		 *r_type;		/* provider type */
	uint32_t	  r_timeout;		/* s, 0 = default */
};

/* Swapped whole; requests in flight hold a reference. */
struct route_table {
	int		  rt_refs;
	int		  rt_enabled;
	struct route	 *rt_routes;
	size_t		  rt_n;
};

#define ROUTE_BAD		(-1)
#define ROUTE_TOO_BIG		(-2)

struct route_table *route_table_new(int, size_t);
struct route_table *route_table_ref(struct route_table *);
void		 route_table_unref(struct route_table *);
int		 route_classify(const char *, const char *, const char **,
		    const char **);
int		 route_path(const char *, char *, size_t);
const struct route *route_select(const struct route_table *,
		    const char *);
char		*route_url(const char *, const char *);
int		 route_header_drop(const char *, int);
char		*route_model_rewrite(const char *, size_t, const char *,
		    size_t *);
int		 route_dechunk(const unsigned char *, size_t, size_t,
		    unsigned char **, size_t *);
int		 route_originform(const char *, size_t, char **, size_t *);

/* routerd.c */
struct router_stats {
	uint64_t	 st_total;
	uint64_t	 st_routed;
	uint64_t	 st_denied;
	uint64_t	 st_upstream_err;
};

struct tunnel;
TAILQ_HEAD(tunnel_list, tunnel);

struct routerd {
	struct proc_self	 rd_ps;
	struct event_base	*rd_base;
	struct evdns_base	*rd_dns;
	struct route_table	*rd_routes;	/* never NULL */
	SSL_CTX			*rd_server;	/* agent side, NULL at first */
	char			*rd_certpem;	/* rd_server's leaf PEM */
	SSL_CTX			*rd_client;	/* backends, verifying */
	char			*rd_roots;	/* system bundle, until parsed */
	struct tunnel_list	 rd_tunnels;
	size_t			 rd_ntunnels;
	struct router_stats	 rd_st;
};

/* serve.c */
void	 serve_tunnel(struct routerd *, int, const char *, uint16_t);
int	 serve_ctx(struct routerd *, const char *, const char *);
struct evbuffer;
void	 serve_json(struct tunnel *, int, const char *, int);
void	 serve_resp_head(struct tunnel *, int, const char *,
	    struct evbuffer *);
void	 serve_chunk(struct tunnel *, const void *, size_t);
void	 serve_end(struct tunnel *);
void	 serve_done(struct tunnel *);
void	 serve_abort(struct tunnel *);
int	 serve_backlog(struct tunnel *);
void	 serve_logroute(struct tunnel *, int);
void	 serve_upstream_error(struct tunnel *);

/* What upstream.c and mock.c see of the request being served. */
struct serve_req {
	const char		*sr_method;
	const char		*sr_target;	/* origin form, query kept */
	const char		*sr_path;	/* no query */
	const char		*sr_proto;
	const char		*sr_kind;
	const struct route	*sr_route;
	const struct http_head	*sr_head;
	const unsigned char	*sr_body;
	size_t			 sr_bodylen;
};

/* upstream.c */
struct upstream;
int	 upstream_init(struct routerd *);
void	 upstream_trust(struct routerd *, const char *);
void	 upstream_idle(struct routerd *);
struct upstream *upstream_start(struct routerd *, struct tunnel *,
	    const struct serve_req *);
void	 upstream_detach(struct upstream *);
void	 upstream_resume(struct upstream *);

/* mock.c */
int	 mock_is(const struct route *);
void	 mock_reply(struct tunnel *, const struct serve_req *);

#endif /* ROUTERD_H */
