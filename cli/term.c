/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell term: a full-screen view of the resolved gateway in the
 * spirit of top(1).  Each tick asks Health, ListSandboxes,
 * ListProviders and GetSandboxLogs for the selected sandbox.  A tick
 * is a sequence of steps, one blocking unary call each with a short
 * deadline, and the keyboard is read between two steps: a key never
 * waits for more than one call.  A gateway that cannot be reached is
 * shown on the top line and tried again on the next tick.
 *
 * Everything the gateway sends is untrusted text: it reaches the
 * screen only through term_cat(), which drops control characters.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include <openssl/ssl.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "libgrpc/tls.h"
#include "libpki/pki.h"
#include "paths.h"
#include "proto/openshell.pb-c.h"

/* Last: curses defines macros (timeout, refresh, OK) others may use. */
#include <curses.h>

#define TERM_CONNECT_MS		3000
#define TERM_CALL_MS		3000
#define TERM_LIST_MAX		500
#define TERM_LINE_MAX		8192	/* bytes of one screen line */
#define TERM_NAME_W		32	/* widest NAME column */
#define TERM_NSTEPS		5
#define TERM_MSG_MAX		(GRPC_MESSAGE_MAX + 320)	/* + a name */

enum term_pane {
	TERM_SANDBOXES,
	TERM_PROVIDERS
};

/*
 * t_step is the next step of the current tick (TERM_NSTEPS: none, the
 * next tick starts at t_next_ms).  The selected sandbox is t_selname,
 * its row t_sel[TERM_SANDBOXES].
 */
struct term {
	struct config_gw			 t_gw;
	SSL_CTX					*t_ctx;
	struct grpc_client			*t_client;
	long					 t_interval_ms;
	long					 t_next_ms;
	int					 t_step;
	int					 t_pane;
	char					 t_health[TERM_MSG_MAX];
	char					 t_when[32];
	Openshell__V1__ListSandboxesResponse	*t_sbs;
	Openshell__V1__ListProvidersResponse	*t_pvs;
	Openshell__V1__GetSandboxLogsResponse	*t_logs;
	size_t					 t_sel[2];	/* per pane */
	size_t					 t_top[2];
	char					 t_selname[256];
	char					 t_delete[256];	/* asking y/n */
	char					 t_msg[TERM_MSG_MAX];
	int					 t_help;
};

/* One screen line being built, in bytes and in columns. */
struct term_line {
	char	 l_buf[TERM_LINE_MAX];
	size_t	 l_len;
	int	 l_col;
	int	 l_max;
};

typedef int	 term_step_fn(struct term *);

static int	 term_opts(int, char **, long *);
static int	 term_ctx(struct term *);
static int	 term_screen(void);
static void	 term_signals(void);
static void	 term_onsig(int);
static int	 term_loop(struct term *);
static long	 term_now(void);
static void	 term_tick(struct term *);
static int	 term_call(struct term *, const char *,
		    const ProtobufCMessage *,
		    const ProtobufCMessageDescriptor *, ProtobufCMessage **,
		    struct grpc_status *);
static int	 term_fail(struct term *, const char *,
		    const struct grpc_status *);
static void	 term_disconnect(struct term *);
static int	 term_connect(struct term *);
static int	 term_health(struct term *);
static int	 term_sandboxes(struct term *);
static int	 term_providers(struct term *);
static int	 term_logs(struct term *);
static void	 term_reselect(struct term *);
static const Openshell__Datamodel__V1__Sandbox *term_selected(
		    const struct term *);
static size_t	 term_count(const struct term *, int);
static int	 term_key(struct term *, int);
static void	 term_move(struct term *, int);
static void	 term_ask(struct term *);
static void	 term_delete(struct term *);
static void	 term_layout(int *, int *);
static void	 term_draw(struct term *);
static void	 term_draw_top(const struct term *);
static void	 term_draw_tabs(const struct term *);
static void	 term_draw_main(struct term *, int);
static void	 term_draw_sandbox(const Openshell__Datamodel__V1__Sandbox *,
		    int, int);
static void	 term_draw_provider(const Openshell__Datamodel__V1__Provider *,
		    int, int);
static void	 term_draw_logs(const struct term *, int, int);
static void	 term_draw_status(const struct term *);
static void	 term_log_line(struct term_line *,
		    const Openshell__V1__SandboxLogLine *);
