/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"

/* Long enough to ride out an operator's sqlite3 shell, short for a loop. */
#define STORE_BUSY_MS		2000
#define STORE_MAX_STATUSES	4

/*
 * Versioned migrations: entry N-1 takes the schema from version N-1 to
 * N.  Applied ones are never edited; changes go in a new entry.
 */
static const char *const store_migrations[] = {
	/* 1: the three tables of control-plane.md §3 */
	"CREATE TABLE objects ("
	"  object_type TEXT NOT NULL,"
	"  id TEXT NOT NULL PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  payload BLOB NOT NULL,"
	"  created_at_ms INTEGER NOT NULL,"
	"  updated_at_ms INTEGER NOT NULL,"
	"  UNIQUE (object_type, name));"
	"CREATE INDEX objects_type_created"
	"  ON objects (object_type, created_at_ms, name);"
	"CREATE TABLE sandbox_policies ("
	"  id TEXT NOT NULL PRIMARY KEY,"
	"  sandbox_id TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  policy_payload BLOB NOT NULL,"
	"  policy_hash TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'pending',"
	"  load_error TEXT,"
	"  created_at_ms INTEGER NOT NULL,"
	"  loaded_at_ms INTEGER,"
	"  UNIQUE (sandbox_id, version));"
	"CREATE INDEX sandbox_policies_sandbox_version"
	"  ON sandbox_policies (sandbox_id, version DESC);"
	"CREATE TABLE draft_policy_chunks ("
	"  id TEXT NOT NULL PRIMARY KEY,"
	"  sandbox_id TEXT NOT NULL,"
	"  draft_version INTEGER NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'pending',"
	"  rule_name TEXT NOT NULL,"
	"  proposed_rule BLOB NOT NULL,"
	"  rationale TEXT NOT NULL DEFAULT '',"
	"  security_notes TEXT NOT NULL DEFAULT '',"
	"  confidence REAL NOT NULL DEFAULT 0,"
	"  host TEXT NOT NULL DEFAULT '',"
	"  port INTEGER NOT NULL DEFAULT 0,"
	"  binary TEXT NOT NULL DEFAULT '',"
	"  hit_count INTEGER NOT NULL DEFAULT 1,"
	"  first_seen_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL,"
	"  created_at_ms INTEGER NOT NULL,"
	"  decided_at_ms INTEGER);"
	"CREATE INDEX draft_policy_chunks_sandbox_status"
	"  ON draft_policy_chunks (sandbox_id, status);"
	"CREATE UNIQUE INDEX draft_policy_chunks_endpoint"
	"  ON draft_policy_chunks (sandbox_id, host, port, binary)"
	"  WHERE status IN ('pending', 'approved', 'rejected');",
};
#define STORE_NMIGRATIONS \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_OBJ_PUT,
	STMT_OBJ_GET_ID,
	STMT_OBJ_GET_NAME,
	STMT_OBJ_DEL_ID,
	STMT_OBJ_DEL_NAME,
	STMT_OBJ_LIST,
	STMT_OBJ_COUNT,
	STMT_POL_LATEST,
	STMT_POL_GET,
	STMT_POL_INSERT,
	STMT_POL_STATUS,
	STMT_POL_SUPERSEDE,
	STMT_POL_LIST,
	STMT_MAX
};

#define OBJ_COLS	"object_type, id, name, payload, created_at_ms, " \
			"updated_at_ms"
#define POL_COLS	"id, sandbox_id, version, policy_payload, " \
			"policy_hash, status, load_error, created_at_ms, " \
			"loaded_at_ms"
#define POL_LIST_COLS	"id, sandbox_id, version, NULL, " \
			"policy_hash, status, load_error, created_at_ms, " \
			"loaded_at_ms"

