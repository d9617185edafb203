/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Strict YAML -> struct policy.  The reference deserialises with serde
 * (deny_unknown_fields everywhere); this parser walks libyaml's document
 * tree and reproduces serde's rules and wording: unknown and duplicate
 * fields, type mismatches, missing required fields, each reported as
 * "<key path>: <message> at line L column C".
 *
 * The emitter lives in policy_yaml_emit.c.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy.h"
#include "policy_yaml.h"

#define YP_MAX_DEPTH	128	/* serde_yaml's recursion limit */
#define YP_ALIAS_BUDGET	100000	/* node visits beyond the node count */

struct yp {
	yaml_document_t	 doc;
	int		 flags;
	char		*err;
	char		*path;		/* "a.b[0].c"; "" at the root */
	size_t		 pathlen;
	size_t		 pathcap;
	size_t		 budget;
	int		 depth;
};

/* Describes one serde struct: its name and its fields, in order. */
struct yp_struct {
	const char		*name;
	const char *const	*fields;
	size_t			 nfields;
	const char		*required;
	int			(*field)(struct yp *, size_t, yaml_node_t *,
				    void *);
};

typedef int (*yp_item_fn)(struct yp *, size_t, yaml_node_t *, void *);

static int	 yp_fail(struct yp *, const yaml_node_t *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static int	 yp_type(struct yp *, const yaml_node_t *, const char *);
static size_t	 yp_push_key(struct yp *, const char *);
static size_t	 yp_push_index(struct yp *, size_t);
static void	 yp_pop(struct yp *, size_t);
static yaml_node_t *yp_node(struct yp *, int);
static int	 yp_enter(struct yp *, const yaml_node_t *);
static int	 yp_key(struct yp *, const yaml_node_t *);
static char	*yp_one_of(const char *const *, size_t);
static int	 yp_slurp(FILE *, char **, size_t *);
static int	 yp_str(struct yp *, yaml_node_t *, char **);
static int	 yp_uint(struct yp *, yaml_node_t *, uint32_t, const char *,
		    uint32_t *);
static int	 yp_bool(struct yp *, yaml_node_t *, int *);
static int	 yp_map(struct yp *, yaml_node_t *, const struct yp_struct *,
		    void *);
static int	 yp_map_pair(struct yp *, yaml_node_pair_t *,
		    const struct yp_struct *, void *, unsigned char *);
static int	 yp_seq(struct yp *, yaml_node_t *, yp_item_fn, void *);
static int	 yp_strseq(struct yp *, yaml_node_t *, struct policy_strv *);
static int	 yp_strseq_item(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_keycmp(const void *, const void *);
static int	 yp_dupkeys(struct yp *, yaml_node_t *);
static int	 yp_unknown(struct yp *, const yaml_node_t *,
		    const struct yp_struct *);
static int	 yp_root_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_fs_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_landlock_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_process_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_netpolicies(struct yp *, yaml_node_t *, struct policy *);
static int	 yp_rule_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_endpoint_item(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_endpoint_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_port_item(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_l7rule_item(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_l7rule_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_allow_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_query(struct yp *, yaml_node_t *, struct policy_l7rule *);
static int	 yp_matcher(struct yp *, yaml_node_t *, struct policy_qmatch *);
static int	 yp_matcher_loose(struct yp *, yaml_node_t *,
		    struct policy_qmatch *);
static void	 yp_matcher_any_loose(struct yp *, yaml_node_t *,
		    struct policy_qmatch *);
static int	 yp_binary_item(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_binary_field(struct yp *, size_t, yaml_node_t *, void *);
static int	 yp_qmatch_cmp(const void *, const void *);
static int	 yp_load(struct yp *, yaml_parser_t *);
static void	 yp_syntax_error(struct yp *, const yaml_parser_t *);

static const char *const yp_root_fields[] = { "version", "filesystem_policy",
    "landlock", "process", "network_policies" };
static const char *const yp_fs_fields[] = { "include_workdir", "read_only",
    "read_write" };
static const char *const yp_landlock_fields[] = { "compatibility" };
static const char *const yp_process_fields[] = { "run_as_user",
    "run_as_group" };
static const char *const yp_rule_fields[] = { "name", "endpoints",
    "binaries" };
static const char *const yp_endpoint_fields[] = { "host", "port", "ports",
    "protocol", "tls", "enforcement", "access", "rules", "allowed_ips" };
static const char *const yp_l7rule_fields[] = { "allow" };
static const char *const yp_allow_fields[] = { "method", "path", "command",
    "query" };
static const char *const yp_binary_fields[] = { "path", "harness" };

#define NF(a)	(sizeof(a) / sizeof((a)[0]))

static const struct yp_struct yp_root_st = { "struct PolicyFile",
    yp_root_fields, NF(yp_root_fields), "version", yp_root_field };
static const struct yp_struct yp_fs_st = { "struct FilesystemDef",
    yp_fs_fields, NF(yp_fs_fields), NULL, yp_fs_field };
static const struct yp_struct yp_landlock_st = { "struct LandlockDef",
    yp_landlock_fields, NF(yp_landlock_fields), NULL, yp_landlock_field };
static const struct yp_struct yp_process_st = { "struct ProcessDef",
    yp_process_fields, NF(yp_process_fields), NULL, yp_process_field };
static const struct yp_struct yp_rule_st = { "struct NetworkPolicyRuleDef",
    yp_rule_fields, NF(yp_rule_fields), NULL, yp_rule_field };
static const struct yp_struct yp_endpoint_st = { "struct NetworkEndpointDef",
    yp_endpoint_fields, NF(yp_endpoint_fields), NULL, yp_endpoint_field };
static const struct yp_struct yp_l7rule_st = { "struct L7RuleDef",
    yp_l7rule_fields, NF(yp_l7rule_fields), "allow", yp_l7rule_field };
static const struct yp_struct yp_allow_st = { "struct L7AllowDef",
    yp_allow_fields, NF(yp_allow_fields), NULL, yp_allow_field };
static const struct yp_struct yp_binary_st = { "struct NetworkBinaryDef",
    yp_binary_fields, NF(yp_binary_fields), "path", yp_binary_field };

/*
 * Record the first error: "<path>: <msg> at line L column C".  Later
 * errors are dropped, as serde stops at the first one.
 */
static int
yp_fail(struct yp *yp, const yaml_node_t *n, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 rc;

	if (yp->err != NULL)
		return -1;
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	if (n != NULL)
		rc = asprintf(&yp->err, "%s%s%s at line %zu column %zu",
		    yp->path, yp->pathlen ? ": " : "", msg,
		    n->start_mark.line + 1, n->start_mark.column + 1);
	else
		rc = asprintf(&yp->err, "%s%s%s", yp->path,
		    yp->pathlen ? ": " : "", msg);
	if (rc == -1)
		yp->err = NULL;
	free(msg);
	return -1;
}

/* serde's "invalid type: <what the node is>, expected <exp>". */
static int
yp_type(struct yp *yp, const yaml_node_t *n, const char *exp)
{
	char	*what;
	int	 rc;

	if ((what = policy_yaml_scalar_unexpected(n)) == NULL)
		return yp_fail(yp, n, "out of memory");
	rc = yp_fail(yp, n, "invalid type: %s, expected %s", what, exp);
	free(what);
	return rc;
}

static size_t
yp_grow_path(struct yp *yp, size_t add)
{
	char	*np;
	size_t	 ncap;

	if (yp->pathlen + add + 1 <= yp->pathcap)
		return 0;
	ncap = (yp->pathlen + add + 1) * 2;
	if ((np = realloc(yp->path, ncap)) == NULL)
		return (size_t)-1;
	yp->path = np;
	yp->pathcap = ncap;
	return 0;
}

/* Extend the key path; returns the old length for yp_pop(). */
static size_t
yp_push_key(struct yp *yp, const char *key)
{
	size_t	 old = yp->pathlen, klen = strlen(key);

	if (yp_grow_path(yp, klen + 1) == (size_t)-1)
		return old;
	if (yp->pathlen)
		yp->path[yp->pathlen++] = '.';
	memcpy(yp->path + yp->pathlen, key, klen);
	yp->pathlen += klen;
	yp->path[yp->pathlen] = '\0';
	return old;
}

static size_t
yp_push_index(struct yp *yp, size_t i)
{
	size_t	 old = yp->pathlen;
	char	 buf[32];
	int	 len;

	len = snprintf(buf, sizeof(buf), "[%zu]", i);
	if (yp_grow_path(yp, (size_t)len) == (size_t)-1)
		return old;
	memcpy(yp->path + yp->pathlen, buf, (size_t)len + 1);
	yp->pathlen += (size_t)len;
	return old;
}

static void
yp_pop(struct yp *yp, size_t old)
{
	yp->pathlen = old;
	yp->path[old] = '\0';
}

/*
 * Every node fetch spends budget: without aliases each node is visited
 * once, so only alias fan-out ("billion laughs") can exhaust it.
 */
static yaml_node_t *
yp_node(struct yp *yp, int idx)
{
	yaml_node_t	*n;

	if ((n = yaml_document_get_node(&yp->doc, idx)) == NULL) {
		yp_fail(yp, NULL, "invalid node reference");
		return NULL;
	}
	if (yp->budget == 0) {
		yp_fail(yp, n, "repetition limit exceeded");
		return NULL;
	}
	yp->budget--;
	return n;
}

static int
yp_enter(struct yp *yp, const yaml_node_t *n)
{
	if (yp->depth >= YP_MAX_DEPTH)
		return yp_fail(yp, n, "recursion limit exceeded");
	yp->depth++;
	return 0;
}

/* A map<string, T> key: any scalar, as text, without NUL bytes. */
static int
yp_key(struct yp *yp, const yaml_node_t *k)
{
	if (k->type != YAML_SCALAR_NODE)
		return yp_type(yp, k, "a string");
	if (memchr(k->data.scalar.value, '\0', k->data.scalar.length))
		return yp_fail(yp, k, "string contains a NUL byte");
	return 0;
}

/* serde's list of expected names: "`a`", "`a` or `b`", "one of ...". */
static char *
yp_one_of(const char *const *names, size_t n)
{
	char	*out = NULL, *prev;
	size_t	 i;

	if (n == 1)
		return asprintf(&out, "`%s`", names[0]) == -1 ? NULL : out;
	if (n == 2)
		return asprintf(&out, "`%s` or `%s`", names[0],
		    names[1]) == -1 ? NULL : out;
	if ((out = strdup("one of")) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		prev = out;
		if (asprintf(&out, "%s%s`%s`", prev, i ? ", " : " ",
		    names[i]) == -1)
			out = NULL;
		free(prev);
		if (out == NULL)
			return NULL;
	}
	return out;
}

/* Read a whole stream into a malloc'd buffer. */
static int
yp_slurp(FILE *fp, char **bufp, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		return -1;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* serde_yaml hands any scalar to a String field as its text. */
static int
yp_str(struct yp *yp, yaml_node_t *n, char **out)
{
	char	*s;

	if (n->type != YAML_SCALAR_NODE)
		return yp_type(yp, n, "a string");
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return yp_fail(yp, n, "string contains a NUL byte");
	if ((s = strndup((char *)n->data.scalar.value,
	    n->data.scalar.length)) == NULL)
		return yp_fail(yp, n, "out of memory");
	free(*out);
	*out = s;
	return 0;
}

/* An unsigned integer no larger than max; exp names the Rust type. */
static int
yp_uint(struct yp *yp, yaml_node_t *n, uint32_t max, const char *exp,
    uint32_t *out)
{
	struct py_scalar	 sc;

	if (n->type != YAML_SCALAR_NODE)
		return yp_type(yp, n, exp);
	policy_yaml_scalar_parse(n, &sc);
	if (sc.kind != PY_INT)
		return yp_type(yp, n, exp);
	if (sc.overflow)
		return yp_fail(yp, n, "invalid value: integer `%s`, expected %s",
		    (const char *)n->data.scalar.value, exp);
	if (sc.neg || sc.u > max) {
		if (sc.neg)
			return yp_fail(yp, n,
			    "invalid value: integer `-%llu`, expected %s",
			    sc.u, exp);
		return yp_fail(yp, n,
		    "invalid value: integer `%llu`, expected %s", sc.u, exp);
	}
	*out = (uint32_t)sc.u;
	return 0;
}

static int
yp_bool(struct yp *yp, yaml_node_t *n, int *out)
{
	struct py_scalar	 sc;

	if (n->type != YAML_SCALAR_NODE)
		return yp_type(yp, n, "a boolean");
	policy_yaml_scalar_parse(n, &sc);
	if (sc.kind != PY_BOOL)
		return yp_type(yp, n, "a boolean");
	*out = sc.b;
	return 0;
}

/* A mapping given as a serde struct.  An empty plain scalar is {}. */
static int
yp_map(struct yp *yp, yaml_node_t *n, const struct yp_struct *st, void *obj)
{
	yaml_node_pair_t	*pair;
	unsigned char		 seen[16] = { 0 };
	size_t			 i;
	int			 rc = 0;

	if (policy_yaml_scalar_empty(n))
		goto required;
	if (n->type != YAML_MAPPING_NODE)
		return yp_type(yp, n, st->name);
	if (yp_enter(yp, n) == -1)
		return -1;
	for (pair = n->data.mapping.pairs.start;
	    rc == 0 && pair < n->data.mapping.pairs.top; pair++)
		rc = yp_map_pair(yp, pair, st, obj, seen);
	yp->depth--;
	if (rc == -1)
		return -1;
 required:
	if (st->required == NULL || (yp->flags & POLICY_YAML_LOOSE &&
	    strcmp(st->required, "version") == 0))
		return 0;
	for (i = 0; i < st->nfields; i++)
		if (strcmp(st->fields[i], st->required) == 0 && !seen[i])
			return yp_fail(yp, n, "missing field `%s`",
			    st->required);
	return 0;
}

/*
 * serde: "unknown field `x`, expected one of `a`, `b`" (or "expected
 * `a`", "expected `a` or `b`" for short lists).
 */
static int
yp_unknown(struct yp *yp, const yaml_node_t *k, const struct yp_struct *st)
{
	char	*exp;
	int	 rc;

	if ((exp = yp_one_of(st->fields, st->nfields)) == NULL)
		return yp_fail(yp, k, "out of memory");
	rc = yp_fail(yp, k, "unknown field `%s`, expected %s",
	    (const char *)k->data.scalar.value, exp);
	free(exp);
	return rc;
}

static int
yp_map_pair(struct yp *yp, yaml_node_pair_t *pair, const struct yp_struct *st,
    void *obj, unsigned char *seen)
{
	yaml_node_t	*k, *v;
	const char	*key;
	size_t		 i, old;
	int		 rc;

	if ((k = yp_node(yp, pair->key)) == NULL ||
	    (v = yp_node(yp, pair->value)) == NULL)
		return -1;
	if (k->type != YAML_SCALAR_NODE)
		return yp_type(yp, k, "field identifier");
	key = (const char *)k->data.scalar.value;
	for (i = 0; i < st->nfields; i++)
		if (strlen(st->fields[i]) == k->data.scalar.length &&
		    strcmp(st->fields[i], key) == 0)
			break;
	if (i == st->nfields) {
		if (yp->flags & POLICY_YAML_LOOSE)
			return 0;
		return yp_unknown(yp, k, st);
	}
	if (seen[i])
		return yp_fail(yp, k, "duplicate field `%s`", st->fields[i]);
	seen[i] = 1;
	old = yp_push_key(yp, st->fields[i]);
	rc = st->field(yp, i, v, obj);
	yp_pop(yp, old);
	return rc;
}

/* A sequence; each item gets "[i]" on the path. Empty plain is []. */
static int
yp_seq(struct yp *yp, yaml_node_t *n, yp_item_fn fn, void *arg)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	size_t			 i, old;
	int			 rc = 0;

	if (policy_yaml_scalar_empty(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return yp_type(yp, n, "a sequence");
	if (yp_enter(yp, n) == -1)
		return -1;
	for (it = n->data.sequence.items.start, i = 0;
	    rc == 0 && it < n->data.sequence.items.top; it++, i++) {
		if ((item = yp_node(yp, *it)) == NULL) {
			rc = -1;
			break;
		}
		old = yp_push_index(yp, i);
		rc = fn(yp, i, item, arg);
		yp_pop(yp, old);
	}
	yp->depth--;
	return rc;
}

static int
yp_strseq_item(struct yp *yp, size_t i, yaml_node_t *n, void *arg)
{
	char	*s = NULL;
	int	 rc;

	(void)i;
	if (yp_str(yp, n, &s) == -1)
		return -1;
	rc = policy_strv_add(arg, s);
	free(s);
	return rc == -1 ? yp_fail(yp, n, "out of memory") : 0;
}

static int
yp_strseq(struct yp *yp, yaml_node_t *n, struct policy_strv *sv)
{
	policy_strv_free(sv);
	return yp_seq(yp, n, yp_strseq_item, sv);
}

static int
yp_root_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy	*p = arg;

	switch (f) {
	case 0:
		return yp_uint(yp, v, UINT32_MAX, "u32", &p->version);
	case 1:
		if (policy_yaml_scalar_null(v))
			return 0;
		p->has_filesystem = 1;
		return yp_map(yp, v, &yp_fs_st, p);
	case 2:
		if (policy_yaml_scalar_null(v))
			return 0;
		p->has_landlock = 1;
		return yp_map(yp, v, &yp_landlock_st, p);
	case 3:
		if (policy_yaml_scalar_null(v))
			return 0;
		p->has_process = 1;
		return yp_map(yp, v, &yp_process_st, p);
	default:
		return yp_netpolicies(yp, v, p);
	}
}

static int
yp_fs_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy	*p = arg;

	switch (f) {
	case 0:
		p->has_include_workdir = 1;
		return yp_bool(yp, v, &p->include_workdir);
	case 1:
		return yp_strseq(yp, v, &p->read_only);
	default:
		return yp_strseq(yp, v, &p->read_write);
	}
}

static int
yp_landlock_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy	*p = arg;

	(void)f;
	return yp_str(yp, v, &p->landlock_compat);
}

static int
yp_process_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy	*p = arg;

	return yp_str(yp, v, f == 0 ? &p->run_as_user : &p->run_as_group);
}

static int
yp_keycmp(const void *a, const void *b)
{
	const yaml_node_t *ka = *(const yaml_node_t *const *)a;
	const yaml_node_t *kb = *(const yaml_node_t *const *)b;
	size_t		 la = ka->data.scalar.length, lb = kb->data.scalar.length;
	int		 c;

	c = memcmp(ka->data.scalar.value, kb->data.scalar.value,
	    la < lb ? la : lb);
	if (c != 0 || la != lb)
		return c != 0 ? c : (la < lb ? -1 : 1);
	/* Equal keys: document order, so the later one is reported. */
	return ka->start_mark.index < kb->start_mark.index ? -1 : 1;
}

/*
 * Reject a repeated key in a map<string, T> before any value is
 * parsed, naming the later occurrence.  serde_yaml would keep the last
 * one silently; two rules under one key is always a mistake.
 */
static int
yp_dupkeys(struct yp *yp, yaml_node_t *n)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		**keys, *k;
	size_t			 nk = 0, i;
	int			 rc = 0;

	keys = calloc((size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start) + 1, sizeof(*keys));
	if (keys == NULL)
		return yp_fail(yp, n, "out of memory");
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&yp->doc, pair->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE)
			keys[nk++] = k;
	}
	qsort(keys, nk, sizeof(*keys), yp_keycmp);
	for (i = 1; i < nk && rc == 0; i++)
		if (keys[i - 1]->data.scalar.length ==
		    keys[i]->data.scalar.length &&
		    memcmp(keys[i - 1]->data.scalar.value,
		    keys[i]->data.scalar.value,
		    keys[i]->data.scalar.length) == 0)
			rc = yp_fail(yp, keys[i],
			    "duplicate entry with key \"%s\"",
			    (char *)keys[i]->data.scalar.value);
	free(keys);
	return rc;
}

static int
yp_netpolicies(struct yp *yp, yaml_node_t *n, struct policy *p)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	struct policy_netrule	*r;
	size_t			 old;

	if (policy_yaml_scalar_empty(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return yp_type(yp, n, "a map");
	if (yp_enter(yp, n) == -1 || yp_dupkeys(yp, n) == -1)
		return -1;
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		if ((k = yp_node(yp, pair->key)) == NULL ||
		    (v = yp_node(yp, pair->value)) == NULL)
			return -1;
		if (yp_key(yp, k) == -1)
			return -1;
		if ((r = policy_rule_add(p, (char *)k->data.scalar.value)) ==
		    NULL)
			return yp_fail(yp, k, "out of memory");
		old = yp_push_key(yp, r->key);
		if (yp_map(yp, v, &yp_rule_st, r) == -1)
			return -1;
		yp_pop(yp, old);
		/* The reference's YAML -> proto step defaults name to key. */
		if (r->name == NULL || *r->name == '\0') {
			free(r->name);
			if ((r->name = strdup(r->key)) == NULL)
				return yp_fail(yp, k, "out of memory");
		}
	}
	yp->depth--;
	policy_rules_sort(p);
	return 0;
}

static int
yp_rule_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy_netrule	*r = arg;

	switch (f) {
	case 0:
		return yp_str(yp, v, &r->name);
	case 1:
		return yp_seq(yp, v, yp_endpoint_item, r);
	default:
		return yp_seq(yp, v, yp_binary_item, r);
	}
}

