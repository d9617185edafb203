/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * routerd's pure part (route.c): which requests are inference
 * (sandbox.md §6.1), which route serves them, the backend URL, the
 * headers that never travel, the "model" rewrite and the decoding of
 * chunked request bodies.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/routerd/routerd.h"

static void	 t_classify(void **);
static void	 t_path(void **);
static void	 t_select(void **);
static void	 t_url(void **);
static void	 t_headers(void **);
static void	 t_model(void **);
static void	 t_dechunk(void **);
static void	 t_dechunk_big(void **);
static void	 t_originform(void **);
static int	 dechunk(const char *, size_t, char **, size_t *);
static void	 setroute(struct route *, const char *, const char *);

static void
t_classify(void **state)
{
	static const struct {
		const char	*m, *t, *proto, *kind;
	} ok[] = {
		{ "POST", "/v1/chat/completions", "openai_chat_completions",
		    "chat_completion" },
		{ "post", "/v1/chat/completions?stream=true",
		    "openai_chat_completions", "chat_completion" },
		{ "POST", "/v1/completions", "openai_completions",
		    "completion" },
		{ "PoSt", "/v1/responses", "openai_responses", "responses" },
		{ "POST", "/v1/messages?beta=true", "anthropic_messages",
		    "messages" },
		{ "GET", "/v1/models", "model_discovery", "models_list" },
		{ "get", "/v1/models?x=1", "model_discovery", "models_list" },
		{ "GET", "/v1/models/gpt-4o", "model_discovery",
		    "models_get" },
		{ "GET", "/v1/models/a/b", "model_discovery", "models_get" },
		{ "POST", "https://inference.local/v1/chat/completions?a=b",
		    "openai_chat_completions", "chat_completion" },
		{ "GET", "http://inference.local:443/v1/models",
		    "model_discovery", "models_list" },
	};
	static const struct {
		const char	*m, *t;
	} no[] = {
		{ "GET", "/v1/chat/completions" },
		{ "POST", "/v1/models" },
		{ "GET", "/v1/models/" },
		{ "POST", "/v1/chat/completions/" },
		{ "POST", "/V1/chat/completions" },
		{ "POST", "/v2/chat/completions" },
		{ "POST", "/v1/chat/completionsx" },
		{ "PUT", "/v1/messages" },
		{ "GET", "/etc" },
		{ "POST", "//v1/messages" },
		{ "GET", "https://inference.local" },
	};
	const char	*p, *k;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		p = k = NULL;
		assert_int_equal(route_classify(ok[i].m, ok[i].t, &p, &k), 0);
		assert_string_equal(p, ok[i].proto);
		assert_string_equal(k, ok[i].kind);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(route_classify(no[i].m, no[i].t, &p, &k), -1);
}

