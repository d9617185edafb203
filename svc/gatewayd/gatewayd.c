/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd: the gateway's network face (gRPC + HTTP on one mTLS port),
 * unprivileged.  The parent hands it the listening socket, the TLS
 * material as PEM and its settings; when the configuration is complete
 * it opens the store, starts the server on the socket, and only then
 * confines itself (Landlock: the database directory; seccomp) and
 * tells the parent it is running.
 */

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "dbvfs.h"
#include "gatewayd.h"
#include "libgrpc/tls.h"
#include "log.h"
#include "probe.h"
#include "proc.h"
#include "sandbox.h"
#include "store.h"

static int	 gatewayd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static void	 gatewayd_listen(struct gatewayd *, struct ipc_msg *);
static void	 gatewayd_tls(struct gatewayd *, struct ipc_msg *);
static void	 gatewayd_settings(struct gatewayd *, struct ipc_msg *);
static void	 gatewayd_setup_done(struct proc_self *);
static void	 gatewayd_serve(struct gatewayd *);
static void	 gatewayd_register(struct gatewayd *);
static void	 gatewayd_sandbox(struct gatewayd *);
static void	 gatewayd_parent_gone(struct proc_self *);
static void	 gatewayd_sigterm(evutil_socket_t, short, void *);
static void	 gatewayd_stop(struct gatewayd *, const char *);
static void	 gatewayd_stopped(void *);
static void	 gatewayd_deadline(evutil_socket_t, short, void *);

#define GATEWAYD_STOP_SECS	3	/* calls in flight, then exit */

/* Only the parent sends to gatewayd; it sends to watchd and logd. */
static const struct proc_handler gatewayd_peers[] = {
	{ PROC_PARENT,	gatewayd_dispatch_parent },
};

int
main(int argc, char *argv[])
{
	static struct gatewayd	 gd;

	gd.gd_listen_fd = -1;
	proc_child_init(&gd.gd_ps, PROC_GATEWAY, argc, argv);
	proc_child_handlers(&gd.gd_ps, gatewayd_peers,
	    sizeof(gatewayd_peers) / sizeof(gatewayd_peers[0]));
	proc_child_setup(&gd.gd_ps, gatewayd_setup_done, NULL, &gd);
	gd.gd_ps.ps_parent_gone = gatewayd_parent_gone;
	proc_child_run(&gd.gd_ps);
}

/* The setup rows of msgs.def, each once per start. */
static int
gatewayd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct gatewayd	*gd = ps->ps_arg;

	(void)peer;
	if (ipc_type(msg) == IPC_DRIVER_STATUS) {
		driver_link_status(gd, msg);
		return 0;
	}
	if (ipc_type(msg) == IPC_DRIVER_SSH_FD) {
		sshlink_fd(gd, msg);
		return 0;
	}
	if (ps->ps_running)
		return -1;
	switch (ipc_type(msg)) {
	case IPC_SETUP_LISTEN:
		gatewayd_listen(gd, msg);
		break;
	case IPC_SETUP_TLS:
		gatewayd_tls(gd, msg);
		break;
	case IPC_SETUP_GATEWAY:
		gatewayd_settings(gd, msg);
		break;
	default:
		return -1;
	}
	return 0;
}

/* [] + fd: gatewayd owns the fd (a duplicate of the parent's). */
static void
gatewayd_listen(struct gatewayd *gd, struct ipc_msg *msg)
{
	int	 fd;

	fd = ipc_fd(msg);
	if (proc_msg_empty(msg) == -1 || fd == -1 || gd->gd_listen_fd != -1) {
		if (fd != -1)
			close(fd);
		proc_badmsg(&gd->gd_ps, PROC_PARENT, msg);
	}
	gd->gd_listen_fd = fd;
}

