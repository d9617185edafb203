/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell logs [name]: the sandbox's log ring (GetSandboxLogs), or
 * with --tail the last lines and then every new one (WatchSandbox with
 * logs only).  One line per record, as control-plane §5.2 says:
 *
 *	[<sec>.<ms>] [<source>] [<LEVEL>] [<target>] <message> k=v...
 */

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "proto/openshell.pb-c.h"

#define LOGS_MAX_SOURCES	8

struct logs_opts {
	uint32_t	 lo_lines;
	int		 lo_tail;
	int64_t		 lo_since_ms;		/* 0: no --since */
	char		*lo_sources[LOGS_MAX_SOURCES];
	size_t		 lo_nsources;
	char		 lo_level[16];
	int		 lo_json;
	const char	*lo_name;
};

static int	 logs_opts(struct logs_opts *, int, char **);
static int	 logs_since(const char *, int64_t *);
static int	 logs_sandbox_id(struct rpc *, const char *, char *, size_t);
static int	 logs_read(struct rpc *, struct logs_opts *, const char *);
static int	 logs_tail(struct rpc *, struct logs_opts *, const char *);
static int	 logs_event(ProtobufCMessage *, void *);
static void	 logs_line(const Openshell__V1__SandboxLogLine *);
static int	 logs_field_cmp(const void *, const void *);

int
logs_main(int argc, char **argv)
{
	struct logs_opts	 lo;
	struct rpc		 r;
	char			 name[256], id[128];
	int			 rc;

	if (logs_opts(&lo, argc, argv) == -1 || rpc_open(&r) == -1)
		return 1;
	if (config_sandbox_arg(&r.r_gw, lo.lo_name, name, sizeof(name)) == -1 ||
	    logs_sandbox_id(&r, name, id, sizeof(id)) == -1) {
		rpc_close(&r);
		return 1;
	}
	rc = lo.lo_tail ? logs_tail(&r, &lo, id) : logs_read(&r, &lo, id);
	rpc_close(&r);
	return rc;
}