static int
yp_endpoint_item(struct yp *yp, size_t i, yaml_node_t *n, void *arg)
{
	struct policy_endpoint	*ep;

	(void)i;
	if ((ep = policy_endpoint_add(arg)) == NULL)
		return yp_fail(yp, n, "out of memory");
	return yp_map(yp, n, &yp_endpoint_st, ep);
}

static int
yp_port_item(struct yp *yp, size_t i, yaml_node_t *n, void *arg)
{
	struct policy_endpoint	*ep = arg;
	uint32_t		*np;

	(void)i;
	if ((np = reallocarray(ep->ports, ep->nports + 1,
	    sizeof(*np))) == NULL)
		return yp_fail(yp, n, "out of memory");
	ep->ports = np;
	if (yp_uint(yp, n, UINT16_MAX, "u16", &np[ep->nports]) == -1)
		return -1;
	ep->nports++;
	return 0;
}

static int
yp_endpoint_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy_endpoint	*ep = arg;

	switch (f) {
	case 0:
		return yp_str(yp, v, &ep->host);
	case 1:
		return yp_uint(yp, v, UINT16_MAX, "u16", &ep->port);
	case 2:
		free(ep->ports);
		ep->ports = NULL;
		ep->nports = 0;
		return yp_seq(yp, v, yp_port_item, ep);
	case 3:
		return yp_str(yp, v, &ep->protocol);
	case 4:
		return yp_str(yp, v, &ep->tls);
	case 5:
		return yp_str(yp, v, &ep->enforcement);
	case 6:
		return yp_str(yp, v, &ep->access);
	case 7:
		ep->rules_present = 1;
		return yp_seq(yp, v, yp_l7rule_item, ep);
	default:
		return yp_strseq(yp, v, &ep->allowed_ips);
	}
}