static const char *const store_sql[STMT_MAX] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	/* A cross-type id collision matches no row: a silent no-op (§3). */
	[STMT_OBJ_PUT] = "INSERT INTO objects (" OBJ_COLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
	    " ON CONFLICT (id) DO UPDATE SET payload = excluded.payload,"
	    " updated_at_ms = excluded.updated_at_ms"
	    " WHERE objects.object_type = excluded.object_type",
	[STMT_OBJ_GET_ID] = "SELECT " OBJ_COLS " FROM objects"
	    " WHERE object_type = ?1 AND id = ?2",
	[STMT_OBJ_GET_NAME] = "SELECT " OBJ_COLS " FROM objects"
	    " WHERE object_type = ?1 AND name = ?2",
	[STMT_OBJ_DEL_ID] = "DELETE FROM objects"
	    " WHERE object_type = ?1 AND id = ?2",
	[STMT_OBJ_DEL_NAME] = "DELETE FROM objects"
	    " WHERE object_type = ?1 AND name = ?2",
	[STMT_OBJ_LIST] = "SELECT " OBJ_COLS " FROM objects"
	    " WHERE object_type = ?1 ORDER BY created_at_ms, name"
	    " LIMIT ?2 OFFSET ?3",
	[STMT_OBJ_COUNT] = "SELECT count(*) FROM objects"
	    " WHERE object_type = ?1",
	[STMT_POL_LATEST] = "SELECT " POL_COLS " FROM sandbox_policies"
	    " WHERE sandbox_id = ?1 ORDER BY version DESC LIMIT 1",
	[STMT_POL_GET] = "SELECT " POL_COLS " FROM sandbox_policies"
	    " WHERE sandbox_id = ?1 AND version = ?2",
	[STMT_POL_INSERT] = "INSERT INTO sandbox_policies (id, sandbox_id,"
	    " version, policy_payload, policy_hash, status, created_at_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[STMT_POL_STATUS] = "UPDATE sandbox_policies SET status = ?3,"
	    " load_error = ?4, loaded_at_ms = ?5"
	    " WHERE sandbox_id = ?1 AND version = ?2",
	[STMT_POL_SUPERSEDE] = "UPDATE sandbox_policies"
	    " SET status = 'superseded'"
	    " WHERE sandbox_id = ?1 AND version < ?2"
	    " AND status IN (?3, ?4, ?5, ?6)",
	[STMT_POL_LIST] = "SELECT " POL_LIST_COLS " FROM sandbox_policies"
	    " WHERE sandbox_id = ?1 ORDER BY version DESC"
	    " LIMIT ?2 OFFSET ?3",
};

struct store {
	sqlite3		*st_db;
	sqlite3_stmt	*st_stmt[STMT_MAX];
};

static int	 store_precreate(const char *);
static int	 store_pragmas(struct store *, const char *);
static int	 store_migrate(struct store *);
static int	 store_migrate_one(struct store *, int);
static int	 store_read_version(struct store *, int *);
static int	 store_exec(struct store *, const char *, const char *);
static sqlite3_stmt *store_stmt(struct store *, enum store_stmt);
static sqlite3_stmt *store_query(struct store *, enum store_stmt,
		    const char *, ...);
static int	 store_bind(sqlite3_stmt *, const char *, va_list);
static int	 store_run(struct store *, sqlite3_stmt *, const char *);
static int	 store_changed(struct store *, int);
static int	 store_step_row(struct store *, sqlite3_stmt *, const char *);
static int	 store_fetch(struct store *, sqlite3_stmt *, const char *,
		    struct store_object *, struct store_policy *);
static int	 store_each(struct store *, sqlite3_stmt *, const char *,
		    store_object_cb, store_policy_cb, void *);
static int	 store_row(sqlite3_stmt *, store_object_cb, store_policy_cb,
		    void *);
static void	 store_finish(sqlite3_stmt *);
static int	 store_dberr(struct store *, const char *);
static void	 store_row_object(sqlite3_stmt *, struct store_object *);
static void	 store_row_policy(sqlite3_stmt *, struct store_policy *);
static int	 store_dup_object(const struct store_object *, void *);
static int	 store_dup_policy(const struct store_policy *, void *);
static int	 store_dupstr(char **, const char *);
static int	 store_dupblob(uint8_t **, const uint8_t *, size_t);
static int	 store_uuid(char *, size_t);

