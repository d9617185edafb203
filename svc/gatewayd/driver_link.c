/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd's side of the local compute driver (msgs.def "compute
 * driver"; the driver itself runs in the parent, svc/gateway/driver.c).
 * CreateSandbox and, at our start, every stored sandbox not DELETING
 * become IPC_DRIVER_CREATE; DeleteSandbox becomes IPC_DRIVER_DELETE.
 * The parent's IPC_DRIVER_STATUS overwrites the record's phase and
 * status (the driver owns transitions past PROVISIONING, as the
 * Kubernetes watcher does in the reference, control-plane §2.1), is
 * announced on the watch bus and logged as a gateway-sourced line;
 * "gone" removes the record.
 */

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatewayd.h"
#include "log.h"
#include "store.h"

#define DL_IPC_MAX	(1024 * 1024)	/* a CREATE's environment */
#define DL_SCAN_MAX	10000		/* sandboxes brought back at start */
#define DL_MAXCOND	8

typedef Openshell__Datamodel__V1__Sandbox		Sandbox;
typedef Openshell__Datamodel__V1__SandboxStatus		SandboxStatus;
typedef Openshell__Datamodel__V1__SandboxCondition	SandboxCondition;

#define PHASE(x)	OPENSHELL__DATAMODEL__V1__SANDBOX_PHASE__SANDBOX_PHASE_##x

/* Every string map entry of protobuf-c has this layout. */
struct dl_kv {
	ProtobufCMessage	 base;
	char			*key;
	char			*value;
};

struct dl_ids {
	char		**i_v;
	size_t		  i_n;
};

/* A decoded IPC_DRIVER_STATUS. */
struct dl_status {
	char			*st_id;
	int			 st_gone;
	uint32_t		 st_phase;
	char			*st_reason;
	char			*st_message;
	SandboxCondition	 st_cond[DL_MAXCOND];
	SandboxCondition	*st_condp[DL_MAXCOND];
	size_t			 st_ncond;
};

/* A DeleteSandbox call answered once the driver says "gone". */
struct dl_wait {
	TAILQ_ENTRY(dl_wait)	 w_entry;
	char			 w_id[GD_UUID_LEN + 28];
	struct grpc_call	*w_call;
};

static TAILQ_HEAD(, dl_wait) dl_waits = TAILQ_HEAD_INITIALIZER(dl_waits);

static int	 driver_link_ids_cb(const struct store_object *, void *);
static void	 driver_link_wait(const char *, struct grpc_call *);
static void	 driver_link_cancel(struct grpc_call *, void *);
static void	 driver_link_answer(const char *);
static void	 driver_link_restart(struct gatewayd *, const char *);
static int	 driver_link_read(struct ipc_msg *, struct dl_status *);
static void	 driver_link_free(struct dl_status *);
static void	 driver_link_apply(struct gatewayd *, struct dl_status *);
static void	 driver_link_announce(struct gatewayd *, const Sandbox *,
		    const struct dl_status *);
static const char *driver_link_cond(const struct dl_status *, const char *);
static void	 driver_link_flush(struct gatewayd *, int);

/*
 * After setup: the channel to the parent takes large CREATEs, and
 * every stored sandbox comes back (the parent re-announces those that
 * still run, when only gatewayd restarted).
 */
void
driver_link_start(struct gatewayd *gd)
{
	struct proc_chan	*ch = &gd->gd_ps.ps_chans[PROC_PARENT];
	struct dl_ids		 ids;
	size_t			 i;

	if (ch->ch_open)
		ipc_set_maxsize(&ch->ch_ev.ie_ib, DL_IPC_MAX);
	memset(&ids, 0, sizeof(ids));
	if ((ids.i_v = calloc(DL_SCAN_MAX, sizeof(*ids.i_v))) == NULL ||
	    store_list(gd->gd_store, STORE_T_SANDBOX, DL_SCAN_MAX, 0,
	    driver_link_ids_cb, &ids) != 0)
		log_warnx("cannot list the stored sandboxes");
	for (i = 0; i < ids.i_n; i++) {
		driver_link_restart(gd, ids.i_v[i]);
		free(ids.i_v[i]);
	}
	free(ids.i_v);
}

/* Ids are collected first: a list callback must not write the store. */
static int
driver_link_ids_cb(const struct store_object *obj, void *arg)
{
	struct dl_ids	*ids = arg;

	if (ids->i_n < DL_SCAN_MAX &&
	    (ids->i_v[ids->i_n] = strdup(obj->so_id)) != NULL)
		ids->i_n++;
	return 0;
}

static void
driver_link_restart(struct gatewayd *gd, const char *id)
{
	Sandbox	*sb;

	if (rpc_sandbox_get(gd, id, NULL, &sb) != STORE_OK)
		return;
	if (sb->phase == PHASE(DELETING))
		driver_link_delete(gd, sb->id, NULL);
	else {
		if (sb->phase != PHASE(PROVISIONING)) {
			sb->phase = PHASE(PROVISIONING);
			if (rpc_sandbox_put(gd, sb) == STORE_OK &&
			    bus_sandbox_changed != NULL)
				bus_sandbox_changed(gd, sb);
		}
		driver_link_create(gd, sb);
	}
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
}

