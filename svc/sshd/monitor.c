/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The monitor table, after OpenSSH's monitor.c: every request sshd may
 * send to the parent, with the connection states that permit it.
 * REQ_PERMIT marks a request allowed in those states; REQ_ONCE allows
 * it once per channel (one process per session channel); REQ_LIVE
 * needs the channel's process to be asked for and not reported gone
 * (the parent handles requests in order, so it knows the process).  Anything else means
 * this process is confused or subverted: fatalx, and the parent
 * restarts a clean sshd.  The parent checks again on its side.
 */

#include <stdlib.h>

#include "log.h"

#include "sshd.h"

#define REQ_PERMIT	0x1
#define REQ_ONCE	0x2
#define REQ_LIVE	0x4

#define ST(s)		(1U << (s))

struct mon_req {
	uint32_t	 mr_type;
	uint32_t	 mr_states;
	int		 mr_flags;
	enum chan_kind	 mr_kind;
};

#define AUTHED		ST(CONN_AUTHED)

static const struct mon_req monitor_table[] = {
	{ IPC_SSH_SPAWN,  AUTHED, REQ_PERMIT | REQ_ONCE, CHAN_SESSION },
	{ IPC_SSH_WINCH,  AUTHED, REQ_PERMIT | REQ_LIVE, CHAN_SESSION },
	{ IPC_SSH_SIGNAL, AUTHED, REQ_PERMIT | REQ_LIVE, CHAN_SESSION },
	{ IPC_SSH_TCPIP,  AUTHED, REQ_PERMIT | REQ_ONCE, CHAN_TCPIP },
};

static const struct mon_req *monitor_lookup(uint32_t);

static const struct mon_req *
monitor_lookup(uint32_t type)
{
	size_t	 i;

	for (i = 0; i < sizeof(monitor_table) / sizeof(monitor_table[0]); i++)
		if (monitor_table[i].mr_type == type)
			return &monitor_table[i];
	return NULL;
}

/*
 * Send w (consumed) as a request of this type for channel ch, or die.
 * The channel's id names the request (ih_peerid) in both directions.
 */
void
monitor_request(struct conn *c, struct chan *ch, uint32_t type,
    struct ipc_wr *w)
{
	const struct mon_req	*mr;
	uint32_t		 bit;

	if ((mr = monitor_lookup(type)) == NULL ||
	    !(mr->mr_flags & REQ_PERMIT))
		fatalx("monitor: %s is not a request", ipc_type_str(type));
	if (!(mr->mr_states & ST(c->c_state)))
		fatalx("monitor: %s not permitted in state %d",
		    ipc_type_str(type), (int)c->c_state);
	if (ch == NULL || ch->ch_conn != c || ch->ch_kind != mr->mr_kind)
		fatalx("monitor: %s on a wrong channel", ipc_type_str(type));
	bit = 1U << (mr - monitor_table);
	if ((mr->mr_flags & REQ_ONCE) && (ch->ch_once & bit))
		fatalx("monitor: %s twice on channel %u", ipc_type_str(type),
		    ch->ch_id);
	if ((mr->mr_flags & REQ_LIVE) && (!ch->ch_spawning || ch->ch_exited))
		fatalx("monitor: %s without a live process",
		    ipc_type_str(type));
	ch->ch_once |= bit;
	if (proc_child_compose_wr(&c->c_sd->sd_ps, PROC_PARENT, type,
	    ch->ch_id, -1, w) == -1)
		fatal("%s", __func__);
}
