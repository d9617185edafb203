/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell admin <service> <verb>: ask one daemon, over its control
 * socket, for its status, counters or recent events, or change its log
 * level.  The daemon answers with data; the formatting is done here.
 * A sandbox's daemons (proxyd, sshd, routerd) have theirs in the
 * sandbox's state directory, <gateway state>/sandboxes/<id>/run:
 * --sandbox names it (default: the last used sandbox), the gateway
 * gives its id.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "control.h"
#include "ipc_pack.h"
#include "msgs.h"
#include "paths.h"

struct admin_verb {
	const char	*av_name;
	uint32_t	 av_type;
	int		 av_nargs;	/* positional arguments after it */
};

/* Sorted by name. */
static const struct admin_verb admin_verbs[] = {
	{ "dump",	IPC_CTL_DUMP,		0 },
	{ "log-level",	IPC_CTL_LOG_LEVEL,	1 },
	{ "stats",	IPC_CTL_STATS,		0 },
	{ "status",	IPC_CTL_STATUS,		0 },
};

#define NVERBS	(sizeof(admin_verbs) / sizeof(admin_verbs[0]))

struct admin_args {
	const char		*aa_service;
	int			 aa_proc;
	const struct admin_verb	*aa_verb;
	const char		*aa_arg;
	const char		*aa_sandbox;
	int			 aa_json;
	char			 aa_sock[PATH_MAX];
};

static int	 admin_usage(void);
static int	 admin_parse(struct admin_args *, int, char **);
static int	 admin_socket(struct admin_args *, const char *, const char *);
static int	 admin_sandboxed(int);
static int	 admin_sandbox_run(struct admin_args *, const char *, char *,
		    size_t);
static const struct admin_verb *admin_verb(const char *);
static int	 admin_connerr(const struct admin_args *, int);
static int	 admin_print(const struct admin_args *, struct ctl_reply *);
static int	 admin_events(FILE *, json_t *);
static const char *admin_str(json_t *, const char *);

int
admin_main(int argc, char **argv)
{
	struct admin_args	 aa;
	struct ctl_reply	 rep;
	struct ipc_wr		 w;
	int			 rc;

	memset(&aa, 0, sizeof(aa));
	if (admin_parse(&aa, argc, argv) == -1)
		return 1;
	ipc_wr_init(&w);
	ipc_wr_array(&w, (uint32_t)aa.aa_verb->av_nargs);
	if (aa.aa_verb->av_nargs == 1)
		ipc_wr_str(&w, aa.aa_arg);
	if (ctlconn_request(aa.aa_sock, aa.aa_proc, aa.aa_verb->av_type, &w,
	    &rep) == -1)
		return admin_connerr(&aa, errno);
	rc = admin_print(&aa, &rep);
	ctlconn_free(&rep);
	return rc;
}

static int
admin_usage(void)
{
	fprintf(stderr, "usage: %s admin <service> status|stats|"
	    "log-level <warn|info|debug>|dump\n"
	    "       [-o text|json] [--state-dir dir] [--name name] "
	    "[--sandbox name]\n",
	    cli_progname);
	return -1;
}

static int
admin_parse(struct admin_args *aa, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name",	required_argument,	NULL,	'N' },
		{ "output",	required_argument,	NULL,	'o' },
		{ "sandbox",	required_argument,	NULL,	's' },
		{ "state-dir",	required_argument,	NULL,	'S' },
		{ NULL,		0,			NULL,	0 }
	};
	const char	*name = PATHS_DEFAULT_NAME, *state = NULL;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0) {
				cli_warnx("unknown output format: %s", optarg);
				return -1;
			}
			aa->aa_json = strcmp(optarg, "json") == 0;
			break;
		case 'N':
			name = optarg;
			break;
		case 's':
			aa->aa_sandbox = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		default:
			return admin_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		return admin_usage();
	aa->aa_service = argv[0];
	aa->aa_proc = proc_byname(argv[0]);
	if (aa->aa_proc <= PROC_PARENT || aa->aa_proc >= PROC_CONTROL) {
		cli_warnx("unknown service: %s", argv[0]);
		return -1;
	}
	if ((aa->aa_verb = admin_verb(argv[1])) == NULL)
		return admin_usage();
	if (argc != 2 + aa->aa_verb->av_nargs)
		return admin_usage();
	aa->aa_arg = argc > 2 ? argv[2] : NULL;
	return admin_socket(aa, name, state);
}

static const struct admin_verb *
admin_verb(const char *name)
{
	size_t	 i;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(name, admin_verbs[i].av_name) == 0)
			return &admin_verbs[i];
	return NULL;
}

