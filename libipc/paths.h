/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Where a gateway keeps its files.  The parent and the CLI must agree on
 * these names, so both derive them here:
 *
 *	<state>			$XDG_STATE_HOME/openshell/clusters/<name>
 *				(default ~/.local/state/openshell/clusters/<name>)
 *	<state>/run		0700: control sockets, pid file
 *	<state>/run/<t>.sock	control socket of daemon <t>
 *
 * A socket path may be longer than sun_path (108 bytes) holds: a long
 * $XDG_STATE_HOME or --state-dir.  paths_sun() then names it through
 * an open descriptor of its directory.
 */

#ifndef PATHS_H
#define PATHS_H

#include <stddef.h>

struct sockaddr_un;

#define PATHS_DEFAULT_NAME	"openshell"
/* <gateway state>/sandboxes/<id>: a local sandbox's --state-dir. */
#define PATHS_SANDBOXES		"sandboxes"

int	 paths_name_ok(const char *);
/* Each returns 0, or -1 when the result does not fit (or, for
 * paths_statedir, when there is no home directory). */
int	 paths_statedir(const char *, char *, size_t);
int	 paths_rundir(const char *, char *, size_t);
int	 paths_ctlsock(const char *, const char *, char *, size_t);
int	 paths_join(char *, size_t, const char *, const char *);
/*
 * The address of the socket at path, for bind() or connect().  *dirfd
 * is -1, or a descriptor the caller closes after that call (the
 * address names the socket through it).  -1 with errno on failure.
 */
int	 paths_sun(const char *, struct sockaddr_un *, int *);

#endif /* PATHS_H */
