/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_glob.h"

#define PG_MAX_NEST	32	/* nested {...} */

enum pg_op {
	PG_CHAR,	/* a: code point */
	PG_ANY,		/* ?: one code point, not the delimiter */
	PG_CLASS,	/* a: first range, b: range count, neg */
	PG_STAR,	/* loop over non-delimiters */
	PG_SUPER,	/* loop over anything */
	PG_SPLIT,	/* continue at a and at b */
	PG_JMP,		/* continue at a */
	PG_MATCH
};

struct pg_ins {
	uint8_t		 op;
	uint8_t		 neg;
	uint32_t	 a;
	uint32_t	 b;
};

struct pg_range {
	uint32_t	 lo;
	uint32_t	 hi;
};

struct policy_glob {
	struct pg_ins	*ins;
	size_t		 nins;
	size_t		 inscap;
	struct pg_range	*ranges;
	size_t		 nranges;
	size_t		 rangecap;
	uint32_t	 delim;
	int		 valid;
	int		 oom;
	const char	*pat;		/* during compilation only */
	size_t		 pos;
	size_t		 len;
};

static uint32_t	 pg_decode(const unsigned char *, size_t, size_t *);
static size_t	 pg_emit(struct policy_glob *, int, uint32_t, uint32_t);
static int	 pg_range(struct policy_glob *, uint32_t, uint32_t);
static uint32_t	 pg_next(struct policy_glob *);
static int	 pg_seq(struct policy_glob *, int);
static int	 pg_class(struct policy_glob *);
static int	 pg_alt(struct policy_glob *, int);
static int	 pg_inclass(const struct policy_glob *, const struct pg_ins *,
		    uint32_t);
static void	 pg_add(const struct policy_glob *, uint32_t *, size_t *,
		    uint32_t *, uint32_t, uint32_t, uint32_t *);

/*
 * One code point from UTF-8; a byte that does not start a valid
 * sequence decodes to a value above U+10FFFF so it only ever equals
 * the same invalid byte.
 */
static uint32_t
pg_decode(const unsigned char *s, size_t len, size_t *i)
{
	uint32_t	 c = s[*i], cp;
	size_t		 n, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c < 0xe0)
		n = 1;
	else if (c >= 0xe0 && c < 0xf0)
		n = 2;
	else if (c >= 0xf0 && c < 0xf5)
		n = 3;
	else
		n = 0;
	if (n == 0 || len - *i <= n) {
		(*i)++;
		return 0x110000 + c;
	}
	cp = c & (0x3fu >> n);
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return 0x110000 + c;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	*i += n + 1;
	return cp;
}

static size_t
pg_emit(struct policy_glob *g, int op, uint32_t a, uint32_t b)
{
	struct pg_ins	*ni;
	size_t		 ncap;

	if (g->nins == g->inscap) {
		ncap = g->inscap ? g->inscap * 2 : 16;
		if ((ni = reallocarray(g->ins, ncap, sizeof(*ni))) == NULL) {
			g->oom = 1;
			return 0;
		}
		g->ins = ni;
		g->inscap = ncap;
	}
	g->ins[g->nins].op = (uint8_t)op;
	g->ins[g->nins].neg = 0;
	g->ins[g->nins].a = a;
	g->ins[g->nins].b = b;
	return g->nins++;
}

static int
pg_range(struct policy_glob *g, uint32_t lo, uint32_t hi)
{
	struct pg_range	*nr;
	size_t		 ncap;

	if (g->nranges == g->rangecap) {
		ncap = g->rangecap ? g->rangecap * 2 : 8;
		if ((nr = reallocarray(g->ranges, ncap, sizeof(*nr))) ==
		    NULL) {
			g->oom = 1;
			return -1;
		}
		g->ranges = nr;
		g->rangecap = ncap;
	}
	g->ranges[g->nranges].lo = lo;
	g->ranges[g->nranges++].hi = hi;
	return 0;
}

static uint32_t
pg_next(struct policy_glob *g)
{
	return pg_decode((const unsigned char *)g->pat, g->len, &g->pos);
}