static void	 term_time(char *, size_t, int64_t, int);
static void	 term_line_init(struct term_line *);
static void	 term_add(struct term_line *, const char *, size_t, int);
static void	 term_cat(struct term_line *, const char *, int);
static void	 term_pad(struct term_line *, int);
static void	 term_put(int, int, const struct term_line *);
static void	 term_draw_head(int);
static void	 term_text(int, int, const char *, int);

static term_step_fn *const term_steps[TERM_NSTEPS] = {
	term_connect, term_health, term_sandboxes, term_providers, term_logs
};
#define TERM_STEP_LOGS	4

static volatile sig_atomic_t	 term_quit;

int
term_main(int argc, char **argv)
{
	struct term	 t;
	int		 fd, rc;

	memset(&t, 0, sizeof(t));
	if (term_opts(argc, argv, &t.t_interval_ms) == -1)
		return 1;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		cli_warnx("term needs a terminal");
		return 1;
	}
	if (config_resolve(&t.t_gw) == -1 || term_ctx(&t) == -1)
		return 1;
	/*
	 * fd 2 is /dev/null while the screen is ours: a library warning
	 * would land in the middle of it.  fd is the saved stderr, put
	 * back (and closed) once curses let go of the terminal.
	 */
	if ((fd = dup(STDERR_FILENO)) == -1) {
		cli_warnx("dup: %s", strerror(errno));
		SSL_CTX_free(t.t_ctx);
		return 1;
	}
	term_signals();
	if (term_screen() == -1) {
		close(fd);
		SSL_CTX_free(t.t_ctx);
		return 1;
	}
	rc = term_loop(&t);
	endwin();
	dup2(fd, STDERR_FILENO);
	close(fd);
	term_disconnect(&t);
	SSL_CTX_free(t.t_ctx);
	if (t.t_sbs != NULL)
		protobuf_c_message_free_unpacked(&t.t_sbs->base, NULL);
	if (t.t_pvs != NULL)
		protobuf_c_message_free_unpacked(&t.t_pvs->base, NULL);
	if (t.t_logs != NULL)
		protobuf_c_message_free_unpacked(&t.t_logs->base, NULL);
	return rc;
}

/* --interval S (seconds, 0.2 to 60, default 1) in milliseconds. */
static int
term_opts(int argc, char **argv, long *ms)
{
	static const struct option longopts[] = {
		{ "interval",	required_argument,	NULL,	'i' },
		{ NULL,		0,			NULL,	0 }
	};
	char	*end;
	double	 s = 1;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'i')
			return -1;
		errno = 0;
		s = strtod(optarg, &end);
		/* written so that NaN fails too */
		if (end == optarg || *end != '\0' || errno != 0 ||
		    !(s >= 0.2 && s <= 60)) {
			cli_warnx("--interval: '%s' is not a number of seconds "
			    "from 0.2 to 60", optarg);
			return -1;
		}
	}
	if (optind != argc) {
		cli_warnx("usage: term [--interval S]");
		return -1;
	}
	*ms = (long)(s * 1000 + 0.5);
	return 0;
}

/* The client bundle, loaded once: a missing one is no network error. */
static int
term_ctx(struct term *t)
{
	char	 ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];

	if (paths_join(ca, sizeof(ca), t->t_gw.mtls, PKI_BUNDLE_CA) == -1 ||
	    paths_join(cert, sizeof(cert), t->t_gw.mtls, PKI_BUNDLE_CERT) ==
	    -1 ||
	    paths_join(key, sizeof(key), t->t_gw.mtls, PKI_BUNDLE_KEY) == -1) {
		cli_warnx("certificate path too long");
		return -1;
	}
	if (access(ca, R_OK) == -1 || access(cert, R_OK) == -1 ||
	    access(key, R_OK) == -1 ||
	    (t->t_ctx = tls_client_ctx(ca, cert, key, TLS_ALPN_H2)) == NULL) {
		cli_warnx("cannot load the client certificates of gateway "
		    "'%s' in %s", t->t_gw.name, t->t_gw.mtls);
		return -1;
	}
	return 0;
}

