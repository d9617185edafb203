/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * proxyd's pure parsers: the request head (strict line endings, no
 * obs-fold, no space before a colon), CONNECT targets including
 * [IPv6]:port (G10), absolute URIs (§2.9) and the hosts override.
 */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/proxyd/proxyd.h"

static int	 head(const char *, struct http_head *);
static int	 target(const char *, char *, uint16_t *);

static int
head(const char *s, struct http_head *h)
{
	return parse_head(s, strlen(s), h);
}

static int
target(const char *t, char *host, uint16_t *port)
{
	return parse_connect_target(t, host, 256, port);
}

static void
test_head_ok(void **state)
{
	struct http_head	 h;

	(void)state;
	assert_int_equal(head("GET http://a.example/x HTTP/1.1\r\n"
	    "Host: a.example\r\nX-Empty:\r\nAccept:  */*  \r\n\r\n", &h), 0);
	assert_string_equal(h.h_method, "GET");
	assert_string_equal(h.h_target, "http://a.example/x");
	assert_string_equal(h.h_version, "HTTP/1.1");
	assert_int_equal(h.h_nhdrs, 3);
	assert_string_equal(h.h_hdrs[0].name, "Host");
	assert_string_equal(h.h_hdrs[1].value, "");
	assert_string_equal(h.h_hdrs[2].value, "*/*");
	assert_string_equal(parse_header(&h, "accept"), "*/*");
	assert_null(parse_header(&h, "Cookie"));
	parse_head_free(&h);

	assert_int_equal(head("CONNECT a:443 HTTP/1.0\r\n\r\n", &h), 0);
	assert_int_equal(h.h_nhdrs, 0);
	parse_head_free(&h);
}

static void
test_head_bad(void **state)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\n\r\n\r\n",		/* bare LF */
		"GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n",	/* bare LF in hdrs */
		"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",	/* bare CR */
		"GET / HTTP/1.1\r\nA : b\r\n\r\n",	/* space before colon */
		"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",	/* obs-fold */
		"GET / HTTP/1.1\r\nnocolon\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",		/* empty token */
		"GET / HTTP/1.1 x\r\n\r\n",
		"get / HTTP/1.1\r\n\r\n",
		"GET /\r\n\r\n",
		"\r\n\r\n",
		"GET / HTTP/1.1\r\n",			/* no end */
	};
	struct http_head	 h;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (head(bad[i], &h) != -1)
			fail_msg("accepted bad head #%zu", i);
	/* A NUL inside the head. */
	assert_int_equal(parse_head("GET / HTTP/1.1\r\nA: \0b\r\n\r\n", 24,
	    &h), -1);
}

static void
test_connect_target(void **state)
{
	char		 host[256];
	uint16_t	 port;

	(void)state;
	assert_int_equal(target("api.example.com:443", host, &port), 0);
	assert_string_equal(host, "api.example.com");
	assert_int_equal(port, 443);
	assert_int_equal(target("10.0.0.1:8080", host, &port), 0);
	assert_string_equal(host, "10.0.0.1");
	assert_int_equal(port, 8080);
	/* G10: IPv6 literals. */
	assert_int_equal(target("[::1]:443", host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 443);
	assert_int_equal(target("[2001:db8::5]:65535", host, &port), 0);
	assert_string_equal(host, "2001:db8::5");
	assert_int_equal(port, 65535);
	assert_int_equal(target("[::ffff:127.0.0.1]:80", host, &port), 0);
	assert_string_equal(host, "::ffff:127.0.0.1");
}

static void
test_connect_target_bad(void **state)
{
	static const char *const bad[] = {
		"example.com", "example.com:", ":443", "example.com:0",
		"example.com:65536", "example.com:+443", "example.com:04",
		"example.com:44a", "::1:443", "[::1]", "[::1]443", "[]:443",
		"[example.com]:443", "[fe80::1%eth0]:443", "a b:443",
		"a/b:443", "user@host:443", "a:b:443", "[::1]:443x",
	};
	char		 host[256];
	uint16_t	 port;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (target(bad[i], host, &port) != -1)
			fail_msg("accepted bad target %s", bad[i]);
}

static void
test_uri(void **state)
{
	struct http_uri	 u;

	(void)state;
	assert_int_equal(parse_uri("http://Example.com/a/b?x=1", &u), 0);
	assert_string_equal(u.u_scheme, "http");
	assert_string_equal(u.u_host, "Example.com");
	assert_int_equal(u.u_port, 80);
	assert_string_equal(u.u_path, "/a/b?x=1");
	parse_uri_free(&u);

	assert_int_equal(parse_uri("HTTP://h:8080", &u), 0);
	assert_string_equal(u.u_scheme, "http");
	assert_int_equal(u.u_port, 8080);
	assert_string_equal(u.u_path, "/");
	parse_uri_free(&u);

	assert_int_equal(parse_uri("http://h?q=1", &u), 0);
	assert_string_equal(u.u_path, "/?q=1");
	parse_uri_free(&u);

	assert_int_equal(parse_uri("https://h/x", &u), 0);
	assert_string_equal(u.u_scheme, "https");
	assert_int_equal(u.u_port, 443);
	parse_uri_free(&u);

	assert_int_equal(parse_uri("http://[2001:db8::1]:81/p#frag", &u), 0);
	assert_string_equal(u.u_host, "2001:db8::1");
	assert_int_equal(u.u_v6, 1);
	assert_int_equal(u.u_port, 81);
	assert_string_equal(u.u_path, "/p");
	parse_uri_free(&u);
}

static void
test_uri_bad(void **state)
{
	static const char *const bad[] = {
		"/relative", "http:/x", "ftp://h/", "http://", "http:///x",
		"http://user:pw@h/", "http://h:0/", "http://h:99999/",
		"http://[::1/", "http://[nothex]/", "http://h h/", "://h/",
		"ht1p://h/", "http://h:/",
	};
	struct http_uri	 u;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_uri(bad[i], &u) != -1)
			fail_msg("accepted bad URI %s", bad[i]);
		parse_uri_free(&u);
	}
}

static void
test_hosts(void **state)
{
	struct hosts		*h;
	struct sockaddr_storage	 ss[4];
	char			 buf[INET6_ADDRSTRLEN];

	(void)state;
	h = hosts_parse("# comment\n203.0.113.10 Allowed.Test  www.test\n"
	    "\n  bogus line\n2001:db8::7 allowed.test # v6 too\n"
	    "198.51.100.1 bad/name ok.test\r\n");
	assert_non_null(h);
	assert_int_equal(hosts_lookup(h, "allowed.test", ss, 4), 2);
	assert_int_equal(ss[0].ss_family, AF_INET);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ss[0])->sin_addr, buf,
	    sizeof(buf));
	assert_string_equal(buf, "203.0.113.10");
	assert_int_equal(ss[1].ss_family, AF_INET6);
	assert_int_equal(hosts_lookup(h, "WWW.TEST", ss, 4), 1);
	assert_int_equal(hosts_lookup(h, "ok.test", ss, 4), 1);
	assert_int_equal(hosts_lookup(h, "bad/name", ss, 4), 0);
	assert_int_equal(hosts_lookup(h, "missing.test", ss, 4), 0);
	assert_int_equal(hosts_lookup(h, "allowed.test", ss, 1), 1);
	hosts_free(h);
	h = hosts_parse("");
	assert_non_null(h);
	assert_int_equal(h->h_n, 0);
	hosts_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_ok),
		cmocka_unit_test(test_head_bad),
		cmocka_unit_test(test_connect_target),
		cmocka_unit_test(test_connect_target_bad),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_uri_bad),
		cmocka_unit_test(test_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
