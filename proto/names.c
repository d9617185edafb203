/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Names and the sender/receiver policy, generated from procs.def and
 * msgs.def.
 */

#include <string.h>

#include "msgs.h"

static const char *proc_names[PROC_MAX] = {
#define PROC(id, name)	[id] = name,
#include "procs.def"
#undef PROC
};

static const struct {
	const char	*name;
	uint32_t	 senders;
	uint32_t	 receivers;
} msg_table[IPC_TYPE_MAX] = {
	[IPC_NONE] = { "IPC_NONE", 0, 0 },
#define IPC_MSG(type, s, r)	[type] = { #type, (s), (r) },
#include "msgs.def"
#undef IPC_MSG
};

const char *
ipc_type_str(uint32_t type)
{
	if (type == IPC_NONE || type >= IPC_TYPE_MAX)
		return "IPC_UNKNOWN";
	return msg_table[type].name;
}

const char *
proc_name(int id)
{
	if (id < 0 || id >= PROC_MAX)
		return "unknown";
	return proc_names[id];
}

int
proc_byname(const char *name)
{
	int	 i;

	for (i = 0; i < PROC_MAX; i++)
		if (strcmp(proc_names[i], name) == 0)
			return i;
	return -1;
}

int
ipc_msg_allowed(uint32_t type, int from, int to)
{
	if (type == IPC_NONE || type >= IPC_TYPE_MAX)
		return 0;
	if (from < 0 || from >= PROC_MAX || to < 0 || to >= PROC_MAX)
		return 0;
	return (msg_table[type].senders & P(from)) != 0 &&
	    (msg_table[type].receivers & P(to)) != 0;
}
