/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The per-sandbox log buses (control-plane.md 2.4): a ring of the last
 * LOGBUS_RING lines, its file, and the subscriptions of gatewayd's
 * WatchSandbox streams.  Buses are created on the first line or
 * subscription and dropped when the sandbox is deleted.
 *
 * A subscriber never blocks the others: a line that cannot be queued
 * for it counts as dropped, and the subscription then ends with
 * RESOURCE_EXHAUSTED as soon as that can be said (2.5).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logd.h"
#include "libgrpc/grpc_wire.h"
#include "msgs.h"

static int	 logbus_cmp(struct logbus *, struct logbus *);
static int	 logsub_cmp(struct logsub *, struct logsub *);
static void	 logbus_free(struct logbuses *, struct logbus *);
static void	 logbus_ring_push(struct logbus *, struct logline *);
static void	 logbus_publish(struct logbuses *, struct logbus *,
		    const struct logline *);
static int	 logbus_send_line(struct logbuses *, struct logsub *,
		    const struct logline *);
static int	 logbus_end(struct logbuses *, struct logsub *, int,
		    const char *);
static void	 logbus_subfree(struct logbuses *, struct logsub *);
static int	 logbus_result(struct logbuses *, uint32_t, uint32_t, int,
		    const struct logbus *, const size_t *, size_t);

/* libbsd's static tree macros expect BSD's __unused. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

RB_PROTOTYPE_STATIC(logbus_tree, logbus, lb_node, logbus_cmp);
RB_GENERATE_STATIC(logbus_tree, logbus, lb_node, logbus_cmp)
RB_PROTOTYPE_STATIC(logsub_tree, logsub, ls_node, logsub_cmp);
RB_GENERATE_STATIC(logsub_tree, logsub, ls_node, logsub_cmp)

void
logbus_init(struct logbuses *lbs, int (*send)(void *, uint32_t, uint32_t,
    struct ipc_wr *), void *arg)
{
	memset(lbs, 0, sizeof(*lbs));
	RB_INIT(&lbs->lbs_buses);
	RB_INIT(&lbs->lbs_subs);
	lbs->lbs_dirfd = -1;
	lbs->lbs_send = send;
	lbs->lbs_arg = arg;
}

static int
logbus_cmp(struct logbus *a, struct logbus *b)
{
	return strcmp(a->lb_id, b->lb_id);
}

static int
logsub_cmp(struct logsub *a, struct logsub *b)
{
	return a->ls_id < b->ls_id ? -1 : a->ls_id > b->ls_id;
}

/* The bus of sandbox id; NULL if there is none and !create. */
struct logbus *
logbus_get(struct logbuses *lbs, const char *id, int create)
{
	struct logbus	 key, *lb;

	if (strlcpy(key.lb_id, id, sizeof(key.lb_id)) >= sizeof(key.lb_id))
		return NULL;
	if ((lb = RB_FIND(logbus_tree, &lbs->lbs_buses, &key)) != NULL ||
	    !create)
		return lb;
	if ((lb = calloc(1, sizeof(*lb))) == NULL ||
	    (lb->lb_ring = calloc(LOGBUS_RING, sizeof(*lb->lb_ring))) == NULL)
		fatal("%s", __func__);
	strlcpy(lb->lb_id, id, sizeof(lb->lb_id));
	lb->lb_persist = logstore_idok(id);
	TAILQ_INIT(&lb->lb_subs);
	RB_INSERT(logbus_tree, &lbs->lbs_buses, lb);
	return lb;
}

static void
logbus_free(struct logbuses *lbs, struct logbus *lb)
{
	size_t	 i;

	RB_REMOVE(logbus_tree, &lbs->lbs_buses, lb);
	for (i = 0; i < LOGBUS_RING; i++)
		logline_free(lb->lb_ring[i]);
	free(lb->lb_ring);
	free(lb);
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
	struct logsub	*ls, *tmp;
	char		 msg[128];

	TAILQ_FOREACH_SAFE(ls, &lb->lb_subs, ls_entry, tmp) {
		if (!logfilter_match(&ls->ls_filter, ll, 1))
			continue;
		if (ls->ls_dropped == 0) {
			if (logbus_send_line(lbs, ls, ll) == -1) {
				ls->ls_dropped++;
				lbs->lbs_dropped++;
			}
			continue;
		}
		ls->ls_dropped++;
		lbs->lbs_dropped++;
		snprintf(msg, sizeof(msg), "watch stream lagged; dropped %llu "
		    "messages", (unsigned long long)ls->ls_dropped);
		if (logbus_end(lbs, ls, GRPC_RESOURCE_EXHAUSTED, msg) == 0)
			logbus_subfree(lbs, ls);
	}
}

