/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The subscription sets of logd and watchd (subs.h): the buses, the
 * subscribers, lag, deletion and a new gatewayd.  What a bus replays
 * and what a subscriber follows stays in the daemon.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libgrpc/grpc_wire.h"
#include "log.h"
#include "proc.h"
#include "subs.h"

static int	 subs_buscmp(struct subs_bus *, struct subs_bus *);
static int	 subs_subcmp(struct subs_sub *, struct subs_sub *);
static void	 subs_busfree(struct subs *, struct subs_bus *);

/* libbsd's static tree macros expect BSD's __unused. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

RB_PROTOTYPE_STATIC(subs_bustree, subs_bus, sb_node, subs_buscmp);
RB_GENERATE_STATIC(subs_bustree, subs_bus, sb_node, subs_buscmp)
RB_PROTOTYPE_STATIC(subs_subtree, subs_sub, ss_node, subs_subcmp);
RB_GENERATE_STATIC(subs_subtree, subs_sub, ss_node, subs_subcmp)

void
subs_init(struct subs *s, const struct subs_ops *ops, int (*send)(void *,
    uint32_t, uint32_t, struct ipc_wr *), void *arg)
{
	memset(s, 0, sizeof(*s));
	RB_INIT(&s->s_buses);
	RB_INIT(&s->s_subs);
	s->s_ops = ops;
	s->s_send = send;
	s->s_arg = arg;
}

/*
 * The send function of a bus daemon: arg is its struct proc_self, the
 * subscribers are gatewayd's streams.  No fd goes with the frame.
 */
int
subs_gatewayd(void *arg, uint32_t type, uint32_t peerid, struct ipc_wr *w)
{
	return proc_child_compose_wr(arg, PROC_GATEWAY, type, peerid, -1, w);
}

static int
subs_buscmp(struct subs_bus *a, struct subs_bus *b)
{
	return strcmp(a->sb_id, b->sb_id);
}

static int
subs_subcmp(struct subs_sub *a, struct subs_sub *b)
{
	return a->ss_id < b->ss_id ? -1 : a->ss_id > b->ss_id;
}

/*
 * The bus of sandbox id; NULL if there is none and !create, or if id is
 * too long.  A new bus is so_busize bytes of zeroes but for its head.
 */
struct subs_bus *
subs_bus(struct subs *s, const char *id, int create)
{
	struct subs_bus	 key, *sb;

	if (strlcpy(key.sb_id, id, sizeof(key.sb_id)) >= sizeof(key.sb_id))
		return NULL;
	if ((sb = RB_FIND(subs_bustree, &s->s_buses, &key)) != NULL ||
	    !create)
		return sb;
	if ((sb = calloc(1, s->s_ops->so_busize)) == NULL)
		fatal("%s", __func__);
	strlcpy(sb->sb_id, id, sizeof(sb->sb_id));
	TAILQ_INIT(&sb->sb_subs);
	RB_INSERT(subs_bustree, &s->s_buses, sb);
	s->s_nbuses++;
	return sb;
}

static void
subs_busfree(struct subs *s, struct subs_bus *sb)
{
	RB_REMOVE(subs_bustree, &s->s_buses, sb);
	s->s_nbuses--;
	if (s->s_ops->so_busfree != NULL)
		s->s_ops->so_busfree(sb);
	free(sb);
}

/* A new subscriber (so_subsize bytes) of sb; NULL if subid is taken. */
struct subs_sub *
subs_add(struct subs *s, struct subs_bus *sb, uint32_t subid)
{
	struct subs_sub	*ss;

	if ((ss = calloc(1, s->s_ops->so_subsize)) == NULL)
		fatal("%s", __func__);
	ss->ss_id = subid;
	if (RB_INSERT(subs_subtree, &s->s_subs, ss) != NULL) {
		free(ss);
		return NULL;
	}
	s->s_nsubs++;
	ss->ss_bus = sb;
	TAILQ_INSERT_TAIL(&sb->sb_subs, ss, ss_entry);
	return ss;
}

/* Any frame to gatewayd; the writer is consumed. */
int
subs_send(struct subs *s, uint32_t type, uint32_t peerid, struct ipc_wr *w)
{
	return s->s_send(s->s_arg, type, peerid, w);
}