static void
t_path(void **state)
{
	char	 buf[32];

	(void)state;
	assert_int_equal(route_path("/a/b?c=d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a/b");
	assert_int_equal(route_path("https://h:1/x#f", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x");
	assert_int_equal(route_path("http://h?q", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(route_path("/0123456789012345678901234567890123",
	    buf, sizeof(buf)), -1);
}

static void
setroute(struct route *r, const char *name, const char *protos)
{
	char	*s, *tok, *sp;

	r->r_name = strdup(name);
	r->r_url = strdup("mock://x");
	r->r_key = strdup("k");
	r->r_model = strdup("m");
	r->r_type = strdup("openai");
	s = strdup(protos);
	for (tok = strtok_r(s, ",", &sp); tok != NULL;
	    tok = strtok_r(NULL, ",", &sp)) {
		r->r_protos = realloc(r->r_protos, (r->r_nprotos + 1) *
		    sizeof(char *));
		r->r_protos[r->r_nprotos++] = strdup(tok);
	}
	free(s);
}

static void
t_select(void **state)
{
	struct route_table	*rt;

	(void)state;
	assert_non_null(rt = route_table_new(1, 3));
	setroute(&rt->rt_routes[0], "a", "anthropic_messages");
	setroute(&rt->rt_routes[1], "b",
	    "openai_chat_completions,model_discovery");
	setroute(&rt->rt_routes[2], "c", "model_discovery,anthropic_messages");
	assert_string_equal(route_select(rt, "anthropic_messages")->r_name,
	    "a");
	assert_string_equal(route_select(rt, "model_discovery")->r_name, "b");
	assert_string_equal(route_select(rt,
	    "openai_chat_completions")->r_name, "b");
	assert_null(route_select(rt, "openai_responses"));
	/* A reference keeps the table when the owner lets go. */
	assert_ptr_equal(route_table_ref(rt), rt);
	route_table_unref(rt);
	assert_string_equal(rt->rt_routes[0].r_name, "a");
	route_table_unref(rt);
	rt = route_table_new(1, 0);
	assert_null(route_select(rt, "model_discovery"));
	route_table_unref(rt);
}

static void
t_url(void **state)
{
	static const char *const c[][3] = {
		{ "https://api.openai.com/v1", "/v1/chat/completions",
		    "https://api.openai.com/v1/chat/completions" },
		{ "https://api.openai.com/v1/", "/v1/chat/completions",
		    "https://api.openai.com/v1/chat/completions" },
		{ "https://api.openai.com/v1//", "/v1/models?a=b",
		    "https://api.openai.com/v1/models?a=b" },
		{ "https://api.openai.com", "/v1/messages",
		    "https://api.openai.com/v1/messages" },
		{ "https://h/", "/v1/messages", "https://h/v1/messages" },
		{ "http://h:8080/openai/v1", "/v1/responses",
		    "http://h:8080/openai/v1/responses" },
		{ "http://h/api", "/v1/models/x",
		    "http://h/api/v1/models/x" },
		{ "http://h/v1", "/v1x/y", "http://h/v1/v1x/y" },
		{ "http://h/v2", "/v1/models", "http://h/v2/v1/models" },
	};
	size_t	 i;
	char	*u;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_non_null(u = route_url(c[i][0], c[i][1]));
		assert_string_equal(u, c[i][2]);
		free(u);
	}
}

static void
t_headers(void **state)
{
	static const char *const up[] = { "Authorization", "x-api-key",
	    "HOST", "Content-Length", "connection", "Keep-Alive",
	    "proxy-authenticate", "Proxy-Authorization", "proxy-connection",
	    "TE", "trailer", "Transfer-Encoding", "upgrade", "expect" };
	static const char *const keep[] = { "content-type", "accept",
	    "anthropic-version", "user-agent", "openai-organization",
	    "x-api-keys", "authorization-x" };
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(up) / sizeof(up[0]); i++)
		assert_int_equal(route_header_drop(up[i], 0), 1);
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		assert_int_equal(route_header_drop(keep[i], 0), 0);
		assert_int_equal(route_header_drop(keep[i], 1), 0);
	}
	/* Back to the agent: hop-by-hop and the length go, not the rest. */
	assert_int_equal(route_header_drop("content-length", 1), 1);
	assert_int_equal(route_header_drop("Transfer-Encoding", 1), 1);
	assert_int_equal(route_header_drop("connection", 1), 1);
	assert_int_equal(route_header_drop("authorization", 1), 0);
	assert_int_equal(route_header_drop("x-api-key", 1), 0);
	assert_int_equal(route_header_drop("host", 1), 0);
}

static void
t_model(void **state)
{
	char	*s;
	size_t	 n = 0;
	const char	*b;

	(void)state;
	b = "{\"messages\":[],\"model\":\"gpt-4\",\"stream\":true}";
	assert_non_null(s = route_model_rewrite(b, strlen(b), "llama", &n));
	assert_string_equal(s, "{\"messages\":[],\"model\":\"llama\","
	    "\"stream\":true}");
	assert_int_equal(n, strlen(s));
	free(s);
	b = "{\"prompt\":\"hi\"}";
	assert_non_null(s = route_model_rewrite(b, strlen(b), "m\"x", &n));
	assert_string_equal(s, "{\"prompt\":\"hi\",\"model\":\"m\\\"x\"}");
	free(s);
	b = "[{\"model\":\"a\"}]";
	assert_null(route_model_rewrite(b, strlen(b), "m", &n));
	assert_null(route_model_rewrite("\"s\"", 3, "m", &n));
	assert_null(route_model_rewrite("42", 2, "m", &n));
	b = "{\"model\":";
	assert_null(route_model_rewrite(b, strlen(b), "m", &n));
	b = "{\"a\":1} trailing";
	assert_null(route_model_rewrite(b, strlen(b), "m", &n));
	assert_null(route_model_rewrite("", 0, "m", &n));
	/* Only the length given counts. */
	b = "{}xyz";
	assert_non_null(s = route_model_rewrite(b, 2, "m", &n));
	assert_string_equal(s, "{\"model\":\"m\"}");
	free(s);
}

static int
dechunk(const char *in, size_t max, char **out, size_t *n)
{
	unsigned char	*o;
	int		 rc;

	rc = route_dechunk((const unsigned char *)in, strlen(in), max, &o, n);
	*out = (char *)o;
	return rc;
}

static void
t_dechunk(void **state)
{
	char	*o;
	size_t	 n;

	(void)state;
	assert_int_equal(dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	    100, &o, &n), 0);
	assert_int_equal(n, 11);
	assert_memory_equal(o, "hello world", 11);
	free(o);
	/* Extensions, upper-case hex, trailers. */
	assert_int_equal(dechunk("A;name=v;x\r\n0123456789\r\n0;e\r\n"
	    "X-T: 1\r\nY: 2\r\n\r\n", 100, &o, &n), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(o, "0123456789", 10);
	free(o);
	assert_int_equal(dechunk("0\r\n\r\n", 100, &o, &n), 0);
	assert_int_equal(n, 0);
	assert_null(o);
	assert_int_equal(dechunk("000a\r\n0123456789\r\n0\r\n\r\n", 100,
	    &o, &n), 0);
	assert_int_equal(n, 10);
	free(o);
	/* Malformed. */
	assert_int_equal(dechunk("", 100, &o, &n), ROUTE_BAD);
	assert_int_equal(dechunk("\r\n", 100, &o, &n), ROUTE_BAD);
	assert_int_equal(dechunk("g\r\n", 100, &o, &n), ROUTE_BAD);
	assert_int_equal(dechunk("-1\r\nx\r\n0\r\n\r\n", 100, &o, &n),
	    ROUTE_BAD);
	assert_int_equal(dechunk(" 1\r\nx\r\n0\r\n\r\n", 100, &o, &n),
	    ROUTE_BAD);
	assert_int_equal(dechunk("1 \r\nx\r\n0\r\n\r\n", 100, &o, &n),
	    ROUTE_BAD);
	assert_int_equal(dechunk("1\nx\r\n0\r\n\r\n", 100, &o, &n),
	    ROUTE_BAD);
	assert_int_equal(dechunk("2\r\nx\r\n0\r\n\r\n", 100, &o, &n),
	    ROUTE_BAD);
	assert_int_equal(dechunk("1\r\nxy\r\n0\r\n\r\n", 100, &o, &n),
	    ROUTE_BAD);
	assert_int_equal(dechunk("1\r\nx\r\n0\r\n", 100, &o, &n), ROUTE_BAD);
	assert_int_equal(dechunk("1\r\nx\r\n0\r\n\r\nextra", 100, &o, &n),
	    ROUTE_BAD);
	assert_int_equal(dechunk("1\r\nx\r\n0\r\nT: 1\n\r\n", 100, &o, &n),
	    ROUTE_BAD);
	/* Sixteen hex digits: more than any body, refused as malformed. */
	assert_int_equal(dechunk("0000000000000001\r\nx\r\n0\r\n\r\n", 100,
	    &o, &n), ROUTE_BAD);
	assert_int_equal(dechunk("fffffffffffffff\r\nx\r\n0\r\n\r\n", 100,
	    &o, &n), ROUTE_TOO_BIG);
	/* The limit counts decoded bytes, over all chunks. */
	assert_int_equal(dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	    11, &o, &n), 0);
	free(o);
	assert_int_equal(dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	    10, &o, &n), ROUTE_TOO_BIG);
}