/* [str cert_pem, str key_pem, str client_ca_pem] */
static void
gatewayd_tls(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	uint32_t	 n = 0;

	if (gd->gd_tls_cert != NULL)
		proc_badmsg(&gd->gd_ps, PROC_PARENT, msg);
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 3) {
		ipc_rd_str(&r, &gd->gd_tls_cert);
		ipc_rd_str(&r, &gd->gd_tls_key);
		ipc_rd_str(&r, &gd->gd_tls_ca);
	}
	if (ipc_rd_end(&r) == -1 || n != 3 || gd->gd_tls_cert == NULL ||
	    gd->gd_tls_key == NULL || gd->gd_tls_ca == NULL)
		proc_badmsg(&gd->gd_ps, PROC_PARENT, msg);
}

/*
 * [str db, str version, u32 port, str ssh_host, u32 ssh_port,
 *  str ssh_path, u32 ssh_ttl, str secret, u32 skew] + fd of the
 * database's directory (ours to close).
 */
static void
gatewayd_settings(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct gateway_cfg	*gc = &gd->gd_cfg;
	struct ipc_rd		 r;
	uint32_t		 n = 0;
	int			 fd;

	/* The database directory: our working directory from now on. */
	fd = ipc_fd(msg);
	if (fd == -1 || fchdir(fd) == -1) {
		log_warn("database directory");
		proc_badmsg(&gd->gd_ps, PROC_PARENT, msg);
	}
	close(fd);
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 9) {
		ipc_rd_strbuf(&r, gc->gc_db, sizeof(gc->gc_db));
		ipc_rd_strbuf(&r, gc->gc_version, sizeof(gc->gc_version));
		ipc_rd_u32(&r, &gc->gc_port);
		ipc_rd_strbuf(&r, gc->gc_ssh_gateway_host,
		    sizeof(gc->gc_ssh_gateway_host));
		ipc_rd_u32(&r, &gc->gc_ssh_gateway_port);
		ipc_rd_strbuf(&r, gc->gc_ssh_connect_path,
		    sizeof(gc->gc_ssh_connect_path));
		ipc_rd_u32(&r, &gc->gc_ssh_session_ttl);
		ipc_rd_strbuf(&r, gc->gc_handshake_secret,
		    sizeof(gc->gc_handshake_secret));
		ipc_rd_u32(&r, &gc->gc_handshake_skew);
	}
	if (ipc_rd_end(&r) == -1 || n != 9 || gc->gc_db[0] == '\0')
		proc_badmsg(&gd->gd_ps, PROC_PARENT, msg);
}

/*
 * The configuration is complete: serve, then confine.  IPC_SETUP_DONE
 * goes back after this, so the parent's "ready" means the server
 * accepts on the port.
 */
static void
gatewayd_setup_done(struct proc_self *ps)
{
	struct gatewayd	*gd = ps->ps_arg;

	if (gd->gd_listen_fd == -1 || gd->gd_tls_cert == NULL ||
	    gd->gd_cfg.gc_db[0] == '\0')
		fatalx("incomplete configuration from the parent");
	gatewayd_serve(gd);
	gatewayd_sandbox(gd);
	driver_link_start(gd);
}