struct store *
store_open(const char *path)
{
	struct store	*st;

	if (store_precreate(path) == -1)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->st_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("store: open %s: %s", path, st->st_db == NULL ?
		    "out of memory" : sqlite3_errmsg(st->st_db));
		store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->st_db, 1);
	if (store_pragmas(st, path) == -1 || store_migrate(st) == -1) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	int	 i;

	if (st == NULL)
		return;
	for (i = 0; i < STMT_MAX; i++)
		sqlite3_finalize(st->st_stmt[i]);
	if (st->st_db != NULL) {
		if (!sqlite3_get_autocommit(st->st_db))
			sqlite3_exec(st->st_db, "ROLLBACK", NULL, NULL, NULL);
		if (sqlite3_close(st->st_db) != SQLITE_OK)
			log_warnx("store: close: %s",
			    sqlite3_errmsg(st->st_db));
	}
	free(st);
}

int
store_latest_schema(void)
{
	return STORE_NMIGRATIONS;
}

int
store_schema_version(struct store *st)
{
	int	 v;

	if (store_read_version(st, &v) == -1)
		return -1;
	return v;
}

/*
 * SQLite creates files with 0644 and the WAL and shm files copy the
 * database's mode, so creating it 0600 first keeps provider secrets
 * and session tokens private to the gateway user.
 */
static int
store_precreate(const char *path)
{
	int	 fd;

	if (*path == '\0' || strcmp(path, ":memory:") == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		log_warn("store: %s", path);
		return -1;
	}
	close(fd);
	return 0;
}

static int
store_pragmas(struct store *st, const char *path)
{
	sqlite3_stmt	*s;
	const char	*mode;
	int		 ok;

	sqlite3_db_config(st->st_db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->st_db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_timeout(st->st_db, STORE_BUSY_MS);
	if (sqlite3_prepare_v2(st->st_db, "PRAGMA journal_mode = WAL", -1,
	    &s, NULL) != SQLITE_OK)
		return store_dberr(st, "journal_mode");
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return store_dberr(st, "journal_mode");
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	ok = mode != NULL && (strcmp(mode, "wal") == 0 ||
	    (strcmp(mode, "memory") == 0 && strcmp(path, ":memory:") == 0));
	if (!ok)
		log_warnx("store: %s: journal mode %s, not wal", path,
		    mode == NULL ? "unknown" : mode);
	sqlite3_finalize(s);
	if (!ok)
		return -1;
	/* FULL: in WAL mode every commit is fsynced before it returns. */
	if (store_exec(st, "PRAGMA synchronous = FULL", "synchronous") == -1 ||
	    store_exec(st, "PRAGMA foreign_keys = ON", "foreign_keys") == -1)
		return -1;
	return 0;
}

static int
store_migrate(struct store *st)
{
	int	 v, latest = STORE_NMIGRATIONS;

	if (store_exec(st, "CREATE TABLE IF NOT EXISTS schema_version ("
	    " version INTEGER NOT NULL PRIMARY KEY,"
	    " applied_at_ms INTEGER NOT NULL)", "schema_version") == -1)
		return -1;
	if (store_read_version(st, &v) == -1)
		return -1;
	if (v > latest) {
		log_warnx("store: database schema version %d is newer than "
		    "this gateway supports (%d); refusing to open it", v,
		    latest);
		return -1;
	}
	for (; v < latest; v++)
		if (store_migrate_one(st, v + 1) == -1)
			return -1;
	return 0;
}

static int
store_migrate_one(struct store *st, int v)
{
	char	 sql[160];
	int	 cur;

	if (store_begin(st) == -1)
		return -1;
	/* Re-read under the write lock: another opener may have won. */
	if (store_read_version(st, &cur) == -1)
		goto fail;
	if (cur >= v)
		return store_commit(st);
	snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d,"
	    " CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))", v);
	if (store_exec(st, store_migrations[v - 1], "migration") == -1 ||
	    store_exec(st, sql, "schema_version") == -1)
		goto fail;
	if (store_commit(st) == -1)
		goto fail;
	log_info("store: database migrated to schema version %d", v);
	return 0;
 fail:
	log_warnx("store: migration to schema version %d failed", v);
	store_rollback(st);
	return -1;
}

