/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * GetSandboxLogs and PushSandboxLogs (control-plane.md 2.4): the log
 * rings live in logd; these ask it through bus.c.
 */

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd.h"
#include "log.h"
#include "store.h"
#include "utf8.h"

#define LOGS_PUSH_MAX	100	/* lines kept per pushed batch */

/* One GetSandboxLogs waiting for logd. */
struct logs_query {
	struct grpc_call		 *lq_call;
	struct gatewayd			 *lq_gd;
	struct bus_sub			 *lq_sub;
	Openshell__V1__SandboxLogLine	**lq_lines;
	size_t				  lq_n;
	size_t				  lq_cap;
};

struct logs_push;

/* One batch that logd has not yet written. */
struct logs_pending {
	TAILQ_ENTRY(logs_pending)	  pe_entry;
	struct logs_push		 *pe_push;
	struct bus_sub			 *pe_sub;
};

/*
 * One PushSandboxLogs stream.  Its response (OK) goes only once every
 * batch is on disk, so that an acknowledged line survives any daemon
 * of the tree being killed.
 */
struct logs_push {
	struct gatewayd			 *lp_gd;
	struct grpc_call		 *lp_call;
	int				  lp_checked;	/* sandbox exists */
	int				  lp_eof;	/* client is done */
	TAILQ_HEAD(, logs_pending)	  lp_pending;
};

static grpc_handler_fn	 rpc_logs_get;
static grpc_handler_fn	 rpc_logs_push;
static void	 rpc_logs_line(void *, Openshell__V1__SandboxLogLine *);
static void	 rpc_logs_done(void *, uint32_t);
static void	 rpc_logs_end(void *, int, const char *);
static void	 rpc_logs_cancel(struct grpc_call *, void *);
static void	 rpc_logs_free(struct logs_query *);
static int	 rpc_logs_batch(struct logs_push *, const uint8_t *, size_t);
static int	 rpc_logs_check(struct logs_push *, const char *);
static void	 rpc_logs_pushed(void *, uint32_t);
static void	 rpc_logs_push_end(void *, int, const char *);
static void	 rpc_logs_push_finish(struct logs_push *, int, const char *);
static void	 rpc_logs_push_free(struct logs_push *);
static void	 rpc_logs_push_cancel(struct grpc_call *, void *);

static const struct bus_ops rpc_logs_ops = {
	rpc_logs_line,
	NULL,
	rpc_logs_done,
	rpc_logs_end,
};

static const struct bus_ops rpc_logs_push_ops = {
	NULL,
	NULL,
	rpc_logs_pushed,
	rpc_logs_push_end,
};

void
rpc_logs_register(struct gatewayd *gd)
{
	rpc_method(gd, "/openshell.v1.OpenShell/GetSandboxLogs", rpc_logs_get);
	rpc_method(gd, "/openshell.v1.OpenShell/PushSandboxLogs",
	    rpc_logs_push);
}

/*
 * sandbox_id is required, but no existence check: an unknown id reads
 * as an empty ring.  lines 0 means the whole ring (2000).
 */
static void
rpc_logs_get(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__GetSandboxLogsRequest	*req;
	struct logs_query			*lq;
	struct bus_logfilter			 bf;

	if ((req = openshell__v1__get_sandbox_logs_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->sandbox_id[0] == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "sandbox_id is required");
		goto done;
	}
	if ((lq = calloc(1, sizeof(*lq))) == NULL)
		fatal("%s", __func__);
	lq->lq_call = call;
	lq->lq_gd = gd;
	memset(&bf, 0, sizeof(bf));
	bf.bf_since = req->since_ms;
	bf.bf_sources = req->sources;
	bf.bf_nsources = req->n_sources;
	bf.bf_min_level = req->min_level;
	if ((lq->lq_sub = bus_log_query(gd, req->sandbox_id, req->lines, &bf,
	    &rpc_logs_ops, lq)) == NULL) {
		free(lq);
		rpc_error(call, GRPC_UNAVAILABLE, "log bus unavailable");
		goto done;
	}
	grpc_call_on_cancel(call, rpc_logs_cancel, lq);
 done:
	openshell__v1__get_sandbox_logs_request__free_unpacked(req, NULL);
}

