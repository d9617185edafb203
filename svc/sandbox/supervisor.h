/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell-sandbox: the supervisor of one sandbox.  It runs as root,
 * owns the sandbox's two network namespaces, starts proxyd (proc.c)
 * and spawns the agent under a reaper that is PID 1 of the agent's
 * PID namespace.  One file per concern:
 *
 *	sandbox.c	main, lifecycle, proxyd's configuration
 *	config.c	options, policy file, baseline enrichment, agent env
 *	netns.c		the agent and proxy namespaces, veth (libnl)
 *	mounts.c	the agent's mount namespace (in the reaper)
 *	spawn.c		reaper and agent: privdrop, caps, Landlock, seccomp
 *	ident.c		who owns an agent's connection to the proxy (G5)
 *	gwlink.c	gateway mode: config fetch, policy poll, reports
 *	logpush.c	gateway mode: log lines to PushSandboxLogs
 *	agentio.c	gateway mode: the agent's stdout/stderr relay
 */

#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include "proc.h"

#define SBX_PROXY_ADDR		"10.200.0.1"
#define SBX_AGENT_ADDR		"10.200.0.2"
#define SBX_PREFIX		24
#define SBX_PROXY_PORT		3128
#define SBX_PROXY_URL		"http://10.200.0.1:3128"
#define SBX_USER		"sandbox"
#define SBX_DAEMON_USER		"_openshell"
#define SBX_PLACEHOLDER		"openshell:resolve:env:"
#define SBX_MAXHIDE		16
#define SBX_MAXCRED		64
#define SBX_TLS_DIR		"/etc/openshell-tls"
#define SBX_TLS_CA		"/etc/openshell-tls/openshell-ca.pem"
#define SBX_TLS_BUNDLE		"/etc/openshell-tls/ca-bundle.pem"
#define SBX_SYSTEM_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define SBX_PROXY_IPC_MAX	(4 * 1024 * 1024)	/* proxyd's too */

struct policy;
struct policy_netrule;
struct policy_strv;
struct ident_cache;
struct gwlink;
struct routes;
struct grpc_client;
struct grpc_aclient;
struct logpush;
struct agentio;
struct grpc_aclient;
struct event_base;

struct netns {
	int		 nn_orig;	/* our own netns, to return to */
	int		 nn_agent;	/* the agent's netns */
	int		 nn_proxy;	/* the proxy's netns: veth peer only */
	int		 nn_listen;	/* proxyd's listener, in nn_proxy */
};

struct cred {
	char		*cr_key;	/* environment name */
	char		*cr_value;	/* the secret: never to the agent */
	char		*cr_hosts;	/* host globs, comma-separated; NULL:
					   none, never substituted */
};

/* The sandbox CA's state (trust.c). */
enum trust_state {
	TRUST_WAIT,		/* TRUST sent, no IPC_PROXY_CA yet */
	TRUST_INSTALLED,	/* the files hold proxyd's current CA */
	TRUST_OFF,		/* proxyd has no CA: termination off */
};

struct sandbox {
	/* options */
	char		*sb_id;
	char		*sb_name;
	char		*sb_endpoint;
	char		*sb_tls_ca;
	char		*sb_tls_cert;
	char		*sb_tls_key;
	char		*sb_policy_file;
	char		 sb_state[PATH_MAX];
	char		*sb_rootfs;
	char		*sb_workdir;
	char		*sb_hosts_file;
	char		*sb_upstream_ca;	/* --upstream-ca file */
	char		*sb_routes_file;	/* --inference-routes */
	char		*sb_hide[SBX_MAXHIDE];
	int		 sb_nhide;
	int		 sb_readyfd;
	int		 sb_debug;
	int		 sb_verbose;
	char		**sb_argv;	/* the agent's command */
	int		 sb_argc;
	int		 sb_argv_alloc;

	/* derived */
	struct policy	*sb_policy;	/* enriched */
	char		*sb_policy_yaml;	/* what proxyd compiles */
	char		*sb_hosts;	/* hosts file contents, or NULL */
	struct cred	 sb_creds[SBX_MAXCRED];
	int		 sb_ncreds;
	char		**sb_env;	/* the agent's environment */
	uid_t		 sb_uid;	/* the sandbox user */
	gid_t		 sb_gid;
	uid_t		 sb_duid;	/* proxyd's user */
	gid_t		 sb_dgid;
	int		 sb_hard;	/* landlock hard_requirement */
	char		 sb_sbxdir[PATH_MAX];	/* <state>/sandbox */
	char		 sb_rootdir[PATH_MAX];	/* <state>/run/root */
	int		 sb_ctlfd[PROC_MAX];	/* control listeners, or -1 */
	char		*sb_ctlpath[PROC_MAX];