static int
store_read_version(struct store *st, int *v)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (sqlite3_prepare_v2(st->st_db, "SELECT coalesce(max(version), 0)"
	    " FROM schema_version", -1, &s, NULL) != SQLITE_OK)
		return store_dberr(st, "schema_version");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_dberr(st, "schema_version");
	return 0;
}

static int
store_exec(struct store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->st_db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_dberr(st, what);
	return 0;
}

static int
store_dberr(struct store *st, const char *what)
{
	/* errmsg names tables and columns, never bound values. */
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->st_db));
	return -1;
}

int
store_begin(struct store *st)
{
	if (!sqlite3_get_autocommit(st->st_db)) {
		log_warnx("store: begin: transaction already open");
		return -1;
	}
	return store_run(st, store_query(st, STMT_BEGIN, ""), "begin") ==
	    STORE_OK ? 0 : -1;
}

int
store_commit(struct store *st)
{
	return store_run(st, store_query(st, STMT_COMMIT, ""), "commit") ==
	    STORE_OK ? 0 : -1;
}

/* A no-op outside a transaction, so error paths may always call it. */
int
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->st_db))
		return 0;
	return store_run(st, store_query(st, STMT_ROLLBACK, ""), "rollback") ==
	    STORE_OK ? 0 : -1;
}

static sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt id)
{
	sqlite3_stmt	*s = st->st_stmt[id];

	if (s != NULL)
		return s;
	if (sqlite3_prepare_v3(st->st_db, store_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		store_dberr(st, "prepare");
		return NULL;
	}
	st->st_stmt[id] = s;
	return s;
}

/*
 * Statement id with parameters 1..n bound by a format: 't' text (NULL
 * binds NULL), 'b' blob (pointer, size_t), 'i' int64_t, 'z' int64_t
 * with 0 as NULL.  NULL (logged) if it cannot be prepared or bound;
 * the store_run, store_step_row, store_fetch and store_each that take
 * it pass that on as STORE_ERR.  Bound memory must outlive the step,
 * which it does: every caller steps and resets before returning.
 */
static sqlite3_stmt *
store_query(struct store *st, enum store_stmt id, const char *fmt, ...)
{
	sqlite3_stmt	*s;
	va_list		 ap;
	int		 rc;

	if ((s = store_stmt(st, id)) == NULL)
		return NULL;
	va_start(ap, fmt);
	rc = store_bind(s, fmt, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(s);
		store_dberr(st, "bind");
		return NULL;
	}
	return s;
}

static int
store_bind(sqlite3_stmt *s, const char *fmt, va_list ap)
{
	const void	*p;
	size_t		 len;
	int64_t		 n;
	int		 i, rc = SQLITE_OK;
	char		 c;

	for (i = 1; rc == SQLITE_OK && (c = fmt[i - 1]) != '\0'; i++) {
		switch (c) {
		case 't':
			p = va_arg(ap, const char *);
			rc = p == NULL ? sqlite3_bind_null(s, i) :
			    sqlite3_bind_text(s, i, p, -1, SQLITE_STATIC);
			break;
		case 'b':
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			rc = len == 0 ? sqlite3_bind_zeroblob(s, i, 0) :
			    sqlite3_bind_blob64(s, i, p, len, SQLITE_STATIC);
			break;
		case 'i':
		case 'z':
			n = va_arg(ap, int64_t);
			if (n == 0 && c == 'z')
				rc = sqlite3_bind_null(s, i);
			else
				rc = sqlite3_bind_int64(s, i, n);
			break;
		default:
			rc = SQLITE_MISUSE;
			break;
		}
	}
	return rc;
}

/* Run a statement that returns no rows; always leaves it reset. */
static int
store_run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int	 rc;

	if (s == NULL)
		return STORE_ERR;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		if (rc == SQLITE_CONSTRAINT_UNIQUE)
			rc = STORE_CONFLICT;
		else
			rc = store_dberr(st, what);
	} else
		rc = STORE_OK;
	store_finish(s);
	return rc;
}

