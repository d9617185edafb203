/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#ifndef GATEWAY_H
#define GATEWAY_H

#include <sys/types.h>

#include <limits.h>

#include "proc.h"

#define GATEWAY_USER		"_openshell"
#define GATEWAY_LOGFILE		"gateway.log"
#define GATEWAY_PIDFILE		"openshell-gateway.pid"
#define GATEWAY_DBFILE		"db/openshell.db"	/* gatewayd's own dir */
#define GATEWAY_PKIDIR		"pki"
#define GATEWAY_ADMIN_CERT	"admin.crt"
#define GATEWAY_ADMIN_KEY	"admin.key"
#define GATEWAY_SECRETFILE	"ssh-handshake.secret"
#define GATEWAY_SECRET_LEN	64		/* hex characters */
#define GATEWAY_PORT		8080
#define GATEWAY_BIND		"127.0.0.1"
#define GATEWAY_SSH_PATH	"/connect/ssh"
#define GATEWAY_SSH_TTL		86400		/* s, fixed (§4.1) */
#define GATEWAY_SSH_SKEW	300		/* s */

struct driver;

struct gateway {
	int			 gw_debug;
	int			 gw_verbose;
	int			 gw_noaction;
	char			 gw_state[PATH_MAX];
	char			 gw_run[PATH_MAX];
	char			 gw_pidpath[PATH_MAX];
	int			 gw_pidfd;	/* locked while we run */
	int			 gw_privdrop;
	uid_t			 gw_uid;
	gid_t			 gw_gid;
	int			 gw_ctlfd[PROC_MAX];	/* listening, by proc */
	char			 gw_ctlpath[PROC_MAX][PATH_MAX];
	int			 gw_logfd;
	struct proc_tree	 gw_tree;

	/* The gRPC port and what gatewayd needs to serve it. */
	char			 gw_bind[256];
	int			 gw_port;	/* as asked; 0: ephemeral */
	int			 gw_realport;	/* as bound */
	int			 gw_listenfd;	/* kept across restarts */
	int			 gw_dbdirfd;	/* the database's directory */
	int			 gw_readyfd;	/* -1, or "ready <port>" */
	char			 gw_tls_cert[PATH_MAX];
	char			 gw_tls_key[PATH_MAX];
	char			 gw_tls_ca[PATH_MAX];
	char			 gw_db[PATH_MAX];
	char			 gw_loglevel[16];
	char			 gw_secret[GATEWAY_SECRET_LEN + 1];
	char			 gw_ssh_host[256];
	int			 gw_ssh_port;	/* 0: the bound port */
	char			 gw_ssh_path[128];
	int			 gw_ssh_skew;
	char			*gw_cert_pem;	/* read at start */
	char			*gw_key_pem;
	char			*gw_ca_pem;

	/* The local compute driver (driver.c). */
	char			 gw_hosts_file[PATH_MAX];	/* tests */
	char			 gw_upstream_ca[PATH_MAX];	/* extra anchors */
	int			 gw_nodriver;	/* --compute-driver none */
	struct driver		*gw_driver;
};

/* config.c */
void	 config_options(struct gateway *, int, char **);
int	 config_check(struct gateway *);

/* certs.c */
int	 certs_init(struct gateway *);
int	 certs_load(struct gateway *);
int	 certs_secret(struct gateway *);

/* driver.c */
int	 driver_init(struct gateway *);
void	 driver_configure(struct gateway *);
int	 driver_dispatch(struct gateway *, struct ipc_msg *);
void	 driver_shutdown(struct gateway *);

/* sshbridge.c, sshexec.c: the ssh bridge to sandboxes */
int	 sshbridge_dispatch(struct gateway *, struct ipc_msg *);
int	 sshbridge_connect(const struct gateway *, const char *, char *,
	    size_t);
int	 sshexec_start(struct gateway *, const char *, const char *, uint32_t,
	    char *, size_t);

/* listen.c */
int	 listen_open(struct gateway *);

/* state.c */
void	 state_dirs(const char *, const char *);
int	 state_pidfile(const char *, char *, size_t);

/* user.c */
int	 user_resolve(const char *, uid_t *, gid_t *);

#endif /* GATEWAY_H */
