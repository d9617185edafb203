/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell sandbox list|get|delete (control-plane §5.2); create is
 * in sandbox_create.c.  get also shows what the compute driver
 * reported: the active policy revision and the effective Landlock and
 * seccomp status (the sandbox's conditions).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "libpolicy/policy.h"
#include "libpolicy/policy_proto.h"
#include "proto/openshell.pb-c.h"

#define SANDBOX_LIST_MAX	1000

static int	 sandbox_list(int, char **);
static int	 sandbox_get(int, char **);
static int	 sandbox_delete(int, char **);
static int	 sandbox_delete_one(struct rpc *, const char *);
static int	 sandbox_delete_all(struct rpc *);
static const char *sandbox_phase(int);
static void	 sandbox_table(Openshell__V1__ListSandboxesResponse *);
static void	 sandbox_print(const Openshell__Datamodel__V1__Sandbox *);
static void	 sandbox_status(const Openshell__Datamodel__V1__Sandbox *);

int
sandbox_main(int argc, char **argv)
{
	if (argc < 2) {
		cli_warnx("usage: sandbox create|list|get|delete ...");
		return 1;
	}
	if (strcmp(argv[1], "create") == 0)
		return sandbox_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "ls") == 0)
		return sandbox_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "get") == 0)
		return sandbox_get(argc - 1, argv + 1);
	if (strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "rm") == 0)
		return sandbox_delete(argc - 1, argv + 1);
	if (sshcmd_has(argv[1]))
		return sshcmd_main(argc - 1, argv + 1);
	cli_warnx("unknown sandbox command '%s' (create, list, get, delete)",
	    argv[1]);
	return 1;
}

static int
sandbox_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "limit",	required_argument,	NULL,	'l' },
		{ "offset",	required_argument,	NULL,	'f' },
		{ "ids",	no_argument,		NULL,	'i' },
		{ "names",	no_argument,		NULL,	'n' },
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	Openshell__V1__ListSandboxesRequest	 req =
	    OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	Openshell__V1__ListSandboxesResponse	*resp;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	struct rpc				 r;
	size_t					 i;
	int					 ch, json = 0, ids = 0, names = 0;

	req.limit = 100;
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (cli_u32("--limit", optarg, &req.limit) == -1)
				return 1;
			break;
		case 'f':
			if (cli_u32("--offset", optarg, &req.offset) ==
			    -1)
				return 1;
			break;
		case 'i':
			ids = 1;
			break;
		case 'n':
			names = 1;
			break;
		case 'o':
			if ((json = cli_output_json(optarg)) == -1)
				return 1;
			break;
		default:
			return 1;
		}
	}
	if (ids && names) {
		cli_warnx("--ids and --names cannot be used together");
		return 1;
	}
	if (rpc_open(&r) == -1)
		return 1;
	if (rpc_unary(&r, RPC_OPENSHELL "ListSandboxes", &req.base,
	    &openshell__v1__list_sandboxes_response__descriptor, &m, &st) != 0)
		return rpc_fail_close(&r, &st);
	resp = (Openshell__V1__ListSandboxesResponse *)m;
	if (json)
		pbjson_print(stdout, m);
	else if (ids || names)
		for (i = 0; i < resp->n_sandboxes; i++)
			printf("%s\n", ids ? resp->sandboxes[i]->id :
			    resp->sandboxes[i]->name);
	else
		sandbox_table(resp);
	protobuf_c_message_free_unpacked(m, NULL);
	rpc_close(&r);
	return 0;
}

/* "PROVISIONING" and friends, as the enum says after its prefix. */
static const char *
sandbox_phase(int phase)
{
	return pbjson_enum_name(
	    &openshell__datamodel__v1__sandbox_phase__descriptor, phase,
	    "SANDBOX_PHASE_");
}

static void
sandbox_table(Openshell__V1__ListSandboxesResponse *resp)
{
	Openshell__Datamodel__V1__Sandbox	*s;
	char					 created[32];
	struct tm				 tm;
	time_t					 t;
	size_t					 i;
	int					 wn = 4, ws = 9, n;

	if (resp->n_sandboxes == 0) {
		printf("No sandboxes found.\n");
		return;
	}
	for (i = 0; i < resp->n_sandboxes; i++) {
		s = resp->sandboxes[i];
		if ((n = (int)strlen(s->name)) > wn)
			wn = n;
		if ((n = (int)strlen(s->namespace_)) > ws)
			ws = n;
	}
	printf("%-*s  %-*s  %-23s  %s\n", wn, "NAME", ws, "NAMESPACE",
	    "CREATED", "PHASE");
	for (i = 0; i < resp->n_sandboxes; i++) {
		s = resp->sandboxes[i];
		t = (time_t)(s->created_at_ms / 1000);
		if (s->created_at_ms <= 0 || gmtime_r(&t, &tm) == NULL ||
		    strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S UTC",
		    &tm) == 0)
			strlcpy(created, "-", sizeof(created));
		printf("%-*s  %-*s  %-23s  %s\n", wn, s->name, ws,
		    s->namespace_, created, sandbox_phase((int)s->phase));
	}
}

