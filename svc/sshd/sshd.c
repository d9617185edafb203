/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * sshd's main and its conversation with the parent.  Before
 * IPC_SETUP_DONE the parent sends the listening socket
 * (IPC_SETUP_SSH_LISTEN: <state>/run/ssh.sock, in the host's mount
 * namespace, out of the agent's reach) and the keys (IPC_SSH_KEYS: the
 * per-sandbox Ed25519 host key, the NSSH1 secret and skew).  Both are
 * held in memory only.  Afterwards the parent answers our requests:
 * IPC_SSH_SPAWNED (a session's fds), IPC_SSH_EXIT, IPC_SSH_TCPIP_RESULT.
 */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

#include "sshd.h"

struct sshd	*sshd_g;

static int	 sshd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static void	 sshd_listen_msg(struct sshd *, struct ipc_msg *);
static void	 sshd_keys_msg(struct sshd *, struct ipc_msg *);
static void	 sshd_chan_msg(struct sshd *, struct ipc_msg *);
static void	 sshd_sandbox(struct proc_self *);
static int	 sshd_ctl_keys(struct proc_self *, uint32_t);
static void	 sshd_ctl_fill(struct proc_self *, uint32_t, struct ipc_wr *);

static const struct proc_handler sshd_peers[] = {
	{ PROC_PARENT,	sshd_dispatch_parent },
};

static const struct proc_ctl_ops sshd_ctlops = {
	sshd_ctl_keys,
	sshd_ctl_fill,
};

int
main(int argc, char *argv[])
{
	static struct sshd	 sd;

	proc_child_init(&sd.sd_ps, PROC_SSH, argc, argv);
	sshd_g = &sd;
	sd.sd_base = sd.sd_ps.ps_base;
	sd.sd_listen = -1;
	sd.sd_nextid = 1;
	TAILQ_INIT(&sd.sd_conns);
	TAILQ_INIT(&sd.sd_chans);
	if (ipc_set_maxsize(&sd.sd_ps.ps_chans[PROC_PARENT].ch_ev.ie_ib,
	    SSHD_IPC_MAX) == -1)
		fatal("ipc_set_maxsize");
	/* OpenSSL reads its configuration now, before the sandbox. */
	if (ssh_init() != SSH_OK)
		fatalx("ssh_init");
	if ((sd.sd_nonces = nssh_cache_new()) == NULL)
		fatal("nssh_cache_new");
	proc_child_handlers(&sd.sd_ps, sshd_peers,
	    sizeof(sshd_peers) / sizeof(sshd_peers[0]));
	proc_child_setup(&sd.sd_ps, sshd_sandbox, &sshd_ctlops, &sd);
	proc_child_run(&sd.sd_ps);
}

static int
sshd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct sshd	*sd = ps->ps_arg;

	(void)peer;
	switch (ipc_type(msg)) {
	case IPC_SETUP_SSH_LISTEN:
		sshd_listen_msg(sd, msg);
		break;
	case IPC_SSH_KEYS:
		sshd_keys_msg(sd, msg);
		break;
	case IPC_SSH_SPAWNED:
	case IPC_SSH_EXIT:
	case IPC_SSH_TCPIP_RESULT:
		sshd_chan_msg(sd, msg);
		break;
	default:
		return -1;
	}
	return 0;
}

/* [] + fd: ours from here on (the parent keeps its own copy). */
static void
sshd_listen_msg(struct sshd *sd, struct ipc_msg *msg)
{
	int	 fd;

	fd = ipc_fd(msg);
	if (proc_msg_empty(msg) == -1 || fd == -1) {
		if (fd != -1)
			close(fd);
		proc_badmsg(&sd->sd_ps, PROC_PARENT, msg);
	}
	if (sd->sd_ev_listen != NULL) {
		event_free(sd->sd_ev_listen);
		close(sd->sd_listen);
	}
	sd->sd_listen = fd;
	sd->sd_ev_listen = event_new(sd->sd_base, fd, EV_READ | EV_PERSIST,
	    preface_accept, sd);
	if (sd->sd_ev_listen == NULL || event_add(sd->sd_ev_listen, NULL) ==
	    -1)
		fatalx("event_add listener");
}

