/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The per-sandbox log buses (control-plane.md 2.4): a ring of the last
 * LOGBUS_RING lines, its file, and the subscriptions of gatewayd's
 * WatchSandbox streams (libipc/subs.c, which also handles lag).  Buses
 * are created on the first line or subscription and dropped when the
 * sandbox is deleted.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logd.h"
#include "libgrpc/grpc_wire.h"
#include "msgs.h"

static void	 logbus_free(struct subs_bus *);
static void	 logbus_subfree(struct subs_sub *);
static void	 logbus_ring_push(struct logbus *, struct logline *);
static void	 logbus_publish(struct logbuses *, struct logbus *,
		    const struct logline *);
static int	 logbus_send_line(struct logbuses *, struct logsub *,
		    const struct logline *);
static int	 logbus_result(struct logbuses *, uint32_t, uint32_t, int,
		    const struct logbus *, const size_t *, size_t);

static const struct subs_ops logbus_ops = {
	sizeof(struct logbus),
	sizeof(struct logsub),
	logbus_free,
	logbus_subfree,
	IPC_LOGBUS_END,
	IPC_LOGBUS_RESET,
	IPC_LOGBUS_UNSUB,
};

void
logbus_init(struct logbuses *lbs, int (*send)(void *, uint32_t, uint32_t,
    struct ipc_wr *), void *arg)
{
	memset(lbs, 0, sizeof(*lbs));
	subs_init(&lbs->lbs_subs, &logbus_ops, send, arg);
	lbs->lbs_dirfd = -1;
}

/* The bus of sandbox id; NULL if there is none and !create. */
struct logbus *
logbus_get(struct logbuses *lbs, const char *id, int create)
{
	struct logbus	*lb;

	/* subs.c's part comes first: a new bus has no ring yet */
	lb = (struct logbus *)subs_bus(&lbs->lbs_subs, id, create);
	if (lb == NULL || lb->lb_ring != NULL)
		return lb;
	if ((lb->lb_ring = calloc(LOGBUS_RING, sizeof(*lb->lb_ring))) == NULL)
		fatal("%s", __func__);
	lb->lb_persist = logstore_idok(id);
	return lb;
}

static void
logbus_free(struct subs_bus *sb)
{
	struct logbus	*lb = (struct logbus *)sb;
	size_t		 i;

	for (i = 0; i < LOGBUS_RING; i++)
		logline_free(lb->lb_ring[i]);
	free(lb->lb_ring);
}

static void
logbus_subfree(struct subs_sub *ss)
{
	logfilter_clear(&((struct logsub *)ss)->ls_filter);
}

/* The i-th oldest line of the ring, 0 <= i < lb_count. */
const struct logline *
logbus_line(const struct logbus *lb, size_t i)
{
	size_t	 first;

	if (i >= lb->lb_count)
		return NULL;
	first = (lb->lb_head + LOGBUS_RING - lb->lb_count) % LOGBUS_RING;
	return lb->lb_ring[(first + i) % LOGBUS_RING];
}

static void
logbus_ring_push(struct logbus *lb, struct logline *ll)
{
	logline_free(lb->lb_ring[lb->lb_head]);
	lb->lb_ring[lb->lb_head] = ll;
	lb->lb_head = (lb->lb_head + 1) % LOGBUS_RING;
	if (lb->lb_count < LOGBUS_RING)
		lb->lb_count++;
}

/* A line read back from the bus's file: no file write, no subscriber. */
void
logbus_restore(struct logbus *lb, struct logline *ll)
{
	logbus_ring_push(lb, ll);
}

/*
 * The ring takes the lines (and sets the array's slots to NULL); they
 * are written to the file in one go, then go to every subscriber.  -1
 * if the file write failed (the lines are in the ring all the same).
 */
int
logbus_append(struct logbuses *lbs, struct logbus *lb,
    struct logline **lines, size_t n)
{
	size_t	 i;
	int	 rc;

	rc = logstore_append(lbs, lb, lines, n);
	for (i = 0; i < n; i++) {
		logbus_ring_push(lb, lines[i]);
		logbus_publish(lbs, lb, lines[i]);
		lines[i] = NULL;
		lbs->lbs_lines++;
	}
	if (lb->lb_infile > LOGBUS_COMPACT)
		logstore_compact(lbs, lb);
	return rc;
}

