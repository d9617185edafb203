/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Unit tests for svc/gatewayd/store.c against real SQLite databases in
 * a private temporary directory.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "svc/gatewayd/store.h"

#define DURABLE_MIN_REPORTS	200
#define DURABLE_MAX_ROWS	1000000

struct fixture {
	char		 dir[PATH_MAX / 2];
	char		 path[PATH_MAX];
	struct store	*st;
};

struct collect {
	char		 names[16][32];
	int64_t		 versions[16];
	int		 n;
	int		 stop_at;
};

static int	 setup(void **);
static int	 teardown(void **);
static int	 raw_exec(const char *, const char *);
static int	 raw_int(const char *, const char *, int64_t *);
static int	 collect_object(const struct store_object *, void *);
static int	 collect_policy(const struct store_policy *, void *);
static void	 put_ok(struct store *, const char *, const char *,
		    const char *, const char *, int64_t);
static void	 insert_rev(struct store *, const char *, int64_t,
		    const char *);
static void	 durable_child(const char *, int);
static int	 read_report(int, int *);

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*tmp = getenv("TMPDIR");

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/store_test.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/gateway.db", f->dir);
	if ((f->st = store_open(f->path)) == NULL) {
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 p[PATH_MAX + 8];

	store_close(f->st);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A second, independent connection, as an operator's shell would be. */
static int
raw_exec(const char *path, const char *sql)
{
	sqlite3	*db;
	int	 rc;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int
raw_int(const char *path, const char *sql, int64_t *out)
{
	sqlite3		*db;
	sqlite3_stmt	*s = NULL;
	int		 rc = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

static int
collect_object(const struct store_object *o, void *arg)
{
	struct collect	*c = arg;

	snprintf(c->names[c->n], sizeof(c->names[0]), "%s", o->so_name);
	c->n++;
	return c->n == c->stop_at ? 7 : 0;
}

static int
collect_policy(const struct store_policy *p, void *arg)
{
	struct collect	*c = arg;

	assert_null(p->sp_payload);
	c->versions[c->n++] = p->sp_version;
	return 0;
}

static void
put_ok(struct store *st, const char *type, const char *id, const char *name,
    const char *payload, int64_t now)
{
	assert_int_equal(store_put(st, type, id, name, payload,
	    strlen(payload), now), STORE_OK);
}

static void
test_fresh_db_migrates(void **state)
{
	struct fixture	*f = *state;
	struct stat	 sb;
	int64_t		 n;

	assert_true(store_latest_schema() >= 1);
	assert_int_equal(store_schema_version(f->st), store_latest_schema());
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'table' AND name IN ('objects',"
	    " 'sandbox_policies', 'draft_policy_chunks')", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'index' AND name ="
	    " 'draft_policy_chunks_endpoint'", &n), 0);
	assert_int_equal(n, 1);
	/* Provider credentials live here: the file is private. */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void
test_reopen_is_noop(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;
	int64_t			 n;

	put_ok(f->st, STORE_T_SANDBOX, "id-1", "alpha", "p1", 1000);
	store_close(f->st);
	f->st = store_open(f->path);
	assert_non_null(f->st);
	assert_int_equal(store_schema_version(f->st), store_latest_schema());
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM schema_version",
	    &n), 0);
	assert_int_equal(n, store_latest_schema());
	assert_int_equal(store_get_by_id(f->st, STORE_T_SANDBOX, "id-1", &o),
	    STORE_OK);
	assert_string_equal(o.so_name, "alpha");
	store_object_clear(&o);
}

static void
test_future_schema_refused(void **state)
{
	struct fixture	*f = *state;
	char		 sql[128];

	store_close(f->st);
	f->st = NULL;
	snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, 0)",
	    store_latest_schema() + 1);
	assert_int_equal(raw_exec(f->path, sql), 0);
	assert_null(store_open(f->path));
	/* Refusing must not have touched the newer database. */
	snprintf(sql, sizeof(sql), "DELETE FROM schema_version WHERE version"
	    " = %d", store_latest_schema() + 1);
	assert_int_equal(raw_exec(f->path, sql), 0);
	f->st = store_open(f->path);
	assert_non_null(f->st);
}

