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
};

/* state.c */
void	 state_dirs(const char *, const char *);
int	 state_pidfile(const char *, char *, size_t);

/* user.c */
int	 user_resolve(const char *, uid_t *, gid_t *);

#endif /* GATEWAY_H */