static int
logbus_send_line(struct logbuses *lbs, struct logsub *ls,
    const struct logline *ll)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	logline_write(&w, ls->ls_bus->lb_id, ll);
	return lbs->lbs_send(lbs->lbs_arg, IPC_LOGBUS_LINE, ls->ls_id, &w);
}

static int
logbus_end(struct logbuses *lbs, struct logsub *ls, int code,
    const char *msg)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_u32(&w, (uint32_t)code);
	ipc_wr_str(&w, msg);
	return lbs->lbs_send(lbs->lbs_arg, IPC_LOGBUS_END, ls->ls_id, &w);
}

static void
logbus_subfree(struct logbuses *lbs, struct logsub *ls)
{
	RB_REMOVE(logsub_tree, &lbs->lbs_subs, ls);
	TAILQ_REMOVE(&ls->ls_bus->lb_subs, ls, ls_entry);
	logfilter_clear(&ls->ls_filter);
	free(ls);
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
		logline_write(&w, lb->lb_id, logbus_line(lb, pick[i]));
	return lbs->lbs_send(lbs->lbs_arg, IPC_LOGBUS_RESULT, reqid, &w);
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

	if ((lb = logbus_get(lbs, id, 1)) == NULL)
		return -1;
	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		fatal("%s", __func__);
	ls->ls_id = subid;
	if (RB_INSERT(logsub_tree, &lbs->lbs_subs, ls) != NULL) {
		free(ls);
		return -1;
	}
	ls->ls_bus = lb;
	ls->ls_filter = *lf;
	memset(lf, 0, sizeof(*lf));
	TAILQ_INSERT_TAIL(&lb->lb_subs, ls, ls_entry);
	n = tail < lb->lb_count ? tail : lb->lb_count;
	for (i = lb->lb_count - n; i < lb->lb_count; i++) {
		ll = logbus_line(lb, i);
		if (logfilter_match(&ls->ls_filter, ll, 0) &&
		    logbus_send_line(lbs, ls, ll) == -1) {
			ls->ls_dropped++;
			lbs->lbs_dropped++;
		}
	}
	return 0;
}

void
logbus_unsubscribe(struct logbuses *lbs, uint32_t subid)
{
	struct logsub	 key, *ls;

	key.ls_id = subid;
	if ((ls = RB_FIND(logsub_tree, &lbs->lbs_subs, &key)) != NULL)
		logbus_subfree(lbs, ls);
}

/* The sandbox is gone: its subscribers end, its lines and file too. */
void
logbus_drop(struct logbuses *lbs, const char *id)
{
	struct logbus	*lb;
	struct logsub	*ls;

	if ((lb = logbus_get(lbs, id, 0)) != NULL) {
		while ((ls = TAILQ_FIRST(&lb->lb_subs)) != NULL) {
			logbus_end(lbs, ls, GRPC_CANCELLED, "stream closed");
			logbus_subfree(lbs, ls);
		}
		logbus_free(lbs, lb);
	}
	logstore_remove(lbs, id);
}

/* A new gatewayd: the old one's subscriptions died with it. */
void
logbus_reset(struct logbuses *lbs)
{
	struct logsub	*ls;

	while ((ls = RB_MIN(logsub_tree, &lbs->lbs_subs)) != NULL)
		logbus_subfree(lbs, ls);
}

/* Everything, as at exit (tests look for leaks). */
void
logbus_clear(struct logbuses *lbs)
{
	struct logbus	*lb;

	logbus_reset(lbs);
	while ((lb = RB_MIN(logbus_tree, &lbs->lbs_buses)) != NULL)
		logbus_free(lbs, lb);
}

size_t
logbus_nsubs(const struct logbuses *lbs)
{
	struct logsub	*ls;
	size_t		 n = 0;

	RB_FOREACH(ls, logsub_tree, (struct logsub_tree *)&lbs->lbs_subs)
		n++;
	return n;
}

size_t
logbus_nbuses(const struct logbuses *lbs)
{
	struct logbus	*lb;
	size_t		 n = 0;

	RB_FOREACH(lb, logbus_tree, (struct logbus_tree *)&lbs->lbs_buses)
		n++;
	return n;
}
