/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd's shared state and the interfaces between its files:
 * gatewayd.c (main, parent setup, sandboxing), rpc.c (the method
 * table of both services), auth.c (who may call what), and one
 * rpc_<group>.c per group of RPCs, each registering its handlers with
 * rpc_method() from its rpc_<group>_register().
 *
 * Handlers are grpc_handler_fn's whose arg is the struct gatewayd.
 * rpc.c checks the caller's class (admin-only methods refuse every
 * other client before the handler runs); methods a sandbox may call
 * check the sandbox they are about with auth_sandbox().
 */

#ifndef GATEWAYD_H
#define GATEWAYD_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "proc.h"
#include "libgrpc/grpc_server.h"
#include "proto/datamodel.pb-c.h"
#include "proto/openshell.pb-c.h"

#define GD_MAX_MSG		(1024 * 1024)	/* bytes per request message */
#define GD_UUID_LEN		37		/* 36 chars and the NUL */
#define GD_NAME_MAX		64

struct store;
struct bus;

/* What the parent sends with IPC_SETUP_GATEWAY. */
struct gateway_cfg {
	char		 gc_db[PATH_MAX];	/* the SQLite file */
	char		 gc_version[32];
	uint32_t	 gc_port;		/* the real, bound port */
	char		 gc_ssh_gateway_host[256];
	uint32_t	 gc_ssh_gateway_port;
	char		 gc_ssh_connect_path[128];
	uint32_t	 gc_ssh_session_ttl;	/* seconds */
	char		 gc_handshake_secret[129];
	uint32_t	 gc_handshake_skew;	/* seconds */
};

struct gatewayd {
	struct proc_self	 gd_ps;
	struct store		*gd_store;
	struct grpc_server	*gd_srv;
	struct bus		*gd_bus;	/* NULL without bus.c */
	struct gateway_cfg	 gd_cfg;
	int			 gd_listen_fd;	/* -1 until IPC_SETUP_LISTEN */
	char			*gd_tls_cert;	/* PEM from the parent */
	char			*gd_tls_key;
	char			*gd_tls_ca;
	void			*gd_tls_ctx;	/* SSL_CTX */
	int			 gd_stopping;
	struct event		*gd_sigterm;
	struct event		*gd_deadline;	/* of a graceful stop */
};

/*
 * Method classes (rpc.c): RPC_ADMIN methods are refused to every CN
 * but openshell-admin before the handler runs; RPC_SANDBOX methods
 * run for any verified client and must call auth_sandbox() on the
 * sandbox they touch; RPC_ANY methods run for any verified client.
 */
#define RPC_ADMIN	0
#define RPC_SANDBOX	1
#define RPC_ANY		2

/* rpc.c */
int	 rpc_method(struct gatewayd *, const char *, grpc_handler_fn *);
void	 rpc_start(struct gatewayd *);
void	 rpc_reply(struct grpc_call *, const ProtobufCMessage *);
void	 rpc_error(struct grpc_call *, int, const char *, ...)
	    __attribute__((__format__(__printf__, 3, 4)));
int	 rpc_send(struct grpc_call *, const ProtobufCMessage *);
int64_t	 rpc_now_ms(void);
void	 rpc_uuid(char *);
void	 rpc_petname(char *, size_t);

/* auth.c */
int	 auth_is_admin(const struct grpc_call *);
int	 auth_class_ok(struct grpc_call *, int);
int	 auth_sandbox(struct gatewayd *, struct grpc_call *, const char *);
int	 auth_sandbox_name(struct gatewayd *, struct grpc_call *,
	    const char *);
int	 auth_watch(struct gatewayd *, struct grpc_call *, const char *, int);
void	 auth_deny(struct grpc_call *);

/*
 * One registration function per group of RPCs.  Those written by
 * other files are weak so gatewayd links without them; gatewayd.c
 * calls each only when it is present.
 */
void	 rpc_sandbox_register(struct gatewayd *);
void	 rpc_provider_register(struct gatewayd *);
void	 rpc_inference_register(struct gatewayd *);
void	 rpc_config_register(struct gatewayd *) __attribute__((__weak__));
void	 rpc_watch_register(struct gatewayd *) __attribute__((__weak__));
void	 rpc_logs_register(struct gatewayd *) __attribute__((__weak__));

/*
 * rpc_sandbox.c: a sandbox record by id (or, with a NULL id, by name),
 * unpacked (free with openshell__datamodel__v1__sandbox__free_unpacked);
 * STORE_OK, STORE_NOTFOUND or STORE_ERR.  put re-encodes and stores it.
 */
int	 rpc_sandbox_get(struct gatewayd *, const char *, const char *,
	    Openshell__Datamodel__V1__Sandbox **);
int	 rpc_sandbox_ready(struct gatewayd *, const char *, int *);
int	 rpc_require_ready(struct gatewayd *, struct grpc_call *,
	    const char *);
int	 rpc_sandbox_put(struct gatewayd *,
	    const Openshell__Datamodel__V1__Sandbox *);
/* The record is gone: sessions, settings, the row, its buses. */
void	 rpc_sandbox_remove(struct gatewayd *,
	    const Openshell__Datamodel__V1__Sandbox *);

/*
 * driver_link.c: the compute driver in the parent (msgs.def "compute
 * driver").  start at setup brings every stored sandbox back; create
 * and delete ask the driver (delete answers the DeleteSandbox call,
 * if any, once the sandbox is gone); status handles its
 * IPC_DRIVER_STATUS.
 */
void	 driver_link_start(struct gatewayd *);
void	 driver_link_create(struct gatewayd *,
	    const Openshell__Datamodel__V1__Sandbox *);
void	 driver_link_delete(struct gatewayd *, const char *,
	    struct grpc_call *);
void	 driver_link_status(struct gatewayd *, struct ipc_msg *);

/*
 * The ssh bridge (msgs.def "ssh bridge"): rpc_ssh.c (sessions),
 * connect_ssh.c (CONNECT /connect/ssh), rpc_exec.c (ExecSandbox),
 * sshlink.c (the parent's IPC_DRIVER_SSH_FD answers, NSSH1).  The
 * *_fd functions return 0 if the answer was theirs (fd taken), -1 if
 * not.
 */
void	 rpc_ssh_register(struct gatewayd *);
int	 rpc_ssh_session_get(struct gatewayd *, const char *,
	    Openshell__V1__SshSession **);
void	 connect_ssh_register(struct gatewayd *);
int	 connect_ssh_fd(struct gatewayd *, struct ipc_msg *);
void	 rpc_exec_register(struct gatewayd *);
int	 rpc_exec_fd(struct gatewayd *, struct ipc_msg *);
void	 sshlink_fd(struct gatewayd *, struct ipc_msg *);
#define SSHLINK_LINE_MAX	1100
int	 sshlink_nssh_line(struct gatewayd *, const char *, char *, size_t);

/* rpc_provider.c: the stored provider, raw credentials (as above). */
int	 rpc_provider_get(struct gatewayd *, const char *,
	    Openshell__Datamodel__V1__Provider **);

/* credhosts.c: the hosts a provider's credentials may be sent to. */
char	*credhosts_provider(const Openshell__Datamodel__V1__Provider *);

#include "bus.h"

#endif /* GATEWAYD_H */