static void
gatewayd_serve(struct gatewayd *gd)
{
	SSL_CTX		*ctx;
	const char	*base;

	/* Relative to the working directory (dbvfs.c). */
	base = strrchr(gd->gd_cfg.gc_db, '/');
	base = base != NULL ? base + 1 : gd->gd_cfg.gc_db;
	if (dbvfs_init() == -1 || (gd->gd_store = store_open(base)) == NULL)
		fatalx("cannot open the database %s", gd->gd_cfg.gc_db);
	ctx = tls_server_ctx_mem(gd->gd_tls_cert, gd->gd_tls_key,
	    gd->gd_tls_ca);
	/* The key stays in the SSL_CTX only. */
	explicit_bzero(gd->gd_tls_key, strlen(gd->gd_tls_key));
	free(gd->gd_tls_key);
	gd->gd_tls_key = NULL;
	if (ctx == NULL)
		fatalx("cannot set up TLS");
	gd->gd_tls_ctx = ctx;
	if ((gd->gd_srv = grpc_server_new(gd->gd_ps.ps_base, ctx,
	    GD_MAX_MSG)) == NULL)
		fatalx("grpc_server_new");
	grpc_server_version(gd->gd_srv, gd->gd_cfg.gc_version);
	if (probe_init(gd) == -1)
		log_warnx("inference endpoints cannot be verified");
	gatewayd_register(gd);
	if (bus_init != NULL)
		gd->gd_bus = bus_init(gd);
	/* The server owns the fd from here on, also on failure. */
	if (grpc_server_listen_fd(gd->gd_srv, gd->gd_listen_fd) == -1)
		fatalx("cannot serve on the listening socket");
	gd->gd_listen_fd = -1;
	if ((gd->gd_sigterm = evsignal_new(gd->gd_ps.ps_base, SIGTERM,
	    gatewayd_sigterm, gd)) == NULL ||
	    evsignal_add(gd->gd_sigterm, NULL) == -1)
		fatalx("evsignal SIGTERM");
	log_info("serving on port %u", gd->gd_cfg.gc_port);
}

static void
gatewayd_parent_gone(struct proc_self *ps)
{
	gatewayd_stop(ps->ps_arg, "parent gone");
}

static void
gatewayd_sigterm(evutil_socket_t sig, short events, void *arg)
{
	(void)sig;
	(void)events;
	gatewayd_stop(arg, "SIGTERM");
}

/*
 * A graceful stop: no new connections, GOAWAY, calls in flight may
 * finish for a few seconds (the parent's SIGKILL comes later).
 */
static void
gatewayd_stop(struct gatewayd *gd, const char *why)
{
	struct timeval	 tv = { GATEWAYD_STOP_SECS, 0 };

	if (gd->gd_stopping)
		return;
	gd->gd_stopping = 1;
	if (gd->gd_srv == NULL)
		exit(0);
	log_debug("%s, stopping", why);
	gd->gd_deadline = evtimer_new(gd->gd_ps.ps_base, gatewayd_deadline,
	    gd);
	if (gd->gd_deadline == NULL || evtimer_add(gd->gd_deadline, &tv) == -1)
		exit(0);
	grpc_server_shutdown(gd->gd_srv, gatewayd_stopped, gd);
}

/* The store is closed cleanly: the WAL is checkpointed. */
static void
gatewayd_stopped(void *arg)
{
	struct gatewayd	*gd = arg;

	store_close(gd->gd_store);
	exit(0);
}

static void
gatewayd_deadline(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	gatewayd_stopped(arg);
}

/* Groups written in other files are optional (weak symbols). */
static void
gatewayd_register(struct gatewayd *gd)
{
	rpc_sandbox_register(gd);
	rpc_provider_register(gd);
	rpc_inference_register(gd);
	if (rpc_config_register != NULL)
		rpc_config_register(gd);
	if (rpc_watch_register != NULL)
		rpc_watch_register(gd);
	if (rpc_logs_register != NULL)
		rpc_logs_register(gd);
	rpc_ssh_register(gd);
	rpc_exec_register(gd);
	connect_ssh_register(gd);
	rpc_start(gd);
}

/*
 * SQLite needs the database's directory, our working directory (the
 * file, its -wal, -shm and -journal come and go); nothing else on the
 * filesystem.  TCP connect to any port and "inet" are for the
 * inference endpoint check (probe.c); the resolver was set up before.
 */
static void
gatewayd_sandbox(struct gatewayd *gd)
{
	(void)gd;
	if (sandbox_unveil(".", "rwc") == -1)
		fatalx("unveil the database directory");
	if (sandbox_unveil_anyport(SANDBOX_NET_CONNECT) == -1)
		fatalx("unveil tcp connect");
	sandbox_unveil(NULL, NULL);
	sandbox_pledge("stdio rpath wpath cpath inet unix recvfd");
}