/* A frame to one subscriber: -1 if it was lost (and counted). */
int
subs_deliver(struct subs *s, struct subs_sub *ss, uint32_t type,
    struct ipc_wr *w)
{
	if (subs_send(s, type, ss->ss_id, w) == 0)
		return 0;
	ss->ss_dropped++;
	s->s_dropped++;
	return -1;
}

/*
 * Before a frame to ss: 0 it may have it.  A subscriber that lost one
 * loses this one too and learns that it lagged: 1 its subscription is
 * over and freed, -1 the end could not be queued either (it stays,
 * and hears of it at the next frame).
 */
int
subs_lagging(struct subs *s, struct subs_sub *ss)
{
	char	 msg[128];

	if (ss->ss_dropped == 0)
		return 0;
	ss->ss_dropped++;
	s->s_dropped++;
	snprintf(msg, sizeof(msg), "watch stream lagged; dropped %llu "
	    "messages", (unsigned long long)ss->ss_dropped);
	if (subs_end(s, ss->ss_id, GRPC_RESOURCE_EXHAUSTED, msg) == -1)
		return -1;
	subs_subfree(s, ss);
	return 1;
}

/* The end of stream subid; msg may be NULL. */
int
subs_end(struct subs *s, uint32_t subid, int code, const char *msg)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_u32(&w, (uint32_t)code);
	ipc_wr_str(&w, msg);
	return subs_send(s, s->s_ops->so_end, subid, &w);
}

void
subs_subfree(struct subs *s, struct subs_sub *ss)
{
	RB_REMOVE(subs_subtree, &s->s_subs, ss);
	s->s_nsubs--;
	TAILQ_REMOVE(&ss->ss_bus->sb_subs, ss, ss_entry);
	if (s->s_ops->so_subfree != NULL)
		s->s_ops->so_subfree(ss);
	free(ss);
}

void
subs_unsubscribe(struct subs *s, uint32_t subid)
{
	struct subs_sub	 key, *ss;

	key.ss_id = subid;
	if ((ss = RB_FIND(subs_subtree, &s->s_subs, &key)) != NULL)
		subs_subfree(s, ss);
}

/* The sandbox is gone: its streams close and its bus is freed. */
void
subs_drop(struct subs *s, const char *id)
{
	struct subs_bus	*sb;
	struct subs_sub	*ss;

	if ((sb = subs_bus(s, id, 0)) == NULL)
		return;
	while ((ss = TAILQ_FIRST(&sb->sb_subs)) != NULL) {
		subs_end(s, ss->ss_id, GRPC_CANCELLED, "stream closed");
		subs_subfree(s, ss);
	}
	subs_busfree(s, sb);
}

/* A new gatewayd: the old one's subscriptions died with it. */
void
subs_reset(struct subs *s)
{
	struct subs_sub	*ss;

	while ((ss = RB_MIN(subs_subtree, &s->s_subs)) != NULL)
		subs_subfree(s, ss);
}

/* Everything, as at exit (tests look for leaks). */
void
subs_clear(struct subs *s)
{
	struct subs_bus	*sb;

	subs_reset(s);
	while ((sb = RB_MIN(subs_bustree, &s->s_buses)) != NULL)
		subs_busfree(s, sb);
}

/*
 * gatewayd's so_reset and so_unsub frames; -1 if msg is neither.
 * Malformed ones are fatal: gatewayd is one of ours.
 */
int
subs_dispatch(struct subs *s, struct proc_self *ps, int peer,
    struct ipc_msg *msg)
{
	uint32_t	 type = ipc_type(msg);

	if (type != s->s_ops->so_reset && type != s->s_ops->so_unsub)
		return -1;
	if (proc_msg_empty(msg) == -1)
		proc_badmsg(ps, peer, msg);
	if (type == s->s_ops->so_reset)
		subs_reset(s);
	else
		subs_unsubscribe(s, ipc_peerid(msg));
	return 0;
}

/* [str sandbox_id] into id; -1 if msg is not that. */
int
subs_msg_id(struct ipc_msg *msg, char *id, size_t len)
{
	struct ipc_rd	 r;
	uint32_t	 n = 0;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_strbuf(&r, id, len);
	return ipc_rd_end(&r) == -1 || n != 1 ? -1 : 0;
}

/* A restarted daemon tells gatewayd that its subscriptions are gone. */
void
subs_restarted(struct subs *s, const struct proc_self *ps)
{
	struct ipc_wr	 w;

	if (ps->ps_restarts == 0)
		return;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 0);
	subs_send(s, s->s_ops->so_reset, 0, &w);
}
