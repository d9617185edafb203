/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The pure HTTP/1.1 parts of proxyd (parse.c, body.c, http.c): no
 * event loop, no state but their arguments.  routerd parses the
 * agent's inference requests with the same code.
 */

#ifndef PROXYD_HTTP_H
#define PROXYD_HTTP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* parse.c: one request head, split in place in h_buf. */
struct http_hdr {
	char		*name;
	char		*value;
};

struct http_head {
	char		*h_buf;
	char		*h_method;
	char		*h_target;
	char		*h_version;
	struct http_hdr	*h_hdrs;
	size_t		 h_nhdrs;
};

struct http_uri {
	char		 u_scheme[8];		/* "http" or "https" */
	char		 u_host[256];		/* no brackets */
	uint16_t	 u_port;
	int		 u_v6;			/* host was [literal] */
	char		*u_path;		/* origin form, malloc'd */
};

int	 parse_head(const char *, size_t, struct http_head *);
void	 parse_head_free(struct http_head *);
const char *parse_header(const struct http_head *, const char *);
int	 parse_connect_target(const char *, char *, size_t, uint16_t *);
int	 parse_uri(const char *, struct http_uri *);
void	 parse_uri_free(struct http_uri *);
int	 parse_host_valid(const char *);

/* body.c: the forward proxy's request body framing (G9). */
#define BODY_NONE		0
#define BODY_LENGTH		1
#define BODY_CHUNKED		2

struct body {
	int		 b_mode;
	int		 b_done;
	int		 b_err;
	int		 b_state;	/* chunked parser */
	int		 b_ndigits;
	uint64_t	 b_left;	/* BODY_LENGTH */
	uint64_t	 b_chunk;	/* bytes left in this chunk */
};

int	 body_init(struct body *, const struct http_head *);
size_t	 body_scan(struct body *, const unsigned char *, size_t);

/* http.c: strict requests for the L7 relay (§2.8, G6c, G6h). */
#define HTTP_HEAD_MAX		(16 * 1024)
#define HTTP_MAX_HDRS		128
#define HTTP_MAX_PARAMS		256
#define HTTP_BAD		(-1)
#define HTTP_TOO_BIG		(-2)

struct http_req {
	struct http_head r_head;	/* h_buf owned */
	struct body	 r_body;
	const char	*r_host;	/* the Host header */
	int		 r_http10;
	int		 r_close;	/* no keep-alive after this one */
	int		 r_keepalive;
	int		 r_upgrade;	/* Upgrade: present */
	int		 r_connupgrade;	/* Connection: upgrade */
	int		 r_h2c;		/* Upgrade: h2c or HTTP2-Settings */
};

struct http_qp {
	char		*key;
	char		*value;
};

struct http_query {
	struct http_qp	*q_p;
	size_t		 q_n;
};

ssize_t	 http_head_end(const unsigned char *, size_t);
int	 http_req_parse(const unsigned char *, size_t, struct http_req *);
void	 http_req_free(struct http_req *);
int	 http_path_normalize(const char *, size_t, char **);
int	 http_query_parse(const char *, struct http_query *);
void	 http_query_free(struct http_query *);
int	 http_host_matches(const char *, const char *, uint16_t, uint16_t);

#endif /* PROXYD_HTTP_H */
