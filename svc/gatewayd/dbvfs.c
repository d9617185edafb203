/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd opens its database relative to its working directory, a
 * directory the parent hands over as an fd: as the service user it may
 * not be able to search the directories above it (a root-owned state
 * directory, /root, a 0700 temporary directory).  SQLite's unix VFS
 * turns every name into an absolute path, which would walk those
 * directories again; this VFS is the unix one with names kept as
 * given, so "openshell.db" and its -wal, -shm and -journal siblings
 * resolve against the working directory.
 */

#include <string.h>

#include <sqlite3.h>

#include "dbvfs.h"
#include "log.h"

#define DBVFS_NAME	"openshell-cwd"

static int	 dbvfs_fullpath(sqlite3_vfs *, const char *, int, char *);

static sqlite3_vfs	 dbvfs;

/* Registers the VFS as the default one; 0 or -1. */
int
dbvfs_init(void)
{
	sqlite3_vfs	*unix_vfs;

	if ((unix_vfs = sqlite3_vfs_find("unix")) == NULL) {
		log_warnx("%s: no unix vfs", __func__);
		return -1;
	}
	dbvfs = *unix_vfs;
	dbvfs.zName = DBVFS_NAME;
	dbvfs.pNext = NULL;
	dbvfs.xFullPathname = dbvfs_fullpath;
	if (sqlite3_vfs_register(&dbvfs, 1) != SQLITE_OK) {
		log_warnx("%s: cannot register", __func__);
		return -1;
	}
	return 0;
}

static int
dbvfs_fullpath(sqlite3_vfs *vfs, const char *name, int len, char *out)
{
	(void)vfs;
	if (len <= 0 || strlen(name) >= (size_t)len)
		return SQLITE_CANTOPEN;
	memcpy(out, name, strlen(name) + 1);
	return SQLITE_OK;
}
