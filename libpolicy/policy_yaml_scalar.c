/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_yaml.h"

static int	 py_is_null(const char *, size_t);
static int	 py_is_bool(const char *, size_t, int *);
static int	 py_parse_int(const char *, size_t, struct py_scalar *);
static int	 py_is_float(const char *, size_t);
static int	 py_digits(const char *, size_t, size_t *, int);
static char	*py_debug_str(const char *, size_t);

static int
py_is_null(const char *s, size_t len)
{
	return len == 0 || (len == 1 && *s == '~') ||
	    (len == 4 && (memcmp(s, "null", 4) == 0 ||
	    memcmp(s, "Null", 4) == 0 || memcmp(s, "NULL", 4) == 0));
}

static int
py_is_bool(const char *s, size_t len, int *b)
{
	if (len == 4 && (memcmp(s, "true", 4) == 0 ||
	    memcmp(s, "True", 4) == 0 || memcmp(s, "TRUE", 4) == 0)) {
		*b = 1;
		return 1;
	}
	if (len == 5 && (memcmp(s, "false", 5) == 0 ||
	    memcmp(s, "False", 5) == 0 || memcmp(s, "FALSE", 5) == 0)) {
		*b = 0;
		return 1;
	}
	return 0;
}

/* Count digits of the given base from *i; returns how many. */
static int
py_digits(const char *s, size_t len, size_t *i, int base)
{
	int	 n = 0, c;

	for (; *i < len; (*i)++, n++) {
		c = (unsigned char)s[*i];
		if (base == 16 ? !isxdigit(c) : (c < '0' || c >= '0' + base))
			break;
	}
	return n;
}

/* [-+]? (0x hex | 0o oct | 0b bin | decimal) */
static int
py_parse_int(const char *s, size_t len, struct py_scalar *sc)
{
	size_t			 i = 0, start;
	int			 base = 10;
	unsigned long long	 v = 0, d;

	sc->neg = sc->overflow = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		sc->neg = s[i++] == '-';
	if (len - i > 2 && s[i] == '0' && strchr("xob", s[i + 1]) != NULL) {
		base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
		i += 2;
	}
	start = i;
	if (py_digits(s, len, &i, base) == 0 || i != len)
		return 0;
	for (i = start; i < len; i++) {
		d = isdigit((unsigned char)s[i]) ? (unsigned)(s[i] - '0') :
		    (unsigned)(tolower((unsigned char)s[i]) - 'a' + 10);
		if (v > (~0ULL - d) / (unsigned)base)
			sc->overflow = 1;
		v = v * (unsigned)base + d;
	}
	sc->u = v;
	if (v == 0)
		sc->neg = 0;
	return 1;
}

/* [-+]? ( . digits | digits [. digits*] ) ([eE] [-+]? digits)?, .inf, .nan */
static int
py_is_float(const char *s, size_t len)
{
	size_t	 i = 0;
	int	 n;

	if (len == 4 && (memcmp(s, ".nan", 4) == 0 ||
	    memcmp(s, ".NaN", 4) == 0 || memcmp(s, ".NAN", 4) == 0))
		return 1;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (len - i == 4 && (memcmp(s + i, ".inf", 4) == 0 ||
	    memcmp(s + i, ".Inf", 4) == 0 || memcmp(s + i, ".INF", 4) == 0))
		return 1;
	n = py_digits(s, len, &i, 10);
	if (i < len && s[i] == '.') {
		i++;
		n += py_digits(s, len, &i, 10);
	}
	if (n == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		if (py_digits(s, len, &i, 10) == 0)
			return 0;
	}
	return i == len;
}

enum py_kind
policy_yaml_scalar_classify(const char *s, size_t len)
{
	struct py_scalar	 sc;
	int			 b;

	if (py_is_null(s, len))
		return PY_NULL;
	if (py_is_bool(s, len, &b))
		return PY_BOOL;
	if (py_parse_int(s, len, &sc))
		return PY_INT;
	if (py_is_float(s, len))
		return PY_FLOAT;
	return PY_STR;
}

void
policy_yaml_scalar_parse(const yaml_node_t *n, struct py_scalar *sc)
{
	const char	*s = (const char *)n->data.scalar.value;
	size_t		 len = n->data.scalar.length;

	memset(sc, 0, sizeof(*sc));
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		sc->kind = PY_STR;
		return;
	}
	sc->kind = policy_yaml_scalar_classify(s, len);
	if (sc->kind == PY_BOOL)
		py_is_bool(s, len, &sc->b);
	else if (sc->kind == PY_INT)
		py_parse_int(s, len, sc);
}

enum py_kind
policy_yaml_scalar_kind(const yaml_node_t *n)
{
	struct py_scalar	 sc;

	policy_yaml_scalar_parse(n, &sc);
	return sc.kind;
}

/* null-like plain scalar: what serde_yaml turns into None. */
int
policy_yaml_scalar_null(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    py_is_null((const char *)n->data.scalar.value,
	    n->data.scalar.length);
}

/* `key:` with nothing after it: serde_yaml reads it as [] or {}. */
int
policy_yaml_scalar_empty(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    n->data.scalar.length == 0;
}

/* A sequence (or nothing) whose items all resolve to strings. */
int
policy_yaml_scalar_strseq(yaml_document_t *doc, const yaml_node_t *n)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;

	if (policy_yaml_scalar_empty(n))
		return 1;
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(doc, *it);
		if (item == NULL || item->type != YAML_SCALAR_NODE ||
		    policy_yaml_scalar_kind(item) != PY_STR)
			return 0;
	}
	return 1;
}

/* Rust's {:?} of a str: quoted, with \" \\ \n \r \t \0 escaped. */
static char *
py_debug_str(const char *s, size_t len)
{
	char	*out, *p;
	size_t	 i;

	if ((out = malloc(len * 6 + 3)) == NULL)
		return NULL;
	p = out;
	*p++ = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t' || c == 0) {
			*p++ = '\\';
			*p++ = c == '\n' ? 'n' : c == '\r' ? 'r' :
			    c == '\t' ? 't' : '0';
		} else if (c < 0x20 || c == 0x7f)
			p += sprintf(p, "\\u{%x}", c);
		else
			*p++ = (char)c;
	}
	*p++ = '"';
	*p = '\0';
	return out;
}

/* serde's Unexpected: "unit value", "integer `5`", "string \"x\"", ... */
char *
policy_yaml_scalar_unexpected(const yaml_node_t *n)
{
	struct py_scalar	 sc;
	const char		*s = (const char *)n->data.scalar.value;
	char			*out = NULL, *q;
	int			 rc = 0;

	if (n->type == YAML_SEQUENCE_NODE)
		return strdup("sequence");
	if (n->type == YAML_MAPPING_NODE)
		return strdup("map");
	policy_yaml_scalar_parse(n, &sc);
	switch (sc.kind) {
	case PY_NULL:
		return strdup("unit value");
	case PY_BOOL:
		return strdup(sc.b ? "boolean `true`" : "boolean `false`");
	case PY_INT:
		if (sc.overflow)
			rc = asprintf(&out, "integer `%s`", s);
		else
			rc = asprintf(&out, "integer `%s%llu`",
			    sc.neg ? "-" : "", sc.u);
		break;
	case PY_FLOAT:
		rc = asprintf(&out, "floating point `%s`", s);
		break;
	default:
		if ((q = py_debug_str(s, n->data.scalar.length)) == NULL)
			return NULL;
		rc = asprintf(&out, "string %s", q);
		free(q);
		break;
	}
	return rc == -1 ? NULL : out;
}
