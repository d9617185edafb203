/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * proxyd's main, its conversation with the parent (openshell-sandbox)
 * and its sandbox.  The parent sends, before IPC_SETUP_DONE and again
 * whenever they change: the listening socket (IPC_SETUP_PROXY_LISTEN),
 * the policy YAML (IPC_PROXY_POLICY, compiled and swapped in whole:
 * connections that already decided keep the engine they decided with),
 * the placeholder map (IPC_PROXY_SECRETS2, host-bound; the older
 * IPC_PROXY_SECRETS carries no hosts, so its secrets are never
 * substituted), the hosts override (IPC_PROXY_HOSTS) and the upstream
 * trust anchors (IPC_PROXY_TRUST, which turns TLS termination on and
 * is answered with our CA, IPC_PROXY_CA).  For every accepted
 * connection we ask the parent,
 * which alone can read the agent's /proc, who holds the agent's end
 * (IPC_PROXY_IDENT, peerid = connection id).
 */

#include <sys/resource.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>

#include "control.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

#include "proxyd.h"

static int	 proxyd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static int	 proxyd_dispatch_none(struct proc_self *, int,
		    struct ipc_msg *);
static void	 proxyd_listen_msg(struct proxyd *, struct ipc_msg *);
static void	 proxyd_policy_msg(struct proxyd *, struct ipc_msg *);
static void	 proxyd_policy_done(struct proxyd *, uint32_t, const char *);
static void	 proxyd_secrets_msg(struct proxyd *, struct ipc_msg *);
static void	 proxyd_hosts_msg(struct proxyd *, struct ipc_msg *);
static void	 proxyd_secrets2_msg(struct proxyd *, struct ipc_msg *);
static void	 proxyd_trust_msg(struct proxyd *, struct ipc_msg *);
static int	 proxyd_rd_secret(struct ipc_rd *, struct secrets *);
static void	 proxyd_ident_msg(struct proxyd *, struct ipc_msg *);
static void	 proxyd_sandbox(struct proc_self *);
static void	 proxyd_nofile(struct proxyd *);
static int	 proxyd_ctl_keys(struct proc_self *, uint32_t);
static void	 proxyd_ctl_fill(struct proc_self *, uint32_t, struct ipc_wr *);

/* routerd sends nothing: it only receives tunnels. */
static const struct proc_handler proxyd_peers[] = {
	{ PROC_PARENT,	proxyd_dispatch_parent },
	{ PROC_ROUTER,	proxyd_dispatch_none },
};

static const struct proc_ctl_ops proxyd_ctlops = {
	proxyd_ctl_keys,
	proxyd_ctl_fill,
};

int
main(int argc, char *argv[])
{
	static struct proxyd	 pd;

	/*
	 * libevent's epoll changelist (read when proc_child_init makes
	 * the event base): a connection's event changes within one loop
	 * turn become at most one epoll_ctl per descriptor.  A CONNECT
	 * made 18 of them, now 8: ~45 us of CPU per connection here.
	 * Safe for us: no descriptor of ours is a dup() of another, and
	 * a closed and reused number is re-added (libevent retries a
	 * failed MOD as ADD).
	 */
	if (setenv("EVENT_EPOLL_USE_CHANGELIST", "1", 1) == -1)
		fatal("setenv");
	proc_child_init(&pd.pd_ps, PROC_PROXY, argc, argv);
	pd.pd_base = pd.pd_ps.ps_base;
	/* A log line per request: written once per loop turn (log.c). */
	log_batch(pd.pd_base);
	pd.pd_listen = -1;
	RB_INIT(&pd.pd_conns);
	/* The policy YAML is bigger than the default frame. */
	if (ipc_set_maxsize(&pd.pd_ps.ps_chans[PROC_PARENT].ch_ev.ie_ib,
	    PROXY_IPC_MAX) == -1)
		fatal("ipc_set_maxsize");
	proxyd_nofile(&pd);
	/* The CA and the trust store too: no filesystem later. */
	tls_init(&pd);
	/* resolv.conf is read now: after setup there is no filesystem. */
	if (resolve_init(&pd) == -1)
		fatalx("cannot set up the resolver");
	proc_child_handlers(&pd.pd_ps, proxyd_peers,
	    sizeof(proxyd_peers) / sizeof(proxyd_peers[0]));
	/* The agent's inference.local connections go to routerd. */
	proc_child_fdpass(&pd.pd_ps, PROC_ROUTER);
	proc_child_setup(&pd.pd_ps, proxyd_sandbox, &proxyd_ctlops, &pd);
	proc_child_run(&pd.pd_ps);
}

static int
proxyd_dispatch_none(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	(void)ps;
	(void)peer;
	(void)msg;
	return -1;
}