static void
test_put_get_upsert(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;

	put_ok(f->st, STORE_T_PROVIDER, "p-1", "openai", "v1", 1000);
	assert_int_equal(store_get_by_id(f->st, STORE_T_PROVIDER, "p-1", &o),
	    STORE_OK);
	assert_string_equal(o.so_type, STORE_T_PROVIDER);
	assert_string_equal(o.so_id, "p-1");
	assert_string_equal(o.so_name, "openai");
	assert_int_equal(o.so_len, 2);
	assert_memory_equal(o.so_payload, "v1", 2);
	assert_int_equal(o.so_created_ms, 1000);
	assert_int_equal(o.so_updated_ms, 1000);
	store_object_clear(&o);

	/* Same id: payload and updated_at change; name and created stay. */
	put_ok(f->st, STORE_T_PROVIDER, "p-1", "renamed", "v2-longer", 2000);
	assert_int_equal(store_get_by_name(f->st, STORE_T_PROVIDER, "openai",
	    &o), STORE_OK);
	assert_string_equal(o.so_id, "p-1");
	assert_int_equal(o.so_len, 9);
	assert_memory_equal(o.so_payload, "v2-longer", 9);
	assert_int_equal(o.so_created_ms, 1000);
	assert_int_equal(o.so_updated_ms, 2000);
	store_object_clear(&o);

	assert_int_equal(store_get_by_name(f->st, STORE_T_PROVIDER, "renamed",
	    &o), STORE_NOTFOUND);
	assert_int_equal(store_get_by_id(f->st, STORE_T_SANDBOX, "p-1", &o),
	    STORE_NOTFOUND);
	assert_null(o.so_payload);
}

static void
test_empty_payload(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;

	assert_int_equal(store_put(f->st, STORE_T_GW_SETTINGS,
	    "gateway_settings:global", "global", NULL, 0, 5), STORE_OK);
	assert_int_equal(store_get_by_name(f->st, STORE_T_GW_SETTINGS,
	    "global", &o), STORE_OK);
	assert_non_null(o.so_payload);
	assert_int_equal(o.so_len, 0);
	store_object_clear(&o);
}