/* After store_run of an UPDATE or DELETE: STORE_NOTFOUND if no row. */
static int
store_changed(struct store *st, int rc)
{
	if (rc != STORE_OK)
		return rc;
	return sqlite3_changes(st->st_db) == 0 ? STORE_NOTFOUND : STORE_OK;
}

/*
 * Step to the first row: STORE_OK leaves the statement on the row for
 * the caller to read and reset; otherwise it is already reset.
 */
static int
store_step_row(struct store *st, sqlite3_stmt *s, const char *what)
{
	int	 rc;

	if (s == NULL)
		return STORE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	rc = rc == SQLITE_DONE ? STORE_NOTFOUND : store_dberr(st, what);
	store_finish(s);
	return rc;
}

/* The first row, copied into o, or p if o is NULL (zeroed first). */
static int
store_fetch(struct store *st, sqlite3_stmt *s, const char *what,
    struct store_object *o, struct store_policy *p)
{
	int	 rc;

	if (o != NULL)
		memset(o, 0, sizeof(*o));
	else
		memset(p, 0, sizeof(*p));
	if ((rc = store_step_row(st, s, what)) != STORE_OK)
		return rc;
	if (o != NULL)
		rc = store_row(s, store_dup_object, NULL, o);
	else
		rc = store_row(s, NULL, store_dup_policy, p);
	store_finish(s);
	return rc;
}

/*
 * Every row to ocb, or pcb if ocb is NULL, until one returns non-zero:
 * that value, or STORE_ERR, or 0.
 */