	/* runtime */
	struct netns	 sb_nn;
	struct proc_tree sb_tree;
	pid_t		 sb_reaper;	/* 0 until spawned, again once reaped */
	int		 sb_pidfd;
	int		 sb_statusfd;	/* Landlock status from the agent */
	struct event	*sb_ev_pidfd;
	struct event	*sb_ev_status;
	struct event	*sb_ev_sig[3];	/* TERM, INT, HUP */
	int		 sb_exit;	/* the agent's status, 128+sig */
	int		 sb_done;
	char		 sb_llstatus[512];
	char		 sb_scstatus[128];
	struct ident_cache *sb_ident;
	char		*sb_trust_pem;	/* IPC_PROXY_TRUST's bundle */
	char		 sb_tlsdir[PATH_MAX];	/* <state>/run/tls */
	enum trust_state sb_trust;
	struct event	*sb_ev_trust;	/* bound on the wait for the CA */

	/* gateway mode: --endpoint without --policy */
	int		 sb_gateway;
	int		 sb_ready_sent;
	struct gwlink	*sb_gw;
	struct routes	*sb_routes;	/* routerd's, or NULL */
	struct logpush	*sb_lp;
	struct agentio	*sb_aio;	/* the agent's stdout/stderr */
};

/* binalias.c */
int	 binalias_policy(struct policy *, const char *);
int	 binalias_listed(const struct policy_netrule *, const char *);
int	 binalias_resolve(const char *, const char *,
	    const struct policy_strv *, char *, size_t);

/* config.c */
void	 config_options(struct sandbox *, int, char **);
void	 config_policy(struct sandbox *);
void	 config_enrich(struct policy *, const char *);
void	 config_daemon_user(struct sandbox *);
void	 config_users(struct sandbox *);
void	 config_env(struct sandbox *, char **);
void	 config_scrub_env(void);
void	 config_hosts(struct sandbox *);
char	*config_proxy_yaml(struct sandbox *, struct policy *);

/* creds.c */
void	 creds_send(struct sandbox *, struct proc_tree *);
void	 creds_bind(struct sandbox *, const char *, const char *);

/* trust.c */
void	 trust_send(struct sandbox *, struct proc_tree *);
int	 trust_ca(struct sandbox *, struct ipc_msg *);
int	 trust_wait(struct sandbox *, struct proc_tree *,
	    void (*)(struct proc_tree *, void *));
int	 trust_mounts(const struct sandbox *, const char *);

/* netns.c */
int	 netns_create(struct netns *);
int	 netns_listen(struct netns *);
void	 netns_close(struct netns *);

/* mounts.c */
int	 mounts_setup(const struct sandbox *);
int	 mounts_entry(const char *, const char *, const char *);

/* spawn.c */
int	 spawn_reaper(struct sandbox *);
int	 spawn_go(struct sandbox *);
void	 spawn_argv(int, char *[]);
int	 spawn_reaped(struct sandbox *, int *);

/* ident.c */
struct ident_cache *ident_new(void);
void	 ident_free(struct ident_cache *);
int	 ident_dispatch(struct sandbox *, struct ipc_msg *);
int	 ident_tcp_find(const char *, const char *, uint16_t, const char *,
	    uint16_t, unsigned long *);

/* routefile.c: one inference route (routes.c sends them to routerd). */
struct sroute {
	char		 *sr_name;
	char		 *sr_url;
	char		**sr_protos;
	size_t		  sr_nprotos;
	char		 *sr_key;
	char		 *sr_model;
	char		 *sr_type;
	uint32_t	  sr_timeout;	/* s, 0: routerd's default */
	char		 *sr_env;	/* api_key_env, or NULL */
};

int	 routefile_load(const char *, struct sroute **, size_t *, char *,
	    size_t);
void	 routefile_free(struct sroute *, size_t);

/* routes.c */
void	 routes_file(struct sandbox *);
void	 routes_fetch(struct sandbox *, struct grpc_client *);
void	 routes_start(struct sandbox *, struct event_base *,
	    struct grpc_aclient *);
void	 routes_configure(struct sandbox *, struct proc_tree *);

/* gwlink.c */
void	 gwlink_fetch(struct sandbox *);
void	 gwlink_start(struct sandbox *, struct event_base *);
void	 gwlink_loaded(struct sandbox *);
uint32_t gwlink_policy_tag(struct sandbox *);
int	 gwlink_policy_done(struct sandbox *, struct ipc_msg *);

/* logpush.c */
struct logpush *logpush_new(const char *);
void	 logpush_hook_install(struct logpush *);
void	 logpush_start(struct logpush *, struct event_base *,
	    struct grpc_aclient *);
void	 logpush_line(struct logpush *, const char *, const char *,
	    const char *, char *const *, size_t);
void	 logpush_text(struct logpush *, const char *, const char *,
	    const char *);
void	 logpush_flush(struct logpush *);
void	 logpush_drain(struct logpush *, struct event_base *, int);

/* agentio.c */
struct agentio *agentio_new(struct logpush *);
int	 agentio_child(struct agentio *);
void	 agentio_parent(struct agentio *, struct event_base *);
void	 agentio_drain(struct agentio *);

#endif /* SUPERVISOR_H */
