/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The inference routes file of a sandbox without a gateway
 * (--inference-routes / OPENSHELL_INFERENCE_ROUTES, sandbox.md §6.3):
 *
 *	routes:
 *	  - name: local
 *	    endpoint: http://127.0.0.1:8000/v1
 *	    model: llama
 *	    provider_type: openai		(optional)
 *	    protocols: [openai_chat_completions, model_discovery]
 *	    api_key: sk-...			(or api_key_env: VAR)
 *
 * Every route needs a key (api_key, or a set api_key_env) and at least
 * one protocol (trimmed, lower-cased, each once); the timeout is the
 * router's default.  Any error names the route and the field: the
 * caller makes it fatal.  Pure but for getenv, for the unit test.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "log.h"
#include "supervisor.h"

#define ROUTEFILE_MAX		256	/* routes */
#define ROUTEFILE_MAXPROTO	16

static int	 routefile_route(yaml_document_t *, yaml_node_t *,
		    struct sroute *, char *, size_t);
static int	 routefile_field(yaml_document_t *, yaml_node_t *,
		    const char *, struct sroute *, char **, char *, size_t);
static int	 routefile_protos(yaml_document_t *, yaml_node_t *,
		    struct sroute *);
static char	*routefile_scalar(yaml_node_t *);
static yaml_node_t *routefile_get(yaml_document_t *, yaml_node_t *,
		    const char *);

/* 0 with the routes in *rp and *np (routefile_free), or -1, err set. */
int
routefile_load(const char *path, struct sroute **rp, size_t *np, char *err,
    size_t errlen)
{
	yaml_parser_t	 p;
	yaml_document_t	 doc;
	yaml_node_t	*root, *list;
	yaml_node_item_t *it;
	FILE		*fp;
	size_t		 n = 0;
	int		 rc = -1;

	*rp = NULL;
	*np = 0;
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&p))
		fatalx("%s: yaml", __func__);
	yaml_parser_set_input_file(&p, fp);
	if (!yaml_parser_load(&p, &doc)) {
		snprintf(err, errlen, "%s: line %zu: %s", path,
		    p.problem_mark.line + 1, p.problem != NULL ? p.problem :
		    "bad YAML");
		goto out;
	}
	root = yaml_document_get_root_node(&doc);
	list = root != NULL ? routefile_get(&doc, root, "routes") : NULL;
	if (list == NULL || list->type != YAML_SEQUENCE_NODE) {
		snprintf(err, errlen, "%s: no \"routes\" list", path);
		goto doc;
	}
	n = (size_t)(list->data.sequence.items.top -
	    list->data.sequence.items.start);
	if (n > ROUTEFILE_MAX) {
		snprintf(err, errlen, "%s: more than %d routes", path,
		    ROUTEFILE_MAX);
		goto doc;
	}
	if (n > 0 && (*rp = calloc(n, sizeof(**rp))) == NULL)
		fatal("%s", __func__);
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++)
		if (routefile_route(&doc, yaml_document_get_node(&doc, *it),
		    &(*rp)[(*np)++], err, errlen) == -1)
			goto doc;
	rc = 0;
doc:
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&p);
	fclose(fp);
	if (rc == -1) {
		routefile_free(*rp, *np);
		*rp = NULL;
		*np = 0;
	}
	return rc;
}

void
routefile_free(struct sroute *r, size_t n)
{
	size_t	 i, j;

	for (i = 0; r != NULL && i < n; i++) {
		free(r[i].sr_name);
		free(r[i].sr_url);
		if (r[i].sr_key != NULL)
			explicit_bzero(r[i].sr_key, strlen(r[i].sr_key));
		free(r[i].sr_key);
		free(r[i].sr_model);
		free(r[i].sr_type);
		free(r[i].sr_env);
		for (j = 0; j < r[i].sr_nprotos; j++)
			free(r[i].sr_protos[j]);
		free(r[i].sr_protos);
	}
	free(r);
}

