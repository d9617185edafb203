/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell status: Health of the resolved gateway.  Connected when
 * it answers healthy, Error when it answers otherwise, Disconnected
 * when it cannot be reached; the exit status is 0 only for Connected.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "proto/openshell.pb-c.h"

static void	 status_print(const struct config_gw *, const char *,
		    const char *, const char *, int);

/* 0 when the connected gateway answers Health with HEALTHY. */
int
status_healthy(struct rpc *r)
{
	Openshell__V1__HealthRequest	 req = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	Openshell__V1__HealthResponse	*resp;
	ProtobufCMessage		*m;
	struct grpc_status		 st;
	int				 rc;

	if (rpc_unary(r, RPC_OPENSHELL "Health", &req.base,
	    &openshell__v1__health_response__descriptor, &m, &st) != 0)
		return -1;
	resp = (Openshell__V1__HealthResponse *)m;
	rc = resp->status ==
	    OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY ? 0 : -1;
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

int
status_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	Openshell__V1__HealthRequest	 req = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	Openshell__V1__HealthResponse	*resp;
	ProtobufCMessage		*m;
	struct grpc_status		 st;
	struct config_gw		 gw;
	struct rpc			 r;
	const ProtobufCEnumValue	*ev;
	int				 ch, json = 0;

	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (ch != 'o' || (json = cli_output_json(optarg)) == -1)
			return 1;
	}
	if (config_resolve(&gw) == -1)
		return 1;
	if (rpc_open(&r) == -1) {
		status_print(&gw, "Disconnected", NULL, NULL, json);
		return 1;
	}
	if (rpc_unary(&r, RPC_OPENSHELL "Health", &req.base,
	    &openshell__v1__health_response__descriptor, &m, &st) != 0) {
		rpc_fail(&r, &st);
		status_print(&gw, "Error", NULL, st.message, json);
		rpc_close(&r);
		return 1;
	}
	resp = (Openshell__V1__HealthResponse *)m;
	ev = protobuf_c_enum_descriptor_get_value(
	    &openshell__v1__service_status__descriptor, (int)resp->status);
	if (resp->status == OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY)
		status_print(&gw, "Connected", resp->version, NULL, json);
	else
		status_print(&gw, "Error", resp->version, ev != NULL ?
		    ev->name : "unknown", json);
	ch = resp->status ==
	    OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY ? 0 : 1;
	protobuf_c_message_free_unpacked(m, NULL);
	rpc_close(&r);
	return ch;
}

static void
status_print(const struct config_gw *gw, const char *status,
    const char *version, const char *error, int json)
{
	json_t	*j;

	if (json) {
		j = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "gateway",
		    gw->name, "server", gw->endpoint, "status", status,
		    "version", version, "error", error);
		if (j != NULL)
			output_json(stdout, j);
		json_decref(j);
		return;
	}
	printf("Gateway: %s\n", gw->name);
	printf("Server:  %s\n", gw->endpoint);
	printf("Status:  %s\n", status);
	if (version != NULL && version[0] != '\0')
		printf("Version: %s\n", version);
	if (error != NULL && error[0] != '\0')
		printf("Error:   %s\n", error);
}