static void
rpc_logs_line(void *arg, Openshell__V1__SandboxLogLine *ll)
{
	struct logs_query	*lq = arg;
	void			*p;

	if (lq->lq_n == lq->lq_cap) {
		lq->lq_cap = lq->lq_cap == 0 ? 64 : lq->lq_cap * 2;
		if ((p = reallocarray(lq->lq_lines, lq->lq_cap,
		    sizeof(*lq->lq_lines))) == NULL)
			fatal("%s", __func__);
		lq->lq_lines = p;
	}
	lq->lq_lines[lq->lq_n++] = ll;
}

static void
rpc_logs_done(void *arg, uint32_t total)
{
	struct logs_query			*lq = arg;
	Openshell__V1__GetSandboxLogsResponse	 res =
	    OPENSHELL__V1__GET_SANDBOX_LOGS_RESPONSE__INIT;

	res.logs = lq->lq_lines;
	res.n_logs = lq->lq_n;
	res.buffer_total = total;
	rpc_reply(lq->lq_call, &res.base);
	rpc_logs_free(lq);
}

static void
rpc_logs_end(void *arg, int code, const char *msg)
{
	struct logs_query	*lq = arg;

	grpc_call_finish(lq->lq_call, code == GRPC_OK ? GRPC_INTERNAL : code,
	    msg);
	rpc_logs_free(lq);
}

/* The client left first: logd's answer will find no query. */
static void
rpc_logs_cancel(struct grpc_call *call, void *arg)
{
	struct logs_query	*lq = arg;

	(void)call;
	bus_unsubscribe(lq->lq_gd, lq->lq_sub);
	rpc_logs_free(lq);
}

static void
rpc_logs_free(struct logs_query *lq)
{
	size_t	 i;

	for (i = 0; i < lq->lq_n; i++)
		bus_line_free(lq->lq_lines[i]);
	free(lq->lq_lines);
	free(lq);
}

/*
 * Client stream.  Batches with an empty sandbox_id are ignored; the
 * first other one must name an existing sandbox (NOT_FOUND ends the
 * stream).  An empty response once the client is done and logd has
 * written every batch.
 */
static void
rpc_logs_push(struct grpc_call *call, const uint8_t *msg, size_t len,
    void *arg)
{
	struct logs_push	*lp = grpc_call_data(call);

	if (lp == NULL) {
		if ((lp = calloc(1, sizeof(*lp))) == NULL)
			fatal("%s", __func__);
		lp->lp_gd = arg;
		lp->lp_call = call;
		TAILQ_INIT(&lp->lp_pending);
		grpc_call_set_data(call, lp);
		grpc_call_on_cancel(call, rpc_logs_push_cancel, lp);
	}
	if (msg != NULL) {
		rpc_logs_batch(lp, msg, len);
		return;
	}
	lp->lp_eof = 1;
	if (TAILQ_EMPTY(&lp->lp_pending))
		rpc_logs_push_finish(lp, GRPC_OK, NULL);
}

