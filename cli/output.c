/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Replies are msgpack maps; the CLI turns them into JSON values and
 * prints them either as JSON or as aligned "key: value" text, nested
 * lists and maps indented.
 */

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "cli.h"

#define OUTPUT_MAXDEPTH	32

static json_t	*output_object(const msgpack_object *, int);
static json_t	*output_map(const msgpack_object *, int);
static void	 output_value(FILE *, json_t *, int);
static void	 output_object_text(FILE *, json_t *, int, int);
static void	 output_array_text(FILE *, json_t *, int);
static void	 output_scalar(FILE *, json_t *);
static int	 output_is_scalar(json_t *);
static json_t	*output_string(const char *, size_t);

/* NULL unless data is exactly one msgpack value JSON can express. */
json_t *
output_decode(const void *data, size_t len)
{
	msgpack_unpacked	 up;
	json_t			*root = NULL;
	size_t			 off = 0;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, &off) ==
	    MSGPACK_UNPACK_SUCCESS && off == len)
		root = output_object(&up.data, 0);
	msgpack_unpacked_destroy(&up);
	return root;
}

static json_t *
output_object(const msgpack_object *o, int depth)
{
	json_t		*a, *v;
	uint32_t	 i;

	if (depth > OUTPUT_MAXDEPTH)
		return NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_integer(o->via.u64 > INT64_MAX ? INT64_MAX :
		    (json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return output_string(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_ARRAY:
		if ((a = json_array()) == NULL)
			return NULL;
		for (i = 0; i < o->via.array.size; i++) {
			v = output_object(&o->via.array.ptr[i], depth + 1);
			if (v == NULL || json_array_append_new(a, v) == -1) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	case MSGPACK_OBJECT_MAP:
		return output_map(o, depth);
	default:
		return NULL;	/* bin, ext: never in a reply */
	}
}

/* Keys must be strings; order is kept. */
static json_t *
output_map(const msgpack_object *o, int depth)
{
	const msgpack_object_kv	*kv;
	json_t			*m, *v;
	char			 key[256];
	uint32_t		 i;

	if ((m = json_object()) == NULL)
		return NULL;
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    kv->key.via.str.size >= sizeof(key))
			goto bad;
		memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
		key[kv->key.via.str.size] = '\0';
		if ((v = output_object(&kv->val, depth + 1)) == NULL)
			goto bad;
		if (json_object_set_new_nocheck(m, key, v) == -1)
			goto bad;
	}
	return m;
 bad:
	json_decref(m);
	return NULL;
}

void
output_json(FILE *fp, json_t *root)
{
	json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', fp);
}

void
output_text(FILE *fp, json_t *root)
{
	output_value(fp, root, 0);
}

static void
output_value(FILE *fp, json_t *v, int indent)
{
	if (json_is_object(v))
		output_object_text(fp, v, indent, indent);
	else if (json_is_array(v))
		output_array_text(fp, v, indent);
	else {
		fprintf(fp, "%*s", indent, "");
		output_scalar(fp, v);
		fputc('\n', fp);
	}
}

/*
 * "key: value", values aligned.  first is the indent of the first line
 * (list items start after "- ").
 */
static void
output_object_text(FILE *fp, json_t *obj, int first, int indent)
{
	const char	*key;
	json_t		*v;
	int		 width = 0, n = 0, pad;

	json_object_foreach(obj, key, v)
		if ((int)strlen(key) > width)
			width = (int)strlen(key);
	json_object_foreach(obj, key, v) {
		pad = n++ == 0 ? first : indent;
		if (output_is_scalar(v)) {
			fprintf(fp, "%*s%s:%*s ", pad, "", key,
			    width - (int)strlen(key), "");
			output_scalar(fp, v);
			fputc('\n', fp);
		} else {
			fprintf(fp, "%*s%s:\n", pad, "", key);
			output_value(fp, v, indent + 2);
		}
	}
}

static void
output_array_text(FILE *fp, json_t *a, int indent)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(a, i, v) {
		if (json_is_object(v)) {
			fprintf(fp, "%*s- ", indent, "");
			output_object_text(fp, v, 0, indent + 2);
		} else {
			fprintf(fp, "%*s- ", indent, "");
			if (output_is_scalar(v)) {
				output_scalar(fp, v);
				fputc('\n', fp);
			} else {
				fputc('\n', fp);
				output_value(fp, v, indent + 2);
			}
		}
	}
}

/* Empty lists and maps print as "-" on the key's line. */
static int
output_is_scalar(json_t *v)
{
	if (json_is_object(v))
		return json_object_size(v) == 0;
	if (json_is_array(v))
		return json_array_size(v) == 0;
	return 1;
}

/* JSON strings are UTF-8: bytes that are not become '?'. */
static json_t *
output_string(const char *s, size_t len)
{
	json_t	*v;
	char	*copy;
	size_t	 i;

	if ((v = json_stringn(s, len)) != NULL)
		return v;
	if ((copy = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		copy[i] = (s[i] & 0x80) || s[i] == '\0' ? '?' : s[i];
	copy[len] = '\0';
	v = json_stringn(copy, len);
	free(copy);
	return v;
}

static void
output_scalar(FILE *fp, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), fp);
		break;
	case JSON_INTEGER:
		fprintf(fp, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(fp, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", fp);
		break;
	case JSON_FALSE:
		fputs("false", fp);
		break;
	default:
		fputs("-", fp);
		break;
	}
}