/*
 * [str id, str name, str rootfs, map<str,str> environment].  A
 * template image that is an absolute path is a prepared root (--from
 * DIR); any other image means the host's root, read-only.
 */
void
driver_link_create(struct gatewayd *gd, const Sandbox *sb)
{
	const struct dl_kv	*kv;
	struct ipc_wr		 w;
	const char		*root = "";
	size_t			 i, n = 0;

	if (sb->spec != NULL && sb->spec->template_ != NULL &&
	    sb->spec->template_->image != NULL &&
	    sb->spec->template_->image[0] == '/')
		root = sb->spec->template_->image;
	if (sb->spec != NULL)
		n = sb->spec->n_environment;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 4);
	ipc_wr_str(&w, sb->id);
	ipc_wr_str(&w, sb->name);
	ipc_wr_str(&w, root);
	ipc_wr_map(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		kv = (const struct dl_kv *)sb->spec->environment[i];
		ipc_wr_str(&w, kv->key);
		ipc_wr_str(&w, kv->value);
	}
	/* Now, not behind this loop turn's replies and log lines. */
	if (proc_child_send_wr(&gd->gd_ps, PROC_PARENT, IPC_DRIVER_CREATE,
	    0, -1, &w) == -1)
		log_warn("sandbox %s: create to the driver", sb->name);
}

/*
 * What was just queued for peer goes out now, not on the next loop
 * turn, where it would queue behind the store's commit: it is on the
 * way to READY.  On an error the channel's write event, still armed,
 * meets it again and handles it.
 */
static void
driver_link_flush(struct gatewayd *gd, int peer)
{
	struct proc_chan	*ch = &gd->gd_ps.ps_chans[peer];

	if (ch->ch_open && ipc_write(&ch->ch_ev.ie_ib) == 0)
		ipc_ev_add(&ch->ch_ev);
}

/*
 * [str id].  With a call (DeleteSandbox), its reply waits for the
 * driver's "gone": when it comes, no process, mount or state directory
 * of the sandbox is left.  Without a channel to the parent the reply
 * goes at once; the record stays DELETING and our next start finishes
 * the deletion.
 */
void
driver_link_delete(struct gatewayd *gd, const char *id,
    struct grpc_call *call)
{
	Openshell__V1__DeleteSandboxResponse	 res =
	    OPENSHELL__V1__DELETE_SANDBOX_RESPONSE__INIT;
	struct ipc_wr				 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, id);
	if (proc_child_compose_wr(&gd->gd_ps, PROC_PARENT, IPC_DRIVER_DELETE,
	    0, -1, &w) == -1) {
		log_warn("sandbox %s: delete to the driver", id);
		if (call != NULL) {
			res.deleted = 1;
			rpc_reply(call, &res.base);
		}
		return;
	}
	if (call != NULL)
		driver_link_wait(id, call);
}

static void
driver_link_wait(const char *id, struct grpc_call *call)
{
	Openshell__V1__DeleteSandboxResponse	 res =
	    OPENSHELL__V1__DELETE_SANDBOX_RESPONSE__INIT;
	struct dl_wait				*w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		res.deleted = 1;
		rpc_reply(call, &res.base);
		return;
	}
	strlcpy(w->w_id, id, sizeof(w->w_id));
	w->w_call = call;
	TAILQ_INSERT_TAIL(&dl_waits, w, w_entry);
	grpc_call_on_cancel(call, driver_link_cancel, w);
}

/* The client left (or the call is freed): nobody to answer. */
static void
driver_link_cancel(struct grpc_call *call, void *arg)
{
	struct dl_wait	*w = arg;

	(void)call;
	TAILQ_REMOVE(&dl_waits, w, w_entry);
	free(w);
}

static void
driver_link_answer(const char *id)
{
	Openshell__V1__DeleteSandboxResponse	 res =
	    OPENSHELL__V1__DELETE_SANDBOX_RESPONSE__INIT;
	struct dl_wait				*w, *tw;

	res.deleted = 1;
	TAILQ_FOREACH_SAFE(w, &dl_waits, w_entry, tw) {
		if (strcmp(w->w_id, id) != 0)
			continue;
		TAILQ_REMOVE(&dl_waits, w, w_entry);
		grpc_call_on_cancel(w->w_call, NULL, NULL);
		rpc_reply(w->w_call, &res.base);
		free(w);
	}
}

/* IPC_DRIVER_STATUS from the parent; a malformed one is fatal. */
void
driver_link_status(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct dl_status	 st;

	if (driver_link_read(msg, &st) == -1) {
		driver_link_free(&st);
		proc_badmsg(&gd->gd_ps, PROC_PARENT, msg);
	}
	/*
	 * Before our setup (a restarted gatewayd) there is no store: the
	 * status is dropped, and driver_link_start() resyncs every
	 * sandbox (the driver re-announces what runs, restarts what
	 * exited, and finishes what was being deleted).
	 */
	if (gd->gd_store != NULL)
		driver_link_apply(gd, &st);
	driver_link_free(&st);
}