static int
store_each(struct store *st, sqlite3_stmt *s, const char *what,
    store_object_cb ocb, store_policy_cb pcb, void *arg)
{
	int	 rc = SQLITE_DONE, stop = 0;

	if (s == NULL)
		return STORE_ERR;
	while (stop == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = store_row(s, ocb, pcb, arg);
	if (stop == 0 && rc != SQLITE_DONE)
		stop = store_dberr(st, what);
	store_finish(s);
	return stop;
}

/*
 * The current row to ocb, or pcb if ocb is NULL; it borrows SQLite's
 * column memory until the next step or reset.
 */
static int
store_row(sqlite3_stmt *s, store_object_cb ocb, store_policy_cb pcb,
    void *arg)
{
	struct store_object	 o;
	struct store_policy	 p;

	if (ocb != NULL) {
		store_row_object(s, &o);
		return ocb(&o, arg);
	}
	store_row_policy(s, &p);
	return pcb(&p, arg);
}

static void
store_finish(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int
store_put(struct store *st, const char *type, const char *id,
    const char *name, const void *payload, size_t len, int64_t now_ms)
{
	return store_run(st, store_query(st, STMT_OBJ_PUT, "tttbi", type, id,
	    name, payload, len, now_ms), type);
}

int
store_get_by_id(struct store *st, const char *type, const char *id,
    struct store_object *out)
{
	return store_fetch(st, store_query(st, STMT_OBJ_GET_ID, "tt", type,
	    id), type, out, NULL);
}

int
store_get_by_name(struct store *st, const char *type, const char *name,
    struct store_object *out)
{
	return store_fetch(st, store_query(st, STMT_OBJ_GET_NAME, "tt", type,
	    name), type, out, NULL);
}

int
store_delete_by_id(struct store *st, const char *type, const char *id)
{
	return store_changed(st, store_run(st, store_query(st,
	    STMT_OBJ_DEL_ID, "tt", type, id), type));
}

int
store_delete_by_name(struct store *st, const char *type, const char *name)
{
	return store_changed(st, store_run(st, store_query(st,
	    STMT_OBJ_DEL_NAME, "tt", type, name), type));
}

/* A limit <= 0 lists every row. */
int
store_list(struct store *st, const char *type, int64_t limit,
    int64_t offset, store_object_cb cb, void *arg)
{
	return store_each(st, store_query(st, STMT_OBJ_LIST, "tii", type,
	    limit > 0 ? limit : -1, offset > 0 ? offset : 0), type, cb, NULL,
	    arg);
}

int
store_count(struct store *st, const char *type, int64_t *count)
{
	sqlite3_stmt	*s;
	int		 rc;

	*count = 0;
	s = store_query(st, STMT_OBJ_COUNT, "t", type);
	if ((rc = store_step_row(st, s, type)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_ERR : rc;
	*count = sqlite3_column_int64(s, 0);
	store_finish(s);
	return STORE_OK;
}

void
store_object_clear(struct store_object *o)
{
	free(o->so_type);
	free(o->so_id);
	free(o->so_name);
	free(o->so_payload);
	memset(o, 0, sizeof(*o));
}

/* The row borrows SQLite's column memory until the next step/reset. */
static void
store_row_object(sqlite3_stmt *s, struct store_object *o)
{
	o->so_type = (char *)sqlite3_column_text(s, 0);
	o->so_id = (char *)sqlite3_column_text(s, 1);
	o->so_name = (char *)sqlite3_column_text(s, 2);
	o->so_payload = (uint8_t *)sqlite3_column_blob(s, 3);
	o->so_len = sqlite3_column_bytes(s, 3);
	o->so_created_ms = sqlite3_column_int64(s, 4);
	o->so_updated_ms = sqlite3_column_int64(s, 5);
}

/* A copy of the row into the struct store_object at arg. */
static int
store_dup_object(const struct store_object *row, void *arg)
{
	struct store_object	*o = arg;

	*o = *row;
	o->so_type = o->so_id = o->so_name = NULL;
	o->so_payload = NULL;
	if (store_dupstr(&o->so_type, row->so_type) == -1 ||
	    store_dupstr(&o->so_id, row->so_id) == -1 ||
	    store_dupstr(&o->so_name, row->so_name) == -1 ||
	    store_dupblob(&o->so_payload, row->so_payload, row->so_len) == -1) {
		store_object_clear(o);
		return STORE_ERR;
	}
	return STORE_OK;
}

static int
store_dupstr(char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return 0;
	}
	if ((*dst = strdup(src)) == NULL) {
		log_warn("store");
		return -1;
	}
	return 0;
}

/* Never NULL on success, even for an empty blob. */
static int
store_dupblob(uint8_t **dst, const uint8_t *src, size_t len)
{
	if ((*dst = malloc(len == 0 ? 1 : len)) == NULL) {
		log_warn("store");
		return -1;
	}
	if (len > 0)
		memcpy(*dst, src, len);
	return 0;
}

int
store_policy_latest(struct store *st, const char *sandbox_id,
    struct store_policy *out)
{
	return store_fetch(st, store_query(st, STMT_POL_LATEST, "t",
	    sandbox_id), "policy latest", NULL, out);
}

int
store_policy_get(struct store *st, const char *sandbox_id, int64_t version,
    struct store_policy *out)
{
	return store_fetch(st, store_query(st, STMT_POL_GET, "ti", sandbox_id,
	    version), "policy get", NULL, out);
}

/*
 * id may be NULL to have a UUIDv4 made here; status NULL means
 * pending.  STORE_CONFLICT: (sandbox_id, version) exists already, the
 * signal the draft-merge retry loop waits for (§2.7).
 */
int
store_policy_insert(struct store *st, const char *id, const char *sandbox_id,
    int64_t version, const void *payload, size_t len, const char *hash,
    const char *status, int64_t created_ms)
{
	char	 uuid[37];

	if (id == NULL) {
		if (store_uuid(uuid, sizeof(uuid)) == -1)
			return STORE_ERR;
		id = uuid;
	}
	if (status == NULL)
		status = STORE_POLICY_PENDING;
	return store_run(st, store_query(st, STMT_POL_INSERT, "ttibtti", id,
	    sandbox_id, version, payload, len, hash, status, created_ms),
	    "policy insert");
}

/* load_error NULL and loaded_ms 0 store NULL. */
int
store_policy_set_status(struct store *st, const char *sandbox_id,
    int64_t version, const char *status, const char *load_error,
    int64_t loaded_ms)
{
	return store_changed(st, store_run(st, store_query(st,
	    STMT_POL_STATUS, "tittz", sandbox_id, version, status, load_error,
	    loaded_ms), "policy status"));
}

/*
 * Mark every revision of sandbox_id older than version whose status is
 * in the NULL-terminated statuses (at most four) as superseded.  Pass
 * INT64_MAX as the version to supersede them all.
 */
int
store_policy_supersede_older(struct store *st, const char *sandbox_id,
    int64_t version, const char *const *statuses, int *nchanged)
{
	const char	*sv[STORE_MAX_STATUSES] = { NULL };
	int		 i, rc;

	if (nchanged != NULL)
		*nchanged = 0;
	for (i = 0; statuses != NULL && statuses[i] != NULL; i++) {
		if (i == STORE_MAX_STATUSES) {
			log_warnx("store: supersede: too many statuses");
			return STORE_ERR;
		}
		sv[i] = statuses[i];
	}
	if ((rc = store_run(st, store_query(st, STMT_POL_SUPERSEDE, "titttt",
	    sandbox_id, version, sv[0], sv[1], sv[2], sv[3]),
	    "policy supersede")) != STORE_OK)
		return rc;
	if (nchanged != NULL)
		*nchanged = sqlite3_changes(st->st_db);
	return STORE_OK;
}

/* Newest first; the payload is not read (sp_payload NULL). */
int
store_policy_list(struct store *st, const char *sandbox_id, int64_t limit,
    int64_t offset, store_policy_cb cb, void *arg)
{
	return store_each(st, store_query(st, STMT_POL_LIST, "tii", sandbox_id,
	    limit > 0 ? limit : -1, offset > 0 ? offset : 0), "policy list",
	    NULL, cb, arg);
}

void
store_policy_clear(struct store_policy *p)
{
	free(p->sp_id);
	free(p->sp_sandbox_id);
	free(p->sp_payload);
	free(p->sp_hash);
	free(p->sp_status);
	free(p->sp_load_error);
	memset(p, 0, sizeof(*p));
}

static void
store_row_policy(sqlite3_stmt *s, struct store_policy *p)
{
	p->sp_id = (char *)sqlite3_column_text(s, 0);
	p->sp_sandbox_id = (char *)sqlite3_column_text(s, 1);
	p->sp_version = sqlite3_column_int64(s, 2);
	p->sp_payload = (uint8_t *)sqlite3_column_blob(s, 3);
	p->sp_len = sqlite3_column_bytes(s, 3);
	p->sp_hash = (char *)sqlite3_column_text(s, 4);
	p->sp_status = (char *)sqlite3_column_text(s, 5);
	p->sp_load_error = (char *)sqlite3_column_text(s, 6);
	p->sp_created_ms = sqlite3_column_int64(s, 7);
	p->sp_loaded_ms = sqlite3_column_int64(s, 8);
}

/* A copy of the row into the struct store_policy at arg. */
static int
store_dup_policy(const struct store_policy *row, void *arg)
{
	struct store_policy	*p = arg;

	memset(p, 0, sizeof(*p));
	p->sp_version = row->sp_version;
	p->sp_len = row->sp_len;
	p->sp_created_ms = row->sp_created_ms;
	p->sp_loaded_ms = row->sp_loaded_ms;
	if (store_dupstr(&p->sp_id, row->sp_id) == -1 ||
	    store_dupstr(&p->sp_sandbox_id, row->sp_sandbox_id) == -1 ||
	    store_dupblob(&p->sp_payload, row->sp_payload, row->sp_len) == -1 ||
	    store_dupstr(&p->sp_hash, row->sp_hash) == -1 ||
	    store_dupstr(&p->sp_status, row->sp_status) == -1 ||
	    store_dupstr(&p->sp_load_error, row->sp_load_error) == -1) {
		store_policy_clear(p);
		return STORE_ERR;
	}
	return STORE_OK;
}

static int
store_uuid(char *buf, size_t len)
{
	uint8_t	 b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		log_warn("store: getrandom");
		return -1;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}