static int
yp_l7rule_item(struct yp *yp, size_t i, yaml_node_t *n, void *arg)
{
	struct policy_endpoint	*ep = arg;
	struct policy_l7rule	*r;

	(void)i;
	if ((r = policy_l7rule_add(ep, NULL, NULL)) == NULL)
		return yp_fail(yp, n, "out of memory");
	return yp_map(yp, n, &yp_l7rule_st, r);
}

static int
yp_l7rule_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	(void)f;
	return yp_map(yp, v, &yp_allow_st, arg);
}

static int
yp_allow_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy_l7rule	*r = arg;

	switch (f) {
	case 0:
		return yp_str(yp, v, &r->method);
	case 1:
		return yp_str(yp, v, &r->path);
	case 2:
		return yp_str(yp, v, &r->command);
	default:
		return yp_query(yp, v, r);
	}
}

static int
yp_qmatch_cmp(const void *a, const void *b)
{
	const struct policy_qmatch *qa = a, *qb = b;

	return strcmp(qa->key, qb->key);
}

/* query: map param-name -> matcher, kept sorted like a BTreeMap. */
static int
yp_query(struct yp *yp, yaml_node_t *n, struct policy_l7rule *r)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	struct policy_qmatch	*q;
	size_t			 old;

	if (policy_yaml_scalar_empty(n) || ((yp->flags & POLICY_YAML_LOOSE) &&
	    policy_yaml_scalar_null(n)))
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		if (!(yp->flags & POLICY_YAML_LOOSE))
			return yp_type(yp, n, "a map");
		r->query_bad = 1;
		return 0;
	}
	if (yp_enter(yp, n) == -1 || yp_dupkeys(yp, n) == -1)
		return -1;
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		if ((k = yp_node(yp, pair->key)) == NULL ||
		    (v = yp_node(yp, pair->value)) == NULL)
			return -1;
		if (yp_key(yp, k) == -1)
			return -1;
		if ((q = reallocarray(r->query, r->nquery + 1,
		    sizeof(*q))) == NULL)
			return yp_fail(yp, k, "out of memory");
		r->query = q;
		q = &r->query[r->nquery];
		memset(q, 0, sizeof(*q));
		if ((q->key = strdup((char *)k->data.scalar.value)) == NULL)
			return yp_fail(yp, k, "out of memory");
		r->nquery++;
		old = yp_push_key(yp, q->key);
		if (((yp->flags & POLICY_YAML_LOOSE) ? yp_matcher_loose(yp, v,
		    q) : yp_matcher(yp, v, q)) == -1)
			return -1;
		yp_pop(yp, old);
	}
	yp->depth--;
	if (r->nquery > 1)
		qsort(r->query, r->nquery, sizeof(*r->query), yp_qmatch_cmp);
	return 0;
}