/* [...]: "!" or "^" negates; "a-z" ranges; "\x" literal. */
static int
pg_class(struct policy_glob *g)
{
	size_t		 first = g->nranges, pc;
	uint32_t	 lo, hi;
	int		 neg = 0, n = 0;

	g->pos++;
	if (g->pos < g->len && (g->pat[g->pos] == '!' ||
	    g->pat[g->pos] == '^')) {
		neg = 1;
		g->pos++;
	}
	while (g->pos < g->len && (g->pat[g->pos] != ']' || n == 0)) {
		if (g->pat[g->pos] == '\\' && ++g->pos >= g->len)
			return -1;
		lo = hi = pg_next(g);
		if (g->pos + 1 < g->len && g->pat[g->pos] == '-' &&
		    g->pat[g->pos + 1] != ']') {
			g->pos++;
			if (g->pat[g->pos] == '\\' && ++g->pos >= g->len)
				return -1;
			hi = pg_next(g);
			if (hi < lo)
				return -1;
		}
		if (pg_range(g, lo, hi) == -1)
			return -1;
		n++;
	}
	if (g->pos >= g->len)
		return -1;		/* unclosed [ */
	g->pos++;
	pc = pg_emit(g, PG_CLASS, (uint32_t)first, (uint32_t)n);
	if (!g->oom)
		g->ins[pc].neg = (uint8_t)neg;
	return g->oom ? -1 : 0;
}

/*
 * {a,b,c}: SPLIT before each alternative, JMP to the end after each;
 * the last SPLIT has both arms on its own alternative.
 */
static int
pg_alt(struct policy_glob *g, int depth)
{
	size_t		 split, jmps[256], njmp = 0, i;

	if (depth >= PG_MAX_NEST)
		return -1;
	g->pos++;
	for (;;) {
		split = pg_emit(g, PG_SPLIT, (uint32_t)g->nins + 1, 0);
		if (g->oom || pg_seq(g, depth + 1) == -1 || g->pos >= g->len)
			return -1;	/* unclosed { */
		if (njmp == sizeof(jmps) / sizeof(jmps[0]))
			return -1;
		jmps[njmp++] = pg_emit(g, PG_JMP, 0, 0);
		if (g->oom)
			return -1;
		if (g->pat[g->pos] == '}') {
			g->ins[split].b = g->ins[split].a;
			g->pos++;
			break;
		}
		g->pos++;			/* ',' */
		g->ins[split].b = (uint32_t)g->nins;
	}
	for (i = 0; i < njmp; i++)
		g->ins[jmps[i]].a = (uint32_t)g->nins;
	return 0;
}

/* A sequence of items up to the end, or to ',' / '}' inside {...}. */
static int
pg_seq(struct policy_glob *g, int depth)
{
	char	 c;

	while (g->pos < g->len) {
		c = g->pat[g->pos];
		if (depth > 0 && (c == ',' || c == '}'))
			return 0;
		if (c == '*') {
			if (g->pos + 1 < g->len && g->pat[g->pos + 1] == '*') {
				while (g->pos < g->len && g->pat[g->pos] == '*')
					g->pos++;
				pg_emit(g, PG_SUPER, 0, 0);
			} else {
				g->pos++;
				pg_emit(g, PG_STAR, 0, 0);
			}
		} else if (c == '?') {
			g->pos++;
			pg_emit(g, PG_ANY, 0, 0);
		} else if (c == '[') {
			if (pg_class(g) == -1)
				return -1;
		} else if (c == '{') {
			if (pg_alt(g, depth) == -1)
				return -1;
		} else {
			if (c == '\\' && ++g->pos >= g->len)
				return -1;
			pg_emit(g, PG_CHAR, pg_next(g), 0);
		}
		if (g->oom)
			return -1;
	}
	return 0;
}

/*
 * Compile pat with the given delimiter.  Returns NULL only when out of
 * memory; a malformed pattern (unclosed [ or {, trailing \) compiles
 * to a glob that never matches, as OPA fails closed on it.
 */