static int
proxyd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct proxyd	*pd = ps->ps_arg;

	(void)peer;
	switch (ipc_type(msg)) {
	case IPC_SETUP_PROXY_LISTEN:
		proxyd_listen_msg(pd, msg);
		break;
	case IPC_PROXY_POLICY:
		proxyd_policy_msg(pd, msg);
		break;
	case IPC_PROXY_SECRETS:
		proxyd_secrets_msg(pd, msg);
		break;
	case IPC_PROXY_HOSTS:
		proxyd_hosts_msg(pd, msg);
		break;
	case IPC_PROXY_IDENT_RESULT:
		proxyd_ident_msg(pd, msg);
		break;
	case IPC_PROXY_SECRETS2:
		proxyd_secrets2_msg(pd, msg);
		break;
	case IPC_PROXY_TRUST:
		proxyd_trust_msg(pd, msg);
		break;
	default:
		return -1;
	}
	return 0;
}

/* [] + fd: front.c owns the listening socket from here on. */
static void
proxyd_listen_msg(struct proxyd *pd, struct ipc_msg *msg)
{
	int	 fd;

	fd = ipc_fd(msg);
	if (proc_msg_empty(msg) == -1 || fd == -1) {
		if (fd != -1)
			close(fd);
		proc_badmsg(&pd->pd_ps, PROC_PARENT, msg);
	}
	front_listen(pd, fd);
}

/*
 * [str yaml].  A policy that does not compile leaves the previous
 * engine in place (or none: deny everything) and is reported; the
 * parent validated it already, so this is a bug, not an attack.
 */
static void
proxyd_policy_msg(struct proxyd *pd, struct ipc_msg *msg)
{
	struct policy		*p;
	struct policy_engine	*e;
	char			*yaml, *err = NULL;

	if (ipc_rd_onestr(msg, &yaml) == -1)
		proc_badmsg(&pd->pd_ps, PROC_PARENT, msg);
	p = policy_yaml_parse(yaml, strlen(yaml), POLICY_YAML_LOOSE, &err);
	free(yaml);
	if (p == NULL || (e = policy_compile(p, &err)) == NULL) {
		log_warnx("policy rejected, keeping the previous one: %s",
		    err != NULL ? err : "out of memory");
		proxyd_policy_done(pd, ipc_peerid(msg), err != NULL ? err :
		    "out of memory");
		policy_free(p);
		free(err);
		return;
	}
	policy_free(p);
	if (pd->pd_engine != NULL)
		policy_engine_unref(pd->pd_engine);
	pd->pd_engine = e;
	pd->pd_nrules = policy_engine_nrules(e);
	log_info("policy loaded: %zu network rules", pd->pd_nrules);
	front_reload(pd);
	proxyd_policy_done(pd, ipc_peerid(msg), NULL);
}

/* The parent reports a revision LOADED only once it serves here. */
static void
proxyd_policy_done(struct proxyd *pd, uint32_t tag, const char *error)
{
	struct ipc_wr	 w;

	if (tag == 0)
		return;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_bool(&w, error == NULL);
	ipc_wr_str(&w, error != NULL ? error : "");
	if (proc_child_compose_wr(&pd->pd_ps, PROC_PARENT,
	    IPC_PROXY_POLICY_DONE, tag, -1, &w) == -1)
		log_warn("policy done");
}

/* [map<str placeholder, str secret>]: replaces the whole map. */
static void
proxyd_secrets_msg(struct proxyd *pd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct secrets	*s;
	char		*k, *v;
	uint32_t	 n = 0, m = 0, i;

	if ((s = secrets_new()) == NULL)
		fatal("%s", __func__);
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_map(&r, &m);
	for (i = 0; i < m && !ipc_rd_error(&r); i++) {
		k = v = NULL;
		ipc_rd_str(&r, &k);
		ipc_rd_str(&r, &v);
		if (k != NULL && v != NULL && secrets_add(s, k, v) == -1)
			fatal("%s", __func__);
		free(k);
		if (v != NULL)
			explicit_bzero(v, strlen(v));
		free(v);
	}
	if (n == 1)
		ipc_rd_leave(&r);
	if (ipc_rd_end(&r) == -1 || n != 1) {
		secrets_free(s);
		proc_badmsg(&pd->pd_ps, PROC_PARENT, msg);
	}
	secrets_free(pd->pd_secrets);
	pd->pd_secrets = s;
	log_info("credential placeholders: %zu", s->s_n);
	/* G7: a secret with no hosts goes nowhere (IPC_PROXY_SECRETS2). */
	if (s->s_n > 0)
		log_warnx("credential placeholders without host binding: "
		    "never substituted (requests using them get 500)");
}

