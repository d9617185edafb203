/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * policy_bench: nanoseconds per decision of the compiled policy engine
 * at 10, 1k and 10k network policies.  Each policy has one endpoint
 * (every tenth a "*.wN.example.com" wildcard, the rest exact hosts)
 * and one binary (the exe, or its third ancestor); the process asking
 * has three ancestors.  Measured:
 * an allowed CONNECT to an exact host, to a wildcard host, a denied
 * CONNECT (unknown host), the same with its reason text written (what
 * the deny log line costs on top), and one L7 request.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpolicy/policy.h"

#define ITER	200000

static struct policy_engine *bench_engine(int);
static double	 bench_now(void);
static double	 bench_l4(struct policy_engine *, int, int, int);
static double	 bench_l7(struct policy_engine *, int);

static const char *const anc[] = { "/usr/bin/bash", "/usr/bin/tmux",
    "/usr/local/bin/agent" };

static struct policy_engine *
bench_engine(int n)
{
	struct policy		*p;
	struct policy_netrule	*r;
	struct policy_endpoint	*ep;
	struct policy_engine	*e;
	char			 buf[64], *err = NULL;
	int			 i;

	if ((p = policy_new()) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "policy_%05d", i);
		if ((r = policy_rule_add(p, buf)) == NULL ||
		    (ep = policy_endpoint_add(r)) == NULL)
			abort();
		snprintf(buf, sizeof(buf), i % 10 == 5 ? "*.w%d.example.com" :
		    "h%d.example.com", i);
		ep->host = strdup(buf);
		ep->port = 443;
		ep->protocol = strdup("rest");
		ep->access = strdup("read-only");
		if (policy_binary_add(r, i % 3 ? "/usr/bin/python3" :
		    "/usr/local/bin/agent") == NULL)
			abort();
	}
	policy_rules_sort(p);
	if ((e = policy_compile(p, &err)) == NULL) {
		fprintf(stderr, "compile: %s\n", err);
		exit(1);
	}
	policy_free(p);
	return e;
}

static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* kind 0: exact host, 1: wildcard host, 2: unknown host (deny), 3: and its reason. */
static double
bench_l4(struct policy_engine *e, int n, int kind, int iter)
{
	struct policy_exec	 x = { "/usr/bin/python3", anc, 3, NULL, 0 };
	struct policy_l4	 r;
	char			 hosts[64][64];
	double			 t0;
	int			 i, k, want;

	for (k = 0; k < 64; k++) {
		i = (k * 7919) % n;
		if (kind == 1)
			i = i - i % 10 + 5 < n ? i - i % 10 + 5 : 5;
		else if (i % 10 == 5)
			i = i == 5 ? 0 : i - 1;
		if (kind == 0)
			snprintf(hosts[k], sizeof(hosts[k]),
			    "h%d.example.com", i);
		else if (kind == 1)
			snprintf(hosts[k], sizeof(hosts[k]),
			    "api.w%d.example.com", i);
		else
			snprintf(hosts[k], sizeof(hosts[k]),
			    "unknown%d.example.org", k);
	}
	want = kind < 2;
	t0 = bench_now();
	for (i = 0; i < iter; i++) {
		if (policy_decide_l4(e, hosts[i & 63], 443, &x, &r) != want ||
		    (kind == 3 && policy_l4_reason(&r) == NULL))
			abort();
		policy_l4_clear(&r);
	}
	return (bench_now() - t0) / iter;
}

static double
bench_l7(struct policy_engine *e, int iter)
{
	struct policy_exec	 x = { "/usr/bin/python3", anc, 3, NULL, 0 };
	struct policy_param	 q = { "page", "2" };
	struct policy_l4	 r;
	struct policy_l7	 d;
	double			 t0;
	int			 i;

	if (policy_decide_l4(e, "h0.example.com", 443, &x, &r) != 1)
		abort();
	t0 = bench_now();
	for (i = 0; i < iter; i++)
		if (policy_decide_l7(e, &r, i & 1 ? "GET" : "POST",
		    "/repos/openshell/issues", &q, 1, &d) != 0)
			abort();
	policy_l4_clear(&r);
	return (bench_now() - t0) / iter;
}

int
main(int argc, char *argv[])
{
	static const int sizes[] = { 10, 1000, 10000 };
	struct policy_engine	*e;
	double			 t0, tc;
	int			 s, iter = ITER;

	if (argc > 1)
		iter = atoi(argv[1]) > 0 ? atoi(argv[1]) : ITER;
	printf("%-8s %10s %12s %12s %12s %12s %12s\n", "rules",
	    "compile_ms", "allow_exact", "allow_wild", "deny", "deny+text",
	    "l7");
	for (s = 0; s < 3; s++) {
		t0 = bench_now();
		e = bench_engine(sizes[s]);
		tc = (bench_now() - t0) / 1e6;
		printf("%-8d %10.1f %9.0f ns %9.0f ns %9.0f ns %9.0f ns "
		    "%9.0f ns\n", sizes[s], tc, bench_l4(e, sizes[s], 0, iter),
		    bench_l4(e, sizes[s], 1, iter),
		    bench_l4(e, sizes[s], 2, iter),
		    bench_l4(e, sizes[s], 3, iter / 10), bench_l7(e, iter));
		policy_engine_unref(e);
	}
	return 0;
}
