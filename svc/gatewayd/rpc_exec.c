/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * ExecSandbox (control-plane.md §4.8): the request is validated and
 * turned into one shell command string here; the SSH client side runs
 * in a worker the parent forks (svc/gateway/sshexec.c), which gets the
 * stdin bytes over a socketpair and streams frames back
 * ([u8 kind, u32 len BE, data]: 1 stdout, 2 stderr, 3 exit, 4 error)
 * that become ExecSandboxEvent messages.  A timeout answers exit 124
 * and ends the stream OK; closing the socketpair stops the worker.
 */

#include <sys/queue.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "gatewayd.h"
#include "log.h"
#include "proto/openshell.pb-c.h"
#include "store.h"

#define OS		"/openshell.v1.OpenShell/"
#define EX_ARGS_MAX	1024
#define EX_ARG_MAX	(32 * 1024)
#define EX_WORKDIR_MAX	4096
#define EX_CMD_MAX	(256 * 1024)
#define EX_FRAME_MAX	(1024 * 1024)
#define EX_TIMEOUT_CODE	124
#define EX_ID_BIT	0x80000000u	/* tunnels use the other half */
#define EX_PAYLOAD(k)	OPENSHELL__V1__EXEC_SANDBOX_EVENT__PAYLOAD_##k

enum {
	EX_STDOUT = 1,
	EX_STDERR = 2,
	EX_EXIT = 3,
	EX_ERROR = 4
};

typedef Openshell__V1__ExecSandboxRequest	ExecReq;

struct exec {
	TAILQ_ENTRY(exec)	 x_entry;
	struct gatewayd		*x_gd;
	struct grpc_call	*x_call;
	uint32_t		 x_id;
	uint8_t			*x_in;		/* stdin, until written */
	size_t			 x_inlen;
	uint32_t		 x_timeout;	/* s, 0: none */
	struct bufferevent	*x_bev;		/* the worker's socketpair */
	struct event		*x_timer;
	int			 x_in_done;
};

struct ex_kv {
	ProtobufCMessage	 base;
	char			*key;
	char			*value;
};

static TAILQ_HEAD(, exec) ex_list = TAILQ_HEAD_INITIALIZER(ex_list);
static uint32_t		 ex_next_id;

static grpc_handler_fn	 ex_handler;
static int	 ex_validate(struct grpc_call *, const ExecReq *, size_t);
static int	 ex_text_ok(const char *);
static int	 ex_key_ok(const char *);
static int	 ex_kv_cmp(const void *, const void *);
static char	*ex_command(const ExecReq *);
static int	 ex_quote(struct evbuffer *, const char *);
static void	 ex_start(struct gatewayd *, struct grpc_call *, ExecReq *,
		    char *);
static void	 ex_timeout(evutil_socket_t, short, void *);
static void	 ex_read(struct bufferevent *, void *);
static int	 ex_frame(struct exec *, int, const uint8_t *, size_t);
static int	 ex_send(struct exec *, int, const uint8_t *, size_t);
static void	 ex_write(struct bufferevent *, void *);
static void	 ex_event(struct bufferevent *, short, void *);
static void	 ex_cancel(struct grpc_call *, void *);
static void	 ex_drain(struct grpc_call *, void *);
static void	 ex_finish(struct exec *, int, const char *);
static void	 ex_free(struct exec *);

void
rpc_exec_register(struct gatewayd *gd)
{
	rpc_method(gd, OS "ExecSandbox", ex_handler);
}

