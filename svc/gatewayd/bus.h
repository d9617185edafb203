/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd's side of the watch and log buses (bus.c: IPC to watchd
 * and logd, msgs.def "watch and log buses").
 *
 * Notifications (any file of gatewayd): bus_sandbox_changed after
 * every change of a sandbox record, bus_sandbox_deleted once the
 * record is gone (its streams end CANCELLED, its log ring is dropped),
 * bus_log for a gateway-sourced log line, bus_platform_event for a
 * platform event.  These are weak so that callers may test them
 * (gatewayd links without bus.c).
 *
 * Queries and subscriptions (rpc_logs.c, rpc_watch.c): replies arrive
 * from the event loop through struct bus_ops.  A query ends with
 * bo_done or bo_end, a subscription with bo_end; the struct bus_sub is
 * freed right after that last callback.  bus_unsubscribe() ends one
 * early, with no callback at all.
 */

#ifndef BUS_H
#define BUS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/datamodel.pb-c.h"
#include "proto/openshell.pb-c.h"

struct gatewayd;
struct bus;
struct bus_sub;

#define BUS_KIND_SANDBOX	1	/* SandboxStreamEvent.sandbox */
#define BUS_KIND_PLATFORM	3	/* SandboxStreamEvent.event */

struct bus_ops {
	/* A log line; the callee owns it (bus_line_free). */
	void	(*bo_line)(void *, Openshell__V1__SandboxLogLine *);
	/* An encoded SandboxStreamEvent of kind BUS_KIND_*. */
	void	(*bo_event)(void *, uint32_t, uint32_t, const uint8_t *,
		    size_t);
	/* A query is complete (buffer_total), a push written (code). */
	void	(*bo_done)(void *, uint32_t);
	/* Over: a gRPC status code and message (may be NULL). */
	void	(*bo_end)(void *, int, const char *);
};

/* Log queries and subscriptions take these filters (2.4). */
struct bus_logfilter {
	int64_t		 bf_since;
	char		**bf_sources;
	size_t		 bf_nsources;
	const char	*bf_min_level;
};

struct bus	*bus_init(struct gatewayd *) __attribute__((__weak__));
/* A snapshot of the sandbox for WatchSandbox subscribers (watchd). */
void	 bus_sandbox_changed(struct gatewayd *,
	    const Openshell__Datamodel__V1__Sandbox *) __attribute__((__weak__));
void	 bus_sandbox_deleted(struct gatewayd *, const char *)
	    __attribute__((__weak__));
/* A gateway-sourced SandboxLogLine (source "gateway"). */
void	 bus_log(struct gatewayd *, const char *, const char *, const char *,
	    const char *, ...) __attribute__((__weak__))
	    __attribute__((__format__(__printf__, 5, 6)));
void	 bus_platform_event(struct gatewayd *, const char *,
	    const Openshell__V1__PlatformEvent *) __attribute__((__weak__));

/* Lines into the sandbox's ring; sandbox_id and source are forced. */
int	 bus_push(struct gatewayd *, const char *, const char *,
	    Openshell__V1__SandboxLogLine *const *, size_t);
/* The same, with bo_done(code) once logd has them on disk. */
struct bus_sub *bus_push_wait(struct gatewayd *, const char *, const char *,
	    Openshell__V1__SandboxLogLine *const *, size_t,
	    const struct bus_ops *, void *);
struct bus_sub *bus_log_query(struct gatewayd *, const char *, uint32_t,
	    const struct bus_logfilter *, const struct bus_ops *, void *);
struct bus_sub *bus_log_subscribe(struct gatewayd *, const char *, uint32_t,
	    const struct bus_logfilter *, const struct bus_ops *, void *);
struct bus_sub *bus_watch_subscribe(struct gatewayd *, const char *, int,
	    int, int, const struct bus_ops *, void *);
void	 bus_unsubscribe(struct gatewayd *, struct bus_sub *);
void	 bus_line_free(Openshell__V1__SandboxLogLine *);

#endif /* BUS_H */