/*
 * Strict matcher: serde's untagged enum QueryMatcherDef, i.e. a string
 * or a map with only `any` holding strings.  Untagged enums see
 * resolved scalars, so a bare 5 or true is not a string here.
 */
static int
yp_matcher(struct yp *yp, yaml_node_t *n, struct policy_qmatch *q)
{
	static const char untagged[] =
	    "data did not match any variant of untagged enum QueryMatcherDef";
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;

	if (n->type == YAML_SCALAR_NODE) {
		if (policy_yaml_scalar_kind(n) != PY_STR)
			return yp_fail(yp, n, "%s", untagged);
		q->has_glob = 1;
		return yp_str(yp, n, &q->glob);
	}
	if (n->type != YAML_MAPPING_NODE)
		return yp_fail(yp, n, "%s", untagged);
	q->has_any = q->object = 1;
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		if ((k = yp_node(yp, pair->key)) == NULL ||
		    (v = yp_node(yp, pair->value)) == NULL)
			return -1;
		if (k->type != YAML_SCALAR_NODE ||
		    strcmp((char *)k->data.scalar.value, "any") != 0 ||
		    policy_yaml_scalar_strseq(&yp->doc, v) == 0)
			return yp_fail(yp, n, "%s", untagged);
		if (yp_strseq(yp, v, &q->any) == -1)
			return -1;
	}
	return 0;
}