/* curses on stdin/stdout; stderr goes to /dev/null (see term_main). */
static int
term_screen(void)
{
	int	 null;

	setlocale(LC_CTYPE, "");
	if (newterm(NULL, stdout, stdin) == NULL) {
		cli_warnx("term: cannot drive terminal type '%s'",
		    getenv("TERM") != NULL ? getenv("TERM") : "");
		return -1;
	}
	if ((null = open("/dev/null", O_WRONLY)) != -1) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	return 0;
}

/*
 * Our own handlers before curses starts, so that it leaves them
 * alone: the loop ends and endwin() restores the terminal.  curses
 * keeps SIGWINCH (KEY_RESIZE) and SIGTSTP.
 */
static void
term_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = term_onsig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void
term_onsig(int sig)
{
	(void)sig;
	term_quit = 1;
}

static int
term_loop(struct term *t)
{
	long	 wait;
	int	 ch;

	t->t_step = 0;
	while (!term_quit) {
		term_tick(t);
		term_draw(t);
		wait = 0;
		if (t->t_step == TERM_NSTEPS &&
		    (wait = t->t_next_ms - term_now()) < 0)
			wait = 0;
		timeout((int)wait);
		if ((ch = getch()) != ERR && term_key(t, ch) == -1)
			break;
	}
	return 0;
}

static long
term_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One step of the current tick, or a new tick when it is time. */
static void
term_tick(struct term *t)
{
	time_t		 now;
	struct tm	 tm;

	if (t->t_step == TERM_NSTEPS && term_now() >= t->t_next_ms)
		t->t_step = 0;
	if (t->t_step == TERM_NSTEPS)
		return;
	if (t->t_step == 0)
		t->t_next_ms = term_now() + t->t_interval_ms;
	if (term_steps[t->t_step](t) == -1)
		t->t_step = TERM_NSTEPS;
	else
		t->t_step++;
	if (t->t_step == TERM_NSTEPS) {
		now = time(NULL);
		if (gmtime_r(&now, &tm) == NULL || strftime(t->t_when,
		    sizeof(t->t_when), "%H:%M:%S UTC", &tm) == 0)
			t->t_when[0] = '\0';
	}
}

/*
 * rpc_unary() with our deadline; *resp (the caller frees it) is set
 * on OK only.  A dead connection is closed: the next tick connects.
 */
static int
term_call(struct term *t, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp,
    struct grpc_status *st)
{
	uint8_t	*out, *in = NULL;
	size_t	 outlen, inlen = 0;

	*resp = NULL;
	st->code = GRPC_UNAVAILABLE;
	strlcpy(st->message, "not connected", sizeof(st->message));
	if (t->t_client == NULL)
		return st->code;
	outlen = protobuf_c_message_get_packed_size(req);
	if ((out = malloc(outlen + 1)) == NULL) {
		st->code = GRPC_INTERNAL;
		strlcpy(st->message, "out of memory", sizeof(st->message));
		return st->code;
	}
	protobuf_c_message_pack(req, out);
	grpc_client_unary(t->t_client, method, out, outlen, &in, &inlen,
	    TERM_CALL_MS, st);
	free(out);
	if (st->code == GRPC_OK &&
	    (*resp = protobuf_c_message_unpack(rd, NULL, inlen, in)) == NULL) {
		st->code = GRPC_INTERNAL;
		strlcpy(st->message, "malformed response from the gateway",
		    sizeof(st->message));
	}
	free(in);
	if (grpc_client_dead(t->t_client))
		term_disconnect(t);
	return st->code;
}

/*
 * A transport failure marks the gateway unreachable on the top line
 * and ends the tick (-1): the next call would wait as long.  Any other
 * error goes to the status line and the tick goes on (0).
 */
static int
term_fail(struct term *t, const char *what, const struct grpc_status *st)
{
	const char	*msg = st->message[0] != '\0' ? st->message :
			    grpc_wire_code_name(st->code);

	if (st->code == GRPC_UNAVAILABLE)
		snprintf(t->t_health, sizeof(t->t_health), "unreachable: %s",
		    msg);
	else if (st->code == GRPC_DEADLINE_EXCEEDED)
		snprintf(t->t_health, sizeof(t->t_health), "unreachable: no "
		    "answer in %d ms", TERM_CALL_MS);
	else {
		snprintf(t->t_msg, sizeof(t->t_msg), "%s: %s", what, msg);
		return 0;
	}
	return -1;
}