/* -1 when the call was finished here (lp freed). */
static int
rpc_logs_batch(struct logs_push *lp, const uint8_t *msg, size_t len)
{
	Openshell__V1__PushSandboxLogsRequest	*req;
	struct logs_pending			*pe;
	const char				*bad = NULL;
	char					 err[128];
	int					 rc = 0;

	if ((req = openshell__v1__push_sandbox_logs_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_logs_push_finish(lp, GRPC_INVALID_ARGUMENT,
		    "invalid request");
		return -1;
	}
	/* rpc.c leaves each message of a client stream to us. */
	if (!utf8_pb_valid(&req->base, &bad)) {
		snprintf(err, sizeof(err),
		    "request contains invalid UTF-8 in field '%s'", bad);
		rpc_logs_push_finish(lp, GRPC_INVALID_ARGUMENT, err);
		rc = -1;
		goto done;
	}
	if (req->sandbox_id[0] == '\0')
		goto done;
	if ((rc = rpc_logs_check(lp, req->sandbox_id)) == -1 ||
	    req->n_logs == 0)
		goto done;
	if ((pe = calloc(1, sizeof(*pe))) == NULL)
		fatal("%s", __func__);
	pe->pe_push = lp;
	if ((pe->pe_sub = bus_push_wait(lp->lp_gd, req->sandbox_id, "sandbox",
	    req->logs, req->n_logs < LOGS_PUSH_MAX ? req->n_logs :
	    LOGS_PUSH_MAX, &rpc_logs_push_ops, pe)) == NULL) {
		free(pe);
		rpc_logs_push_finish(lp, GRPC_UNAVAILABLE,
		    "log bus unavailable");
		rc = -1;
		goto done;
	}
	TAILQ_INSERT_TAIL(&lp->lp_pending, pe, pe_entry);
 done:
	openshell__v1__push_sandbox_logs_request__free_unpacked(req, NULL);
	return rc;
}

/*
 * A sandbox's certificate pushes for its own sandbox only; the first
 * batch must name one that exists.  -1 when the call was finished.
 */
static int
rpc_logs_check(struct logs_push *lp, const char *id)
{
	Openshell__Datamodel__V1__Sandbox	*sb = NULL;
	int					 rc;

	if (auth_sandbox(lp->lp_gd, lp->lp_call, id) == -1) {
		/* auth_sandbox() has answered PERMISSION_DENIED. */
		lp->lp_call = NULL;
		rpc_logs_push_finish(lp, GRPC_PERMISSION_DENIED, NULL);
		return -1;
	}
	if (lp->lp_checked)
		return 0;
	rc = rpc_sandbox_get(lp->lp_gd, id, NULL, &sb);
	if (sb != NULL)
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
	if (rc != STORE_OK) {
		rpc_logs_push_finish(lp, rc == STORE_NOTFOUND ? GRPC_NOT_FOUND :
		    GRPC_INTERNAL, rc == STORE_NOTFOUND ? "sandbox not found" :
		    "cannot read the sandbox");
		return -1;
	}
	lp->lp_checked = 1;
	return 0;
}

/* logd wrote a batch. */
static void
rpc_logs_pushed(void *arg, uint32_t code)
{
	struct logs_pending	*pe = arg;
	struct logs_push	*lp = pe->pe_push;

	TAILQ_REMOVE(&lp->lp_pending, pe, pe_entry);
	free(pe);
	if (code != GRPC_OK)
		rpc_logs_push_finish(lp, (int)code, "cannot store log lines");
	else if (lp->lp_eof && TAILQ_EMPTY(&lp->lp_pending))
		rpc_logs_push_finish(lp, GRPC_OK, NULL);
}

/* logd went away with the batch: the client must push it again. */
static void
rpc_logs_push_end(void *arg, int code, const char *msg)
{
	struct logs_pending	*pe = arg;
	struct logs_push	*lp = pe->pe_push;

	TAILQ_REMOVE(&lp->lp_pending, pe, pe_entry);
	free(pe);
	rpc_logs_push_finish(lp, code == GRPC_OK ? GRPC_UNAVAILABLE : code,
	    msg);
}

/* The response (OK) or the error; the stream's state goes. */
static void
rpc_logs_push_finish(struct logs_push *lp, int code, const char *msg)
{
	Openshell__V1__PushSandboxLogsResponse	 res =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_RESPONSE__INIT;

	if (lp->lp_call != NULL) {
		if (code == GRPC_OK)
			rpc_reply(lp->lp_call, &res.base);
		else
			grpc_call_finish(lp->lp_call, code, msg);
	}
	rpc_logs_push_free(lp);
}

/* Batches still in flight are forgotten (logd writes them anyway). */
static void
rpc_logs_push_free(struct logs_push *lp)
{
	struct logs_pending	*pe;

	while ((pe = TAILQ_FIRST(&lp->lp_pending)) != NULL) {
		TAILQ_REMOVE(&lp->lp_pending, pe, pe_entry);
		bus_unsubscribe(lp->lp_gd, pe->pe_sub);
		free(pe);
	}
	free(lp);
}

static void
rpc_logs_push_cancel(struct grpc_call *call, void *arg)
{
	struct logs_push	*lp = arg;

	(void)call;
	lp->lp_call = NULL;
	rpc_logs_push_free(lp);
}