/* <state>/run/<service>.sock, as the gateway creates it (paths.h). */
static int
admin_socket(struct admin_args *aa, const char *name, const char *state)
{
	char	 dir[PATH_MAX], run[PATH_MAX];

	if (!paths_name_ok(name)) {
		cli_warnx("bad gateway name: %s", name);
		return -1;
	}
	if (state == NULL) {
		if (paths_statedir(name, dir, sizeof(dir)) == -1) {
			cli_warnx("cannot find the state directory "
			    "(use --state-dir)");
			return -1;
		}
		state = dir;
	}
	if (admin_sandboxed(aa->aa_proc)) {
		if (admin_sandbox_run(aa, state, run, sizeof(run)) == -1)
			return -1;
	} else if (aa->aa_sandbox != NULL) {
		cli_warnx("%s is the gateway's, not a sandbox's",
		    aa->aa_service);
		return -1;
	} else if (paths_rundir(state, run, sizeof(run)) == -1) {
		cli_warnx("state directory path too long: %s", state);
		return -1;
	}
	if (paths_ctlsock(run, aa->aa_service, aa->aa_sock,
	    sizeof(aa->aa_sock)) == -1) {
		cli_warnx("state directory path too long: %s", state);
		return -1;
	}
	return 0;
}

static int
admin_sandboxed(int proc)
{
	return proc == PROC_PROXY || proc == PROC_SSH || proc == PROC_ROUTER;
}

/* <state>/sandboxes/<id>/run of --sandbox (or the last used one). */
static int
admin_sandbox_run(struct admin_args *aa, const char *state, char *run,
    size_t len)
{
	struct ssh_target	 t;
	struct rpc		 r;
	char			 name[256];
	int			 rc;

	if (rpc_open(&r) == -1)
		return -1;
	rc = config_sandbox_arg(&r.r_gw, aa->aa_sandbox, name,
	    sizeof(name)) == -1 || ssh_sandbox_id(&r, name, &t) == -1 ? -1 : 0;
	rpc_close(&r);
	if (rc == -1)
		return -1;
	if (snprintf(run, len, "%s/" PATHS_SANDBOXES "/%s/run", state,
	    t.t_id) >= (int)len) {
		cli_warnx("state directory path too long: %s", state);
		return -1;
	}
	return 0;
}

static int
admin_connerr(const struct admin_args *aa, int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		cli_warnx("%s is not running (no control socket at %s)",
		    aa->aa_service, aa->aa_sock);
		break;
	case EACCES:
	case EPERM:
		cli_warnx("%s: permission denied on %s", aa->aa_service,
		    aa->aa_sock);
		break;
	case ECONNRESET:
		cli_warnx("%s closed the connection (not allowed?)",
		    aa->aa_service);
		break;
	case ETIMEDOUT:
		cli_warnx("%s did not answer within %d s", aa->aa_service,
		    CONTROL_TIMEOUT);
		break;
	case EPROTO:
		cli_warnx("%s: protocol error", aa->aa_service);
		break;
	default:
		cli_warnx("%s: %s", aa->aa_sock, strerror(err));
		break;
	}
	return 1;
}

static int
admin_print(const struct admin_args *aa, struct ctl_reply *rep)
{
	json_t	*root, *msg;

	if ((root = output_decode(rep->cr_data, rep->cr_len)) == NULL) {
		cli_warnx("%s: malformed reply", aa->aa_service);
		return 1;
	}
	if (rep->cr_type == IPC_CTL_ERROR) {
		msg = json_array_get(root, 0);
		cli_warnx("%s: %s", aa->aa_service, json_is_string(msg) ?
		    json_string_value(msg) : "error");
		json_decref(root);
		return 1;
	}
	if (aa->aa_json)
		output_json(stdout, root);
	else if (aa->aa_verb->av_type != IPC_CTL_DUMP ||
	    admin_events(stdout, root) == -1)
		output_text(stdout, root);
	json_decref(root);
	return 0;
}

/* logd's dump, as log lines; -1 when the reply has no event list. */
static int
admin_events(FILE *fp, json_t *root)
{
	json_t		*events, *ev;
	struct tm	 tm;
	time_t		 sec;
	json_int_t	 ms;
	char		 stamp[32];
	size_t		 i;

	events = json_object_get(root, "events");
	if (!json_is_array(events))
		return -1;
	json_array_foreach(events, i, ev) {
		ms = json_integer_value(json_object_get(ev, "time_ms"));
		sec = (time_t)(ms / 1000);
		if (gmtime_r(&sec, &tm) == NULL || strftime(stamp,
		    sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			strlcpy(stamp, "-", sizeof(stamp));
		fprintf(fp, "%s.%03dZ %s[%lld] %s: %s\n", stamp,
		    (int)(ms % 1000), admin_str(ev, "proc"),
		    (long long)json_integer_value(json_object_get(ev, "pid")),
		    admin_str(ev, "level"), admin_str(ev, "message"));
	}
	return 0;
}

static const char *
admin_str(json_t *obj, const char *key)
{
	const char	*s;

	s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : "";
}