static void
ex_handler(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd	*gd = arg;
	ExecReq		*req;
	char		*cmd;

	if ((req = openshell__v1__exec_sandbox_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (ex_validate(call, req, len) == -1 ||
	    rpc_require_ready(gd, call, req->sandbox_id) == -1) {
		openshell__v1__exec_sandbox_request__free_unpacked(req, NULL);
		return;
	}
	if ((cmd = ex_command(req)) == NULL)
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "command exceeds %d bytes", EX_CMD_MAX);
	else
		ex_start(gd, call, req, cmd);
	free(cmd);
	openshell__v1__exec_sandbox_request__free_unpacked(req, NULL);
}

/*
 * A NUL inside a string is invisible once unpacked (protobuf-c strings
 * are C strings) but the message then re-packs shorter than it came.
 */
static int
ex_validate(struct grpc_call *call, const ExecReq *req, size_t len)
{
	size_t	 i;

	if (req->sandbox_id[0] == '\0')
		return rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "sandbox_id is required"), -1;
	if (req->n_command == 0)
		return rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "command is required"), -1;
	if (req->n_command > EX_ARGS_MAX)
		return rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "command has more than %d arguments", EX_ARGS_MAX), -1;
	for (i = 0; i < req->n_command; i++)
		if (strlen(req->command[i]) > EX_ARG_MAX ||
		    !ex_text_ok(req->command[i]))
			return rpc_error(call, GRPC_INVALID_ARGUMENT,
			    "command argument %zu is longer than %d bytes or "
			    "contains NUL, CR or LF", i, EX_ARG_MAX), -1;
	for (i = 0; i < req->n_environment; i++) {
		if (!ex_key_ok(req->environment[i]->key))
			return rpc_error(call, GRPC_INVALID_ARGUMENT,
			    "invalid environment variable name '%s'",
			    req->environment[i]->key), -1;
		if (strlen(req->environment[i]->value) > EX_ARG_MAX ||
		    !ex_text_ok(req->environment[i]->value))
			return rpc_error(call, GRPC_INVALID_ARGUMENT,
			    "environment value of %s is longer than %d bytes "
			    "or contains NUL, CR or LF",
			    req->environment[i]->key, EX_ARG_MAX), -1;
	}
	if (strlen(req->workdir) > EX_WORKDIR_MAX || !ex_text_ok(req->workdir))
		return rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "workdir is longer than %d bytes or contains NUL, CR or "
		    "LF", EX_WORKDIR_MAX), -1;
	if (protobuf_c_message_get_packed_size(&req->base) != len)
		return rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "arguments, environment values and workdir must not "
		    "contain NUL, CR or LF"), -1;
	return 0;
}

