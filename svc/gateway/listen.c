/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The gRPC port's listening socket.  The parent binds it (the port is
 * its configuration, and a gatewayd restart must keep serving on the
 * same port), then hands a duplicate to gatewayd at each start.
 */

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"

#define LISTEN_BACKLOG	128

static int	 listen_port(int);

/*
 * Binds gw_bind:gw_port (0: an ephemeral port), listening and
 * non-blocking; gw_listenfd and gw_realport are set.  The parent owns
 * gw_listenfd for its whole life.
 */
int
listen_open(struct gateway *gw)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[16];
	int		 fd = -1, on = 1, error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", gw->gw_port);
	if ((error = getaddrinfo(gw->gw_bind, port, &hints, &res)) != 0) {
		log_warnx("%s: %s", gw->gw_bind, gai_strerror(error));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == 0 && bind(fd, ai->ai_addr,
		    ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
			break;
		error = errno;
		close(fd);
		fd = -1;
		errno = error;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		log_warn("listen %s port %d", gw->gw_bind, gw->gw_port);
		return -1;
	}
	if ((gw->gw_realport = listen_port(fd)) == -1) {
		close(fd);
		return -1;
	}
	gw->gw_listenfd = fd;
	return 0;
}

/* The port the kernel picked (or confirmed). */
static int
listen_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("getsockname");
		return -1;
	}
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}
