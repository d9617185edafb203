/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Name resolution for the pipelines (sandbox.md §2.6, §2.11), never
 * blocking the loop: an IP literal is itself; a name in the hosts
 * override (IPC_PROXY_HOSTS) is answered from there and nowhere else;
 * anything else goes to evdns with the system's resolv.conf, read at
 * startup before Landlock takes the filesystem away.
 *
 * Every answer reaches the pipeline from the event loop, never from
 * inside resolve_start(): synchronous answers are deferred, so the
 * caller's frame never sees its connection freed under it.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "log.h"

#include "proxyd.h"

struct resolve_req {
	struct conn				*rr_conn;	/* NULL: gone */
	resolve_cb				 rr_cb;
	struct evdns_getaddrinfo_request	*rr_gai;
	struct event				*rr_defer;
	int					 rr_incall;
	int					 rr_ok;
	char					 rr_err[512];
};

static void	 resolve_gai_cb(int, struct evutil_addrinfo *, void *);
static void	 resolve_defer_cb(int, short, void *);
static void	 resolve_deliver(struct resolve_req *);
static void	 resolve_free(struct resolve_req *);
static size_t	 resolve_literal(const char *, struct sockaddr_storage *);
static void	 resolve_setport(struct conn *);

/* Reads resolv.conf: call before the sandbox is locked. */
int
resolve_init(struct proxyd *pd)
{
	int	 rc;

	evutil_secure_rng_init();
	if ((pd->pd_dns = evdns_base_new(pd->pd_base, 0)) == NULL)
		return -1;
	rc = evdns_base_resolv_conf_parse(pd->pd_dns,
	    DNS_OPTION_NAMESERVERS | DNS_OPTION_SEARCH | DNS_OPTION_MISC,
	    "/etc/resolv.conf");
	if (rc != 0)
		log_warnx("resolv.conf: error %d, DNS may not work", rc);
	evdns_base_set_option(pd->pd_dns, "timeout:", "3");
	evdns_base_set_option(pd->pd_dns, "attempts:", "2");
	evdns_base_set_option(pd->pd_dns, "randomize-case:", "0");
	log_debug("resolver: %d nameservers",
	    evdns_base_count_nameservers(pd->pd_dns));
	return 0;
}

static size_t
resolve_literal(const char *h, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 1;
	}
	return 0;
}

static void
resolve_setport(struct conn *c)
{
	size_t	 i;

	for (i = 0; i < c->c_naddrs; i++) {
		if (c->c_addrs[i].ss_family == AF_INET)
			((struct sockaddr_in *)&c->c_addrs[i])->sin_port =
			    htons(c->c_port);
		else
			((struct sockaddr_in6 *)&c->c_addrs[i])->sin6_port =
			    htons(c->c_port);
	}
}

/* Resolve c->c_host into c->c_addrs; cb(c, ok, error text) follows. */
void
resolve_start(struct conn *c, resolve_cb cb)
{
	struct proxyd		*pd = c->c_pd;
	struct resolve_req	*rr;
	struct evutil_addrinfo	 hints;

	if ((rr = calloc(1, sizeof(*rr))) == NULL ||
	    (rr->rr_defer = evtimer_new(pd->pd_base, resolve_defer_cb,
	    rr)) == NULL) {
		free(rr);
		log_warnx("%s: out of memory", __func__);
		front_close(c);
		return;
	}
	rr->rr_conn = c;
	rr->rr_cb = cb;
	c->c_dns = rr;
	c->c_naddrs = resolve_literal(c->c_host, c->c_addrs);
	if (c->c_naddrs == 0)
		c->c_naddrs = hosts_lookup(pd->pd_hosts, c->c_host,
		    c->c_addrs, PROXY_MAX_ADDRS);
	if (c->c_naddrs > 0) {
		rr->rr_ok = 1;
		resolve_setport(c);
		event_active(rr->rr_defer, EV_TIMEOUT, 1);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rr->rr_incall = 1;
	rr->rr_gai = evdns_getaddrinfo(pd->pd_dns, c->c_host, NULL, &hints,
	    resolve_gai_cb, rr);
	rr->rr_incall = 0;
}

static void
resolve_gai_cb(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct resolve_req	*rr = arg;
	struct evutil_addrinfo	*p;
	struct conn		*c = rr->rr_conn;

	rr->rr_gai = NULL;
	if (c == NULL) {
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		resolve_free(rr);
		return;
	}
	c->c_naddrs = 0;
	for (p = ai; err == 0 && p != NULL && c->c_naddrs < PROXY_MAX_ADDRS;
	    p = p->ai_next) {
		if ((p->ai_family != AF_INET && p->ai_family != AF_INET6) ||
		    p->ai_addrlen > sizeof(c->c_addrs[0]))
			continue;
		memset(&c->c_addrs[c->c_naddrs], 0, sizeof(c->c_addrs[0]));
		memcpy(&c->c_addrs[c->c_naddrs++], p->ai_addr, p->ai_addrlen);
	}
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	if (err != 0)
		snprintf(rr->rr_err, sizeof(rr->rr_err), "DNS resolution "
		    "failed for %s:%u: %s", c->c_host, c->c_port,
		    evutil_gai_strerror(err));
	else if (c->c_naddrs == 0)
		snprintf(rr->rr_err, sizeof(rr->rr_err), "DNS resolution "
		    "returned no addresses for %s:%u", c->c_host, c->c_port);
	else {
		rr->rr_ok = 1;
		resolve_setport(c);
	}
	if (rr->rr_incall)
		event_active(rr->rr_defer, EV_TIMEOUT, 1);
	else
		resolve_deliver(rr);
}

static void
resolve_defer_cb(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	resolve_deliver(arg);
}

static void
resolve_deliver(struct resolve_req *rr)
{
	struct conn	*c = rr->rr_conn;
	resolve_cb	 cb = rr->rr_cb;
	int		 ok = rr->rr_ok;
	char		 err[sizeof(rr->rr_err)];

	strlcpy(err, rr->rr_err, sizeof(err));
	c->c_dns = NULL;
	resolve_free(rr);
	cb(c, ok, err);
}

static void
resolve_free(struct resolve_req *rr)
{
	event_free(rr->rr_defer);
	free(rr);
}

/*
 * The connection goes away while its query runs: an evdns query is
 * cancelled and its callback (which libevent still calls) frees the
 * request; a deferred answer is simply dropped.
 */
void
resolve_cancel(struct conn *c)
{
	struct resolve_req	*rr = c->c_dns;

	if (rr == NULL)
		return;
	c->c_dns = NULL;
	rr->rr_conn = NULL;
	if (rr->rr_gai != NULL)
		evdns_getaddrinfo_cancel(rr->rr_gai);
	else
		resolve_free(rr);
}
