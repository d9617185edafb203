/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * routerd's main, its conversations and its sandbox.  The parent
 * (openshell-sandbox) sends the route table (IPC_ROUTER_ROUTES, before
 * or after IPC_SETUP_DONE and again on every refresh: swapped whole,
 * requests in flight keep the table they picked from) and the extra
 * upstream trust anchors (IPC_ROUTER_TRUST).  proxyd sends the agent's
 * connections to inference.local (IPC_ROUTER_TUNNEL) over the peer
 * channel.  Until the first route table arrives there is no inference
 * context: a tunnel handed over is closed at once.
 */

#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "control.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

#include "routerd.h"

static int	 routerd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static int	 routerd_dispatch_proxy(struct proc_self *, int,
		    struct ipc_msg *);
static void	 routerd_routes_msg(struct routerd *, struct ipc_msg *);
static int	 routerd_rd_route(struct ipc_rd *, struct route *);
static void	 routerd_trust_msg(struct routerd *, struct ipc_msg *);
static void	 routerd_tunnel_msg(struct routerd *, struct ipc_msg *);
static void	 routerd_nofile(void);
static void	 routerd_sandbox(struct proc_self *);
static int	 routerd_ctl_keys(struct proc_self *, uint32_t);
static void	 routerd_ctl_fill(struct proc_self *, uint32_t,
		    struct ipc_wr *);

static const struct proc_handler routerd_peers[] = {
	{ PROC_PARENT,	routerd_dispatch_parent },
	{ PROC_PROXY,	routerd_dispatch_proxy },
};

static const struct proc_ctl_ops routerd_ctlops = {
	routerd_ctl_keys,
	routerd_ctl_fill,
};

int
main(int argc, char *argv[])
{
	static struct routerd	 rd;

	proc_child_init(&rd.rd_ps, PROC_ROUTER, argc, argv);
	rd.rd_base = rd.rd_ps.ps_base;
	TAILQ_INIT(&rd.rd_tunnels);
	if ((rd.rd_routes = route_table_new(0, 0)) == NULL)
		fatal("%s", __func__);
	/* Route tables and the tunnels' PEMs exceed the default frame. */
	if (ipc_set_maxsize(&rd.rd_ps.ps_chans[PROC_PARENT].ch_ev.ie_ib,
	    ROUTER_IPC_MAX) == -1)
		fatal("ipc_set_maxsize");
	proc_child_limits(&rd.rd_ps, PROC_PROXY, ROUTER_IPC_MAX, 0);
	proc_child_fdpass(&rd.rd_ps, PROC_PROXY);
	routerd_nofile();
	/* OpenSSL's config, the trust store, resolv.conf: read now. */
	if (upstream_init(&rd) == -1)
		fatalx("cannot set up the upstream side");
	proc_child_handlers(&rd.rd_ps, routerd_peers,
	    sizeof(routerd_peers) / sizeof(routerd_peers[0]));
	proc_child_setup(&rd.rd_ps, routerd_sandbox, &routerd_ctlops, &rd);
	proc_child_run(&rd.rd_ps);
}

static int
routerd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct routerd	*rd = ps->ps_arg;

	(void)peer;
	switch (ipc_type(msg)) {
	case IPC_ROUTER_ROUTES:
		routerd_routes_msg(rd, msg);
		break;
	case IPC_ROUTER_TRUST:
		routerd_trust_msg(rd, msg);
		break;
	default:
		return -1;
	}
	return 0;
}

static int
routerd_dispatch_proxy(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct routerd	*rd = ps->ps_arg;

	(void)peer;
	if (ipc_type(msg) != IPC_ROUTER_TUNNEL)
		return -1;
	routerd_tunnel_msg(rd, msg);
	return 0;
}

/* One [name, base_url, [protocols], key, model, type, timeout]. */
static int
routerd_rd_route(struct ipc_rd *r, struct route *rt)
{
	uint32_t	 n = 0;

	ipc_rd_array(r, &n);
	if (ipc_rd_error(r) || n != 7)
		return -1;
	ipc_rd_str(r, &rt->r_name);
	ipc_rd_str(r, &rt->r_url);
	if (ipc_rd_strv(r, 64, &rt->r_protos, &rt->r_nprotos) == -1)
		return -1;
	ipc_rd_str(r, &rt->r_key);
	ipc_rd_str(r, &rt->r_model);
	ipc_rd_str(r, &rt->r_type);
	ipc_rd_u32(r, &rt->r_timeout);
	ipc_rd_leave(r);
	return ipc_rd_error(r) ? -1 : 0;
}

/*
 * [bool enabled, [route...]]: the new table replaces the old one;
 * requests in flight hold a reference to theirs.
 */