/* [str host key, str secret, u32 skew] */
static void
sshd_keys_msg(struct sshd *sd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	ssh_key		 key = NULL;
	char		*pem = NULL, *secret = NULL;
	uint32_t	 n = 0, skew = 0;
	bool		 no = false;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 3) {
		ipc_rd_str(&r, &pem);
		ipc_rd_str(&r, &secret);
		ipc_rd_u32(&r, &skew);
	}
	if (ipc_rd_end(&r) == -1 || n != 3 || secret == NULL ||
	    secret[0] == '\0' || skew == 0) {
		free(pem);
		free(secret);
		proc_badmsg(&sd->sd_ps, PROC_PARENT, msg);
	}
	if (ssh_pki_import_privkey_base64(pem, NULL, NULL, NULL, &key) !=
	    SSH_OK)
		fatalx("cannot import the host key");
	explicit_bzero(pem, strlen(pem));
	free(pem);
	if (sd->sd_bind != NULL)
		ssh_bind_free(sd->sd_bind);
	if ((sd->sd_bind = ssh_bind_new()) == NULL)
		fatalx("ssh_bind_new");
	/* No configuration file: everything is set here. */
	if (ssh_bind_options_set(sd->sd_bind, SSH_BIND_OPTIONS_PROCESS_CONFIG,
	    &no) != SSH_OK || ssh_bind_options_set(sd->sd_bind,
	    SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK)
		fatalx("ssh_bind_options_set: %s", ssh_get_error(sd->sd_bind));
	if (sd->sd_secret != NULL) {
		explicit_bzero(sd->sd_secret, strlen(sd->sd_secret));
		free(sd->sd_secret);
	}
	sd->sd_secret = secret;
	sd->sd_skew = skew;
	log_info("host key loaded, handshake skew %us", skew);
}

/* Answers about a channel; it may be gone already (then dropped). */
static void
sshd_chan_msg(struct sshd *sd, struct ipc_msg *msg)
{
	struct chan	*ch;
	int		 fd;

	if ((ch = chan_find(sd, ipc_peerid(msg))) == NULL) {
		if ((fd = ipc_fd(msg)) != -1)
			close(fd);
		return;
	}
	switch (ipc_type(msg)) {
	case IPC_SSH_SPAWNED:
		chan_spawned(ch, msg);
		break;
	case IPC_SSH_EXIT:
		chan_exit(ch, msg);
		break;
	default:
		chan_tcpip_result(ch, msg);
		break;
	}
	conn_pump(ch->ch_conn);
}

/*
 * No filesystem; accept on the passed Unix socket; fds come from the
 * parent.  Nothing is executed, so no fork either.
 */
static void
sshd_sandbox(struct proc_self *ps)
{
	struct sshd	*sd = ps->ps_arg;

	if (sd->sd_listen == -1 || sd->sd_bind == NULL)
		fatalx("no listener or keys from the parent");
	sandbox_unveil(NULL, NULL);
	sandbox_rlimit_nofork();
	sandbox_pledge("stdio unix recvfd");
}

static int
sshd_ctl_keys(struct proc_self *ps, uint32_t type)
{
	(void)ps;
	return type == IPC_CTL_STATS ? 5 : 0;
}

static void
sshd_ctl_fill(struct proc_self *ps, uint32_t type, struct ipc_wr *w)
{
	struct sshd	*sd = ps->ps_arg;

	if (type != IPC_CTL_STATS)
		return;
	control_kv_u64(w, "connections_open", (uint64_t)sd->sd_nconns);
	control_kv_u64(w, "preface_ok", sd->sd_st_ok);
	control_kv_u64(w, "preface_rejected", sd->sd_st_err);
	control_kv_u64(w, "sessions", sd->sd_st_sessions);
	control_kv_u64(w, "nonces", nssh_cache_size(sd->sd_nonces));
}
