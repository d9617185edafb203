/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The resolver override (--hosts-file, IPC_PROXY_HOSTS): hosts(5)
 * lines "address name [alias...]", '#' comments.  A name listed here
 * is answered from here only, before any DNS, so the tests can give
 * names to their TEST-NET hosts without a nameserver.
 */

#include <arpa/inet.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxyd.h"

static int	 hosts_addr(const char *, struct sockaddr_storage *);
static int	 hosts_add(struct hosts *, const char *,
		    const struct sockaddr_storage *);

static int
hosts_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

static int
hosts_add(struct hosts *h, const char *name, const struct sockaddr_storage *ss)
{
	struct hosts_ent	*e;
	size_t			 i;

	if ((e = reallocarray(h->h_ent, h->h_n + 1, sizeof(*e))) == NULL)
		return -1;
	h->h_ent = e;
	e = &h->h_ent[h->h_n];
	if ((e->he_name = strdup(name)) == NULL)
		return -1;
	for (i = 0; e->he_name[i] != '\0'; i++)
		e->he_name[i] = (char)tolower((unsigned char)e->he_name[i]);
	e->he_addr = *ss;
	h->h_n++;
	return 0;
}

/* NULL only when out of memory; bad lines are skipped. */
struct hosts *
hosts_parse(const char *text)
{
	struct hosts		*h;
	struct sockaddr_storage	 ss;
	char			*copy, *line, *next, *tok, *save;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((copy = strdup(text != NULL ? text : "")) == NULL) {
		free(h);
		return NULL;
	}
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "#")] = '\0';
		if ((tok = strtok_r(line, " \t\r", &save)) == NULL ||
		    hosts_addr(tok, &ss) == -1)
			continue;
		while ((tok = strtok_r(NULL, " \t\r", &save)) != NULL)
			if (parse_host_valid(tok) &&
			    hosts_add(h, tok, &ss) == -1)
				goto fail;
	}
	free(copy);
	return h;
fail:
	free(copy);
	hosts_free(h);
	return NULL;
}

void
hosts_free(struct hosts *h)
{
	size_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < h->h_n; i++)
		free(h->h_ent[i].he_name);
	free(h->h_ent);
	free(h);
}

/* Every address listed for name, in file order; returns how many. */
size_t
hosts_lookup(const struct hosts *h, const char *name,
    struct sockaddr_storage *out, size_t max)
{
	size_t	 i, n = 0;

	if (h == NULL)
		return 0;
	for (i = 0; i < h->h_n && n < max; i++)
		if (strcasecmp(h->h_ent[i].he_name, name) == 0)
			out[n++] = h->h_ent[i].he_addr;
	return n;
}
