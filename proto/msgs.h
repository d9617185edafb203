/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#ifndef MSGS_H
#define MSGS_H

#include <stdint.h>

enum proc_id {
#define PROC(id, name)	id,
#include "procs.def"
#undef PROC
	PROC_MAX
};

#define P(id)		(1U << (id))
#define ANY		((1U << PROC_MAX) - 1)
#define DAEMONS		(ANY & ~(P(PROC_PARENT) | P(PROC_CONTROL)))

enum ipc_type {
	IPC_NONE = 0,
#define IPC_MSG(type, senders, receivers)	type,
#include "msgs.def"
#undef IPC_MSG
	IPC_TYPE_MAX
};

/* names.c */
const char	*ipc_type_str(uint32_t);
const char	*proc_name(int);
int		 proc_byname(const char *);
/* 1 iff a message of this type may go from one process to the other */
int		 ipc_msg_allowed(uint32_t, int, int);

#endif /* MSGS_H */
