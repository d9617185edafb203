/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Provider credentials to proxyd, bound to hosts (issue 6, G7): the
 * agent sees "openshell:resolve:env:KEY" only; proxyd gets the map
 * placeholder -> [secret, [host globs]] (IPC_PROXY_SECRETS2) and
 * substitutes a secret only on requests to a host one of its globs
 * matches.  A credential with no host is sent too, with an empty list:
 * proxyd then refuses (500) every request carrying its placeholder,
 * which is what we want from a credential nobody said where to send.
 * File mode takes the globs from --credential KEY=host,host; gateway
 * mode from GetSandboxProviderEnvironmentResponse.credential_hosts.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proc.h"
#include "supervisor.h"

static uint32_t	 creds_count(const char *);
static void	 creds_globs(struct ipc_wr *, const char *);
static int	 creds_next(const char **, const char **, size_t *);

/*
 * The next non-empty glob of the list at *s, blanks trimmed: 1 with
 * *g and *len set, 0 at the end.
 */
static int
creds_next(const char **s, const char **g, size_t *len)
{
	const char	*p = *s, *e, *end;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		e = p + strcspn(p, ",");
		for (end = e; end > p && (end[-1] == ' ' || end[-1] == '\t');)
			end--;
		*s = e;
		if (end > p) {
			*g = p;
			*len = (size_t)(end - p);
			return 1;
		}
		p = e;
	}
	return 0;
}

static uint32_t
creds_count(const char *hosts)
{
	const char	*g;
	size_t		 len;
	uint32_t	 n = 0;

	while (creds_next(&hosts, &g, &len))
		n++;
	return n;
}

static void
creds_globs(struct ipc_wr *w, const char *hosts)
{
	const char	*g;
	size_t		 len;

	ipc_wr_array(w, creds_count(hosts));
	while (creds_next(&hosts, &g, &len))
		ipc_wr_strn(w, g, len);
}

/*
 * At every start of proxyd (sbx_configure): the whole map.  The first
 * time, a warning names each credential bound to no host.
 */
void
creds_send(struct sandbox *sb, struct proc_tree *pt)
{
	static int	 warned;
	struct ipc_wr	 w;
	struct cred	*cr;
	char		 ph[256];
	int		 i;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_map(&w, (uint32_t)sb->sb_ncreds);
	for (i = 0; i < sb->sb_ncreds; i++) {
		cr = &sb->sb_creds[i];
		snprintf(ph, sizeof(ph), "%s%s", SBX_PLACEHOLDER, cr->cr_key);
		ipc_wr_str(&w, ph);
		ipc_wr_array(&w, 2);
		ipc_wr_str(&w, cr->cr_value);
		creds_globs(&w, cr->cr_hosts);
		if (!warned && creds_count(cr->cr_hosts) == 0)
			log_warnx("credential %s is bound to no host: its "
			    "placeholder will never be substituted",
			    cr->cr_key);
	}
	warned = 1;
	if (proc_compose_wr(pt, PROC_PROXY, IPC_PROXY_SECRETS2, 0, -1,
	    &w) == -1)
		log_warn("proxyd: credentials");
}

/* Gateway mode: key's host globs (NULL or "": none). */
void
creds_bind(struct sandbox *sb, const char *key, const char *hosts)
{
	int	 i;

	for (i = 0; i < sb->sb_ncreds; i++) {
		if (strcmp(sb->sb_creds[i].cr_key, key) != 0)
			continue;
		free(sb->sb_creds[i].cr_hosts);
		sb->sb_creds[i].cr_hosts = NULL;
		if (hosts != NULL && *hosts != '\0' &&
		    (sb->sb_creds[i].cr_hosts = strdup(hosts)) == NULL)
			fatal("%s", __func__);
		return;
	}
}
