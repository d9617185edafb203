/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell provider create|get|list|update|delete (control-plane
 * §5.2, sandbox.md §7.1).  Credentials come from --credential KEY=VALUE,
 * --credential KEY (the value of $KEY) or --from-existing (the
 * environment variables each provider type is known to use); the
 * gateway never sends their values back.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "proto/openshell.pb-c.h"

#define PROVIDER_MAX_KV		64

/* The generated names do not fit in a line. */
#define ProvCred	Openshell__Datamodel__V1__Provider__CredentialsEntry
#define ProvConf	Openshell__Datamodel__V1__Provider__ConfigEntry

/* The provider types and the environment variables each one reads. */
static const struct provider_type {
	const char	*pt_name;
	const char	*pt_alias;
	const char	*pt_env[4];
} provider_types[] = {
	{ "anthropic",	NULL,	{ "ANTHROPIC_API_KEY" } },
	{ "claude",	NULL,	{ "ANTHROPIC_API_KEY", "CLAUDE_API_KEY" } },
	{ "codex",	NULL,	{ "OPENAI_API_KEY" } },
	{ "copilot",	NULL,	{ "COPILOT_GITHUB_TOKEN", "GH_TOKEN",
	    "GITHUB_TOKEN" } },
	{ "generic",	NULL,	{ NULL } },
	{ "github",	"gh",	{ "GITHUB_TOKEN", "GH_TOKEN" } },
	{ "gitlab",	"glab",	{ "GITLAB_TOKEN", "GLAB_TOKEN",
	    "CI_JOB_TOKEN" } },
	{ "nvidia",	NULL,	{ "NVIDIA_API_KEY" } },
	{ "openai",	NULL,	{ "OPENAI_API_KEY" } },
	{ "opencode",	NULL,	{ "OPENCODE_API_KEY", "OPENROUTER_API_KEY",
	    "OPENAI_API_KEY" } },
	{ "outlook",	NULL,	{ NULL } },
};

#define NTYPES	(sizeof(provider_types) / sizeof(provider_types[0]))

/* What create and update send. */
struct provider_args {
	const char	*pa_name;
	const char	*pa_type;
	int		 pa_existing;
	int		 pa_ncreds_flags;
	ProvCred	 pa_cred[PROVIDER_MAX_KV];
	ProvCred	*pa_credp[PROVIDER_MAX_KV];
	size_t		 pa_ncred;
	ProvConf	 pa_conf[PROVIDER_MAX_KV];
	ProvConf	*pa_confp[PROVIDER_MAX_KV];
	size_t		 pa_nconf;
};

static int	 provider_create(int, char **);
static int	 provider_update(int, char **);
static int	 provider_get(int, char **);
static int	 provider_list(int, char **);
static int	 provider_delete(int, char **);
static int	 provider_args(struct provider_args *, int, char **, int);
static int	 provider_credential(struct provider_args *, char *);
static int	 provider_config(struct provider_args *, char *);
static int	 provider_discover(struct provider_args *, const char *);
static const struct provider_type *provider_type(const char *);
static void	 provider_fill(Openshell__Datamodel__V1__Provider *,
		    struct provider_args *);
static int	 provider_send(struct rpc *, const char *,
		    Openshell__Datamodel__V1__Provider *);
static void	 provider_print(const Openshell__Datamodel__V1__Provider *);
static int	 provider_fetch(struct rpc *, const char *,
		    ProtobufCMessage **);

int
provider_main(int argc, char **argv)
{
	if (argc < 2) {
		cli_warnx("usage: provider create|get|list|update|delete ...");
		return 1;
	}
	if (strcmp(argv[1], "create") == 0)
		return provider_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "update") == 0)
		return provider_update(argc - 1, argv + 1);
	if (strcmp(argv[1], "get") == 0)
		return provider_get(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "ls") == 0)
		return provider_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "rm") == 0)
		return provider_delete(argc - 1, argv + 1);
	cli_warnx("unknown provider command '%s' (create, get, list, update, "
	    "delete)", argv[1]);
	return 1;
}

