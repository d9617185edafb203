/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Full UTF-8 validation of the string fields of an unpacked protobuf-c
 * message, driven by its descriptor so that one walk covers every
 * request type.
 */

#include <stdint.h>
#include <string.h>

#include "utf8.h"

static int	 utf8_field(const ProtobufCMessage *,
		    const ProtobufCFieldDescriptor *, const char **);
static int	 utf8_value(const ProtobufCFieldDescriptor *, const void *,
		    const char **);

/*
 * Unicode 15, table 3-7: the second byte's range depends on the lead
 * byte, which is what rules out overlong forms, surrogates
 * (U+D800..U+DFFF) and anything above U+10FFFF.
 */
int
utf8_valid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n, k;
	unsigned char		 lo, hi;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			if (s[i] == 0xe0)
				lo = 0xa0;
			else if (s[i] == 0xed)
				hi = 0x9f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			if (s[i] == 0xf0)
				lo = 0x90;
			else if (s[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

int
utf8_pb_valid(const ProtobufCMessage *m, const char **badfield)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	unsigned				 i;

	for (i = 0; i < d->n_fields; i++)
		if (!utf8_field(m, &d->fields[i], badfield))
			return 0;
	return 1;
}

/* One field of m: absent, single (maybe in a oneof) or repeated. */
static int
utf8_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const char **badfield)
{
	const char		 *base = (const char *)m;
	const void		 *p = base + f->offset;
	const void *const	 *arr;
	size_t			  i, n;

	if (f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 1;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		/* A oneof's members share storage: only the set one counts. */
		if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
			return 1;
	}
	if (f->label != PROTOBUF_C_LABEL_REPEATED)
		return utf8_value(f, p, badfield);
	/* An array of pointers (strings or messages) and its count. */
	n = *(const size_t *)(base + f->quantifier_offset);
	arr = *(const void *const *const *)p;
	for (i = 0; i < n; i++)
		if (!utf8_value(f, &arr[i], badfield))
			return 0;
	return 1;
}

/* p points at the field's storage: a char * or a ProtobufCMessage *. */
static int
utf8_value(const ProtobufCFieldDescriptor *f, const void *p,
    const char **badfield)
{
	const void	*v = *(const void *const *)p;

	if (v == NULL)
		return 1;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return utf8_pb_valid(v, badfield);
	if (utf8_valid(v, strlen(v)))
		return 1;
	if (badfield != NULL)
		*badfield = f->name;
	return 0;
}