struct policy_glob *
policy_glob_compile(const char *pat, char delim)
{
	struct policy_glob	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->pat = pat;
	g->len = strlen(pat);
	g->delim = (unsigned char)delim;
	g->valid = pg_seq(g, 0) == 0;
	pg_emit(g, PG_MATCH, 0, 0);
	g->pat = NULL;
	if (g->oom) {
		policy_glob_free(g);
		return NULL;
	}
	return g;
}

int
policy_glob_valid(const struct policy_glob *g)
{
	return g != NULL && g->valid;
}

void
policy_glob_free(struct policy_glob *g)
{
	if (g == NULL)
		return;
	free(g->ins);
	free(g->ranges);
	free(g);
}

static int
pg_inclass(const struct policy_glob *g, const struct pg_ins *in, uint32_t c)
{
	uint32_t	 i;

	for (i = 0; i < in->b; i++)
		if (c >= g->ranges[in->a + i].lo &&
		    c <= g->ranges[in->a + i].hi)
			return !in->neg;
	return in->neg;
}

/*
 * Add pc and everything reachable from it without consuming input to
 * the list; mark[] holds the generation that last added each pc.
 */
static void
pg_add(const struct policy_glob *g, uint32_t *list, size_t *n,
    uint32_t *mark, uint32_t gen, uint32_t pc, uint32_t *stack)
{
	const struct pg_ins	*in;
	size_t			 sp = 0;

	stack[sp++] = pc;
	while (sp > 0) {
		pc = stack[--sp];
		if (mark[pc] == gen)
			continue;
		mark[pc] = gen;
		in = &g->ins[pc];
		switch (in->op) {
		case PG_JMP:
			stack[sp++] = in->a;
			break;
		case PG_SPLIT:
			stack[sp++] = in->b;
			stack[sp++] = in->a;
			break;
		case PG_STAR:
		case PG_SUPER:
			list[(*n)++] = pc;
			stack[sp++] = pc + 1;
			break;
		default:
			list[(*n)++] = pc;
			break;
		}
	}
}

int
policy_glob_match(const struct policy_glob *g, const char *s, size_t len)
{
	uint32_t	 sbuf[5 * 64 + 2], *buf, *cl, *nl, *mark, *stack, *t;
	uint32_t	 gen = 1, c;
	size_t		 ncl = 0, nnl, i, pos = 0, n = g->nins;
	const struct pg_ins *in;
	int		 matched = 0;

	if (!g->valid)
		return 0;
	/* The closure stack holds at most 2n + 1 entries. */
	buf = n <= 64 ? sbuf : reallocarray(NULL, 5 * n + 2, sizeof(*buf));
	if (buf == NULL)
		return 0;
	cl = buf;
	nl = buf + n;
	mark = buf + 2 * n;
	stack = buf + 3 * n;
	memset(mark, 0, n * sizeof(*mark));
	pg_add(g, cl, &ncl, mark, gen, 0, stack);
	while (pos < len && ncl > 0) {
		c = pg_decode((const unsigned char *)s, len, &pos);
		gen++;
		nnl = 0;
		for (i = 0; i < ncl; i++) {
			in = &g->ins[cl[i]];
			if ((in->op == PG_CHAR && in->a == c) ||
			    (in->op == PG_ANY && c != g->delim) ||
			    (in->op == PG_CLASS && pg_inclass(g, in, c)))
				pg_add(g, nl, &nnl, mark, gen, cl[i] + 1,
				    stack);
			else if ((in->op == PG_STAR && c != g->delim) ||
			    in->op == PG_SUPER)
				pg_add(g, nl, &nnl, mark, gen, cl[i], stack);
		}
		t = cl;
		cl = nl;
		nl = t;
		ncl = nnl;
	}
	for (i = 0; pos >= len && i < ncl; i++)
		if (g->ins[cl[i]].op == PG_MATCH)
			matched = 1;
	if (buf != sbuf)
		free(buf);
	return matched;
}
