/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#ifndef DBVFS_H
#define DBVFS_H

int	 dbvfs_init(void);

#endif /* DBVFS_H */