static int
logs_opts(struct logs_opts *lo, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lines",	required_argument,	NULL,	'n' },
		{ "tail",	no_argument,		NULL,	't' },
		{ "since",	required_argument,	NULL,	's' },
		{ "source",	required_argument,	NULL,	'S' },
		{ "level",	required_argument,	NULL,	'l' },
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	size_t	 i;
	int	 ch, all = 0;

	memset(lo, 0, sizeof(*lo));
	lo->lo_lines = 200;
	while ((ch = getopt_long(argc, argv, "n:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (cli_u32("-n", optarg, &lo->lo_lines) == -1)
				return -1;
			break;
		case 't':
			lo->lo_tail = 1;
			break;
		case 's':
			if (logs_since(optarg, &lo->lo_since_ms) == -1)
				return -1;
			break;
		case 'S':
			if (strcmp(optarg, "all") == 0) {
				all = 1;
				break;
			}
			if (strcmp(optarg, "gateway") != 0 &&
			    strcmp(optarg, "sandbox") != 0) {
				cli_warnx("--source: '%s' is not gateway, "
				    "sandbox or all", optarg);
				return -1;
			}
			if (lo->lo_nsources < LOGS_MAX_SOURCES)
				lo->lo_sources[lo->lo_nsources++] = optarg;
			break;
		case 'l':
			if (strlcpy(lo->lo_level, optarg, sizeof(lo->lo_level))
			    >= sizeof(lo->lo_level)) {
				cli_warnx("--level: unknown level '%s'",
				    optarg);
				return -1;
			}
			for (i = 0; lo->lo_level[i] != '\0'; i++)
				lo->lo_level[i] = (char)toupper(
				    (unsigned char)lo->lo_level[i]);
			if (strcmp(lo->lo_level, "ALL") == 0)
				lo->lo_level[0] = '\0';
			break;
		case 'o':
			if ((lo->lo_json = cli_output_json(optarg)) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (all)
		lo->lo_nsources = 0;
	if (optind < argc)
		lo->lo_name = argv[optind++];
	if (optind != argc) {
		cli_warnx("usage: logs [name] [-n N] [--tail] [--since D] "
		    "[--source S]... [--level L]");
		return -1;
	}
	return 0;
}

/* 30s, 5m, 1h (a bare number is seconds): now minus that, in ms. */
static int
logs_since(const char *s, int64_t *ms)
{
	struct timespec	 ts;
	char		*end;
	long long	 n, unit = 1000;

	n = strtoll(s, &end, 10);
	if (end == s || n < 0)
		goto bad;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (*end == 's' && end[1] == '\0')
		unit = 1000;
	else if (*end == 'm' && end[1] == '\0')
		unit = 60 * 1000;
	else if (*end == 'h' && end[1] == '\0')
		unit = 3600 * 1000;
	else if (*end == 'd' && end[1] == '\0')
		unit = 86400 * 1000;
	else if (*end != '\0')
		goto bad;
	clock_gettime(CLOCK_REALTIME, &ts);
	*ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
	    (int64_t)(n * unit);
	if (*ms <= 0)
		*ms = 1;
	return 0;
 bad:
	cli_warnx("--since: invalid duration '%s' (e.g. 30s, 5m, 1h)", s);
	return -1;
}

static int
logs_sandbox_id(struct rpc *r, const char *name, char *id, size_t len)
{
	Openshell__V1__GetSandboxRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	Openshell__V1__SandboxResponse		*resp;
	ProtobufCMessage			*m;
	struct grpc_status			 st;

	id[0] = '\0';
	req.name = (char *)name;
	if (rpc_unary(r, RPC_OPENSHELL "GetSandbox", &req.base,
	    &openshell__v1__sandbox_response__descriptor, &m, &st) != 0) {
		rpc_fail(r, &st);
		return -1;
	}
	resp = (Openshell__V1__SandboxResponse *)m;
	if (resp->sandbox != NULL)
		strlcpy(id, resp->sandbox->id, len);
	protobuf_c_message_free_unpacked(m, NULL);
	if (id[0] == '\0') {
		cli_warnx("the gateway sent no sandbox id for '%s'", name);
		return -1;
	}
	return 0;
}

static int
logs_read(struct rpc *r, struct logs_opts *lo, const char *id)
{
	Openshell__V1__GetSandboxLogsRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_LOGS_REQUEST__INIT;
	Openshell__V1__GetSandboxLogsResponse	*resp;
	ProtobufCMessage			*m;
	struct grpc_status			 st;
	size_t					 i;

	req.sandbox_id = (char *)id;
	req.lines = lo->lo_lines;
	req.since_ms = lo->lo_since_ms;
	req.sources = lo->lo_sources;
	req.n_sources = lo->lo_nsources;
	req.min_level = lo->lo_level;
	if (rpc_unary(r, RPC_OPENSHELL "GetSandboxLogs", &req.base,
	    &openshell__v1__get_sandbox_logs_response__descriptor, &m, &st) !=
	    0)
		return rpc_fail(r, &st);
	resp = (Openshell__V1__GetSandboxLogsResponse *)m;
	if (lo->lo_json)
		pbjson_print(stdout, m);
	else
		for (i = 0; i < resp->n_logs; i++)
			logs_line(resp->logs[i]);
	if (lo->lo_since_ms != 0)
		fprintf(stderr, "! --since searches only the log buffer, which "
		    "holds the last %u lines\n", resp->buffer_total);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

/* Until the gateway ends the stream or we are interrupted. */
static int
logs_tail(struct rpc *r, struct logs_opts *lo, const char *id)
{
	Openshell__V1__WatchSandboxRequest	 req =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	struct grpc_status			 st;

	req.id = (char *)id;
	req.follow_logs = 1;
	req.log_tail_lines = lo->lo_lines;
	req.log_since_ms = lo->lo_since_ms;
	req.log_sources = lo->lo_sources;
	req.n_log_sources = lo->lo_nsources;
	req.log_min_level = lo->lo_level;
	if (rpc_stream(r, RPC_OPENSHELL "WatchSandbox", &req.base,
	    &openshell__v1__sandbox_stream_event__descriptor, logs_event, lo,
	    &st) != 0)
		return rpc_fail(r, &st);
	return 0;
}

static int
logs_event(ProtobufCMessage *m, void *arg)
{
	Openshell__V1__SandboxStreamEvent	*ev;
	struct logs_opts			*lo = arg;
	json_t					*j;

	ev = (Openshell__V1__SandboxStreamEvent *)m;
	if (ev->payload_case ==
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_WARNING &&
	    ev->warning != NULL)
		fprintf(stderr, "! %s\n", ev->warning->message);
	if (ev->payload_case !=
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG || ev->log == NULL)
		return 0;
	if (lo->lo_json) {
		/* One object per line, so that a reader can follow. */
		if ((j = pbjson_encode(&ev->log->base)) != NULL) {
			json_dumpf(j, stdout, JSON_COMPACT |
			    JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(j);
		}
	} else
		logs_line(ev->log);
	fflush(stdout);
	return 0;
}

static void
logs_line(const Openshell__V1__SandboxLogLine *l)
{
	Openshell__V1__SandboxLogLine__FieldsEntry	**f = NULL;
	size_t						  i;

	printf("[%lld.%03d] [%-7s] [%-5s] [%s] %s",
	    (long long)(l->timestamp_ms / 1000),
	    (int)(l->timestamp_ms % 1000), l->source, l->level, l->target,
	    l->message);
	if (l->n_fields > 0 &&
	    (f = calloc(l->n_fields, sizeof(*f))) != NULL) {
		memcpy(f, l->fields, l->n_fields * sizeof(*f));
		qsort(f, l->n_fields, sizeof(*f), logs_field_cmp);
		for (i = 0; i < l->n_fields; i++)
			printf(" %s=%s", f[i]->key, f[i]->value);
		free(f);
	}
	putchar('\n');
}

static int
logs_field_cmp(const void *a, const void *b)
{
	const Openshell__V1__SandboxLogLine__FieldsEntry *const *fa = a;
	const Openshell__V1__SandboxLogLine__FieldsEntry *const *fb = b;

	return strcmp((*fa)->key, (*fb)->key);
}
