/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell policy set|get|list (control-plane §2.6, §5.2).  set reads
 * a YAML policy (libpolicy), sends it as a new revision and, with
 * --wait, polls the revision's status until the sandbox reports it
 * LOADED (exit 0), FAILED (1) or SUPERSEDED (0), or the timeout passes
 * (124).  The supervisor hears of a revision at once and loads it in
 * tens of milliseconds, so the polls start 20 ms apart and back off by
 * half each time up to the reference's one second: the answer comes
 * little after the load, and a slow one costs few calls.
 */

#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "libpolicy/policy.h"
#include "libpolicy/policy_proto.h"
#include "proto/openshell.pb-c.h"

#define POLICY_WAIT_EXIT	124
#define POLICY_POLL_MS		1000	/* the backoff's ceiling */
#define POLICY_POLL_FIRST_MS	20
#define POLICY_HASH_SHORT	12

struct policy_opts {
	const char	*po_name;
	const char	*po_file;
	uint32_t	 po_rev;
	uint32_t	 po_limit;
	uint32_t	 po_timeout;
	int		 po_wait;
	int		 po_full;
	int		 po_global;
	int		 po_yes;
	int		 po_json;
	char		 po_sandbox[256];
};

static int	 policy_opts(struct policy_opts *, int, char **, const char *);
static int	 policy_target(struct rpc *, struct policy_opts *);
static int	 policy_set(struct policy_opts *);
static int	 policy_get(struct policy_opts *);
static int	 policy_list(struct policy_opts *);
static Openshell__Sandbox__V1__SandboxPolicy *policy_read(const char *);
static int	 policy_status(struct rpc *, struct policy_opts *, uint32_t,
		    Openshell__V1__GetSandboxPolicyStatusResponse **,
		    struct grpc_status *);
static int	 policy_wait(struct rpc *, struct policy_opts *, uint32_t);
static const char *policy_status_name(int);
static void	 policy_print(const Openshell__V1__SandboxPolicyRevision *,
		    uint32_t, int);
static void	 policy_time(int64_t, char *, size_t);
static int64_t	 policy_now(void);

int
policy_main(int argc, char **argv)
{
	struct policy_opts	 po;

	memset(&po, 0, sizeof(po));
	po.po_limit = 20;
	po.po_timeout = 60;
	if (argc < 2) {
		cli_warnx("usage: policy set|get|list [name] ...");
		return 1;
	}
	if (policy_opts(&po, argc - 1, argv + 1, argv[1]) == -1)
		return 1;
	if (strcmp(argv[1], "set") == 0)
		return policy_set(&po);
	if (strcmp(argv[1], "get") == 0)
		return policy_get(&po);
	if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "ls") == 0)
		return policy_list(&po);
	cli_warnx("unknown policy command '%s' (set, get, list)", argv[1]);
	return 1;
}

