/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Subscription sets of the bus daemons (logd, watchd): buses keyed by
 * sandbox id, each with the subscribers of gatewayd's WatchSandbox
 * streams, identified by the stream's peerid.  The daemon's own bus
 * and subscriber structs begin with struct subs_bus / struct subs_sub
 * and carry what they replay and filter; this file knows nothing of
 * it.
 *
 * A subscriber never blocks the others: a frame that cannot be queued
 * for it counts as dropped, and the subscription then ends with
 * RESOURCE_EXHAUSTED as soon as that can be said (control-plane.md
 * 2.5).  A deleted sandbox ends its subscribers with CANCELLED.
 */

#ifndef SUBS_H
#define SUBS_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "ipc_pack.h"

#define SUBS_IDMAX		128	/* bytes of a sandbox id */

struct proc_self;

struct subs_bus {
	RB_ENTRY(subs_bus)	 sb_node;
	char			 sb_id[SUBS_IDMAX + 1];
	TAILQ_HEAD(, subs_sub)	 sb_subs;
};

struct subs_sub {
	RB_ENTRY(subs_sub)	 ss_node;	/* s_subs, by id */
	TAILQ_ENTRY(subs_sub)	 ss_entry;	/* sb_subs */
	uint32_t		 ss_id;		/* gatewayd's peerid */
	struct subs_bus		*ss_bus;
	uint64_t		 ss_dropped;	/* frames it could not get */
};

RB_HEAD(subs_bustree, subs_bus);
RB_HEAD(subs_subtree, subs_sub);

/* What differs between the daemons. */
struct subs_ops {
	size_t		 so_busize;	/* the daemon's bus struct */
	size_t		 so_subsize;	/* the daemon's subscriber struct */
	/* free what the daemon's structs hold; NULL: nothing */
	void		(*so_busfree)(struct subs_bus *);
	void		(*so_subfree)(struct subs_sub *);
	uint32_t	 so_end;	/* [u32 grpc code, str message] */
	uint32_t	 so_reset;	/* [] both ways: subscriptions gone */
	uint32_t	 so_unsub;	/* [] from gatewayd, peerid names it */
};

/*
 * Frames go through s_send (a test can catch them); it frees the
 * writer and returns -1 if the frame could not be queued.
 */
struct subs {
	struct subs_bustree	 s_buses;
	struct subs_subtree	 s_subs;
	const struct subs_ops	*s_ops;
	int			(*s_send)(void *, uint32_t, uint32_t,
				    struct ipc_wr *);
	void			*s_arg;
	size_t			 s_nbuses;
	size_t			 s_nsubs;
	uint64_t		 s_dropped;	/* frames subscribers lost */
};

void	 subs_init(struct subs *, const struct subs_ops *,
	    int (*)(void *, uint32_t, uint32_t, struct ipc_wr *), void *);
int	 subs_gatewayd(void *, uint32_t, uint32_t, struct ipc_wr *);
struct subs_bus *subs_bus(struct subs *, const char *, int);
struct subs_sub *subs_add(struct subs *, struct subs_bus *, uint32_t);
int	 subs_send(struct subs *, uint32_t, uint32_t, struct ipc_wr *);
int	 subs_deliver(struct subs *, struct subs_sub *, uint32_t,
	    struct ipc_wr *);
int	 subs_lagging(struct subs *, struct subs_sub *);
int	 subs_end(struct subs *, uint32_t, int, const char *);
void	 subs_subfree(struct subs *, struct subs_sub *);
void	 subs_unsubscribe(struct subs *, uint32_t);
void	 subs_drop(struct subs *, const char *);
void	 subs_reset(struct subs *);
void	 subs_clear(struct subs *);
int	 subs_dispatch(struct subs *, struct proc_self *, int,
	    struct ipc_msg *);
int	 subs_msg_id(struct ipc_msg *, char *, size_t);
void	 subs_restarted(struct subs *, const struct proc_self *);

#endif /* SUBS_H */