static void
logbus_publish(struct logbuses *lbs, struct logbus *lb,
    const struct logline *ll)
{
	struct subs_sub	*ss, *tmp;

	TAILQ_FOREACH_SAFE(ss, &lb->lb_bus.sb_subs, ss_entry, tmp)
		if (logfilter_match(&((struct logsub *)ss)->ls_filter, ll, 1) &&
		    subs_lagging(&lbs->lbs_subs, ss) == 0)
			logbus_send_line(lbs, (struct logsub *)ss, ll);
}

static int
logbus_send_line(struct logbuses *lbs, struct logsub *ls,
    const struct logline *ll)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	logline_write(&w, ls->ls_sub.ss_bus->sb_id, ll);
	return subs_deliver(&lbs->lbs_subs, &ls->ls_sub, IPC_LOGBUS_LINE, &w);
}

/*
 * GetSandboxLogs (2.4): the last `lines' entries (0: the whole ring) in
 * order, filtered; buffer_total counts them before filtering.  Sent as
 * RESULT frames of at most LOGBUS_RESULT_BUDGET bytes, the last one
 * flagged.  No bus is created for an unknown id.
 */
void
logbus_query(struct logbuses *lbs, uint32_t reqid, const char *id,
    uint32_t lines, const struct logfilter *lf)
{
	struct logbus		*lb;
	const struct logline	*ll;
	size_t			*pick, npick = 0, total = 0, i, first;
	size_t			 bytes = 0;

	if ((lb = logbus_get(lbs, id, 0)) != NULL) {
		total = lb->lb_count;
		if (lines > 0 && lines < total)
			total = lines;
	}
	if ((pick = calloc(total + 1, sizeof(*pick))) == NULL)
		fatal("%s", __func__);
	first = lb != NULL ? lb->lb_count - total : 0;
	for (i = 0; i < total; i++) {
		ll = logbus_line(lb, first + i);
		if (!logfilter_match(lf, ll, 0))
			continue;
		bytes += logline_size(ll);
		pick[npick++] = first + i;
		if (bytes < LOGBUS_RESULT_BUDGET)
			continue;
		if (logbus_result(lbs, reqid, (uint32_t)total, 0, lb, pick,
		    npick) == -1)
			break;
		npick = bytes = 0;
	}
	logbus_result(lbs, reqid, (uint32_t)total, 1, lb, pick, npick);
	free(pick);
}

static int
logbus_result(struct logbuses *lbs, uint32_t reqid, uint32_t total,
    int last, const struct logbus *lb, const size_t *pick, size_t n)
{
	struct ipc_wr	 w;
	size_t		 i;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_u32(&w, total);
	ipc_wr_bool(&w, last);
	ipc_wr_array(&w, (uint32_t)n);
	for (i = 0; i < n; i++)
		logline_write(&w, lb->lb_bus.sb_id, logbus_line(lb, pick[i]));
	return subs_send(&lbs->lbs_subs, IPC_LOGBUS_RESULT, reqid, &w);
}

/*
 * WatchSandbox's log part (2.5): replay the last `tail' lines through
 * the whole filter, then live lines through source and level only.
 * The subscription takes the filter's contents.  -1 if subid is taken.
 */
int
logbus_subscribe(struct logbuses *lbs, uint32_t subid, const char *id,
    uint32_t tail, struct logfilter *lf)
{
	struct logbus		*lb;
	struct logsub		*ls;
	const struct logline	*ll;
	size_t			 n, i;

	if ((lb = logbus_get(lbs, id, 1)) == NULL ||
	    (ls = (struct logsub *)subs_add(&lbs->lbs_subs, &lb->lb_bus,
	    subid)) == NULL)
		return -1;
	ls->ls_filter = *lf;
	memset(lf, 0, sizeof(*lf));
	/* a replayed line that is lost does not end the subscription */
	n = tail < lb->lb_count ? tail : lb->lb_count;
	for (i = lb->lb_count - n; i < lb->lb_count; i++) {
		ll = logbus_line(lb, i);
		if (logfilter_match(&ls->ls_filter, ll, 0))
			logbus_send_line(lbs, ls, ll);
	}
	return 0;
}

/* The sandbox is gone: its subscribers end, its lines and file too. */
void
logbus_drop(struct logbuses *lbs, const char *id)
{
	subs_drop(&lbs->lbs_subs, id);
	logstore_remove(lbs, id);
}

/* Everything, as at exit (tests look for leaks). */
void
logbus_clear(struct logbuses *lbs)
{
	subs_clear(&lbs->lbs_subs);
}