/*
 * Loose (file-mode) matcher: keep whatever shape was written and let
 * policy_validate_l7() name the problem, as the reference does on its
 * JSON view of the file.
 */
static int
yp_matcher_loose(struct yp *yp, yaml_node_t *n, struct policy_qmatch *q)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key;

	if (n->type == YAML_SCALAR_NODE && policy_yaml_scalar_kind(n) == PY_STR) {
		q->has_glob = 1;
		return yp_str(yp, n, &q->glob);
	}
	if (n->type != YAML_MAPPING_NODE) {
		q->bad |= POLICY_QM_BAD_TYPE;
		return 0;
	}
	q->object = 1;
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		if ((k = yp_node(yp, pair->key)) == NULL ||
		    (v = yp_node(yp, pair->value)) == NULL)
			return -1;
		key = k->type == YAML_SCALAR_NODE ?
		    (const char *)k->data.scalar.value : "";
		if (strcmp(key, "glob") == 0) {
			q->has_glob = 1;
			if (v->type == YAML_SCALAR_NODE &&
			    policy_yaml_scalar_kind(v) == PY_STR) {
				if (yp_str(yp, v, &q->glob) == -1)
					return -1;
			} else
				q->bad |= POLICY_QM_BAD_GLOBTYPE;
		} else if (strcmp(key, "any") == 0) {
			q->has_any = 1;
			yp_matcher_any_loose(yp, v, q);
		} else
			q->bad |= POLICY_QM_BAD_KEYS;
	}
	return yp->err != NULL ? -1 : 0;
}