/* One [str secret, [str globs...]] of IPC_PROXY_SECRETS2, under key. */
static int
proxyd_rd_secret(struct ipc_rd *r, struct secrets *s)
{
	char		*k = NULL, *v = NULL, **g = NULL, *globs = NULL;
	size_t		 ng = 0, i;
	uint32_t	 n = 0;
	int		 rc = -1;

	ipc_rd_str(r, &k);
	ipc_rd_array(r, &n);
	if (n == 2) {
		ipc_rd_str(r, &v);
		if (ipc_rd_strv(r, 256, &g, &ng) == 0 && ng > 0)
			globs = policy_strv_join(&(struct policy_strv){ g, ng,
			    ng }, ",");
	}
	if (!ipc_rd_error(r))
		ipc_rd_leave(r);
	if (!ipc_rd_error(r) && n == 2 && k != NULL && v != NULL &&
	    (ng == 0 || globs != NULL))
		rc = secrets_add_bound(s, k, v, globs);
	for (i = 0; g != NULL && g[i] != NULL; i++)
		free(g[i]);
	free(g);
	free(globs);
	free(k);
	if (v != NULL)
		explicit_bzero(v, strlen(v));
	free(v);
	return rc;
}

/* [map<str placeholder, [str secret, [globs]]>]: replaces the map. */
static void
proxyd_secrets2_msg(struct proxyd *pd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct secrets	*s;
	uint32_t	 n = 0, m = 0, i;
	int		 bad = 0;

	if ((s = secrets_new()) == NULL)
		fatal("%s", __func__);
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_map(&r, &m);
	for (i = 0; i < m && !ipc_rd_error(&r) && !bad; i++)
		bad = proxyd_rd_secret(&r, s) == -1;
	if (n == 1 && !bad)
		ipc_rd_leave(&r);
	if (bad || ipc_rd_end(&r) == -1 || n != 1) {
		secrets_free(s);
		proc_badmsg(&pd->pd_ps, PROC_PARENT, msg);
	}
	secrets_free(pd->pd_secrets);
	pd->pd_secrets = s;
	log_info("credential placeholders: %zu, host-bound", s->s_n);
}

/* [str pem bundle]: upstream anchors; termination goes on. */
static void
proxyd_trust_msg(struct proxyd *pd, struct ipc_msg *msg)
{
	char		*pem;

	if (ipc_rd_onestr(msg, &pem) == -1)
		proc_badmsg(&pd->pd_ps, PROC_PARENT, msg);
	if (tls_trust(pd, pem) == -1)
		log_warnx("TLS: the trust bundle does not parse, ignored");
	free(pem);
}

/* [str hosts contents] */
static void
proxyd_hosts_msg(struct proxyd *pd, struct ipc_msg *msg)
{
	struct hosts	*h;
	char		*text;

	if (ipc_rd_onestr(msg, &text) == -1)
		proc_badmsg(&pd->pd_ps, PROC_PARENT, msg);
	if ((h = hosts_parse(text)) == NULL)
		fatal("%s", __func__);
	free(text);
	hosts_free(pd->pd_hosts);
	pd->pd_hosts = h;
	log_info("hosts override: %zu names", h->h_n);
}

/*
 * Ask who holds the agent's end of c: both ends of the TCP connection
 * go along, so the parent matches the exact socket (G5).
 */
int
proxyd_ident_request(struct conn *c)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 4);
	ipc_wr_str(&w, c->c_src);
	ipc_wr_u32(&w, c->c_sport);
	ipc_wr_str(&w, c->c_dst);
	ipc_wr_u32(&w, c->c_dport);
	/* Out now, not after a loop turn: the connection waits. */
	return proc_child_send_wr(&c->c_pd->pd_ps, PROC_PARENT,
	    IPC_PROXY_IDENT, c->c_id, -1, &w);
}

/*
 * [bool ok, str error, u32 pid, str exe, [ancestors], [cmdline]].  The
 * connection may have gone meanwhile: then the answer is dropped.
 */
static void
proxyd_ident_msg(struct proxyd *pd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct ident	 id;
	struct conn	*c;
	uint32_t	 n = 0;
	int		 bad;

	memset(&id, 0, sizeof(id));
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 6) {
		ipc_rd_bool(&r, &id.i_ok);
		ipc_rd_str(&r, &id.i_error);
		ipc_rd_u32(&r, &id.i_pid);
		ipc_rd_str(&r, &id.i_exe);
		ipc_rd_strv(&r, 256, &id.i_anc, &id.i_nanc);
		ipc_rd_strv(&r, 256, &id.i_cmd, &id.i_ncmd);
	}
	bad = ipc_rd_end(&r) == -1 || n != 6;
	if (bad) {
		proxyd_ident_clear(&id);
		proc_badmsg(&pd->pd_ps, PROC_PARENT, msg);
	}
	if ((c = front_find(pd, ipc_peerid(msg))) == NULL ||
	    c->c_state != CONN_IDENT) {
		proxyd_ident_clear(&id);
		return;
	}
	c->c_ident = id;
	front_ident_done(c);
}

