/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The gateway's persistent state (control-plane.md §3): one SQLite
 * database in WAL mode, owned by gatewayd, one connection, used from
 * the event loop only.  Every call is a single short statement or a
 * short explicit transaction.  Callers pass the time (milliseconds
 * since the epoch) so the store never reads the clock.
 *
 * Return values: STORE_OK (0), STORE_ERR (-1, already logged),
 * STORE_NOTFOUND (no such row) and STORE_CONFLICT (a unique constraint
 * refused the write; the caller may pick another name/version and
 * retry).  Ids and payloads are never logged: an ssh_session id is its
 * bearer token and provider payloads hold raw credentials.
 */

#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_OK		0
#define STORE_ERR		(-1)
#define STORE_NOTFOUND		1
#define STORE_CONFLICT		2

/* Object types used by the gateway (control-plane.md §3). */
#define STORE_T_SANDBOX		"sandbox"
#define STORE_T_PROVIDER	"provider"
#define STORE_T_SSH_SESSION	"ssh_session"
#define STORE_T_INFERENCE	"inference_route"
#define STORE_T_GW_SETTINGS	"gateway_settings"
#define STORE_T_SB_SETTINGS	"sandbox_settings"

/* Policy revision statuses (§2.6) and the global sentinel sandbox. */
#define STORE_POLICY_PENDING	"pending"
#define STORE_POLICY_LOADED	"loaded"
#define STORE_POLICY_FAILED	"failed"
#define STORE_POLICY_SUPERSEDED	"superseded"
#define STORE_POLICY_GLOBAL	"__global__"

struct store;

/* A row of `objects'; every pointer is owned by the struct. */
struct store_object {
	char		*so_type;
	char		*so_id;
	char		*so_name;
	uint8_t		*so_payload;	/* never NULL after a get */
	size_t		 so_len;
	int64_t		 so_created_ms;
	int64_t		 so_updated_ms;
};

/* A row of `sandbox_policies'; every pointer is owned by the struct. */
struct store_policy {
	char		*sp_id;
	char		*sp_sandbox_id;
	int64_t		 sp_version;
	uint8_t		*sp_payload;	/* NULL in store_policy_list() */
	size_t		 sp_len;
	char		*sp_hash;
	char		*sp_status;
	char		*sp_load_error;	/* NULL when unset */
	int64_t		 sp_created_ms;
	int64_t		 sp_loaded_ms;	/* 0 when unset */
};

/*
 * List callbacks get a row that is only valid during the call and must
 * not call back into the store.  Returning non-zero stops the listing
 * and becomes the list function's return value.
 */
typedef int	(*store_object_cb)(const struct store_object *, void *);
typedef int	(*store_policy_cb)(const struct store_policy *, void *);

struct store	*store_open(const char *);
void		 store_close(struct store *);
int		 store_schema_version(struct store *);
int		 store_latest_schema(void);

int	 store_begin(struct store *);
int	 store_commit(struct store *);
int	 store_rollback(struct store *);

int	 store_put(struct store *, const char *, const char *, const char *,
	    const void *, size_t, int64_t);
int	 store_get_by_id(struct store *, const char *, const char *,
	    struct store_object *);
int	 store_get_by_name(struct store *, const char *, const char *,
	    struct store_object *);
int	 store_delete_by_id(struct store *, const char *, const char *);
int	 store_delete_by_name(struct store *, const char *, const char *);
int	 store_list(struct store *, const char *, int64_t, int64_t,
	    store_object_cb, void *);
int	 store_count(struct store *, const char *, int64_t *);
void	 store_object_clear(struct store_object *);

int	 store_policy_latest(struct store *, const char *,
	    struct store_policy *);
int	 store_policy_get(struct store *, const char *, int64_t,
	    struct store_policy *);
int	 store_policy_insert(struct store *, const char *, const char *,
	    int64_t, const void *, size_t, const char *, const char *, int64_t);
int	 store_policy_set_status(struct store *, const char *, int64_t,
	    const char *, const char *, int64_t);
int	 store_policy_supersede_older(struct store *, const char *, int64_t,
	    const char *const *, int *);
int	 store_policy_list(struct store *, const char *, int64_t, int64_t,
	    store_policy_cb, void *);
void	 store_policy_clear(struct store_policy *);

#endif /* STORE_H */
