/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * sshd: the sandbox's SSH server, an unprivileged daemon of the
 * sandbox tree (libexec/openshell/sshd).  It never spawns, opens or
 * connects anything itself: the parent (openshell-sandbox) does, on
 * requests that pass the monitor table (monitor.c).  One file per
 * concern:
 *
 *	sshd.c		main, the parent's messages, the sandbox
 *	preface.c	the NSSH1 line on every new connection
 *	conn.c		one SSH connection: libssh on libevent
 *	monitor.c	which request to the parent is allowed when
 *	chan.c	session and direct-tcpip channels
 */

#ifndef SSHD_H
#define SSHD_H

#include <sys/queue.h>

#include <stdint.h>

#include <event2/event.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>

#include "libnssh/nssh.h"
#include "proc.h"

#define SSHD_MAX_CONNS		64
#define SSHD_PREFACE_TIMEOUT	10	/* s */
#define SSHD_KEX_TIMEOUT	10	/* s */
#define SSHD_MAX_ENV		32
#define SSHD_IPC_MAX		(256 * 1024)

/* What a connection may ask the parent for (monitor.c). */
enum conn_state {
	CONN_PREFACE,		/* reading NSSH1: nothing */
	CONN_PREAUTH,		/* SSH up, not authenticated: nothing */
	CONN_AUTHED,		/* sessions, window changes, signals, tcpip */
};

enum chan_kind {
	CHAN_SESSION,
	CHAN_TCPIP,
};

/* IPC_SSH_SPAWN kinds */
#define SPAWN_PIPES	0
#define SPAWN_PTY	1
#define SPAWN_SFTP	2

struct sshd;
struct conn;

struct chan {
	TAILQ_ENTRY(chan)	 ch_entry;	/* sshd's list */
	struct conn		*ch_conn;
	ssh_channel		 ch_ch;
	struct ssh_channel_callbacks_struct ch_cb;
	uint32_t		 ch_id;		/* peerid with the parent */
	enum chan_kind		 ch_kind;
	uint32_t		 ch_once;	/* REQ_ONCE types done */
	int			 ch_pty;
	char			 ch_term[64];
	uint32_t		 ch_cols, ch_rows;
	char			*ch_env[SSHD_MAX_ENV];
	int			 ch_nenv;
	int			 ch_spawning;
	int			 ch_spawned;
	int			 ch_fd[3];	/* stdin/PTY, stdout, stderr */
	struct event		*ch_ev[3];	/* read: fd 1, 2 (or 0: PTY) */
	struct event		*ch_ev_in;	/* write on fd 0 */
	struct evbuffer		*ch_in;		/* client -> stdin, pending */
	uint32_t		 ch_held;	/* client data libssh keeps */
	int			 ch_in_eof;	/* client sent EOF */
	int			 ch_out_open;	/* output fds not at EOF yet */
	int			 ch_exited;
	int			 ch_signalled;
	uint32_t		 ch_status;
	char			 ch_signame[16];
	int			 ch_closing;
};

struct conn {
	TAILQ_ENTRY(conn)	 c_entry;
	struct sshd		*c_sd;
	int			 c_fd;
	enum conn_state		 c_state;
	char			 c_line[NSSH_LINE_MAX + 1];
	size_t			 c_len;
	struct event		*c_ev_rd;
	struct event		*c_ev_wr;
	struct event		*c_timer;
	ssh_session		 c_ssh;
	ssh_event		 c_sev;
	struct ssh_server_callbacks_struct c_srvcb;
	int			 c_dead;
	int			 c_inpump;
	int			 c_nchans;
};

struct sshd {
	struct proc_self	 sd_ps;
	struct event_base	*sd_base;
	int			 sd_listen;
	struct event		*sd_ev_listen;
	ssh_bind		 sd_bind;
	char			*sd_secret;
	uint32_t		 sd_skew;
	struct nssh_cache	*sd_nonces;
	TAILQ_HEAD(, conn)	 sd_conns;
	TAILQ_HEAD(, chan)	 sd_chans;
	int			 sd_nconns;
	uint32_t		 sd_nextid;
	uint64_t		 sd_st_ok;
	uint64_t		 sd_st_err;
	uint64_t		 sd_st_sessions;
};

extern struct sshd	*sshd_g;

/* preface.c */
void	 preface_accept(int, short, void *);

/* conn.c */
void	 conn_ssh_start(struct conn *);
void	 conn_pump(struct conn *);
void	 conn_free(struct conn *);

/* monitor.c */
void	 monitor_request(struct conn *, struct chan *, uint32_t,
	    struct ipc_wr *);

/* chan.c */
ssh_channel chan_open_session(ssh_session, void *);
int	 chan_message(ssh_session, ssh_message, void *);
struct chan *chan_find(struct sshd *, uint32_t);
void	 chan_spawned(struct chan *, struct ipc_msg *);
void	 chan_exit(struct chan *, struct ipc_msg *);
void	 chan_tcpip_result(struct chan *, struct ipc_msg *);
void	 chan_free(struct chan *);
void	 chan_resume(struct chan *);
void	 chan_conn_gone(struct conn *);

#endif /* SSHD_H */