static int
provider_create(int argc, char **argv)
{
	Openshell__Datamodel__V1__Provider	 p =
	    OPENSHELL__DATAMODEL__V1__PROVIDER__INIT;
	struct provider_args			*pa;
	const struct provider_type		*pt;
	struct rpc				 r;
	int					 rc = 1;

	if ((pa = calloc(1, sizeof(*pa))) == NULL)
		return 1;
	if (provider_args(pa, argc, argv, 1) == -1)
		goto out;
	if (pa->pa_name == NULL || pa->pa_type == NULL) {
		cli_warnx("usage: provider create --name N --type T "
		    "(--credential KEY[=VALUE]... | --from-existing) "
		    "[--config KEY=VALUE]...");
		goto out;
	}
	if ((pt = provider_type(pa->pa_type)) == NULL)
		goto out;
	pa->pa_type = pt->pt_name;
	if (!pa->pa_existing && pa->pa_ncreds_flags == 0) {
		cli_warnx("one of --credential or --from-existing is required");
		goto out;
	}
	if (pa->pa_existing && provider_discover(pa, pt->pt_name) == -1)
		goto out;
	provider_fill(&p, pa);
	if (rpc_open(&r) == -1)
		goto out;
	if ((rc = provider_send(&r, RPC_OPENSHELL "CreateProvider", &p)) == 0)
		printf("✓ Created provider %s\n", pa->pa_name);
	rpc_close(&r);
 out:
	explicit_bzero(pa, sizeof(*pa));
	free(pa);
	return rc;
}

/* The type is never sent: the gateway keeps the stored one. */
static int
provider_update(int argc, char **argv)
{
	Openshell__Datamodel__V1__Provider	 p =
	    OPENSHELL__DATAMODEL__V1__PROVIDER__INIT;
	Openshell__V1__ProviderResponse		*cur;
	struct provider_args			*pa;
	ProtobufCMessage			*m = NULL;
	struct rpc				 r;
	int					 rc = 1, open = 0;

	if ((pa = calloc(1, sizeof(*pa))) == NULL)
		return 1;
	if (provider_args(pa, argc, argv, 0) == -1)
		goto out;
	if (pa->pa_name == NULL) {
		cli_warnx("usage: provider update <name> [--credential "
		    "KEY[=VALUE]]... [--from-existing] [--config KEY=VALUE]...");
		goto out;
	}
	if (rpc_open(&r) == -1)
		goto out;
	open = 1;
	if (pa->pa_existing) {
		if (provider_fetch(&r, pa->pa_name, &m) != 0)
			goto out;
		cur = (Openshell__V1__ProviderResponse *)m;
		if (cur->provider == NULL || provider_discover(pa,
		    cur->provider->type) == -1)
			goto out;
	}
	provider_fill(&p, pa);
	p.type = "";
	if ((rc = provider_send(&r, RPC_OPENSHELL "UpdateProvider", &p)) == 0)
		printf("✓ Updated provider %s\n", pa->pa_name);
 out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	if (open)
		rpc_close(&r);
	explicit_bzero(pa, sizeof(*pa));
	free(pa);
	return rc;
}

/* create: --name; update: the name is the positional argument. */
static int
provider_args(struct provider_args *pa, int argc, char **argv, int create)
{
	static const struct option longopts[] = {
		{ "name",		required_argument,	NULL,	'n' },
		{ "type",		required_argument,	NULL,	't' },
		{ "credential",		required_argument,	NULL,	'c' },
		{ "config",		required_argument,	NULL,	'C' },
		{ "from-existing",	no_argument,		NULL,	'e' },
		{ NULL,			0,			NULL,	0 }
	};
	int	 ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (!create)
				goto usage;
			pa->pa_name = optarg;
			break;
		case 't':
			if (!create)
				goto usage;
			pa->pa_type = optarg;
			break;
		case 'c':
			pa->pa_ncreds_flags++;
			if (provider_credential(pa, optarg) == -1)
				return -1;
			break;
		case 'C':
			if (provider_config(pa, optarg) == -1)
				return -1;
			break;
		case 'e':
			pa->pa_existing = 1;
			break;
		default:
			return -1;
		}
	}
	if (!create && optind == argc - 1)
		pa->pa_name = argv[optind++];
	if (optind != argc)
		goto usage;
	if (pa->pa_existing && pa->pa_ncreds_flags > 0) {
		cli_warnx("--credential and --from-existing cannot be used "
		    "together");
		return -1;
	}
	return 0;
 usage:
	cli_warnx(create ? "unexpected argument; usage: provider create "
	    "--name N --type T ..." : "usage: provider update <name> ...");
	return -1;
}

/* KEY=VALUE, or KEY alone for the value of the environment variable. */
static int
provider_credential(struct provider_args *pa, char *arg)
{
	ProvCred	*e;
	char		*eq, *val;

	if (pa->pa_ncred == PROVIDER_MAX_KV) {
		cli_warnx("too many credentials");
		return -1;
	}
	if ((eq = strchr(arg, '=')) != NULL) {
		*eq = '\0';
		val = eq + 1;
	} else if ((val = getenv(arg)) == NULL || val[0] == '\0') {
		cli_warnx("--credential %s: environment variable %s is not set "
		    "or empty", arg, arg);
		return -1;
	}
	if (arg[0] == '\0') {
		cli_warnx("--credential: empty key");
		return -1;
	}
	e = &pa->pa_cred[pa->pa_ncred];
	openshell__datamodel__v1__provider__credentials_entry__init(e);
	e->key = arg;
	e->value = val;
	pa->pa_credp[pa->pa_ncred++] = e;
	return 0;
}

