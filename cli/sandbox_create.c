/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell sandbox create [--name N] [--policy F] [--provider P]...
 *     [--from DIR] [--forward [bind:]port] [--no-keep] [-- cmd args...]
 *
 * CreateSandbox, then WatchSandbox (status and the gateway's and the
 * sandbox's log lines): phase changes go to stderr; once the command
 * runs, its output lines (target "agent") go to our stdout or stderr
 * as they came, and its "agent exited" line ends us with its exit
 * code.  Without a command the sandbox keeps running `sleep infinity'
 * and we stop at READY.  --forward starts a background port forward
 * (as `forward start -d') at READY, before the command's output; one
 * that fails ends us with 1.  --no-keep deletes the sandbox (and its
 * forwards) afterwards and waits until it is gone; else it becomes the
 * last used sandbox.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "libpolicy/policy.h"
#include "libpolicy/policy_proto.h"
#include "proto/openshell.pb-c.h"

#define CREATE_MAXPROV		32
#define CREATE_TAIL		1000
#define CREATE_CMD_MAX		8192

#define PHASE(x)	OPENSHELL__DATAMODEL__V1__SANDBOX_PHASE__SANDBOX_PHASE_##x

typedef Openshell__Datamodel__V1__Sandbox		Sandbox;
typedef Openshell__Datamodel__V1__SandboxSpec		SandboxSpec;
typedef Openshell__Datamodel__V1__SandboxTemplate	SandboxTemplate;
typedef Openshell__Datamodel__V1__SandboxSpec__EnvironmentEntry EnvEntry;

struct create_opts {
	const char	*co_name;
	const char	*co_policy;
	const char	*co_from;
	const char	*co_forward;
	char		*co_prov[CREATE_MAXPROV];
	size_t		 co_nprov;
	int		 co_nokeep;
	char		**co_cmd;
	int		 co_ncmd;
};

/* What the watch has seen so far. */
struct create_watch {
	const char	*cw_forward;	/* [bind:]port or NULL */
	int		 cw_hascmd;
	int		 cw_phase;	/* last shown, -1 none */
	int		 cw_ready;
	int		 cw_exit;	/* our exit status */
	int		 cw_done;
};

static int	 create_options(struct create_opts *, int, char **);
static int	 create_request(struct create_opts *,
		    Openshell__V1__CreateSandboxRequest *, SandboxSpec *,
		    SandboxTemplate *, EnvEntry *, char **);
static char	*create_quote(char **, int);
static Openshell__Sandbox__V1__SandboxPolicy *create_policy(const char *);
static int	 create_watch(struct rpc *, const Sandbox *,
		    struct create_watch *);
static int	 create_event(ProtobufCMessage *, void *);
static int	 create_phase(struct create_watch *, const Sandbox *);
static int	 create_line(struct create_watch *,
		    const Openshell__V1__SandboxLogLine *);
static const char *create_field(const Openshell__V1__SandboxLogLine *,
		    const char *);
static const char *create_cond(const Sandbox *, const char *);
static int	 create_gone(ProtobufCMessage *, void *);
static void	 create_delete(struct rpc *, const Sandbox *);

int
sandbox_create(int argc, char **argv)
{
	Openshell__V1__CreateSandboxRequest	 req =
	    OPENSHELL__V1__CREATE_SANDBOX_REQUEST__INIT;
	SandboxSpec				 spec =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__INIT;
	SandboxTemplate				 tmpl =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_TEMPLATE__INIT;
	EnvEntry				 env =
	    OPENSHELL__DATAMODEL__V1__SANDBOX_SPEC__ENVIRONMENT_ENTRY__INIT;
	Openshell__V1__SandboxResponse		*resp;
	struct create_opts			 co;
	struct create_watch			 cw;
	struct grpc_status			 st;
	struct rpc				 r;
	ProtobufCMessage			*m;
	char					*cmd = NULL;
	int					 rc = 1;

	if (create_options(&co, argc, argv) == -1 ||
	    create_request(&co, &req, &spec, &tmpl, &env, &cmd) == -1)
		goto out;
	if (rpc_open(&r) == -1)
		goto out;
	if (rpc_unary(&r, RPC_OPENSHELL "CreateSandbox", &req.base,
	    &openshell__v1__sandbox_response__descriptor, &m, &st) != 0) {
		rc = rpc_fail_close(&r, &st);
		goto out;
	}
	resp = (Openshell__V1__SandboxResponse *)m;
	if (resp->sandbox == NULL) {
		cli_warnx("the gateway sent no sandbox");
		goto done;
	}
	fprintf(stderr, "Created sandbox: %s\n", resp->sandbox->name);
	memset(&cw, 0, sizeof(cw));
	cw.cw_hascmd = co.co_ncmd > 0;
	cw.cw_forward = co.co_forward;
	cw.cw_phase = -1;
	rc = create_watch(&r, resp->sandbox, &cw);
	if (co.co_nokeep)
		create_delete(&r, resp->sandbox);
	else
		config_last_sandbox_set(&r.r_gw, resp->sandbox->name);
 done:
	protobuf_c_message_free_unpacked(m, NULL);
	rpc_close(&r);
 out:
	if (spec.policy != NULL)
		policy_proto_free(spec.policy);
	free(cmd);
	return rc;
}

static int
create_options(struct create_opts *co, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name",	required_argument,	NULL,	'n' },
		{ "policy",	required_argument,	NULL,	'p' },
		{ "provider",	required_argument,	NULL,	'P' },
		{ "from",	required_argument,	NULL,	'f' },
		{ "forward",	required_argument,	NULL,	'F' },
		{ "no-keep",	no_argument,		NULL,	'k' },
		{ NULL,		0,			NULL,	0 }
	};
	int	 ch;

	memset(co, 0, sizeof(*co));
	co->co_policy = getenv("OPENSHELL_SANDBOX_POLICY");
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			co->co_name = optarg;
			break;
		case 'p':
			co->co_policy = optarg;
			break;
		case 'P':
			if (co->co_nprov == CREATE_MAXPROV) {
				cli_warnx("too many --provider");
				return -1;
			}
			co->co_prov[co->co_nprov++] = optarg;
			break;
		case 'f':
			co->co_from = optarg;
			break;
		case 'F':
			co->co_forward = optarg;
			break;
		case 'k':
			co->co_nokeep = 1;
			break;
		default:
			cli_warnx("usage: sandbox create [--name N] [--policy F] "
			    "[--provider P]... [--from DIR] [--forward "
			    "[bind:]port] [--no-keep] [-- cmd args...]");
			return -1;
		}
	}
	co->co_cmd = argv + optind;
	co->co_ncmd = argc - optind;
	return 0;
}