static int
ex_text_ok(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

/* ^[A-Za-z_][A-Za-z0-9_]*$ */
static int
ex_key_ok(const char *k)
{
	if (!isalpha((unsigned char)*k) && *k != '_')
		return 0;
	for (k++; *k != '\0'; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return 0;
	return 1;
}

static int
ex_kv_cmp(const void *a, const void *b)
{
	const struct ex_kv *const	*x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

/*
 * [cd q(workdir) && ]KEY=q(value)... q(arg)...; env sorted by key.
 * NULL if it grows past EX_CMD_MAX (or on allocation failure).
 */
static char *
ex_command(const ExecReq *req)
{
	struct evbuffer	*b;
	struct ex_kv	**env;
	char		*out = NULL;
	size_t		 i, len;
	int		 rc = 0;

	if ((b = evbuffer_new()) == NULL || (env = calloc(
	    req->n_environment + 1, sizeof(*env))) == NULL) {
		if (b != NULL)
			evbuffer_free(b);
		return NULL;
	}
	/* protobuf-c leaves the array NULL when empty: no memcpy(NULL). */
	if (req->n_environment > 0)
		memcpy(env, req->environment,
		    req->n_environment * sizeof(*env));
	qsort(env, req->n_environment, sizeof(*env), ex_kv_cmp);
	if (req->workdir[0] != '\0') {
		rc |= evbuffer_add_printf(b, "cd ") < 0;
		rc |= ex_quote(b, req->workdir);
		rc |= evbuffer_add_printf(b, " && ") < 0;
	}
	for (i = 0; i < req->n_environment; i++) {
		rc |= evbuffer_add_printf(b, "%s=", env[i]->key) < 0;
		rc |= ex_quote(b, env[i]->value);
		rc |= evbuffer_add(b, " ", 1);
	}
	for (i = 0; i < req->n_command; i++) {
		if (i > 0)
			rc |= evbuffer_add(b, " ", 1);
		rc |= ex_quote(b, req->command[i]);
	}
	len = evbuffer_get_length(b);
	if (rc == 0 && len <= EX_CMD_MAX && (out = malloc(len + 1)) != NULL) {
		evbuffer_remove(b, out, len);
		out[len] = '\0';
	}
	free(env);
	evbuffer_free(b);
	return out;
}

/* '' for empty; as is if only [A-Za-z0-9./_-]; else '...' with '"'"'. */
static int
ex_quote(struct evbuffer *b, const char *s)
{
	static const char	 safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./_-";
	int			 rc = 0;

	if (*s == '\0')
		return evbuffer_add(b, "''", 2) != 0;
	if (strspn(s, safe) == strlen(s))
		return evbuffer_add(b, s, strlen(s)) != 0;
	rc |= evbuffer_add(b, "'", 1);
	for (; *s != '\0'; s++)
		rc |= *s == '\'' ? evbuffer_add(b, "'\"'\"'", 5) :
		    evbuffer_add(b, s, 1);
	rc |= evbuffer_add(b, "'", 1);
	return rc != 0;
}

static void
ex_start(struct gatewayd *gd, struct grpc_call *call, ExecReq *req,
    char *cmd)
{
	struct exec	*x;
	struct ipc_wr	 w;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return;
	}
	x->x_gd = gd;
	x->x_call = call;
	x->x_id = (++ex_next_id & ~EX_ID_BIT) | EX_ID_BIT;
	x->x_timeout = req->timeout_seconds;
	/* The request is freed after us: keep our own copy of stdin. */
	if (req->stdin.len > 0) {
		if ((x->x_in = malloc(req->stdin.len)) == NULL) {
			free(x);
			rpc_error(call, GRPC_INTERNAL, "out of memory");
			return;
		}
		memcpy(x->x_in, req->stdin.data, req->stdin.len);
		x->x_inlen = req->stdin.len;
	}
	TAILQ_INSERT_TAIL(&ex_list, x, x_entry);
	grpc_call_on_cancel(call, ex_cancel, x);
	if (x->x_timeout > 0) {
		struct timeval	 tv = { (time_t)x->x_timeout, 0 };

		if ((x->x_timer = evtimer_new(gd->gd_ps.ps_base, ex_timeout,
		    x)) == NULL || evtimer_add(x->x_timer, &tv) == -1) {
			ex_finish(x, GRPC_INTERNAL, "cannot arm the timeout");
			return;
		}
	}
	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_str(&w, req->sandbox_id);
	ipc_wr_str(&w, cmd);
	ipc_wr_u32(&w, x->x_timeout);
	if (proc_child_compose_wr(&gd->gd_ps, PROC_PARENT,
	    IPC_DRIVER_SSH_EXEC, x->x_id, -1, &w) == -1)
		ex_finish(x, GRPC_INTERNAL, "cannot ask the parent");
}

/* IPC_DRIVER_SSH_FD [str sandbox_id, str error] + fd, as connect_ssh_fd. */
int
rpc_exec_fd(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct exec	*x;
	struct ipc_rd	 r;
	char		 id[GD_UUID_LEN], err[256];
	uint32_t	 n = 0;
	int		 fd;

	TAILQ_FOREACH(x, &ex_list, x_entry)
		if (x->x_id == ipc_peerid(msg))
			break;
	if (x == NULL || x->x_bev != NULL)
		return -1;
	fd = ipc_fd(msg);
	err[0] = '\0';
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	ipc_rd_strbuf(&r, id, sizeof(id));
	ipc_rd_strbuf(&r, err, sizeof(err));
	if ((ipc_rd_end(&r) == -1 || n != 2) && err[0] == '\0')
		strlcpy(err, "bad answer", sizeof(err));
	if (err[0] != '\0' || fd == -1) {
		if (fd != -1)
			close(fd);
		ex_finish(x, GRPC_UNAVAILABLE, "cannot reach the sandbox");
		return 0;
	}
	evutil_make_socket_nonblocking(fd);
	if ((x->x_bev = bufferevent_socket_new(gd->gd_ps.ps_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		ex_finish(x, GRPC_INTERNAL, "out of memory");
		return 0;
	}
	bufferevent_setcb(x->x_bev, ex_read, ex_write, ex_event, x);
	bufferevent_enable(x->x_bev, EV_READ | EV_WRITE);
	if (x->x_inlen > 0 && bufferevent_write(x->x_bev, x->x_in,
	    x->x_inlen) == -1) {
		ex_finish(x, GRPC_INTERNAL, "out of memory");
		return 0;
	}
	free(x->x_in);
	x->x_in = NULL;
	ex_write(x->x_bev, x);
	return 0;
}

/* stdin is all out: the worker sees EOF and starts the session. */
static void
ex_write(struct bufferevent *bev, void *arg)
{
	struct exec	*x = arg;

	if (x->x_in_done ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	x->x_in_done = 1;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void
ex_read(struct bufferevent *bev, void *arg)
{
	struct exec	*x = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 hdr[5], *data;
	size_t		 len;

	while (evbuffer_get_length(in) >= sizeof(hdr)) {
		/* The stream is full: wait for ex_drain. */
		if (grpc_call_queued(x->x_call) > GRPC_QUEUE_DEFAULT / 2) {
			bufferevent_disable(bev, EV_READ);
			grpc_call_on_drain(x->x_call, ex_drain, x);
			return;
		}
		evbuffer_copyout(in, hdr, sizeof(hdr));
		len = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 |
		    (size_t)hdr[3] << 8 | hdr[4];
		if (len > EX_FRAME_MAX) {
			ex_finish(x, GRPC_INTERNAL,
			    "bad frame from the worker");
			return;
		}
		if (evbuffer_get_length(in) < sizeof(hdr) + len)
			return;
		evbuffer_drain(in, sizeof(hdr));
		if ((data = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL &&
		    len > 0) {
			ex_finish(x, GRPC_INTERNAL, "out of memory");
			return;
		}
		if (ex_frame(x, hdr[0], data, len) == -1)
			return;		/* x is gone */
		evbuffer_drain(in, len);
	}
}

/* 0 to go on, -1 when the call ended (x freed). */
static int
ex_frame(struct exec *x, int kind, const uint8_t *data, size_t len)
{
	char	 msg[256];
	int	 code;

	switch (kind) {
	case EX_STDOUT:
	case EX_STDERR:
		if (ex_send(x, kind, data, len) == -1) {
			ex_finish(x, GRPC_RESOURCE_EXHAUSTED,
			    "client is not reading");
			return -1;
		}
		return 0;
	case EX_EXIT:
		code = len == 4 ? (int)((uint32_t)data[0] << 24 |
		    (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 |
		    data[3]) : 1;
		ex_send(x, EX_EXIT, (const uint8_t *)&code, sizeof(code));
		ex_finish(x, GRPC_OK, NULL);
		return -1;
	default:
		snprintf(msg, sizeof(msg), "exec failed: %.*s",
		    (int)(len > 200 ? 200 : len), (const char *)data);
		log_info("exec %u: %s", x->x_id, msg);
		ex_finish(x, GRPC_UNAVAILABLE, msg);
		return -1;
	}
}

/* One ExecSandboxEvent; for EX_EXIT data is the int exit code. */
static int
ex_send(struct exec *x, int kind, const uint8_t *data, size_t len)
{
	Openshell__V1__ExecSandboxEvent		 ev =
	    OPENSHELL__V1__EXEC_SANDBOX_EVENT__INIT;
	Openshell__V1__ExecSandboxStdout	 out =
	    OPENSHELL__V1__EXEC_SANDBOX_STDOUT__INIT;
	Openshell__V1__ExecSandboxStderr	 err =
	    OPENSHELL__V1__EXEC_SANDBOX_STDERR__INIT;
	Openshell__V1__ExecSandboxExit		 ex =
	    OPENSHELL__V1__EXEC_SANDBOX_EXIT__INIT;

	switch (kind) {
	case EX_STDOUT:
		out.data.data = (uint8_t *)data;
		out.data.len = len;
		ev.payload_case = EX_PAYLOAD(STDOUT);
		ev.stdout = &out;
		break;
	case EX_STDERR:
		err.data.data = (uint8_t *)data;
		err.data.len = len;
		ev.payload_case = EX_PAYLOAD(STDERR);
		ev.stderr = &err;
		break;
	default:
		memcpy(&ex.exit_code, data, sizeof(ex.exit_code));
		ev.payload_case = EX_PAYLOAD(EXIT);
		ev.exit = &ex;
		break;
	}
	return rpc_send(x->x_call, &ev.base);
}

/* The worker died without an exit frame. */
static void
ex_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	ex_finish(arg, GRPC_INTERNAL, "exec worker ended unexpectedly");
}

static void
ex_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct exec	*x = arg;
	int		 code = EX_TIMEOUT_CODE;

	(void)fd;
	(void)events;
	ex_send(x, EX_EXIT, (const uint8_t *)&code, sizeof(code));
	ex_finish(x, GRPC_OK, NULL);
}

static void
ex_drain(struct grpc_call *call, void *arg)
{
	struct exec	*x = arg;

	(void)call;
	if (x->x_bev == NULL)
		return;
	bufferevent_enable(x->x_bev, EV_READ);
	ex_read(x->x_bev, x);
}

static void
ex_cancel(struct grpc_call *call, void *arg)
{
	(void)call;
	ex_free(arg);
}

static void
ex_finish(struct exec *x, int code, const char *msg)
{
	grpc_call_on_cancel(x->x_call, NULL, NULL);
	grpc_call_finish(x->x_call, code, msg);
	ex_free(x);
}

/* Closing the socketpair tells the worker to stop. */
static void
ex_free(struct exec *x)
{
	TAILQ_REMOVE(&ex_list, x, x_entry);
	if (x->x_timer != NULL)
		event_free(x->x_timer);
	if (x->x_bev != NULL)
		bufferevent_free(x->x_bev);
	free(x->x_in);
	free(x);
}