static int
provider_config(struct provider_args *pa, char *arg)
{
	ProvConf	*e;
	char		*eq;

	if ((eq = strchr(arg, '=')) == NULL || eq == arg) {
		cli_warnx("--config %s: expected KEY=VALUE", arg);
		return -1;
	}
	if (pa->pa_nconf == PROVIDER_MAX_KV) {
		cli_warnx("too many --config values");
		return -1;
	}
	*eq = '\0';
	e = &pa->pa_conf[pa->pa_nconf];
	openshell__datamodel__v1__provider__config_entry__init(e);
	e->key = arg;
	e->value = eq + 1;
	pa->pa_confp[pa->pa_nconf++] = e;
	return 0;
}

/* --from-existing: every non-empty variable the type is known to use. */
static int
provider_discover(struct provider_args *pa, const char *type)
{
	const struct provider_type	*pt;
	const char			*v;
	char				 looked[256] = "";
	size_t				 i;
	ProvCred			*e;

	if ((pt = provider_type(type)) == NULL)
		return -1;
	for (i = 0; i < 4 && pt->pt_env[i] != NULL; i++) {
		strlcat(looked, i == 0 ? "" : ", ", sizeof(looked));
		strlcat(looked, pt->pt_env[i], sizeof(looked));
		if ((v = getenv(pt->pt_env[i])) == NULL || v[0] == '\0')
			continue;
		e = &pa->pa_cred[pa->pa_ncred];
		openshell__datamodel__v1__provider__credentials_entry__init(e);
		e->key = (char *)pt->pt_env[i];
		e->value = (char *)v;
		pa->pa_credp[pa->pa_ncred++] = e;
	}
	if (pa->pa_ncred > 0)
		return 0;
	if (looked[0] == '\0')
		cli_warnx("provider type '%s' has no local credentials to "
		    "discover; use --credential", pt->pt_name);
	else
		cli_warnx("no local credentials found for provider type '%s' "
		    "(looked for %s)", pt->pt_name, looked);
	return -1;
}

static const struct provider_type *
provider_type(const char *name)
{
	char	 list[256] = "";
	size_t	 i;

	for (i = 0; i < NTYPES; i++) {
		if (strcasecmp(name, provider_types[i].pt_name) == 0 ||
		    (provider_types[i].pt_alias != NULL &&
		    strcasecmp(name, provider_types[i].pt_alias) == 0))
			return &provider_types[i];
		strlcat(list, i == 0 ? "" : ", ", sizeof(list));
		strlcat(list, provider_types[i].pt_name, sizeof(list));
	}
	cli_warnx("unknown provider type '%s' (one of: %s)", name, list);
	return NULL;
}

static void
provider_fill(Openshell__Datamodel__V1__Provider *p, struct provider_args *pa)
{
	p->name = (char *)pa->pa_name;
	p->type = pa->pa_type != NULL ? (char *)pa->pa_type : "";
	p->n_credentials = pa->pa_ncred;
	p->credentials = pa->pa_credp;
	p->n_config = pa->pa_nconf;
	p->config = pa->pa_confp;
}