static void
yp_matcher_any_loose(struct yp *yp, yaml_node_t *v, struct policy_qmatch *q)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;

	if (v->type != YAML_SEQUENCE_NODE) {
		q->bad |= POLICY_QM_BAD_ANYTYPE;
		return;
	}
	for (it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		if ((item = yp_node(yp, *it)) == NULL)
			return;
		if (item->type != YAML_SCALAR_NODE ||
		    policy_yaml_scalar_kind(item) != PY_STR) {
			q->bad |= POLICY_QM_BAD_ANYITEM;
			continue;
		}
		if (policy_strv_add(&q->any,
		    (char *)item->data.scalar.value) == -1) {
			yp_fail(yp, item, "out of memory");
			return;
		}
	}
}

static int
yp_binary_item(struct yp *yp, size_t i, yaml_node_t *n, void *arg)
{
	struct policy_binary	*b;

	(void)i;
	if ((b = policy_binary_add(arg, "")) == NULL)
		return yp_fail(yp, n, "out of memory");
	return yp_map(yp, n, &yp_binary_st, b);
}

static int
yp_binary_field(struct yp *yp, size_t f, yaml_node_t *v, void *arg)
{
	struct policy_binary	*b = arg;

	if (f == 0)
		return yp_str(yp, v, &b->path);
	return yp_bool(yp, v, &b->harness);
}

