/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * struct policy -> YAML, for `policy get --full` and `sandbox get`.
 * The shape follows the reference serialiser: fields in declaration
 * order, empty strings and lists left out, one port as `port:` and
 * several as `ports:`, include_workdir always written, process left out
 * when both names are empty.  The output parses back to the same model.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy.h"
#include "policy_yaml.h"

struct ye {
	yaml_emitter_t	 em;
	int		 err;
	char		*buf;
	size_t		 len;
	size_t		 cap;
};

static int	 ye_write(void *, unsigned char *, size_t);
static void	 ye_event(struct ye *, yaml_event_t *, int);
static void	 ye_str(struct ye *, const char *);
static void	 ye_uint(struct ye *, unsigned long);
static void	 ye_bool(struct ye *, int);
static void	 ye_map(struct ye *, int);
static void	 ye_seq(struct ye *, int, int);
static void	 ye_key_str(struct ye *, const char *, const char *);
static void	 ye_key_strv(struct ye *, const char *,
		    const struct policy_strv *);
static void	 ye_filesystem(struct ye *, const struct policy *);
static void	 ye_rule(struct ye *, const struct policy_netrule *);
static void	 ye_endpoint(struct ye *, const struct policy_endpoint *);
static void	 ye_ports(struct ye *, const struct policy_endpoint *);
static void	 ye_l7rule(struct ye *, const struct policy_l7rule *);
static void	 ye_qmatch(struct ye *, const struct policy_qmatch *);
static void	 ye_body(struct ye *, const struct policy *);

static int
ye_write(void *arg, unsigned char *data, size_t size)
{
	struct ye	*ye = arg;
	char		*nb;
	size_t		 ncap;

	if (ye->len + size + 1 > ye->cap) {
		ncap = (ye->len + size + 1) * 2;
		if ((nb = realloc(ye->buf, ncap)) == NULL)
			return 0;
		ye->buf = nb;
		ye->cap = ncap;
	}
	memcpy(ye->buf + ye->len, data, size);
	ye->len += size;
	ye->buf[ye->len] = '\0';
	return 1;
}

/* Emit an initialised event; ok is the initializer's return value. */
static void
ye_event(struct ye *ye, yaml_event_t *ev, int ok)
{
	if (!ok) {
		ye->err = 1;
		return;
	}
	if (ye->err) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&ye->em, ev))
		ye->err = 1;
}

/*
 * Strings that would read back as null, a boolean or a number are
 * single-quoted; libyaml quotes everything else that needs it.
 */
static void
ye_str(struct ye *ye, const char *s)
{
	yaml_event_t		 ev;
	yaml_scalar_style_t	 style = YAML_ANY_SCALAR_STYLE;
	size_t			 len;

	s = policy_s(s);
	len = strlen(s);
	if (policy_yaml_scalar_classify(s, len) != PY_STR)
		style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	ye_event(ye, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)s, (int)len, 1, 1, style));
}

static void
ye_uint(struct ye *ye, unsigned long v)
{
	yaml_event_t	 ev;
	char		 buf[32];
	int		 len;

	len = snprintf(buf, sizeof(buf), "%lu", v);
	ye_event(ye, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)buf, len, 1, 1, YAML_PLAIN_SCALAR_STYLE));
}

static void
ye_bool(struct ye *ye, int v)
{
	yaml_event_t	 ev;
	const char	*s = v ? "true" : "false";

	ye_event(ye, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)s, (int)strlen(s), 1, 1, YAML_PLAIN_SCALAR_STYLE));
}