static void
term_disconnect(struct term *t)
{
	grpc_client_close(t->t_client);
	t->t_client = NULL;
}

/* Step 0: (re)connects when there is no live connection. */
static int
term_connect(struct term *t)
{
	char	 err[256];

	if (t->t_client != NULL && !grpc_client_dead(t->t_client))
		return 0;
	term_disconnect(t);
	t->t_client = grpc_client_connect(t->t_gw.host, t->t_gw.port,
	    t->t_ctx, TERM_CONNECT_MS, err, sizeof(err));
	if (t->t_client == NULL) {
		snprintf(t->t_health, sizeof(t->t_health), "unreachable: %s",
		    err);
		return -1;
	}
	return 0;
}

static int
term_health(struct term *t)
{
	Openshell__V1__HealthRequest	 req =
	    OPENSHELL__V1__HEALTH_REQUEST__INIT;
	Openshell__V1__HealthResponse	*resp;
	ProtobufCMessage		*m;
	struct grpc_status		 st;

	if (term_call(t, RPC_OPENSHELL "Health", &req.base,
	    &openshell__v1__health_response__descriptor, &m, &st) != GRPC_OK)
		return term_fail(t, "Health", &st);
	resp = (Openshell__V1__HealthResponse *)m;
	if (resp->status ==
	    OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY)
		strlcpy(t->t_health, "Healthy", sizeof(t->t_health));
	else
		strlcpy(t->t_health, pbjson_enum_name(
		    &openshell__v1__service_status__descriptor,
		    (int)resp->status, "SERVICE_STATUS_"), sizeof(t->t_health));
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int
term_sandboxes(struct term *t)
{
	Openshell__V1__ListSandboxesRequest	 req =
	    OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	ProtobufCMessage			*m;
	struct grpc_status			 st;

	req.limit = TERM_LIST_MAX;
	if (term_call(t, RPC_OPENSHELL "ListSandboxes", &req.base,
	    &openshell__v1__list_sandboxes_response__descriptor, &m, &st) !=
	    GRPC_OK)
		return term_fail(t, "ListSandboxes", &st);
	if (t->t_sbs != NULL)
		protobuf_c_message_free_unpacked(&t->t_sbs->base, NULL);
	t->t_sbs = (Openshell__V1__ListSandboxesResponse *)m;
	term_reselect(t);
	return 0;
}

static int
term_providers(struct term *t)
{
	Openshell__V1__ListProvidersRequest	 req =
	    OPENSHELL__V1__LIST_PROVIDERS_REQUEST__INIT;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	size_t					 n;

	req.limit = TERM_LIST_MAX;
	if (term_call(t, RPC_OPENSHELL "ListProviders", &req.base,
	    &openshell__v1__list_providers_response__descriptor, &m, &st) !=
	    GRPC_OK)
		return term_fail(t, "ListProviders", &st);
	if (t->t_pvs != NULL)
		protobuf_c_message_free_unpacked(&t->t_pvs->base, NULL);
	t->t_pvs = (Openshell__V1__ListProvidersResponse *)m;
	n = t->t_pvs->n_providers;
	if (t->t_sel[TERM_PROVIDERS] >= n)
		t->t_sel[TERM_PROVIDERS] = n > 0 ? n - 1 : 0;
	return 0;
}

/* As many of the selected sandbox's last log lines as the pane shows. */
static int
term_logs(struct term *t)
{
	Openshell__V1__GetSandboxLogsRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_LOGS_REQUEST__INIT;
	const Openshell__Datamodel__V1__Sandbox	*s;
	ProtobufCMessage			*m = NULL;
	struct grpc_status			 st;
	int					 mainh, logh;

	if ((s = term_selected(t)) != NULL) {
		term_layout(&mainh, &logh);
		req.sandbox_id = s->id;
		req.lines = logh > 0 ? (uint32_t)logh : 1;
		if (term_call(t, RPC_OPENSHELL "GetSandboxLogs", &req.base,
		    &openshell__v1__get_sandbox_logs_response__descriptor, &m,
		    &st) != GRPC_OK)
			return term_fail(t, "GetSandboxLogs", &st);
	}
	if (t->t_logs != NULL)
		protobuf_c_message_free_unpacked(&t->t_logs->base, NULL);
	t->t_logs = (Openshell__V1__GetSandboxLogsResponse *)m;
	return 0;
}

/*
 * The selection follows the sandbox by name across refreshes; when it
 * is gone, the row at the same place is selected.
 */
static void
term_reselect(struct term *t)
{
	size_t	 i, n = t->t_sbs->n_sandboxes;
	size_t	*sel = &t->t_sel[TERM_SANDBOXES];

	for (i = 0; i < n; i++)
		if (strcmp(t->t_sbs->sandboxes[i]->name, t->t_selname) == 0) {
			*sel = i;
			return;
		}
	if (*sel >= n)
		*sel = n > 0 ? n - 1 : 0;
	if (n > 0)
		strlcpy(t->t_selname, t->t_sbs->sandboxes[*sel]->name,
		    sizeof(t->t_selname));
	else
		t->t_selname[0] = '\0';
}

static const Openshell__Datamodel__V1__Sandbox *
term_selected(const struct term *t)
{
	if (t->t_sbs == NULL || t->t_sel[TERM_SANDBOXES] >=
	    t->t_sbs->n_sandboxes)
		return NULL;
	return t->t_sbs->sandboxes[t->t_sel[TERM_SANDBOXES]];
}

static size_t
term_count(const struct term *t, int pane)
{
	if (pane == TERM_SANDBOXES)
		return t->t_sbs != NULL ? t->t_sbs->n_sandboxes : 0;
	return t->t_pvs != NULL ? t->t_pvs->n_providers : 0;
}

/* -1 to quit. */
static int
term_key(struct term *t, int ch)
{
	if (t->t_delete[0] != '\0' && ch != KEY_RESIZE) {
		if (ch == 'y' || ch == 'Y')
			term_delete(t);
		else
			snprintf(t->t_msg, sizeof(t->t_msg), "Not deleted");
		t->t_delete[0] = '\0';
		return 0;
	}
	if (ch != KEY_RESIZE)
		t->t_help = 0;
	switch (ch) {
	case 'q':
	case 'Q':
		return -1;
	case 'r':
		t->t_msg[0] = '\0';
		t->t_step = 0;
		break;
	case '\t':
	case KEY_BTAB:
		t->t_pane = t->t_pane == TERM_SANDBOXES ? TERM_PROVIDERS :
		    TERM_SANDBOXES;
		break;
	case KEY_UP:
	case 'k':
		term_move(t, -1);
		break;
	case KEY_DOWN:
	case 'j':
		term_move(t, 1);
		break;
	case 'd':
		term_ask(t);
		break;
	case '?':
		t->t_help = 1;
		break;
	}
	return 0;
}

/* A new sandbox selected: its logs now, not on the next tick. */
static void
term_move(struct term *t, int by)
{
	const Openshell__Datamodel__V1__Sandbox	*s;
	size_t					*sel = &t->t_sel[t->t_pane];
	size_t					 n = term_count(t, t->t_pane);

	if (by < 0 && *sel > 0)
		(*sel)--;
	else if (by > 0 && *sel + 1 < n)
		(*sel)++;
	else
		return;
	if (t->t_pane != TERM_SANDBOXES || (s = term_selected(t)) == NULL)
		return;
	strlcpy(t->t_selname, s->name, sizeof(t->t_selname));
	if (t->t_logs != NULL)
		protobuf_c_message_free_unpacked(&t->t_logs->base, NULL);
	t->t_logs = NULL;
	if (t->t_step == TERM_NSTEPS)
		t->t_step = TERM_STEP_LOGS;
}

static void
term_ask(struct term *t)
{
	const Openshell__Datamodel__V1__Sandbox	*s;

	if (t->t_pane != TERM_SANDBOXES)
		strlcpy(t->t_msg, "d deletes a sandbox: Tab to Sandboxes",
		    sizeof(t->t_msg));
	else if ((s = term_selected(t)) == NULL)
		strlcpy(t->t_msg, "No sandbox selected", sizeof(t->t_msg));
	else if (strlcpy(t->t_delete, s->name, sizeof(t->t_delete)) >=
	    sizeof(t->t_delete))
		t->t_delete[0] = '\0';
}

/* As `sandbox delete': its forwards first, then the sandbox. */
static void
term_delete(struct term *t)
{
	Openshell__V1__DeleteSandboxRequest	 req =
	    OPENSHELL__V1__DELETE_SANDBOX_REQUEST__INIT;
	ProtobufCMessage			*m;
	struct grpc_status			 st;

	forward_stop_sandbox(&t->t_gw, t->t_delete);
	req.name = t->t_delete;
	switch (term_call(t, RPC_OPENSHELL "DeleteSandbox", &req.base,
	    &openshell__v1__delete_sandbox_response__descriptor, &m, &st)) {
	case GRPC_OK:
		protobuf_c_message_free_unpacked(m, NULL);
		config_last_sandbox_clear(&t->t_gw, t->t_delete);
		snprintf(t->t_msg, sizeof(t->t_msg), "Deleted sandbox %s",
		    t->t_delete);
		break;
	case GRPC_NOT_FOUND:
		snprintf(t->t_msg, sizeof(t->t_msg), "Sandbox %s not found",
		    t->t_delete);
		break;
	default:
		snprintf(t->t_msg, sizeof(t->t_msg), "Delete %s: %s",
		    t->t_delete, st.message[0] != '\0' ? st.message :
		    grpc_wire_code_name(st.code));
		break;
	}
	t->t_step = 0;
}

/*
 * Rows: the top line, the tabs, the column heads, mainh entries, the
 * logs' title, logh log lines, the status line.
 */
static void
term_layout(int *mainh, int *logh)
{
	int	 avail = LINES - 5;

	*logh = avail > 1 ? avail / 2 : 0;
	*mainh = avail - *logh;
}

static void
term_draw(struct term *t)
{
	int	 mainh, logh;

	erase();
	term_layout(&mainh, &logh);
	if (mainh < 1 || COLS < 20) {
		term_text(0, A_NORMAL, "terminal too small", COLS);
		refresh();
		return;
	}
	term_draw_top(t);
	term_draw_tabs(t);
	term_draw_main(t, mainh);
	term_draw_logs(t, 3 + mainh, logh);
	term_draw_status(t);
	refresh();
}

static void
term_draw_top(const struct term *t)
{
	struct term_line	 l;

	term_line_init(&l);
	term_cat(&l, " Gateway ", INT_MAX);
	term_cat(&l, t->t_gw.name, INT_MAX);
	term_cat(&l, "  ", INT_MAX);
	term_cat(&l, t->t_gw.endpoint, INT_MAX);
	term_cat(&l, "  ", INT_MAX);
	term_cat(&l, t->t_health[0] != '\0' ? t->t_health : "connecting",
	    INT_MAX);
	if (t->t_when[0] != '\0') {
		term_cat(&l, "  updated ", INT_MAX);
		term_cat(&l, t->t_when, INT_MAX);
	}
	term_pad(&l, l.l_max);
	term_put(0, A_REVERSE, &l);
}

static void
term_draw_tabs(const struct term *t)
{
	char	 s[64];
	int	 x;

	snprintf(s, sizeof(s), " Sandboxes (%zu) ",
	    term_count(t, TERM_SANDBOXES));
	attrset(t->t_pane == TERM_SANDBOXES ? A_REVERSE | A_BOLD : A_NORMAL);
	mvaddnstr(1, 1, s, COLS - 1);
	x = 1 + (int)strlen(s) + 2;
	snprintf(s, sizeof(s), " Providers (%zu) ",
	    term_count(t, TERM_PROVIDERS));
	attrset(t->t_pane == TERM_PROVIDERS ? A_REVERSE | A_BOLD : A_NORMAL);
	if (x < COLS)
		mvaddnstr(1, x, s, COLS - x);
	attrset(A_NORMAL);
}

/* The selected row is kept between the top and the bottom. */
static void
term_draw_main(struct term *t, int mainh)
{
	size_t	*top = &t->t_top[t->t_pane], sel = t->t_sel[t->t_pane];
	size_t	 i, n = term_count(t, t->t_pane);
	int	 sb = t->t_pane == TERM_SANDBOXES;

	term_draw_head(sb);
	if (n == 0) {
		if (sb)
			term_text(3, A_NORMAL, t->t_sbs == NULL ? " ..." :
			    " No sandboxes", COLS);
		else
			term_text(3, A_NORMAL, t->t_pvs == NULL ? " ..." :
			    " No providers", COLS);
		return;
	}
	if (sel < *top)
		*top = sel;
	if (sel >= *top + (size_t)mainh)
		*top = sel - (size_t)mainh + 1;
	for (i = *top; i < n && i < *top + (size_t)mainh; i++) {
		if (sb)
			term_draw_sandbox(t->t_sbs->sandboxes[i],
			    3 + (int)(i - *top), i == sel);
		else
			term_draw_provider(t->t_pvs->providers[i],
			    3 + (int)(i - *top), i == sel);
	}
}

/* The column heads, aligned as the rows below. */
static void
term_draw_head(int sb)
{
	struct term_line	 l;

	term_line_init(&l);
	term_cat(&l, " NAME", INT_MAX);
	term_pad(&l, 1 + TERM_NAME_W + 1);
	term_cat(&l, sb ? "PHASE" : "TYPE", INT_MAX);
	term_pad(&l, 1 + TERM_NAME_W + 1 + (sb ? 15 : 21));
	term_cat(&l, sb ? "CREATED (UTC)" : "CREDENTIAL KEYS", INT_MAX);
	term_put(2, A_BOLD, &l);
}

static void
term_draw_sandbox(const Openshell__Datamodel__V1__Sandbox *s, int y,
    int sel)
{
	struct term_line	 l;
	char			 created[32];

	term_time(created, sizeof(created), s->created_at_ms, 1);
	term_line_init(&l);
	term_cat(&l, " ", 1);
	term_cat(&l, s->name, TERM_NAME_W);
	term_pad(&l, 1 + TERM_NAME_W + 1);
	term_cat(&l, pbjson_enum_name(
	    &openshell__datamodel__v1__sandbox_phase__descriptor,
	    (int)s->phase, "SANDBOX_PHASE_"), 14);
	term_pad(&l, 1 + TERM_NAME_W + 1 + 15);
	term_cat(&l, created, INT_MAX);
	term_pad(&l, l.l_max);
	term_put(y, sel ? A_REVERSE : A_NORMAL, &l);
}

/* The number of credential keys: never a value. */
static void
term_draw_provider(const Openshell__Datamodel__V1__Provider *p, int y,
    int sel)
{
	struct term_line	 l;
	char			 n[32];

	snprintf(n, sizeof(n), "%zu", p->n_credentials);
	term_line_init(&l);
	term_cat(&l, " ", 1);
	term_cat(&l, p->name, TERM_NAME_W);
	term_pad(&l, 1 + TERM_NAME_W + 1);
	term_cat(&l, p->type, 20);
	term_pad(&l, 1 + TERM_NAME_W + 1 + 21);
	term_cat(&l, n, INT_MAX);
	term_pad(&l, l.l_max);
	term_put(y, sel ? A_REVERSE : A_NORMAL, &l);
}

static void
term_draw_logs(const struct term *t, int y, int logh)
{
	const Openshell__Datamodel__V1__Sandbox	*s = term_selected(t);
	struct term_line			 l;
	size_t					 i, n;

	term_line_init(&l);
	term_cat(&l, " Logs", INT_MAX);
	if (s != NULL) {
		term_cat(&l, ": ", INT_MAX);
		term_cat(&l, s->name, INT_MAX);
	}
	term_pad(&l, l.l_max);
	term_put(y, A_REVERSE, &l);
	if (t->t_logs == NULL || logh <= 0)
		return;
	n = t->t_logs->n_logs;
	for (i = n > (size_t)logh ? n - (size_t)logh : 0; i < n; i++) {
		term_line_init(&l);
		term_log_line(&l, t->t_logs->logs[i]);
		term_put(++y, A_NORMAL, &l);
	}
}

static void
term_draw_status(const struct term *t)
{
	struct term_line	 l;

	term_line_init(&l);
	l.l_max--;	/* the last cell of the screen would scroll it */
	if (t->t_delete[0] != '\0') {
		term_cat(&l, "Delete sandbox ", INT_MAX);
		term_cat(&l, t->t_delete, INT_MAX);
		term_cat(&l, "? (y/n)", INT_MAX);
	} else if (t->t_help)
		term_cat(&l, "q quit  r refresh  Tab sandboxes/providers  "
		    "Up/Down j/k select  d delete  ? help", INT_MAX);
	else if (t->t_msg[0] != '\0')
		term_cat(&l, t->t_msg, INT_MAX);
	else
		term_cat(&l, "? help  q quit", INT_MAX);
	term_put(LINES - 1, t->t_delete[0] != '\0' ? A_BOLD : A_NORMAL, &l);
}

/* "12:34:56 INFO  [sandbox] proxy: message k=v..." */
static void
term_log_line(struct term_line *l, const Openshell__V1__SandboxLogLine *ll)
{
	char	 when[16];
	size_t	 i;

	term_time(when, sizeof(when), ll->timestamp_ms, 0);
	term_cat(l, " ", 1);
	term_cat(l, when, INT_MAX);
	term_cat(l, " ", 1);
	term_cat(l, ll->level, 5);
	term_pad(l, 16);
	term_cat(l, " ", 1);
	term_cat(l, "[", 1);
	term_cat(l, ll->source, 8);
	term_cat(l, "] ", 2);
	term_cat(l, ll->target, 24);
	term_cat(l, ": ", 2);
	term_cat(l, ll->message, INT_MAX);
	for (i = 0; i < ll->n_fields; i++) {
		term_cat(l, " ", 1);
		term_cat(l, ll->fields[i]->key, INT_MAX);
		term_cat(l, "=", 1);
		term_cat(l, ll->fields[i]->value, INT_MAX);
	}
}

/* Milliseconds since the epoch in UTC, with the date or not; "-" for none. */
static void
term_time(char *buf, size_t len, int64_t ms, int date)
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    (date ? strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) :
	    strftime(buf, len, "%H:%M:%S", &tm)) == 0)
		strlcpy(buf, "-", len);
}