static int
policy_opts(struct policy_opts *po, int argc, char **argv, const char *verb)
{
	static const struct option longopts[] = {
		{ "policy",	required_argument,	NULL,	'p' },
		{ "wait",	no_argument,		NULL,	'w' },
		{ "timeout",	required_argument,	NULL,	't' },
		{ "rev",	required_argument,	NULL,	'r' },
		{ "full",	no_argument,		NULL,	'F' },
		{ "limit",	required_argument,	NULL,	'l' },
		{ "global",	no_argument,		NULL,	'g' },
		{ "yes",	no_argument,		NULL,	'y' },
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	int	 ch;

	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			po->po_file = optarg;
			break;
		case 'w':
			po->po_wait = 1;
			break;
		case 't':
			if (cli_u32("--timeout", optarg, &po->po_timeout) == -1)
				return -1;
			break;
		case 'r':
			if (cli_u32("--rev", optarg, &po->po_rev) == -1)
				return -1;
			break;
		case 'F':
			po->po_full = 1;
			break;
		case 'l':
			if (cli_u32("--limit", optarg, &po->po_limit) == -1)
				return -1;
			break;
		case 'g':
			po->po_global = 1;
			break;
		case 'y':
			po->po_yes = 1;
			break;
		case 'o':
			if ((po->po_json = cli_output_json(optarg)) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc)
		po->po_name = argv[optind++];
	if (optind != argc) {
		cli_warnx("usage: policy %s [name] ...", verb);
		return -1;
	}
	if (po->po_global && po->po_name != NULL) {
		cli_warnx("--global takes no sandbox name");
		return -1;
	}
	return 0;
}

/* Connects and settles which sandbox (none with --global). */
static int
policy_target(struct rpc *r, struct policy_opts *po)
{
	if (rpc_open(r) == -1)
		return -1;
	if (!po->po_global && config_sandbox_arg(&r->r_gw, po->po_name,
	    po->po_sandbox, sizeof(po->po_sandbox)) == -1) {
		rpc_close(r);
		return -1;
	}
	return 0;
}

static int
policy_set(struct policy_opts *po)
{
	Openshell__V1__UpdateConfigRequest		 req =
	    OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__V1__UpdateConfigResponse		*resp;
	Openshell__V1__GetSandboxPolicyStatusResponse	*cur = NULL;
	Openshell__Sandbox__V1__SandboxPolicy		*pol;
	ProtobufCMessage				*m;
	struct grpc_status				 st;
	struct rpc					 r;
	uint32_t					 before = 0, v;
	int						 rc;

	if (po->po_file == NULL) {
		cli_warnx("usage: policy set [name] --policy <file.yaml> "
		    "[--wait] [--timeout secs]");
		return 1;
	}
	if (po->po_global && po->po_wait) {
		cli_warnx("--wait cannot be used with --global");
		return 1;
	}
	if (po->po_global && !po->po_yes) {
		cli_warnx(isatty(STDIN_FILENO) ? "--global changes the policy "
		    "of every sandbox: confirm with --yes" : "--global needs "
		    "--yes when not run from a terminal");
		return 1;
	}
	if ((pol = policy_read(po->po_file)) == NULL)
		return 1;
	if (policy_target(&r, po) == -1) {
		policy_proto_free(pol);
		return 1;
	}
	/* The latest revision, to tell a no-op from a new version. */
	if (policy_status(&r, po, 0, &cur, &st) == GRPC_OK) {
		if (cur->revision != NULL)
			before = cur->revision->version;
		protobuf_c_message_free_unpacked(&cur->base, NULL);
	} else if (st.code != GRPC_NOT_FOUND) {
		policy_proto_free(pol);
		rc = rpc_fail(&r, &st);
		rpc_close(&r);
		return rc;
	}
	req.name = po->po_global ? "" : po->po_sandbox;
	req.global = po->po_global;
	req.policy = pol;
	rc = rpc_unary(&r, RPC_OPENSHELL "UpdateConfig", &req.base,
	    &openshell__v1__update_config_response__descriptor, &m, &st);
	policy_proto_free(pol);
	if (rc != GRPC_OK) {
		rc = rpc_fail(&r, &st);
		rpc_close(&r);
		return rc;
	}
	resp = (Openshell__V1__UpdateConfigResponse *)m;
	v = resp->version;
	if (v != 0 && v == before)
		printf("· Policy unchanged (version %u, hash: %.*s)\n", v,
		    POLICY_HASH_SHORT, resp->policy_hash);
	else
		printf("✓ Policy version %u submitted (hash: %.*s)\n", v,
		    POLICY_HASH_SHORT, resp->policy_hash);
	fflush(stdout);
	protobuf_c_message_free_unpacked(m, NULL);
	rc = po->po_wait ? policy_wait(&r, po, v) : 0;
	rpc_close(&r);
	return rc;
}

static Openshell__Sandbox__V1__SandboxPolicy *
policy_read(const char *file)
{
	Openshell__Sandbox__V1__SandboxPolicy	*pol;
	struct policy				*p;
	char					*err = NULL;

	if ((p = policy_yaml_load(file, POLICY_YAML_LOOSE, &err)) == NULL) {
		if (err != NULL && strstr(err, file) != NULL)
			cli_warnx("%s", err);
		else
			cli_warnx("%s: %s", file, err != NULL ? err :
			    "cannot read");
		free(err);
		return NULL;
	}
	if ((pol = policy_proto_from_model(p)) == NULL)
		cli_warnx("%s: cannot convert the policy", file);
	policy_free(p);
	return pol;
}

static int
policy_status(struct rpc *r, struct policy_opts *po, uint32_t version,
    Openshell__V1__GetSandboxPolicyStatusResponse **resp,
    struct grpc_status *st)
{
	Openshell__V1__GetSandboxPolicyStatusRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_POLICY_STATUS_REQUEST__INIT;
	ProtobufCMessage				*m;
	int						 code;

	req.name = po->po_global ? "" : po->po_sandbox;
	req.version = version;
	req.global = po->po_global;
	code = rpc_unary(r, RPC_OPENSHELL "GetSandboxPolicyStatus", &req.base,
	    &openshell__v1__get_sandbox_policy_status_response__descriptor, &m,
	    st);
	*resp = (Openshell__V1__GetSandboxPolicyStatusResponse *)m;
	return code;
}

/* Polls the revision until the sandbox has said what became of it. */
static int
policy_wait(struct rpc *r, struct policy_opts *po, uint32_t version)
{
	Openshell__V1__GetSandboxPolicyStatusResponse	*resp;
	struct grpc_status				 st;
	int64_t						 deadline, left;
	int						 status = 0;
	int						 delay;

	deadline = policy_now() + (int64_t)po->po_timeout * 1000;
	delay = POLICY_POLL_FIRST_MS;
	for (;;) {
		if (policy_status(r, po, version, &resp, &st) != GRPC_OK)
			return rpc_fail(r, &st);
		status = resp->revision != NULL ? (int)resp->revision->status :
		    0;
		if (status == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED) {
			printf("✓ Policy version %u loaded\n", version);
			break;
		}
		if (status == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED) {
			printf("✗ Policy version %u failed to load: %s\n",
			    version, resp->revision->load_error);
			break;
		}
		if (status ==
		    OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_SUPERSEDED) {
			printf("· Policy version %u was superseded\n", version);
			break;
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
		if ((left = deadline - policy_now()) <= 0) {
			cli_warnx("timed out after %u s waiting for policy "
			    "version %u (status %s)", po->po_timeout, version,
			    policy_status_name(status));
			return POLICY_WAIT_EXIT;
		}
		/* The reference polls once a second. */
		poll(NULL, 0, left < delay ? (int)left : delay);
		delay += delay / 2;
		if (delay > POLICY_POLL_MS)
			delay = POLICY_POLL_MS;
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return status == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED ?
	    1 : 0;
}

static int
policy_get(struct policy_opts *po)
{
	Openshell__V1__GetSandboxPolicyStatusResponse	*resp;
	struct grpc_status				 st;
	struct rpc					 r;

	if (policy_target(&r, po) == -1)
		return 1;
	if (policy_status(&r, po, po->po_rev, &resp, &st) != GRPC_OK) {
		rpc_fail(&r, &st);
		rpc_close(&r);
		return 1;
	}
	if (po->po_json)
		pbjson_print(stdout, &resp->base);
	else if (resp->revision == NULL)
		printf("No policy revision.\n");
	else
		policy_print(resp->revision, resp->active_version, po->po_full);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	rpc_close(&r);
	return 0;
}

static void
policy_print(const Openshell__V1__SandboxPolicyRevision *rev, uint32_t active,
    int full)
{
	struct policy	*p;
	char		 created[40], loaded[40], *yaml = NULL, *err = NULL;

	policy_time(rev->created_at_ms, created, sizeof(created));
	policy_time(rev->loaded_at_ms, loaded, sizeof(loaded));
	printf("Version: %u\n", rev->version);
	printf("Hash:    %s\n", rev->policy_hash);
	printf("Status:  %s\n", policy_status_name((int)rev->status));
	printf("Active:  %u\n", active);
	printf("Created: %s\n", created);
	printf("Loaded:  %s\n", loaded);
	printf("Error:   %s\n", rev->load_error[0] != '\0' ? rev->load_error :
	    "-");
	if (!full)
		return;
	printf("---\n");
	if (rev->policy != NULL &&
	    (p = policy_proto_to_model(rev->policy, &err)) != NULL) {
		yaml = policy_yaml_emit(p, NULL);
		policy_free(p);
	}
	if (yaml != NULL)
		fputs(yaml, stdout);
	else
		cli_warnx("cannot show the policy%s%s", err != NULL ? ": " : "",
		    err != NULL ? err : "");
	free(yaml);
	free(err);
}

static int
policy_list(struct policy_opts *po)
{
	Openshell__V1__ListSandboxPoliciesRequest	 req =
	    OPENSHELL__V1__LIST_SANDBOX_POLICIES_REQUEST__INIT;
	Openshell__V1__ListSandboxPoliciesResponse	*resp;
	Openshell__V1__SandboxPolicyRevision		*rev;
	ProtobufCMessage				*m;
	struct grpc_status				 st;
	struct rpc					 r;
	size_t						 i;

	if (policy_target(&r, po) == -1)
		return 1;
	req.name = po->po_global ? "" : po->po_sandbox;
	req.limit = po->po_limit;
	req.global = po->po_global;
	if (rpc_unary(&r, RPC_OPENSHELL "ListSandboxPolicies", &req.base,
	    &openshell__v1__list_sandbox_policies_response__descriptor, &m,
	    &st) != GRPC_OK) {
		rpc_fail(&r, &st);
		rpc_close(&r);
		return 1;
	}
	resp = (Openshell__V1__ListSandboxPoliciesResponse *)m;
	if (po->po_json)
		pbjson_print(stdout, m);
	else if (resp->n_revisions == 0)
		printf("No policy revisions found.\n");
	else {
		printf("%-7s  %-12s  %-10s  %-13s  %s\n", "VERSION", "HASH",
		    "STATUS", "CREATED", "ERROR");
		for (i = 0; i < resp->n_revisions; i++) {
			rev = resp->revisions[i];
			printf("%-7u  %-12.12s  %-10s  %-13lld  %.40s\n",
			    rev->version, rev->policy_hash,
			    policy_status_name((int)rev->status),
			    (long long)rev->created_at_ms, rev->load_error);
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	rpc_close(&r);
	return 0;
}

static const char *
policy_status_name(int status)
{
	return pbjson_enum_name(&openshell__v1__policy_status__descriptor,
	    status, "POLICY_STATUS_");
}

static void
policy_time(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		strlcpy(buf, "-", len);
}

static int64_t
policy_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
