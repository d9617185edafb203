/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell inference set|get|update: the cluster's inference routes
 * (control-plane §1.3 Inference, §5.2).  The user route is
 * inference.local (route_name ""), --system selects sandbox-system.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "proto/inference.pb-c.h"

#define INFERENCE_USER		"inference.local"
#define INFERENCE_SYSTEM	"sandbox-system"

struct inference_opts {
	const char	*io_provider;
	const char	*io_model;
	uint32_t	 io_timeout;
	int		 io_has_timeout;
	int		 io_system;
	int		 io_no_verify;
	int		 io_json;
};

static int	 inference_opts(struct inference_opts *, int, char **);
static int	 inference_set(struct inference_opts *);
static int	 inference_update(struct inference_opts *);
static int	 inference_get(struct inference_opts *);
static int	 inference_send(struct rpc *, struct inference_opts *,
		    const char *, const char *, uint64_t);
static int	 inference_fetch(struct rpc *, const char *,
		    Openshell__Inference__V1__GetClusterInferenceResponse **,
		    struct grpc_status *);
static void	 inference_timeout(uint64_t, char *, size_t);

int
inference_main(int argc, char **argv)
{
	struct inference_opts	 io;

	if (argc < 2) {
		cli_warnx("usage: inference set|get|update ...");
		return 1;
	}
	if (inference_opts(&io, argc - 1, argv + 1) == -1)
		return 1;
	if (strcmp(argv[1], "set") == 0)
		return inference_set(&io);
	if (strcmp(argv[1], "update") == 0)
		return inference_update(&io);
	if (strcmp(argv[1], "get") == 0)
		return inference_get(&io);
	cli_warnx("unknown inference command '%s' (set, get, update)",
	    argv[1]);
	return 1;
}

