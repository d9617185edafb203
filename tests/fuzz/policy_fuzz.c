/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for the policy YAML parser.  The first byte picks
 * strict or loose mode.  Whatever parses must emit YAML that parses
 * back strictly to the same text, must survive every validation, and,
 * when valid, compile into an engine that can decide.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpolicy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_engine(const struct policy *p)
{
	static const char *const anc[] = { "/bin/sh" };
	struct policy_exec	 x = { "/usr/bin/curl", anc, 1, NULL, 0 };
	struct policy_param	 q = { "a", "b.c" };
	struct policy_engine	*e;
	struct policy_l4	 r;
	struct policy_l7	 d;
	char			*err = NULL;

	if ((e = policy_compile(p, &err)) == NULL) {
		free(err);
		return;
	}
	if (p->nrules > 0 && p->rules[0].nendpoints > 0 &&
	    p->rules[0].endpoints[0].host != NULL) {
		if (policy_decide_l4(e, p->rules[0].endpoints[0].host, 443, &x,
		    &r) == 1)
			policy_decide_l7(e, &r, "GET", "/a/b", &q, 1, &d);
		policy_l4_clear(&r);
	}
	policy_engine_unref(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_strv	 errs = { 0 }, warns = { 0 };
	struct policy		*p, *q;
	char			*err = NULL, *y, *y2, *msg;
	int			 flags;

	if (size < 1)
		return 0;
	flags = data[0] & 1 ? POLICY_YAML_LOOSE : 0;
	p = policy_yaml_parse((const char *)data + 1, size - 1, flags, &err);
	free(err);
	if (p == NULL)
		return 0;
	if ((y = policy_yaml_emit(p, NULL)) == NULL)
		abort();
	if ((q = policy_yaml_parse(y, strlen(y), 0, &err)) == NULL)
		abort();	/* the emitter wrote what we cannot read */
	if ((y2 = policy_yaml_emit(q, NULL)) == NULL || strcmp(y, y2) != 0)
		abort();
	policy_validate_l7(p, &errs, &warns);
	policy_default_process(p);
	free(policy_validate_safety(p));
	msg = policy_validate_update(q, p);
	free(msg);
	fuzz_engine(p);
	policy_normalize(q);
	fuzz_engine(q);
	policy_strv_free(&errs);
	policy_strv_free(&warns);
	free(y);
	free(y2);
	policy_free(p);
	policy_free(q);
	return 0;
}
