/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for routerd's own parsing of what the agent sends
 * (svc/routerd/route.c): the absolute-form rewrite of a request head,
 * the chunked body decoder, the request classification and the model
 * rewrite of a JSON body.  Invariants: a decoded body is never longer
 * than its limit or its input; a rewritten head keeps all that follows
 * its request line.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svc/routerd/routerd.h"

#define MAX	4096

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_head(const uint8_t *data, size_t size)
{
	char	*o = NULL;
	size_t	 n = 0, eol, k;

	if (route_originform((const char *)data, size, &o, &n) == 0) {
		/* Only the request line changes: what follows it stays. */
		for (eol = 0; eol < size && data[eol] != '\r' &&
		    data[eol] != '\n'; eol++)
			;
		k = size - eol;
		if (eol == size || n < k || o[n] != '\0' ||
		    memcmp(o + n - k, data + eol, k) != 0)
			abort();
		free(o);
	}
}

static void
fuzz_text(const uint8_t *data, size_t size)
{
	char		 target[512];
	const char	*proto, *kind;
	char		*s;
	size_t		 n;

	n = size < sizeof(target) - 1 ? size : sizeof(target) - 1;
	memcpy(target, data, n);
	target[n] = '\0';
	(void)route_classify("POST", target, &proto, &kind);
	(void)route_classify("GET", target, &proto, &kind);
	if ((s = route_url("https://example.test/v1", target)) != NULL)
		free(s);
	if ((s = route_model_rewrite((const char *)data, size, "m",
	    &n)) != NULL)
		free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*out = NULL;
	size_t		 n = 0;

	if (route_dechunk(data, size, MAX, &out, &n) == 0 &&
	    (n > MAX || n > size))
		abort();
	free(out);
	fuzz_head(data, size);
	fuzz_text(data, size);
	return 0;
}