static int
inference_opts(struct inference_opts *io, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "provider",	required_argument,	NULL,	'p' },
		{ "model",	required_argument,	NULL,	'm' },
		{ "timeout",	required_argument,	NULL,	't' },
		{ "system",	no_argument,		NULL,	's' },
		{ "no-verify",	no_argument,		NULL,	'n' },
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	int	 ch;

	memset(io, 0, sizeof(*io));
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			io->io_provider = optarg;
			break;
		case 'm':
			io->io_model = optarg;
			break;
		case 't':
			if (cli_u32("--timeout", optarg, &io->io_timeout) == -1)
				return -1;
			io->io_has_timeout = 1;
			break;
		case 's':
			io->io_system = 1;
			break;
		case 'n':
			io->io_no_verify = 1;
			break;
		case 'o':
			if ((io->io_json = cli_output_json(optarg)) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		cli_warnx("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

static int
inference_set(struct inference_opts *io)
{
	struct rpc	 r;
	int		 rc;

	if (io->io_provider == NULL || io->io_model == NULL) {
		cli_warnx("usage: inference set --provider P --model M "
		    "[--system] [--no-verify] [--timeout secs]");
		return 1;
	}
	if (rpc_open(&r) == -1)
		return 1;
	rc = inference_send(&r, io, io->io_provider, io->io_model,
	    io->io_timeout);
	rpc_close(&r);
	return rc;
}

/* The stored route with the given flags laid over it. */
static int
inference_update(struct inference_opts *io)
{
	Openshell__Inference__V1__GetClusterInferenceResponse	*cur;
	struct grpc_status					 st;
	struct rpc						 r;
	int							 rc;

	if (io->io_provider == NULL && io->io_model == NULL &&
	    !io->io_has_timeout) {
		cli_warnx("inference update needs at least one of --provider, "
		    "--model, --timeout");
		return 1;
	}
	if (rpc_open(&r) == -1)
		return 1;
	if (inference_fetch(&r, io->io_system ? INFERENCE_SYSTEM : "", &cur,
	    &st) != 0) {
		rc = rpc_fail(&r, &st);
		rpc_close(&r);
		return rc;
	}
	rc = inference_send(&r, io, io->io_provider != NULL ?
	    io->io_provider : cur->provider_name, io->io_model != NULL ?
	    io->io_model : cur->model_id, io->io_has_timeout ?
	    io->io_timeout : cur->timeout_secs);
	protobuf_c_message_free_unpacked(&cur->base, NULL);
	rpc_close(&r);
	return rc;
}

static int
inference_send(struct rpc *r, struct inference_opts *io, const char *provider,
    const char *model, uint64_t timeout)
{
	Openshell__Inference__V1__SetClusterInferenceRequest	 req =
	    OPENSHELL__INFERENCE__V1__SET_CLUSTER_INFERENCE_REQUEST__INIT;
	Openshell__Inference__V1__SetClusterInferenceResponse	*resp;
	ProtobufCMessage					*m;
	struct grpc_status					 st;
	char							 t[32];
	size_t							 i;

	req.provider_name = (char *)provider;
	req.model_id = (char *)model;
	req.route_name = io->io_system ? INFERENCE_SYSTEM : "";
	req.no_verify = io->io_no_verify;
	req.verify = !io->io_no_verify;
	req.timeout_secs = timeout;
	if (rpc_unary(r, RPC_INFERENCE "SetClusterInference", &req.base,
	    &openshell__inference__v1__set_cluster_inference_response__descriptor,
	    &m, &st) != 0)
		return rpc_fail(r, &st);
	resp = (Openshell__Inference__V1__SetClusterInferenceResponse *)m;
	if (io->io_json)
		pbjson_print(stdout, m);
	else {
		inference_timeout(resp->timeout_secs, t, sizeof(t));
		printf("✓ Inference route configured\n");
		printf("Route:    %s\n", resp->route_name[0] != '\0' ?
		    resp->route_name : INFERENCE_USER);
		printf("Provider: %s\n", resp->provider_name);
		printf("Model:    %s\n", resp->model_id);
		printf("Version:  %llu\n", (unsigned long long)resp->version);
		printf("Timeout:  %s\n", t);
		for (i = 0; i < resp->n_validated_endpoints; i++)
			printf("Validated: %s (%s)\n",
			    resp->validated_endpoints[i]->url,
			    resp->validated_endpoints[i]->protocol);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int
inference_fetch(struct rpc *r, const char *route,
    Openshell__Inference__V1__GetClusterInferenceResponse **resp,
    struct grpc_status *st)
{
	Openshell__Inference__V1__GetClusterInferenceRequest	 req =
	    OPENSHELL__INFERENCE__V1__GET_CLUSTER_INFERENCE_REQUEST__INIT;
	ProtobufCMessage					*m;
	int							 code;

	req.route_name = (char *)route;
	code = rpc_unary(r, RPC_INFERENCE "GetClusterInference", &req.base,
	    &openshell__inference__v1__get_cluster_inference_response__descriptor,
	    &m, st);
	*resp = (Openshell__Inference__V1__GetClusterInferenceResponse *)m;
	return code;
}

/* Both routes, or the system one; NOT_FOUND is "Not configured". */
static int
inference_get(struct inference_opts *io)
{
	static const char *const routes[] = { "", INFERENCE_SYSTEM };
	Openshell__Inference__V1__GetClusterInferenceResponse	*resp;
	struct grpc_status					 st;
	struct rpc						 r;
	json_t							*all, *v;
	const char						*label;
	char							 t[32];
	size_t							 i;
	int							 rc = 0;

	if (rpc_open(&r) == -1)
		return 1;
	all = json_object();
	for (i = io->io_system ? 1 : 0; i < 2; i++) {
		label = routes[i][0] != '\0' ? routes[i] : INFERENCE_USER;
		if (inference_fetch(&r, routes[i], &resp, &st) != 0) {
			if (st.code != GRPC_NOT_FOUND) {
				rc = rpc_fail(&r, &st);
				break;
			}
			if (io->io_json)
				json_object_set_new(all, label, json_null());
			else
				printf("%s:\n  Not configured\n", label);
			continue;
		}
		if (io->io_json) {
			if ((v = pbjson_encode(&resp->base)) != NULL)
				json_object_set_new(all, label, v);
		} else {
			inference_timeout(resp->timeout_secs, t, sizeof(t));
			printf("%s:\n  Provider: %s\n  Model:    %s\n"
			    "  Version:  %llu\n  Timeout:  %s\n", label,
			    resp->provider_name, resp->model_id,
			    (unsigned long long)resp->version, t);
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	if (io->io_json && rc == 0)
		output_json(stdout, all);
	json_decref(all);
	rpc_close(&r);
	return rc;
}

static void
inference_timeout(uint64_t secs, char *buf, size_t len)
{
	if (secs == 0)
		snprintf(buf, len, "default (60 s)");
	else
		snprintf(buf, len, "%llu s", (unsigned long long)secs);
}