static void
ye_map(struct ye *ye, int start)
{
	yaml_event_t	 ev;

	if (start)
		ye_event(ye, &ev, yaml_mapping_start_event_initialize(&ev,
		    NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
	else
		ye_event(ye, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void
ye_seq(struct ye *ye, int start, int flow)
{
	yaml_event_t	 ev;

	if (start)
		ye_event(ye, &ev, yaml_sequence_start_event_initialize(&ev,
		    NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE :
		    YAML_BLOCK_SEQUENCE_STYLE));
	else
		ye_event(ye, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void
ye_key_str(struct ye *ye, const char *key, const char *val)
{
	if (val == NULL || *val == '\0')
		return;
	ye_str(ye, key);
	ye_str(ye, val);
}

static void
ye_key_strv(struct ye *ye, const char *key, const struct policy_strv *sv)
{
	size_t	 i;

	if (sv->n == 0)
		return;
	ye_str(ye, key);
	ye_seq(ye, 1, 0);
	for (i = 0; i < sv->n; i++)
		ye_str(ye, sv->v[i]);
	ye_seq(ye, 0, 0);
}

static void
ye_filesystem(struct ye *ye, const struct policy *p)
{
	ye_str(ye, "filesystem_policy");
	ye_map(ye, 1);
	ye_str(ye, "include_workdir");
	ye_bool(ye, p->include_workdir);
	ye_key_strv(ye, "read_only", &p->read_only);
	ye_key_strv(ye, "read_write", &p->read_write);
	ye_map(ye, 0);
}

static void
ye_ports(struct ye *ye, const struct policy_endpoint *ep)
{
	size_t	 i;

	/* `port: 0` would read back as no port at all */
	if (ep->nports > 1 || (ep->nports == 1 && ep->ports[0] == 0)) {
		ye_str(ye, "ports");
		ye_seq(ye, 1, 0);
		for (i = 0; i < ep->nports; i++)
			ye_uint(ye, ep->ports[i]);
		ye_seq(ye, 0, 0);
	} else if (ep->nports == 1 || ep->port != 0) {
		ye_str(ye, "port");
		ye_uint(ye, ep->nports == 1 ? ep->ports[0] : ep->port);
	}
}

static void
ye_qmatch(struct ye *ye, const struct policy_qmatch *q)
{
	size_t	 i;

	ye_str(ye, q->key);
	if (q->any.n == 0 && !q->has_any) {
		ye_str(ye, q->glob);
		return;
	}
	ye_map(ye, 1);
	ye_str(ye, "any");
	ye_seq(ye, 1, q->any.n == 0);
	for (i = 0; i < q->any.n; i++)
		ye_str(ye, q->any.v[i]);
	ye_seq(ye, 0, 0);
	ye_map(ye, 0);
}

static void
ye_l7rule(struct ye *ye, const struct policy_l7rule *r)
{
	size_t	 i;

	ye_map(ye, 1);
	ye_str(ye, "allow");
	ye_map(ye, 1);
	ye_key_str(ye, "method", r->method);
	ye_key_str(ye, "path", r->path);
	ye_key_str(ye, "command", r->command);
	if (r->nquery > 0) {
		ye_str(ye, "query");
		ye_map(ye, 1);
		for (i = 0; i < r->nquery; i++)
			ye_qmatch(ye, &r->query[i]);
		ye_map(ye, 0);
	}
	ye_map(ye, 0);
	ye_map(ye, 0);
}

static void
ye_endpoint(struct ye *ye, const struct policy_endpoint *ep)
{
	size_t	 i;

	ye_map(ye, 1);
	ye_key_str(ye, "host", ep->host);
	ye_ports(ye, ep);
	ye_key_str(ye, "protocol", ep->protocol);
	ye_key_str(ye, "tls", ep->tls);
	ye_key_str(ye, "enforcement", ep->enforcement);
	ye_key_str(ye, "access", ep->access);
	/* An explicit `rules: []` is kept: validation rejects it. */
	if (ep->nrules > 0 || ep->rules_present) {
		ye_str(ye, "rules");
		ye_seq(ye, 1, ep->nrules == 0);
		for (i = 0; i < ep->nrules; i++)
			ye_l7rule(ye, &ep->rules[i]);
		ye_seq(ye, 0, 0);
	}
	ye_key_strv(ye, "allowed_ips", &ep->allowed_ips);
	ye_map(ye, 0);
}

static void
ye_rule(struct ye *ye, const struct policy_netrule *r)
{
	size_t	 i;

	ye_str(ye, r->key);
	ye_map(ye, 1);
	ye_key_str(ye, "name", r->name);
	if (r->nendpoints > 0) {
		ye_str(ye, "endpoints");
		ye_seq(ye, 1, 0);
		for (i = 0; i < r->nendpoints; i++)
			ye_endpoint(ye, &r->endpoints[i]);
		ye_seq(ye, 0, 0);
	}
	if (r->nbinaries > 0) {
		ye_str(ye, "binaries");
		ye_seq(ye, 1, 0);
		for (i = 0; i < r->nbinaries; i++) {
			/* path is required, so written even when empty */
			ye_map(ye, 1);
			ye_str(ye, "path");
			ye_str(ye, r->binaries[i].path);
			ye_map(ye, 0);
		}
		ye_seq(ye, 0, 0);
	}
	ye_map(ye, 0);
}

static void
ye_body(struct ye *ye, const struct policy *p)
{
	size_t	 i;

	ye_map(ye, 1);
	ye_str(ye, "version");
	ye_uint(ye, p->version);
	if (p->has_filesystem)
		ye_filesystem(ye, p);
	if (p->has_landlock) {
		ye_str(ye, "landlock");
		ye_map(ye, 1);
		ye_key_str(ye, "compatibility", p->landlock_compat);
		ye_map(ye, 0);
	}
	if (p->has_process && (policy_s(p->run_as_user)[0] != '\0' ||
	    policy_s(p->run_as_group)[0] != '\0')) {
		ye_str(ye, "process");
		ye_map(ye, 1);
		ye_key_str(ye, "run_as_user", p->run_as_user);
		ye_key_str(ye, "run_as_group", p->run_as_group);
		ye_map(ye, 0);
	}
	if (p->nrules > 0) {
		ye_str(ye, "network_policies");
		ye_map(ye, 1);
		for (i = 0; i < p->nrules; i++)
			ye_rule(ye, &p->rules[i]);
		ye_map(ye, 0);
	}
	ye_map(ye, 0);
}

/*
 * Serialise; returns a malloc'd NUL-terminated buffer (length in *lenp
 * if given), or NULL when out of memory.
 */
char *
policy_yaml_emit(const struct policy *p, size_t *lenp)
{
	struct ye	 ye;
	yaml_event_t	 ev;

	memset(&ye, 0, sizeof(ye));
	if (!yaml_emitter_initialize(&ye.em))
		return NULL;
	yaml_emitter_set_output(&ye.em, ye_write, &ye);
	yaml_emitter_set_unicode(&ye.em, 1);
	yaml_emitter_set_width(&ye.em, -1);
	yaml_emitter_set_indent(&ye.em, 2);
	ye_event(&ye, &ev, yaml_stream_start_event_initialize(&ev,
	    YAML_UTF8_ENCODING));
	ye_event(&ye, &ev, yaml_document_start_event_initialize(&ev, NULL,
	    NULL, NULL, 1));
	ye_body(&ye, p);
	ye_event(&ye, &ev, yaml_document_end_event_initialize(&ev, 1));
	ye_event(&ye, &ev, yaml_stream_end_event_initialize(&ev));
	yaml_emitter_delete(&ye.em);
	if (ye.err || ye.buf == NULL) {
		free(ye.buf);
		return NULL;
	}
	if (lenp != NULL)
		*lenp = ye.len;
	return ye.buf;
}