/* Past 10 MiB decoded: too big, even when the chunks are small. */
static void
t_dechunk_big(void **state)
{
	unsigned char	*in, *o;
	size_t		 chunk = 1024 * 1024, len = 0, i, n;

	(void)state;
	assert_non_null(in = malloc(11 * (chunk + 16) + 16));
	for (i = 0; i < 11; i++) {
		len += (size_t)sprintf((char *)in + len, "%zx\r\n", chunk);
		memset(in + len, 'a', chunk);
		len += chunk;
		memcpy(in + len, "\r\n", 2);
		len += 2;
	}
	memcpy(in + len, "0\r\n\r\n", 5);
	len += 5;
	assert_int_equal(route_dechunk(in, len, ROUTER_BODY_MAX, &o, &n),
	    ROUTE_TOO_BIG);
	/* Exactly 10 MiB: fine. */
	len = 0;
	for (i = 0; i < 10; i++) {
		len += (size_t)sprintf((char *)in + len, "%zx\r\n", chunk);
		memset(in + len, 'a', chunk);
		len += chunk;
		memcpy(in + len, "\r\n", 2);
		len += 2;
	}
	memcpy(in + len, "0\r\n\r\n", 5);
	len += 5;
	assert_int_equal(route_dechunk(in, len, ROUTER_BODY_MAX, &o, &n), 0);
	assert_int_equal(n, ROUTER_BODY_MAX);
	free(o);
	free(in);
}