static int
routefile_route(yaml_document_t *doc, yaml_node_t *node, struct sroute *r,
    char *err, size_t errlen)
{
	static const char *const fields[] = { "name", "endpoint", "model",
	    "provider_type", "protocols", "api_key", "api_key_env" };
	char		*v;
	size_t		 i;

	if (node == NULL || node->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "a route is not a mapping");
		return -1;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (routefile_field(doc, node, fields[i], r, &r->sr_env, err,
		    errlen) == -1)
			return -1;
	if (r->sr_env != NULL && (r->sr_env[0] == '\0' ||
	    strchr(r->sr_env, '=') != NULL)) {
		snprintf(err, errlen, "route %s: api_key_env: not a variable "
		    "name", r->sr_name != NULL ? r->sr_name : "?");
		return -1;
	}
	if (r->sr_key == NULL && r->sr_env != NULL &&
	    (v = getenv(r->sr_env)) != NULL && *v != '\0' &&
	    (r->sr_key = strdup(v)) == NULL)
		fatal("%s", __func__);
	if (r->sr_name == NULL || r->sr_url == NULL || r->sr_model == NULL) {
		snprintf(err, errlen, "route %s: name, endpoint and model are "
		    "required", r->sr_name != NULL ? r->sr_name : "?");
		return -1;
	}
	if (r->sr_key == NULL || r->sr_nprotos == 0) {
		snprintf(err, errlen, "route %s: %s", r->sr_name,
		    r->sr_key == NULL ? "no api_key (or api_key_env unset)" :
		    "no protocols");
		return -1;
	}
	if (r->sr_type == NULL && (r->sr_type = strdup("")) == NULL)
		fatal("%s", __func__);
	return 0;
}

/* One field of a route, if present; a non-scalar is an error. */
static int
routefile_field(yaml_document_t *doc, yaml_node_t *node, const char *name,
    struct sroute *r, char **env, char *err, size_t errlen)
{
	yaml_node_t	*v;
	char		**dst;

	if ((v = routefile_get(doc, node, name)) == NULL)
		return 0;
	if (strcmp(name, "protocols") == 0) {
		if (routefile_protos(doc, v, r) == 0)
			return 0;
		snprintf(err, errlen, "route %s: protocols: a list of at most "
		    "%d names", r->sr_name != NULL ? r->sr_name : "?",
		    ROUTEFILE_MAXPROTO);
		return -1;
	}
	dst = strcmp(name, "name") == 0 ? &r->sr_name :
	    strcmp(name, "endpoint") == 0 ? &r->sr_url :
	    strcmp(name, "model") == 0 ? &r->sr_model :
	    strcmp(name, "provider_type") == 0 ? &r->sr_type :
	    strcmp(name, "api_key") == 0 ? &r->sr_key : env;
	if ((*dst = routefile_scalar(v)) == NULL) {
		snprintf(err, errlen, "route %s: %s: not a string",
		    r->sr_name != NULL ? r->sr_name : "?", name);
		return -1;
	}
	return 0;
}

/* Trimmed, lower-cased, each once; empty names are dropped. */
static int
routefile_protos(yaml_document_t *doc, yaml_node_t *v, struct sroute *r)
{
	yaml_node_item_t	*it;
	char			*s, *b, *e;
	size_t			 i;

	if (v->type != YAML_SEQUENCE_NODE)
		return -1;
	if ((r->sr_protos = calloc(ROUTEFILE_MAXPROTO + 1, sizeof(char *))) ==
	    NULL)
		fatal("%s", __func__);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	    it++) {
		if ((s = routefile_scalar(yaml_document_get_node(doc, *it))) ==
		    NULL)
			return -1;
		for (b = s; isspace((unsigned char)*b); b++)
			;
		for (e = b + strlen(b); e > b && isspace((unsigned char)e[-1]);
		    e--)
			;
		*e = '\0';
		for (e = b; *e != '\0'; e++)
			*e = (char)tolower((unsigned char)*e);
		for (i = 0; i < r->sr_nprotos && strcmp(r->sr_protos[i], b);
		    i++)
			;
		if (*b == '\0' || i < r->sr_nprotos) {
			free(s);
			continue;
		}
		if (r->sr_nprotos == ROUTEFILE_MAXPROTO) {
			free(s);
			return -1;
		}
		memmove(s, b, strlen(b) + 1);
		r->sr_protos[r->sr_nprotos++] = s;
	}
	return 0;
}

static char *
routefile_scalar(yaml_node_t *v)
{
	char	*s;

	if (v == NULL || v->type != YAML_SCALAR_NODE)
		return NULL;
	if ((s = strndup((char *)v->data.scalar.value,
	    v->data.scalar.length)) == NULL)
		fatal("%s", __func__);
	return s;
}

static yaml_node_t *
routefile_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}