/* libyaml's own syntax errors, worded as serde_yaml prints them. */
static void
yp_syntax_error(struct yp *yp, const yaml_parser_t *ps)
{
	const char	*problem = ps->problem ? ps->problem : "invalid YAML";
	int		 rc;

	if (yp->err != NULL)
		return;
	if (ps->context != NULL)
		rc = asprintf(&yp->err,
		    "%s at line %zu column %zu, %s at line %zu column %zu",
		    problem, ps->problem_mark.line + 1,
		    ps->problem_mark.column + 1, ps->context,
		    ps->context_mark.line + 1, ps->context_mark.column + 1);
	else if (ps->error == YAML_READER_ERROR)
		rc = asprintf(&yp->err, "%s at position %zu", problem,
		    ps->problem_offset);
	else
		rc = asprintf(&yp->err, "%s at line %zu column %zu", problem,
		    ps->problem_mark.line + 1, ps->problem_mark.column + 1);
	if (rc == -1)
		yp->err = NULL;
}

/* Load the single document; a second one is an error, as in serde_yaml. */
static int
yp_load(struct yp *yp, yaml_parser_t *ps)
{
	yaml_document_t	 extra;
	int		 more;

	if (!yaml_parser_load(ps, &yp->doc)) {
		yp_syntax_error(yp, ps);
		return -1;
	}
	if (yaml_document_get_root_node(&yp->doc) == NULL) {
		yaml_document_delete(&yp->doc);
		yp->err = strdup("EOF while parsing a value");
		return -1;
	}
	if (!yaml_parser_load(ps, &extra)) {
		yp_syntax_error(yp, ps);
		yaml_document_delete(&yp->doc);
		return -1;
	}
	more = yaml_document_get_root_node(&extra) != NULL;
	yaml_document_delete(&extra);
	if (more) {
		yaml_document_delete(&yp->doc);
		yp->err = strdup("deserializing from YAML containing more "
		    "than one document is not supported");
		return -1;
	}
	return 0;
}