static void
routerd_routes_msg(struct routerd *rd, struct ipc_msg *msg)
{
	struct ipc_rd		 r;
	struct route_table	*rt = NULL;
	uint32_t		 n = 0, m = 0, i;
	int			 enabled = 0, bad = 1;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_bool(&r, &enabled);
		ipc_rd_array(&r, &m);
		if (!ipc_rd_error(&r) && m <= 1024 &&
		    (rt = route_table_new(enabled, m)) == NULL)
			fatal("%s", __func__);
		for (i = 0, bad = rt == NULL; i < m && !bad; i++)
			bad = routerd_rd_route(&r, &rt->rt_routes[i]) == -1;
		if (!bad)
			ipc_rd_leave(&r);
	}
	if (bad || ipc_rd_end(&r) == -1 || n != 2) {
		route_table_unref(rt);
		proc_badmsg(&rd->rd_ps, PROC_PARENT, msg);
	}
	route_table_unref(rd->rd_routes);
	rd->rd_routes = rt;
	if (!enabled)
		log_info("inference routing disabled (no inference context)");
	else
		log_info("inference routes: %zu", rt->rt_n);
	for (i = 0; i < rt->rt_n; i++)
		log_debug("route %s: %s model %s (%s)", rt->rt_routes[i].r_name,
		    rt->rt_routes[i].r_url, rt->rt_routes[i].r_model,
		    rt->rt_routes[i].r_type);
}

/* [str pem bundle]: extra upstream anchors, beside the system's. */
static void
routerd_trust_msg(struct routerd *rd, struct ipc_msg *msg)
{
	char	*pem;

	if (ipc_rd_onestr(msg, &pem) == -1)
		proc_badmsg(&rd->rd_ps, PROC_PARENT, msg);
	upstream_trust(rd, pem);
	free(pem);
}

/*
 * [str src_ip, u32 src_port, str cert_pem, str key_pem] + fd.  The fd
 * is ours from here: serve_tunnel takes it, or it is closed here.
 */
static void
routerd_tunnel_msg(struct routerd *rd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		*src = NULL, *cert = NULL, *key = NULL;
	uint32_t	 n = 0, port = 0;
	int		 fd, bad;

	fd = ipc_fd(msg);
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 4) {
		ipc_rd_str(&r, &src);
		ipc_rd_u32(&r, &port);
		ipc_rd_str(&r, &cert);
		ipc_rd_str(&r, &key);
	}
	bad = ipc_rd_end(&r) == -1 || n != 4 || fd == -1 || port > 65535;
	if (!bad && serve_ctx(rd, cert, key) == -1) {
		log_warnx("tunnel from %s:%u: the inference.local leaf does "
		    "not load, closed", src, port);
		close(fd);
		fd = -1;
	}
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	if (bad) {
		if (fd != -1)
			close(fd);
		free(src);
		proc_badmsg(&rd->rd_ps, PROC_PROXY, msg);
	}
	if (fd != -1)
		serve_tunnel(rd, fd, src, (uint16_t)port);
	free(src);
}

/* Two descriptors per tunnel (agent, backend) and a few spare. */
static void
routerd_nofile(void)
{
	struct rlimit	 rl;
	rlim_t		 want = ROUTER_MAX_TUNNELS * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("setrlimit");
	}
}

/*
 * No filesystem at all (the trust store, OpenSSL's config and
 * resolv.conf were read at startup); TCP connect to any port (the
 * backends are wherever the routes say: trusted, no SSRF filter).
 * Tunnels come as fds over the proxyd channel: recvfd.
 */
static void
routerd_sandbox(struct proc_self *ps)
{
	upstream_idle(ps->ps_arg);
	if (sandbox_unveil_anyport(SANDBOX_NET_CONNECT) == -1)
		fatal("sandbox_unveil_anyport");
	sandbox_unveil(NULL, NULL);
	sandbox_rlimit_nofork();
	sandbox_pledge("stdio inet dns recvfd");
}

static int
routerd_ctl_keys(struct proc_self *ps, uint32_t type)
{
	(void)ps;
	return type == IPC_CTL_STATS ? 7 : 0;
}

static void
routerd_ctl_fill(struct proc_self *ps, uint32_t type, struct ipc_wr *w)
{
	struct routerd	*rd = ps->ps_arg;

	if (type != IPC_CTL_STATS)
		return;
	control_kv_u64(w, "tunnels_open", rd->rd_ntunnels);
	control_kv_u64(w, "tunnels_total", rd->rd_st.st_total);
	control_kv_u64(w, "requests_routed", rd->rd_st.st_routed);
	control_kv_u64(w, "requests_denied", rd->rd_st.st_denied);
	control_kv_u64(w, "upstream_errors", rd->rd_st.st_upstream_err);
	control_kv_u64(w, "routes", rd->rd_routes->rt_n);
	control_kv_str(w, "enabled", rd->rd_routes->rt_enabled ? "yes" :
	    "no");
}