/* [str id, bool gone, u32 phase, str reason, str message,
 *  [[str type, str status, str reason, str message]...]] */
static int
driver_link_read(struct ipc_msg *msg, struct dl_status *st)
{
	SandboxCondition	*c;
	struct ipc_rd		 r;
	uint32_t		 n, nc, n4, i;

	memset(st, 0, sizeof(*st));
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n != 6) {
		ipc_rd_end(&r);
		return -1;
	}
	ipc_rd_str(&r, &st->st_id);
	ipc_rd_bool(&r, &st->st_gone);
	ipc_rd_u32(&r, &st->st_phase);
	ipc_rd_str(&r, &st->st_reason);
	ipc_rd_str(&r, &st->st_message);
	ipc_rd_array(&r, &nc);
	for (i = 0; i < nc && i < DL_MAXCOND && !ipc_rd_error(&r); i++) {
		c = &st->st_cond[i];
		openshell__datamodel__v1__sandbox_condition__init(c);
		ipc_rd_array(&r, &n4);
		ipc_rd_str(&r, &c->type);
		ipc_rd_str(&r, &c->status);
		ipc_rd_str(&r, &c->reason);
		ipc_rd_str(&r, &c->message);
		ipc_rd_leave(&r);
		st->st_condp[i] = c;
		st->st_ncond++;
		if (n4 != 4)
			break;
	}
	ipc_rd_leave(&r);
	if (ipc_rd_end(&r) == -1 || nc > DL_MAXCOND || st->st_id == NULL ||
	    st->st_reason == NULL || st->st_message == NULL)
		return -1;
	return 0;
}

static void
driver_link_free(struct dl_status *st)
{
	size_t	 i;

	for (i = 0; i < st->st_ncond; i++) {
		free(st->st_cond[i].type);
		free(st->st_cond[i].status);
		free(st->st_cond[i].reason);
		free(st->st_cond[i].message);
	}
	free(st->st_id);
	free(st->st_reason);
	free(st->st_message);
}

static void
driver_link_apply(struct gatewayd *gd, struct dl_status *st)
{
	SandboxStatus	 status = OPENSHELL__DATAMODEL__V1__SANDBOX_STATUS__INIT;
	Sandbox		*sb;
	SandboxStatus	*old;

	if (rpc_sandbox_get(gd, st->st_id, NULL, &sb) != STORE_OK) {
		if (st->st_gone)
			driver_link_answer(st->st_id);
		return;
	}
	if (st->st_gone) {
		rpc_sandbox_remove(gd, sb);
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
		driver_link_answer(st->st_id);
		return;
	}
	/* A late status must not bring a deleted sandbox back to life. */
	if (sb->phase == PHASE(DELETING)) {
		openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
		return;
	}
	old = sb->status;
	status.sandbox_name = sb->name;
	status.conditions = st->st_condp;
	status.n_conditions = st->st_ncond;
	sb->status = &status;
	sb->phase = (Openshell__Datamodel__V1__SandboxPhase)st->st_phase;
	/*
	 * Watchers first: the commit's fsync is not what a user waiting
	 * for READY should wait on.  No RPC can read the old record in
	 * between (one event loop: the put ends this callback).
	 */
	driver_link_announce(gd, sb, st);
	driver_link_flush(gd, PROC_WATCH);
	if (rpc_sandbox_put(gd, sb) != STORE_OK)
		log_warnx("sandbox %s: cannot store its phase", sb->name);
	sb->status = old;
	openshell__datamodel__v1__sandbox__free_unpacked(sb, NULL);
}

static void
driver_link_announce(struct gatewayd *gd, const Sandbox *sb,
    const struct dl_status *st)
{
	if (bus_sandbox_changed != NULL)
		bus_sandbox_changed(gd, sb);
	if (bus_log == NULL)
		return;
	if (st->st_phase == PHASE(READY))
		bus_log(gd, sb->id, "INFO", "gateway",
		    "Sandbox %s ready (landlock: %s; seccomp: %s)", sb->name,
		    driver_link_cond(st, "Landlock"),
		    driver_link_cond(st, "Seccomp"));
	else if (st->st_phase == PHASE(ERROR))
		bus_log(gd, sb->id, "ERROR", "gateway",
		    "Sandbox %s failed: %s: %s", sb->name, st->st_reason,
		    st->st_message);
	log_info("sandbox %s: phase %u%s%s", sb->name, st->st_phase,
	    st->st_message[0] != '\0' ? ": " : "", st->st_message);
}

static const char *
driver_link_cond(const struct dl_status *st, const char *type)
{
	size_t	 i;

	for (i = 0; i < st->st_ncond; i++)
		if (strcmp(st->st_cond[i].type, type) == 0)
			return st->st_cond[i].message[0] != '\0' ?
			    st->st_cond[i].message : st->st_cond[i].status;
	return "unknown";
}