static void
t_originform(void **state)
{
	char		*o = NULL;
	size_t		 n;
	const char	*h;

	(void)state;
	h = "POST https://inference.local/v1/messages?x=1 HTTP/1.1\r\n"
	    "Host: inference.local\r\n\r\n";
	assert_int_equal(route_originform(h, strlen(h), &o, &n), 0);
	assert_string_equal(o, "POST /v1/messages?x=1 HTTP/1.1\r\n"
	    "Host: inference.local\r\n\r\n");
	assert_int_equal(n, strlen(o));
	free(o);
	h = "GET HTTP://inference.local:443 HTTP/1.1\r\n\r\n";
	assert_int_equal(route_originform(h, strlen(h), &o, &n), 0);
	assert_string_equal(o, "GET / HTTP/1.1\r\n\r\n");
	free(o);
	h = "GET http://inference.local?q HTTP/1.1\r\n\r\n";
	assert_int_equal(route_originform(h, strlen(h), &o, &n), 0);
	assert_string_equal(o, "GET /?q HTTP/1.1\r\n\r\n");
	free(o);
	h = "GET /v1/models HTTP/1.1\r\n\r\n";
	assert_int_equal(route_originform(h, strlen(h), &o, &n), 1);
	h = "GET ftp://x/v1/models HTTP/1.1\r\n\r\n";
	assert_int_equal(route_originform(h, strlen(h), &o, &n), 1);
	h = "GET http:///v1/models HTTP/1.1\r\n\r\n";
	assert_int_equal(route_originform(h, strlen(h), &o, &n), 1);
	h = "GARBAGE\r\n\r\n";
	assert_int_equal(route_originform(h, strlen(h), &o, &n), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_classify),
		cmocka_unit_test(t_path),
		cmocka_unit_test(t_select),
		cmocka_unit_test(t_url),
		cmocka_unit_test(t_headers),
		cmocka_unit_test(t_model),
		cmocka_unit_test(t_dechunk),
		cmocka_unit_test(t_dechunk_big),
		cmocka_unit_test(t_originform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