static void
test_name_unique_per_type(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;
	int64_t			 n;

	put_ok(f->st, STORE_T_SANDBOX, "s-1", "shared", "a", 1);
	assert_int_equal(store_put(f->st, STORE_T_SANDBOX, "s-2", "shared",
	    "b", 1, 2), STORE_CONFLICT);
	assert_int_equal(store_get_by_id(f->st, STORE_T_SANDBOX, "s-2", &o),
	    STORE_NOTFOUND);
	/* The same name under another type is a different object. */
	put_ok(f->st, STORE_T_PROVIDER, "p-1", "shared", "c", 3);
	assert_int_equal(store_count(f->st, STORE_T_SANDBOX, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_count(f->st, STORE_T_PROVIDER, &n), STORE_OK);
	assert_int_equal(n, 1);
}

static void
test_cross_type_id_is_noop(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;

	put_ok(f->st, STORE_T_SANDBOX, "same-id", "box", "sandbox", 1);
	/* As the reference: no error, and nothing changes. */
	put_ok(f->st, STORE_T_PROVIDER, "same-id", "prov", "provider", 2);
	assert_int_equal(store_get_by_id(f->st, STORE_T_PROVIDER, "same-id",
	    &o), STORE_NOTFOUND);
	assert_int_equal(store_get_by_name(f->st, STORE_T_PROVIDER, "prov",
	    &o), STORE_NOTFOUND);
	assert_int_equal(store_get_by_id(f->st, STORE_T_SANDBOX, "same-id",
	    &o), STORE_OK);
	assert_memory_equal(o.so_payload, "sandbox", 7);
	assert_int_equal(o.so_updated_ms, 1);
	store_object_clear(&o);
}

static void
test_delete(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;

	put_ok(f->st, STORE_T_SSH_SESSION, "tok-1", "abcdef", "x", 1);
	put_ok(f->st, STORE_T_SSH_SESSION, "tok-2", "ghijkl", "y", 2);
	assert_int_equal(store_delete_by_id(f->st, STORE_T_SANDBOX, "tok-1"),
	    STORE_NOTFOUND);
	assert_int_equal(store_delete_by_id(f->st, STORE_T_SSH_SESSION,
	    "tok-1"), STORE_OK);
	assert_int_equal(store_delete_by_id(f->st, STORE_T_SSH_SESSION,
	    "tok-1"), STORE_NOTFOUND);
	assert_int_equal(store_delete_by_name(f->st, STORE_T_SSH_SESSION,
	    "ghijkl"), STORE_OK);
	assert_int_equal(store_delete_by_name(f->st, STORE_T_SSH_SESSION,
	    "ghijkl"), STORE_NOTFOUND);
	assert_int_equal(store_get_by_id(f->st, STORE_T_SSH_SESSION, "tok-2",
	    &o), STORE_NOTFOUND);
	/* A deleted name is free again. */
	put_ok(f->st, STORE_T_SSH_SESSION, "tok-3", "ghijkl", "z", 3);
}

static void
test_list_order_limit_offset(void **state)
{
	struct fixture	*f = *state;
	struct collect	 c;
	int64_t		 n;

	put_ok(f->st, STORE_T_SANDBOX, "i1", "delta", "x", 300);
	put_ok(f->st, STORE_T_SANDBOX, "i2", "bravo", "x", 100);
	put_ok(f->st, STORE_T_SANDBOX, "i3", "alpha", "x", 100);
	put_ok(f->st, STORE_T_SANDBOX, "i4", "charlie", "x", 200);
	put_ok(f->st, STORE_T_PROVIDER, "i5", "aaa", "x", 1);
	/* An update must not move a row: created_at is set once. */
	put_ok(f->st, STORE_T_SANDBOX, "i3", "alpha", "y", 900);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_list(f->st, STORE_T_SANDBOX, 0, 0,
	    collect_object, &c), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.names[0], "alpha");
	assert_string_equal(c.names[1], "bravo");
	assert_string_equal(c.names[2], "charlie");
	assert_string_equal(c.names[3], "delta");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_list(f->st, STORE_T_SANDBOX, 2, 1,
	    collect_object, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.names[0], "bravo");
	assert_string_equal(c.names[1], "charlie");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_list(f->st, STORE_T_SANDBOX, 10, 4,
	    collect_object, &c), 0);
	assert_int_equal(c.n, 0);

	/* The callback's non-zero return stops the list and is returned. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(store_list(f->st, STORE_T_SANDBOX, 0, 0,
	    collect_object, &c), 7);
	assert_int_equal(c.n, 2);

	assert_int_equal(store_count(f->st, STORE_T_SANDBOX, &n), STORE_OK);
	assert_int_equal(n, 4);
	assert_int_equal(store_count(f->st, STORE_T_INFERENCE, &n), STORE_OK);
	assert_int_equal(n, 0);
}

static void
insert_rev(struct store *st, const char *sb, int64_t v, const char *status)
{
	char	 payload[32], hash[32];

	snprintf(payload, sizeof(payload), "policy-%lld", (long long)v);
	snprintf(hash, sizeof(hash), "hash-%lld", (long long)v);
	assert_int_equal(store_policy_insert(st, NULL, sb, v, payload,
	    strlen(payload), hash, status, 1000 + v), STORE_OK);
}

static void
test_policy_revisions(void **state)
{
	struct fixture		*f = *state;
	struct store_policy	 p;
	struct collect		 c;

	assert_int_equal(store_policy_latest(f->st, "sb-1", &p),
	    STORE_NOTFOUND);
	insert_rev(f->st, "sb-1", 1, NULL);
	insert_rev(f->st, "sb-1", 2, STORE_POLICY_PENDING);
	insert_rev(f->st, "sb-1", 3, STORE_POLICY_PENDING);
	insert_rev(f->st, "sb-2", 9, STORE_POLICY_PENDING);
	insert_rev(f->st, STORE_POLICY_GLOBAL, 1, STORE_POLICY_LOADED);

	assert_int_equal(store_policy_latest(f->st, "sb-1", &p), STORE_OK);
	assert_int_equal(p.sp_version, 3);
	assert_string_equal(p.sp_sandbox_id, "sb-1");
	assert_string_equal(p.sp_hash, "hash-3");
	assert_string_equal(p.sp_status, "pending");
	assert_int_equal(strlen(p.sp_id), 36);
	assert_int_equal(p.sp_id[14], '4');
	assert_int_equal(p.sp_len, 8);
	assert_memory_equal(p.sp_payload, "policy-3", 8);
	assert_null(p.sp_load_error);
	assert_int_equal(p.sp_loaded_ms, 0);
	assert_int_equal(p.sp_created_ms, 1003);
	store_policy_clear(&p);

	assert_int_equal(store_policy_get(f->st, "sb-1", 1, &p), STORE_OK);
	assert_string_equal(p.sp_status, "pending");	/* the default */
	store_policy_clear(&p);
	assert_int_equal(store_policy_get(f->st, "sb-1", 4, &p),
	    STORE_NOTFOUND);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_policy_list(f->st, "sb-1", 0, 0,
	    collect_policy, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.versions[0], 3);
	assert_int_equal(c.versions[1], 2);
	assert_int_equal(c.versions[2], 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_policy_list(f->st, "sb-1", 1, 1,
	    collect_policy, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.versions[0], 2);
}