/*
 * The spec: the policy file, the providers, a prepared root as the
 * template's image (an absolute path: the local driver's --rootfs),
 * the command as OPENSHELL_SANDBOX_COMMAND, quoted so that the driver
 * splits it back into the same words.
 */
static int
create_request(struct create_opts *co,
    Openshell__V1__CreateSandboxRequest *req, SandboxSpec *spec,
    SandboxTemplate *tmpl, EnvEntry *env, char **cmd)
{
	static char	 root[PATH_MAX];
	static EnvEntry	*envp[1];

	req->spec = spec;
	req->name = (char *)(co->co_name != NULL ? co->co_name : "");
	spec->providers = co->co_prov;
	spec->n_providers = co->co_nprov;
	if (co->co_policy != NULL && co->co_policy[0] != '\0' &&
	    (spec->policy = create_policy(co->co_policy)) == NULL)
		return -1;
	if (co->co_from != NULL) {
		if (realpath(co->co_from, root) == NULL) {
			cli_warnx("--from %s: %s", co->co_from,
			    strerror(errno));
			return -1;
		}
		tmpl->image = root;
		spec->template_ = tmpl;
	}
	if (co->co_ncmd == 0)
		return 0;
	if ((*cmd = create_quote(co->co_cmd, co->co_ncmd)) == NULL) {
		cli_warnx("the command is too long");
		return -1;
	}
	env->key = "OPENSHELL_SANDBOX_COMMAND";
	env->value = *cmd;
	envp[0] = env;
	spec->environment = envp;
	spec->n_environment = 1;
	return 0;
}

