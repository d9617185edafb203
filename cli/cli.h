/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The openshell CLI: openshell.c dispatches argv[1] to one command
 * group per file (admin.c: `openshell admin', gateway.c: `openshell
 * gateway' and `status', sandbox.c, provider.c, policy.c, logs.c,
 * inference.c); the helpers below are shared by the groups:
 * config.c (the client configuration under $XDG_CONFIG_HOME/openshell),
 * rpc.c (gRPC calls to the resolved gateway), pbjson.c (`-o json').
 */

#ifndef CLI_H
#define CLI_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

struct ipc_wr;
struct grpc_client;
struct grpc_status;

/* A reply from a daemon's control socket. */
struct ctl_reply {
	uint32_t	 cr_type;	/* IPC_CTL_REPLY or IPC_CTL_ERROR */
	void		*cr_data;	/* msgpack payload, malloc'd */
	size_t		 cr_len;
};

/* Global flags, taken out of argv by main() wherever they appear. */
struct cli_global {
	const char	*cg_gateway;	/* -g/--gateway */
	const char	*cg_endpoint;	/* --gateway-endpoint */
	int		 cg_verbose;	/* -v, repeatable */
};

/* openshell.c */
extern const char	*cli_progname;
extern struct cli_global cli_global;
void	 cli_warnx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
/* "-o json" / "--output json" / "-ojson"; -1 on a bad format. */
int	 cli_output_json(const char *);
int	 cli_u32(const char *, const char *, uint32_t *);

/* admin.c */
int	 admin_main(int, char **);

/* ctlconn.c: one request on a control socket; -1 with errno
 * (ENOENT/ECONNREFUSED: nobody listens, ETIMEDOUT, EPROTO, ECONNRESET) */
int	 ctlconn_request(const char *, int, uint32_t, struct ipc_wr *,
	    struct ctl_reply *);
void	 ctlconn_free(struct ctl_reply *);

/* output.c */
json_t	*output_decode(const void *, size_t);
void	 output_text(FILE *, json_t *);
void	 output_json(FILE *, json_t *);

/* config.c: the client side of a gateway (control-plane §5.1). */
#define CONFIG_NAME_MAX		128
#define CONFIG_URL_MAX		512

struct config_gw {
	char	 name[CONFIG_NAME_MAX];		/* selects the certificates */
	char	 endpoint[CONFIG_URL_MAX];	/* https://host:port */
	char	 host[256];
	char	 port[16];
	char	 dir[PATH_MAX];		/* .../clusters/<name> */
	char	 mtls[PATH_MAX];	/* directory of the client bundle */
};

int	 config_home(char *, size_t);
int	 config_cluster_dir(const char *, char *, size_t);
int	 config_resolve(struct config_gw *);
int	 config_active_read(char *, size_t);
int	 config_active_write(const char *);
int	 config_metadata_write(const char *, const char *, int, const char *);
json_t	*config_metadata_read(const char *);
int	 config_mkdirs(const char *);
int	 config_write_file(const char *, const char *, size_t, int);
char	*config_read_file(const char *, size_t *);
int	 config_last_sandbox(const struct config_gw *, char *, size_t);
void	 config_last_sandbox_set(const struct config_gw *, const char *);
void	 config_last_sandbox_clear(const struct config_gw *, const char *);
int	 config_sandbox_arg(const struct config_gw *, const char *, char *,
	    size_t);

/* rpc.c: calls to the resolved gateway. */
#define RPC_OPENSHELL		"/openshell.v1.OpenShell/"
#define RPC_INFERENCE		"/openshell.inference.v1.Inference/"
#define RPC_CONNECT_MS		10000
#define RPC_CALL_MS		60000

struct rpc {
	struct config_gw	 r_gw;
	struct grpc_client	*r_client;
	void			*r_ctx;		/* SSL_CTX */
};

/* Each call returns the gRPC status code (0 = OK). */
typedef int	 rpc_msg_fn(ProtobufCMessage *, void *);

int	 rpc_open(struct rpc *);
void	 rpc_close(struct rpc *);
int	 rpc_unary(struct rpc *, const char *, const ProtobufCMessage *,
	    const ProtobufCMessageDescriptor *, ProtobufCMessage **,
	    struct grpc_status *);
int	 rpc_stream(struct rpc *, const char *, const ProtobufCMessage *,
	    const ProtobufCMessageDescriptor *, rpc_msg_fn *, void *,
	    struct grpc_status *);
int	 rpc_fail(const struct rpc *, const struct grpc_status *);
int	 rpc_fail_close(struct rpc *, const struct grpc_status *);

/* pbjson.c: proto3 JSON of any protobuf-c message. */
json_t	*pbjson_encode(const ProtobufCMessage *);
void	 pbjson_print(FILE *, const ProtobufCMessage *);
const char *pbjson_enum_name(const ProtobufCEnumDescriptor *, int,
	    const char *);

/* ssh.c, sshcmd.c, sync.c: SSH access to sandboxes (§4.5-§4.9). */
struct ssh_target {
	char	 t_id[64];
	char	 t_name[256];
	char	 t_token[64];
	char	 t_url[CONFIG_URL_MAX];	/* https://host:port/connect/ssh */
	char	 t_gw[CONFIG_NAME_MAX];
};

#define SSHCMD_ARGV_MAX		48

struct ssh_argv {
	char	*a_v[SSHCMD_ARGV_MAX + 1];
	int	 a_n;
	char	 a_proxy[2048];		/* -o ProxyCommand=... */
	char	 a_host[300];		/* openshell-<name> */
};

int	 ssh_proxy_main(int, char **);
int	 ssh_session(struct rpc *, const char *, struct ssh_target *);
int	 ssh_sandbox_id(struct rpc *, const char *, struct ssh_target *);
int	 sshcmd_has(const char *);
int	 sshcmd_main(int, char **);
int	 sshcmd_base(struct ssh_argv *, const struct ssh_target *);
int	 sshcmd_add(struct ssh_argv *, const char *);
int	 sshcmd_quote(char *, size_t, const char *);
int	 sshcmd_target(const char *, struct ssh_target *, int);
int	 sshcmd_wait(pid_t);
int	 forward_main(int, char **);
int	 forward_daemon(const char *, const char *, FILE *);
int	 forward_stop_sandbox(const struct config_gw *, const char *);
int	 sync_upload(int, char **);
int	 sync_download(int, char **);

/* The command groups. */
int	 gateway_main(int, char **);
int	 status_main(int, char **);
int	 status_healthy(struct rpc *);
int	 sandbox_main(int, char **);
int	 sandbox_create(int, char **);	/* sandbox_create.c */
int	 provider_main(int, char **);
int	 policy_main(int, char **);
int	 logs_main(int, char **);
int	 inference_main(int, char **);
int	 term_main(int, char **);	/* term.c */

#endif /* CLI_H */
