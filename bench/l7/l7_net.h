/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#ifndef L7_NET_H
#define L7_NET_H

#include <netinet/in.h>

#include <openssl/ssl.h>

int	 l7_net_addr(struct sockaddr_in *, const char *);
int	 l7_net_listen(const char *, const char *);
SSL_CTX	*l7_net_client_ctx(const char *);

#endif
