/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for what proxyd parses from the agent: the request
 * head, the CONNECT target, the absolute URI, the forward rewrite with
 * placeholders, and the request body framing fed in input-derived
 * pieces; the L7 relay's strict parser (http.c), the path normal form
 * and the target placeholders.  Invariants: a rewritten head or target
 * carries no placeholder text, a body never takes more bytes than it
 * is given, a normal path has no empty or dot segment.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svc/proxyd/proxyd.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct secrets	*sec;

static void	 fuzz_l7(const uint8_t *, size_t);

static void
fuzz_body(const struct http_head *h, const uint8_t *p, size_t n)
{
	struct body	 b;
	size_t		 off, step, took;

	if (body_init(&b, h) == -1)
		return;
	for (off = 0; off < n; off += step) {
		step = 1 + (p[off] % 17);
		if (step > n - off)
			step = n - off;
		took = body_scan(&b, p + off, step);
		if (took > step)
			abort();
		if (took < step)
			break;
	}
}

static void
fuzz_rewrite(const struct http_head *h)
{
	struct http_uri	 u;
	char		*out;
	size_t		 len;
	int		 count;

	if (parse_uri(h->h_target, &u) == -1) {
		parse_uri_free(&u);
		return;
	}
	if (rewrite_forward(h, &u, sec, &out, &len, &count) == REWRITE_OK) {
		if (secrets_present(out, len) || strlen(out) != len)
			abort();
		free(out);
	}
	parse_uri_free(&u);
}

static void
fuzz_l7(const uint8_t *data, size_t size)
{
	struct http_req		 r;
	struct http_query	 q;
	char			*path, *res, *red;
	ssize_t			 n;
	int			 count = 0;

	n = http_head_end(data, size);
	if (n <= 0 || http_req_parse(data, (size_t)n, &r) == -1)
		return;
	if (http_path_normalize(r.r_head.h_target,
	    strcspn(r.r_head.h_target, "?"), &path) == 0) {
		if (strstr(path, "//") || strstr(path, "/./") ||
		    strstr(path, "/../"))
			abort();
		free(path);
	}
	if (http_query_parse(r.r_head.h_target, &q) == 0)
		http_query_free(&q);
	if (secrets_target(sec, r.r_head.h_target, &res, &red, &count) == 0) {
		if (!secrets_target_clean(res) || (strstr(red, "v4lue") &&
		    !strstr(r.r_head.h_target, "v4lue")))
			abort();
		free(res);
		free(red);
	}
	http_req_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head	 h;
	const uint8_t		*end;
	char			 host[256];
	uint16_t		 port;
	size_t			 hlen;

	if (sec == NULL) {
		sec = secrets_new();
		secrets_add(sec, PLACEHOLDER_PREFIX "KEY", "v4lue");
		secrets_add(sec, PLACEHOLDER_PREFIX "A", "b");
	}
	fuzz_l7(data, size);
	end = memmem(data, size, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	hlen = (size_t)(end - data) + 4;
	if (parse_head((const char *)data, hlen, &h) == -1)
		return 0;
	parse_connect_target(h.h_target, host, sizeof(host), &port);
	fuzz_rewrite(&h);
	fuzz_body(&h, data + hlen, size - hlen);
	parse_head_free(&h);
	return 0;
}