static int
provider_send(struct rpc *r, const char *method,
    Openshell__Datamodel__V1__Provider *p)
{
	Openshell__V1__CreateProviderRequest	 req =
	    OPENSHELL__V1__CREATE_PROVIDER_REQUEST__INIT;
	ProtobufCMessage			*m;
	struct grpc_status			 st;

	/* Create and Update requests have the same single field. */
	req.provider = p;
	if (strstr(method, "Update") != NULL)
		req.base.descriptor =
		    &openshell__v1__update_provider_request__descriptor;
	if (rpc_unary(r, method, &req.base,
	    &openshell__v1__provider_response__descriptor, &m, &st) != 0)
		return rpc_fail(r, &st);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int
provider_fetch(struct rpc *r, const char *name, ProtobufCMessage **m)
{
	Openshell__V1__GetProviderRequest	 req =
	    OPENSHELL__V1__GET_PROVIDER_REQUEST__INIT;
	struct grpc_status			 st;

	req.name = (char *)name;
	if (rpc_unary(r, RPC_OPENSHELL "GetProvider", &req.base,
	    &openshell__v1__provider_response__descriptor, m, &st) != 0)
		return rpc_fail(r, &st);
	return 0;
}

static int
provider_get(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	Openshell__V1__ProviderResponse	*resp;
	ProtobufCMessage		*m;
	struct rpc			 r;
	int				 ch, json = 0, rc;

	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1)
		if (ch != 'o' || (json = cli_output_json(optarg)) == -1)
			return 1;
	if (optind != argc - 1) {
		cli_warnx("usage: provider get <name> [-o json]");
		return 1;
	}
	if (rpc_open(&r) == -1)
		return 1;
	if ((rc = provider_fetch(&r, argv[optind], &m)) == 0) {
		resp = (Openshell__V1__ProviderResponse *)m;
		if (resp->provider == NULL)
			cli_warnx("the gateway sent no provider");
		else if (json)
			pbjson_print(stdout, &resp->provider->base);
		else
			provider_print(resp->provider);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	rpc_close(&r);
	return rc;
}

static void
provider_print(const Openshell__Datamodel__V1__Provider *p)
{
	size_t	 i;

	printf("Id:          %s\n", p->id);
	printf("Name:        %s\n", p->name);
	printf("Type:        %s\n", p->type);
	printf("Credentials:%s", p->n_credentials == 0 ? " -" : "");
	for (i = 0; i < p->n_credentials; i++)
		printf("%s%s", i == 0 ? " " : ", ", p->credentials[i]->key);
	printf("\nConfig:     %s", p->n_config == 0 ? " -" : "");
	for (i = 0; i < p->n_config; i++)
		printf("%s%s=%s", i == 0 ? " " : ", ", p->config[i]->key,
		    p->config[i]->value);
	printf("\n");
}

static int
provider_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "limit",	required_argument,	NULL,	'l' },
		{ "offset",	required_argument,	NULL,	'f' },
		{ "names",	no_argument,		NULL,	'n' },
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	Openshell__V1__ListProvidersRequest	 req =
	    OPENSHELL__V1__LIST_PROVIDERS_REQUEST__INIT;
	Openshell__V1__ListProvidersResponse	*resp;
	Openshell__Datamodel__V1__Provider	*p;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	struct rpc				 r;
	size_t					 i;
	int					 ch, json = 0, names = 0;
	int					 wn = 4, wt = 4, n;

	req.limit = 100;
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if ((ch == 'l' && cli_u32("--limit", optarg, &req.limit) ==
		    -1) || (ch == 'f' && cli_u32("--offset", optarg,
		    &req.offset) == -1) || (ch == 'o' &&
		    (json = cli_output_json(optarg)) == -1) || ch == '?')
			return 1;
		if (ch == 'n')
			names = 1;
	}
	if (optind != argc || rpc_open(&r) == -1)
		return 1;
	if (rpc_unary(&r, RPC_OPENSHELL "ListProviders", &req.base,
	    &openshell__v1__list_providers_response__descriptor, &m, &st) != 0)
		return rpc_fail_close(&r, &st);
	resp = (Openshell__V1__ListProvidersResponse *)m;
	for (i = 0; i < resp->n_providers; i++) {
		p = resp->providers[i];
		if ((n = (int)strlen(p->name)) > wn)
			wn = n;
		if ((n = (int)strlen(p->type)) > wt)
			wt = n;
	}
	if (json)
		pbjson_print(stdout, m);
	else if (names)
		for (i = 0; i < resp->n_providers; i++)
			printf("%s\n", resp->providers[i]->name);
	else if (resp->n_providers == 0)
		printf("No providers found.\n");
	else {
		printf("%-*s  %-*s  %-15s  %s\n", wn, "NAME", wt, "TYPE",
		    "CREDENTIAL_KEYS", "CONFIG_KEYS");
		for (i = 0; i < resp->n_providers; i++) {
			p = resp->providers[i];
			printf("%-*s  %-*s  %-15zu  %zu\n", wn, p->name, wt,
			    p->type, p->n_credentials, p->n_config);
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	rpc_close(&r);
	return 0;
}

static int
provider_delete(int argc, char **argv)
{
	Openshell__V1__DeleteProviderRequest	 req =
	    OPENSHELL__V1__DELETE_PROVIDER_REQUEST__INIT;
	Openshell__V1__DeleteProviderResponse	*resp;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	struct rpc				 r;
	int					 i, rc = 0;

	if (argc < 2 || argv[1][0] == '-') {
		cli_warnx("usage: provider delete <name>...");
		return 1;
	}
	if (rpc_open(&r) == -1)
		return 1;
	for (i = 1; i < argc; i++) {
		req.name = argv[i];
		if (rpc_unary(&r, RPC_OPENSHELL "DeleteProvider", &req.base,
		    &openshell__v1__delete_provider_response__descriptor, &m,
		    &st) != 0) {
			rc = rpc_fail(&r, &st);
			continue;
		}
		resp = (Openshell__V1__DeleteProviderResponse *)m;
		if (resp->deleted)
			printf("✓ Deleted provider %s\n", argv[i]);
		else
			printf("! Provider %s not found\n", argv[i]);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	rpc_close(&r);
	return rc;
}