static void
test_policy_status_supersede(void **state)
{
	static const char *const live[] = { STORE_POLICY_PENDING,
	    STORE_POLICY_LOADED, NULL };
	struct fixture		*f = *state;
	struct store_policy	 p;
	int			 n;

	insert_rev(f->st, "sb", 1, STORE_POLICY_LOADED);
	insert_rev(f->st, "sb", 2, STORE_POLICY_PENDING);
	insert_rev(f->st, "sb", 3, STORE_POLICY_PENDING);
	insert_rev(f->st, "sb", 4, STORE_POLICY_PENDING);
	insert_rev(f->st, "other", 1, STORE_POLICY_PENDING);

	assert_int_equal(store_policy_set_status(f->st, "sb", 2,
	    STORE_POLICY_FAILED, "bad rule", 0), STORE_OK);
	assert_int_equal(store_policy_set_status(f->st, "sb", 3,
	    STORE_POLICY_LOADED, NULL, 5555), STORE_OK);
	assert_int_equal(store_policy_set_status(f->st, "sb", 7,
	    STORE_POLICY_LOADED, NULL, 1), STORE_NOTFOUND);

	assert_int_equal(store_policy_get(f->st, "sb", 2, &p), STORE_OK);
	assert_string_equal(p.sp_status, "failed");
	assert_string_equal(p.sp_load_error, "bad rule");
	assert_int_equal(p.sp_loaded_ms, 0);
	store_policy_clear(&p);
	assert_int_equal(store_policy_get(f->st, "sb", 3, &p), STORE_OK);
	assert_string_equal(p.sp_status, "loaded");
	assert_null(p.sp_load_error);
	assert_int_equal(p.sp_loaded_ms, 5555);
	store_policy_clear(&p);

	/* Older pending/loaded rows go; failed and newer rows stay. */
	assert_int_equal(store_policy_supersede_older(f->st, "sb", 3, live,
	    &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_policy_get(f->st, "sb", 1, &p), STORE_OK);
	assert_string_equal(p.sp_status, "superseded");
	store_policy_clear(&p);
	assert_int_equal(store_policy_get(f->st, "sb", 2, &p), STORE_OK);
	assert_string_equal(p.sp_status, "failed");
	store_policy_clear(&p);
	assert_int_equal(store_policy_get(f->st, "sb", 3, &p), STORE_OK);
	assert_string_equal(p.sp_status, "loaded");
	store_policy_clear(&p);

	/* Everything (the global policy delete). */
	assert_int_equal(store_policy_supersede_older(f->st, "sb", INT64_MAX,
	    live, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_policy_get(f->st, "sb", 4, &p), STORE_OK);
	assert_string_equal(p.sp_status, "superseded");
	store_policy_clear(&p);
	assert_int_equal(store_policy_get(f->st, "other", 1, &p), STORE_OK);
	assert_string_equal(p.sp_status, "pending");
	store_policy_clear(&p);
}

static void
test_policy_version_conflict(void **state)
{
	struct fixture		*f = *state;
	struct store_policy	 p;

	insert_rev(f->st, "sb", 1, NULL);
	assert_int_equal(store_policy_insert(f->st, NULL, "sb", 1, "x", 1,
	    "h", NULL, 1), STORE_CONFLICT);
	/* The retry the draft merge does: next version. */
	assert_int_equal(store_policy_insert(f->st, NULL, "sb", 2, "x", 1,
	    "h", NULL, 1), STORE_OK);
	assert_int_equal(store_policy_insert(f->st, "fixed-id", "sb2", 1,
	    "x", 1, "h", NULL, 1), STORE_OK);
	assert_int_equal(store_policy_get(f->st, "sb2", 1, &p), STORE_OK);
	assert_string_equal(p.sp_id, "fixed-id");
	store_policy_clear(&p);
	/* A duplicate row id is an error, not a version conflict. */
	assert_int_equal(store_policy_insert(f->st, "fixed-id", "sb3", 1,
	    "x", 1, "h", NULL, 1), STORE_ERR);
}

static void
test_transactions(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;

	assert_int_equal(store_rollback(f->st), 0);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_begin(f->st), -1);
	put_ok(f->st, STORE_T_SANDBOX, "t1", "one", "x", 1);
	assert_int_equal(store_rollback(f->st), 0);
	assert_int_equal(store_get_by_id(f->st, STORE_T_SANDBOX, "t1", &o),
	    STORE_NOTFOUND);

	assert_int_equal(store_begin(f->st), 0);
	put_ok(f->st, STORE_T_SANDBOX, "t1", "one", "x", 1);
	insert_rev(f->st, "t1", 1, NULL);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_get_by_id(f->st, STORE_T_SANDBOX, "t1", &o),
	    STORE_OK);
	store_object_clear(&o);
}

