/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The supervisor's side of sshd (session.c): the SSH endpoint, the
 * keys, and the processes and connections sshd asks for.
 */

#ifndef SESSION_H
#define SESSION_H

#define SESSION_SECRET_ENV	"OPENSHELL_SSH_HANDSHAKE_SECRET"
#define SESSION_SKEW_ENV	"OPENSHELL_SSH_HANDSHAKE_SKEW_SECS"
#define SESSION_SOCK		"ssh.sock"
#define SESSION_MAX		64

struct sandbox;
struct proc_tree;
struct ipc_msg;

int	 session_secret(void);
int	 session_listen(struct sandbox *);
void	 session_configure(struct sandbox *, struct proc_tree *);
int	 session_dispatch(struct sandbox *, struct proc_tree *,
	    struct ipc_msg *);
void	 session_close(struct sandbox *);

/* hostkey.c */
char	*hostkey_new(void);

#endif /* SESSION_H */
