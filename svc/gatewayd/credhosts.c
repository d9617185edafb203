/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Host binding of provider credentials (issue 6, users.md pain point
 * 6: the reference sent a Claude key to statsig.anthropic.com and
 * sentry.io).  Each provider type names the API hosts its credentials
 * are for; the provider's config key `credential_hosts` (comma-
 * separated globs) replaces that default.  The supervisor hands the
 * globs to proxyd, which substitutes a secret only on requests to a
 * matching host (GetSandboxProviderEnvironmentResponse.credential_hosts,
 * our extension).  Types with no default (generic, outlook, unknown)
 * bind to no host: their placeholders are never substituted until the
 * provider says where they may go.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gatewayd.h"

#define CREDHOSTS_KEY	"credential_hosts"

static const struct {
	const char	*ch_type;
	const char	*ch_hosts;
} credhosts_defaults[] = {
	{ "claude",	"api.anthropic.com" },
	{ "anthropic",	"api.anthropic.com" },
	{ "openai",	"api.openai.com" },
	{ "codex",	"api.openai.com" },
	{ "opencode",	"openrouter.ai,api.openai.com" },
	{ "copilot",	"api.githubcopilot.com,*.githubcopilot.com,"
			"api.github.com" },
	{ "github",	"api.github.com,github.com,*.githubusercontent.com" },
	{ "gh",		"api.github.com,github.com,*.githubusercontent.com" },
	{ "gitlab",	"gitlab.com" },
	{ "glab",	"gitlab.com" },
	{ "nvidia",	"integrate.api.nvidia.com" },
};

/*
 * The comma-separated globs for p's credentials ("" for none), to be
 * freed by the caller; NULL when out of memory.
 */
char *
credhosts_provider(const Openshell__Datamodel__V1__Provider *p)
{
	size_t	 i;

	for (i = 0; i < p->n_config; i++)
		if (strcmp(p->config[i]->key, CREDHOSTS_KEY) == 0)
			return strdup(p->config[i]->value);
	for (i = 0; i < sizeof(credhosts_defaults) /
	    sizeof(credhosts_defaults[0]); i++)
		if (p->type != NULL &&
		    strcasecmp(p->type, credhosts_defaults[i].ch_type) == 0)
			return strdup(credhosts_defaults[i].ch_hosts);
	return strdup("");
}