void
proxyd_ident_clear(struct ident *id)
{
	size_t	 i;

	free(id->i_error);
	free(id->i_exe);
	for (i = 0; id->i_anc != NULL && id->i_anc[i] != NULL; i++)
		free(id->i_anc[i]);
	free(id->i_anc);
	for (i = 0; id->i_cmd != NULL && id->i_cmd[i] != NULL; i++)
		free(id->i_cmd[i]);
	free(id->i_cmd);
	memset(id, 0, sizeof(*id));
}

/*
 * Six descriptors per connection (client, upstream, two splice pipes)
 * plus a few for the channels, the listener and DNS: raise the soft
 * limit to what PROXY_MAX_CONNS needs (up to the hard limit), and
 * serve fewer connections at once if the hard limit is lower.
 */
static void
proxyd_nofile(struct proxyd *pd)
{
	struct rlimit	 rl;
	rlim_t		 want = PROXY_MAX_CONNS * PROXY_FDS_PER_CONN +
			    PROXY_SPARE_FDS;

	pd->pd_maxconns = PROXY_MAX_CONNS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("setrlimit");
	}
	if (rl.rlim_cur < want) {
		pd->pd_maxconns = rl.rlim_cur > PROXY_SPARE_FDS * 2 ?
		    (rl.rlim_cur - PROXY_SPARE_FDS) / PROXY_FDS_PER_CONN : 8;
		log_warnx("RLIMIT_NOFILE %llu: at most %zu connections",
		    (unsigned long long)rl.rlim_cur, pd->pd_maxconns);
	}
}

/*
 * No filesystem at all; TCP connect to any port (upstreams are
 * anywhere the policy says); accept on the passed listener needs no
 * Landlock right.  evdns needs UDP sockets: "inet" covers them.
 */
static void
proxyd_sandbox(struct proc_self *ps)
{
	struct proxyd	*pd = ps->ps_arg;

	if (pd->pd_listen == -1)
		fatalx("no listening socket from the parent");
	if (sandbox_unveil_anyport(SANDBOX_NET_CONNECT) == -1)
		fatal("sandbox_unveil_anyport");
	sandbox_unveil(NULL, NULL);
	sandbox_rlimit_nofork();
	sandbox_pledge("stdio inet dns recvfd");
}

static int
proxyd_ctl_keys(struct proc_self *ps, uint32_t type)
{
	(void)ps;
	if (type == IPC_CTL_STATS)
		return 16;
	if (type == IPC_CTL_DUMP)
		return 1;
	return 0;
}

static void
proxyd_ctl_fill(struct proc_self *ps, uint32_t type, struct ipc_wr *w)
{
	struct proxyd	*pd = ps->ps_arg;
	uint64_t	 hits, misses;

	if (type == IPC_CTL_DUMP) {
		ipc_wr_str(w, "events");
		events_dump(w);
		return;
	}
	if (type != IPC_CTL_STATS)
		return;
	control_kv_u64(w, "connections_open", pd->pd_nconns);
	control_kv_u64(w, "connections_total", pd->pd_st.st_total);
	control_kv_u64(w, "connections_max", pd->pd_maxconns);
	control_kv_u64(w, "allowed", pd->pd_st.st_allowed);
	control_kv_u64(w, "denied", pd->pd_st.st_denied);
	control_kv_u64(w, "ssrf_denied", pd->pd_st.st_ssrf);
	control_kv_u64(w, "upstream_failed", pd->pd_st.st_failed);
	control_kv_u64(w, "bad_requests", pd->pd_st.st_head_errors);
	control_kv_u64(w, "limit_hits", pd->pd_st.st_limit_hits);
	control_kv_u64(w, "tunnels_spliced", pd->pd_st.st_spliced);
	control_kv_u64(w, "inference_tunnels", pd->pd_st.st_inference);
	control_kv_u64(w, "policy_rules", pd->pd_nrules);
	control_kv_str(w, "policy", pd->pd_engine != NULL ? "loaded" : "none");
	tls_stats(pd, &hits, &misses);
	control_kv_str(w, "tls_termination", tls_available(pd) ? "on" : "off");
	control_kv_u64(w, "tls_leaf_hits", hits);
	control_kv_u64(w, "tls_leaf_misses", misses);
}