/* Plain words stay as they are; others go in '...' ('\'' inside). */
static char *
create_quote(char **argv, int argc)
{
	const char	*s;
	char		*out, *o;
	size_t		 len = 0;
	int		 i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) * 4 + 3;
	if (len > CREATE_CMD_MAX || (out = o = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i > 0)
			*o++ = ' ';
		if (argv[i][0] != '\0' && strspn(argv[i], "abcdefghijklmnopqrs"
		    "tuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-") ==
		    strlen(argv[i])) {
			o = stpcpy(o, argv[i]);
			continue;
		}
		*o++ = '\'';
		for (s = argv[i]; *s != '\0'; s++) {
			if (*s == '\'')
				o = stpcpy(o, "'\\''");
			else
				*o++ = *s;
		}
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

static Openshell__Sandbox__V1__SandboxPolicy *
create_policy(const char *file)
{
	Openshell__Sandbox__V1__SandboxPolicy	*pol;
	struct policy				*p;
	char					*err = NULL;

	if ((p = policy_yaml_load(file, POLICY_YAML_LOOSE, &err)) == NULL) {
		cli_warnx("%s: %s", file, err != NULL ? err : "cannot read");
		free(err);
		return NULL;
	}
	if ((pol = policy_proto_from_model(p)) == NULL)
		cli_warnx("%s: cannot convert the policy", file);
	policy_free(p);
	return pol;
}

static int
create_watch(struct rpc *r, const Sandbox *sb, struct create_watch *cw)
{
	Openshell__V1__WatchSandboxRequest	 req =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	static char				*sources[] = { "gateway",
						    "sandbox" };
	struct grpc_status			 st;

	req.id = sb->id;
	req.follow_status = 1;
	req.follow_logs = 1;
	req.log_tail_lines = CREATE_TAIL;
	req.log_sources = sources;
	req.n_log_sources = 2;
	cw->cw_exit = 1;
	if (rpc_stream(r, RPC_OPENSHELL "WatchSandbox", &req.base,
	    &openshell__v1__sandbox_stream_event__descriptor, create_event, cw,
	    &st) != 0)
		return rpc_fail(r, &st);
	if (!cw->cw_done) {
		cli_warnx("sandbox %s is gone", sb->name);
		return 1;
	}
	return cw->cw_exit;
}

static int
create_event(ProtobufCMessage *m, void *arg)
{
	Openshell__V1__SandboxStreamEvent	*ev =
	    (Openshell__V1__SandboxStreamEvent *)m;
	struct create_watch			*cw = arg;

	switch (ev->payload_case) {
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX:
		return create_phase(cw, ev->sandbox);
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG:
		return create_line(cw, ev->log);
	default:
		return 0;
	}
}

/* Non-zero stops the watch. */
static int
create_phase(struct create_watch *cw, const Sandbox *sb)
{
	const char	*reason;

	if ((int)sb->phase == cw->cw_phase)
		return 0;
	cw->cw_phase = (int)sb->phase;
	switch (sb->phase) {
	case PHASE(PROVISIONING):
		fprintf(stderr, "  Provisioning\n");
		return 0;
	case PHASE(READY):
		if (cw->cw_ready++)
			return 0;
		fprintf(stderr, "  Ready (landlock: %s; seccomp: %s)\n",
		    create_cond(sb, "Landlock"), create_cond(sb, "Seccomp"));
		if (cw->cw_forward != NULL &&
		    forward_daemon(cw->cw_forward, sb->name, stderr) == -1) {
			cw->cw_done = 1;
			return 1;
		}
		if (cw->cw_hascmd)
			return 0;
		cw->cw_exit = 0;
		cw->cw_done = 1;
		return 1;
	case PHASE(ERROR):
		reason = create_cond(sb, "Ready");
		cli_warnx("sandbox %s failed%s%s", sb->name,
		    reason[0] != '\0' ? ": " : "", reason);
		cw->cw_done = 1;
		return 1;
	case PHASE(DELETING):
		cli_warnx("sandbox %s is being deleted", sb->name);
		cw->cw_done = 1;
		return 1;
	default:
		return 0;
	}
}

/* The agent's lines, as it wrote them; its exit ends the watch. */
static int
create_line(struct create_watch *cw, const Openshell__V1__SandboxLogLine *l)
{
	const char	*v;
	const char	*errstr;

	if (strcmp(l->source, "sandbox") != 0)
		return 0;
	if (strcmp(l->message, "agent exited") == 0 &&
	    (v = create_field(l, "exit_code")) != NULL) {
		cw->cw_exit = (int)strtonum(v, 0, 255, &errstr);
		if (errstr != NULL)
			cw->cw_exit = 1;
		cw->cw_done = 1;
		fflush(stdout);
		return 1;
	}
	if (strcmp(l->target, "agent") != 0)
		return 0;
	v = create_field(l, "stream");
	if (v != NULL && strcmp(v, "stderr") == 0) {
		fflush(stdout);
		fprintf(stderr, "%s\n", l->message);
	} else {
		/* Streamed: a pipe must see each line as it comes. */
		printf("%s\n", l->message);
		fflush(stdout);
	}
	return 0;
}

static const char *
create_field(const Openshell__V1__SandboxLogLine *l, const char *key)
{
	size_t	 i;

	for (i = 0; i < l->n_fields; i++)
		if (strcmp(l->fields[i]->key, key) == 0)
			return l->fields[i]->value;
	return NULL;
}

/* A condition's message (or status), "" when absent. */
static const char *
create_cond(const Sandbox *sb, const char *type)
{
	size_t	 i;

	if (sb->status == NULL)
		return "";
	for (i = 0; i < sb->status->n_conditions; i++)
		if (strcmp(sb->status->conditions[i]->type, type) == 0)
			return sb->status->conditions[i]->message[0] != '\0' ?
			    sb->status->conditions[i]->message :
			    sb->status->conditions[i]->reason;
	return "";
}

/* The watch of a deleted sandbox ends when its record is gone. */
static int
create_gone(ProtobufCMessage *m, void *arg)
{
	(void)m;
	(void)arg;
	return 0;
}

static void
create_delete(struct rpc *r, const Sandbox *sb)
{
	Openshell__V1__DeleteSandboxRequest	 dreq =
	    OPENSHELL__V1__DELETE_SANDBOX_REQUEST__INIT;
	Openshell__V1__WatchSandboxRequest	 wreq =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	ProtobufCMessage			*m;
	struct grpc_status			 st;

	forward_stop_sandbox(&r->r_gw, sb->name);
	dreq.name = sb->name;
	if (rpc_unary(r, RPC_OPENSHELL "DeleteSandbox", &dreq.base,
	    &openshell__v1__delete_sandbox_response__descriptor, &m, &st) !=
	    0) {
		rpc_fail(r, &st);
		return;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	wreq.id = sb->id;
	wreq.follow_status = 1;
	(void)rpc_stream(r, RPC_OPENSHELL "WatchSandbox", &wreq.base,
	    &openshell__v1__sandbox_stream_event__descriptor, create_gone,
	    NULL, &st);
	config_last_sandbox_clear(&r->r_gw, sb->name);
	fprintf(stderr, "Deleted sandbox: %s\n", sb->name);
}