static void
term_line_init(struct term_line *l)
{
	l->l_buf[0] = '\0';
	l->l_len = 0;
	l->l_col = 0;
	l->l_max = COLS;
}

/* n bytes that take cols columns, when both fit. */
static void
term_add(struct term_line *l, const char *s, size_t n, int cols)
{
	if (l->l_len + n >= sizeof(l->l_buf) || l->l_col + cols > l->l_max)
		return;
	memcpy(l->l_buf + l->l_len, s, n);
	l->l_len += n;
	l->l_buf[l->l_len] = '\0';
	l->l_col += cols;
}

/*
 * Appends at most w columns of untrusted src.  Only printable
 * characters that take a column or two get through: a control
 * character (ESC, CR, a C1 code...) or a zero-width one is dropped, a
 * tab becomes a space and a byte that is not a character of the
 * locale becomes '?'.
 */
static void
term_cat(struct term_line *l, const char *src, int w)
{
	mbstate_t	 ps;
	wchar_t		 wc;
	size_t		 left = strlen(src), n;
	int		 cw, end = l->l_col + (w < l->l_max ? w : l->l_max);

	memset(&ps, 0, sizeof(ps));
	while (left > 0 && l->l_col < end && l->l_col < l->l_max) {
		n = mbrtowc(&wc, src, left, &ps);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&ps, 0, sizeof(ps));
			term_add(l, "?", 1, 1);
			n = 1;
		} else if (wc == L'\t')
			term_add(l, " ", 1, 1);
		else if (iswprint((wint_t)wc) && (cw = wcwidth(wc)) > 0) {
			if (l->l_col + cw > end)
				break;
			term_add(l, src, n, cw);
		}
		src += n;
		left -= n;
	}
}

static void
term_pad(struct term_line *l, int col)
{
	if (col > l->l_max)
		col = l->l_max;
	while (l->l_col < col && l->l_len + 1 < sizeof(l->l_buf))
		term_add(l, " ", 1, 1);
}

static void
term_put(int y, int attr, const struct term_line *l)
{
	if (y < 0 || y >= LINES)
		return;
	attrset(attr);
	mvaddstr(y, 0, l->l_buf);
	attrset(A_NORMAL);
}

/* Our own text, still through term_cat(): one path to the screen. */
static void
term_text(int y, int attr, const char *s, int w)
{
	struct term_line	 l;

	term_line_init(&l);
	term_cat(&l, s, w);
	term_put(y, attr, &l);
}