static void
test_wal_mode(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	sqlite3_stmt	*s;
	char		 wal[PATH_MAX + 8];

	put_ok(f->st, STORE_T_SANDBOX, "w", "w", "x", 1);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(access(wal, F_OK), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* Child: commit rows one by one, reporting each after it committed. */
static void
durable_child(const char *path, int fd)
{
	struct store	*st;
	char		 id[32];
	int		 i;

	if ((st = store_open(path)) == NULL)
		_exit(1);
	for (i = 0; i < DURABLE_MAX_ROWS; i++) {
		snprintf(id, sizeof(id), "row-%d", i);
		if (store_put(st, STORE_T_SANDBOX, id, id, id, strlen(id),
		    i) != STORE_OK)
			_exit(2);
		if (write(fd, &i, sizeof(i)) != (ssize_t)sizeof(i))
			_exit(3);
	}
	_exit(0);
}

static int
read_report(int fd, int *i)
{
	ssize_t	 n;

	do
		n = read(fd, i, sizeof(*i));
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(*i) ? 1 : 0;
}

static void
test_durability_sigkill(void **state)
{
	struct fixture		*f = *state;
	struct store_object	 o;
	char			 id[32];
	int			 fds[2], i, last = -1, nreports = 0, status;
	int			 inorder = 1;
	pid_t			 pid;

	/* The child must be the only writer, as gatewayd is. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(fds[0]);
		durable_child(f->path, fds[1]);
	}
	close(fds[1]);
	/* No assertion may fail before the kill: the child would live on. */
	while (nreports < DURABLE_MIN_REPORTS && read_report(fds[0], &i)) {
		inorder &= i == last + 1;
		last = i;
		nreports++;
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Reports already in the pipe were acknowledged commits too. */
	while (read_report(fds[0], &i))
		last = i;
	close(fds[0]);
	assert_true(inorder);
	assert_true(last >= DURABLE_MIN_REPORTS - 1);
	assert_true(last < DURABLE_MAX_ROWS - 1);

	f->st = store_open(f->path);
	assert_non_null(f->st);
	for (i = 0; i <= last; i++) {
		snprintf(id, sizeof(id), "row-%d", i);
		assert_int_equal(store_get_by_id(f->st, STORE_T_SANDBOX, id,
		    &o), STORE_OK);
		assert_string_equal(o.so_name, id);
		store_object_clear(&o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_db_migrates,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_is_noop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get_upsert,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_payload,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_unique_per_type,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_type_id_is_noop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_order_limit_offset,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_revisions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_status_supersede,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_version_conflict,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_mode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_durability_sigkill,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