static int
sandbox_get(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	Openshell__V1__GetSandboxRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	Openshell__V1__SandboxResponse		*resp;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	struct rpc				 r;
	char					 name[256];
	int					 ch, json = 0;

	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1)
		if (ch != 'o' || (json = cli_output_json(optarg)) == -1)
			return 1;
	if (argc - optind > 1) {
		cli_warnx("usage: sandbox get [name] [-o json]");
		return 1;
	}
	if (rpc_open(&r) == -1)
		return 1;
	if (config_sandbox_arg(&r.r_gw, optind < argc ? argv[optind] : NULL,
	    name, sizeof(name)) == -1) {
		rpc_close(&r);
		return 1;
	}
	req.name = name;
	if (rpc_unary(&r, RPC_OPENSHELL "GetSandbox", &req.base,
	    &openshell__v1__sandbox_response__descriptor, &m, &st) != 0)
		return rpc_fail_close(&r, &st);
	resp = (Openshell__V1__SandboxResponse *)m;
	if (resp->sandbox == NULL)
		cli_warnx("the gateway sent no sandbox");
	else if (json)
		pbjson_print(stdout, &resp->sandbox->base);
	else
		sandbox_print(resp->sandbox);
	protobuf_c_message_free_unpacked(m, NULL);
	rpc_close(&r);
	return 0;
}

static void
sandbox_print(const Openshell__Datamodel__V1__Sandbox *s)
{
	struct policy	*p;
	char		*yaml = NULL, *err = NULL, *line, *next;

	printf("Id:        %s\n", s->id);
	printf("Name:      %s\n", s->name);
	printf("Namespace: %s\n", s->namespace_);
	printf("Phase:     %s\n", sandbox_phase((int)s->phase));
	sandbox_status(s);
	if (s->spec == NULL || s->spec->policy == NULL) {
		printf("Policy:    -\n");
		return;
	}
	if ((p = policy_proto_to_model(s->spec->policy, &err)) != NULL)
		yaml = policy_yaml_emit(p, NULL);
	policy_free(p);
	if (yaml == NULL) {
		printf("Policy:    (cannot show: %s)\n", err != NULL ? err :
		    "out of memory");
		free(err);
		return;
	}
	printf("Policy:\n");
	for (line = yaml; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		printf("  %s\n", line);
	}
	free(yaml);
	free(err);
}

/* Policy revision, then each condition: Ready, Landlock, Seccomp. */
static void
sandbox_status(const Openshell__Datamodel__V1__Sandbox *s)
{
	const Openshell__Datamodel__V1__SandboxCondition	*c;
	char							 label[64];
	size_t							 i;

	printf("Policy version: %u\n", s->current_policy_version);
	if (s->status == NULL)
		return;
	for (i = 0; i < s->status->n_conditions; i++) {
		c = s->status->conditions[i];
		snprintf(label, sizeof(label), "%s:", c->type);
		printf("%-10s %s", label, c->status);
		if (c->reason[0] != '\0')
			printf(" (%s)", c->reason);
		if (c->message[0] != '\0')
			printf(": %s", c->message);
		printf("\n");
	}
}

static int
sandbox_delete(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all",	no_argument,	NULL,	'a' },
		{ NULL,		0,		NULL,	0 }
	};
	struct rpc	 r;
	int		 ch, all = 0, i, rc = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'a')
			return 1;
		all = 1;
	}
	if (all == (optind < argc)) {
		cli_warnx("usage: sandbox delete <name>... | --all");
		return 1;
	}
	if (rpc_open(&r) == -1)
		return 1;
	if (all)
		rc = sandbox_delete_all(&r);
	for (i = optind; i < argc; i++)
		if (sandbox_delete_one(&r, argv[i]) != 0)
			rc = 1;
	rpc_close(&r);
	return rc;
}

/* 0 also when it was not there ("!" on stdout, as the reference). */
static int
sandbox_delete_one(struct rpc *r, const char *name)
{
	Openshell__V1__DeleteSandboxRequest	 req =
	    OPENSHELL__V1__DELETE_SANDBOX_REQUEST__INIT;
	ProtobufCMessage			*m;
	struct grpc_status			 st;

	/* Its background forwards first, as the reference does. */
	forward_stop_sandbox(&r->r_gw, name);
	req.name = (char *)name;
	switch (rpc_unary(r, RPC_OPENSHELL "DeleteSandbox", &req.base,
	    &openshell__v1__delete_sandbox_response__descriptor, &m, &st)) {
	case GRPC_OK:
		protobuf_c_message_free_unpacked(m, NULL);
		config_last_sandbox_clear(&r->r_gw, name);
		printf("✓ Deleted sandbox %s\n", name);
		return 0;
	case GRPC_NOT_FOUND:
		printf("! Sandbox %s not found\n", name);
		return 0;
	default:
		return rpc_fail(r, &st);
	}
}

static int
sandbox_delete_all(struct rpc *r)
{
	Openshell__V1__ListSandboxesRequest	 req =
	    OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	Openshell__V1__ListSandboxesResponse	*resp;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	size_t					 i;
	int					 rc = 0;

	req.limit = SANDBOX_LIST_MAX;
	if (rpc_unary(r, RPC_OPENSHELL "ListSandboxes", &req.base,
	    &openshell__v1__list_sandboxes_response__descriptor, &m, &st) != 0)
		return rpc_fail(r, &st);
	resp = (Openshell__V1__ListSandboxesResponse *)m;
	if (resp->n_sandboxes == 0)
		printf("No sandboxes found.\n");
	for (i = 0; i < resp->n_sandboxes; i++)
		if (sandbox_delete_one(r, resp->sandboxes[i]->name) != 0)
			rc = 1;
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}