/*
 * Parse len bytes of YAML.  flags: POLICY_YAML_LOOSE for the dev file
 * mode.  On failure returns NULL and, if errp is set, a malloc'd
 * message the caller frees.
 */
struct policy *
policy_yaml_parse(const char *buf, size_t len, int flags, char **errp)
{
	yaml_parser_t	 ps;
	struct yp	 yp;
	struct policy	*p;
	yaml_node_t	*root;
	int		 rc = -1;

	memset(&yp, 0, sizeof(yp));
	yp.flags = flags;
	if (errp != NULL)
		*errp = NULL;
	if ((p = policy_new()) == NULL || (yp.path = calloc(1, 64)) == NULL)
		goto out;
	yp.pathcap = 64;
	if (!yaml_parser_initialize(&ps))
		goto out;
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	if (yp_load(&yp, &ps) == 0) {
		yp.budget = (size_t)(yp.doc.nodes.top - yp.doc.nodes.start) +
		    YP_ALIAS_BUDGET;
		root = yaml_document_get_root_node(&yp.doc);
		rc = yp_map(&yp, root, &yp_root_st, p);
		yaml_document_delete(&yp.doc);
	}
	yaml_parser_delete(&ps);
 out:
	if (rc == -1) {
		policy_free(p);
		p = NULL;
		if (yp.err == NULL)
			yp.err = strdup(strerror(ENOMEM));
		if (errp != NULL) {
			*errp = yp.err;
			yp.err = NULL;
		}
	}
	free(yp.err);
	free(yp.path);
	return p;
}

/* Read and parse a file; errors name the file like the reference CLI. */
struct policy *
policy_yaml_load(const char *file, int flags, char **errp)
{
	FILE		*fp;
	char		*buf = NULL, *err = NULL;
	size_t		 len = 0;
	struct policy	*p;

	if (errp != NULL)
		*errp = NULL;
	if ((fp = fopen(file, "re")) == NULL ||
	    yp_slurp(fp, &buf, &len) == -1) {
		if (errp != NULL && asprintf(errp,
		    "failed to read sandbox policy from %s: %s", file,
		    strerror(errno)) == -1)
			*errp = NULL;
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	fclose(fp);
	p = policy_yaml_parse(buf, len, flags, &err);
	free(buf);
	if (p == NULL && errp != NULL) {
		if (asprintf(errp, "failed to parse sandbox policy YAML: %s",
		    policy_s(err)) == -1)
			*errp = NULL;
	}
	free(err);
	return p;
}
