/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * `-o json': any protobuf-c message as proto3 JSON, walked through its
 * descriptor.  lowerCamelCase names, enums by name, 64-bit integers as
 * strings, bytes in base64, maps as objects, google.protobuf.Struct as
 * the plain JSON it stands for.  Unlike the canonical form, fields
 * holding their default value are kept (a script can rely on every key
 * being there); unset messages and unselected oneof members are left
 * out.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cli.h"

#define PBJSON_MAXDEPTH		64

static json_t	*pbjson_message(const ProtobufCMessage *, int);
static int	 pbjson_present(const ProtobufCMessage *,
		    const ProtobufCFieldDescriptor *);
static json_t	*pbjson_field(const ProtobufCMessage *,
		    const ProtobufCFieldDescriptor *, int);
static json_t	*pbjson_repeated(const ProtobufCFieldDescriptor *,
		    const void *, size_t, int);
static json_t	*pbjson_map(const ProtobufCFieldDescriptor *, const void *,
		    size_t, int);
static json_t	*pbjson_value(const ProtobufCFieldDescriptor *, const void *,
		    int);
static json_t	*pbjson_enum(const ProtobufCEnumDescriptor *, int);
static json_t	*pbjson_bytes(const ProtobufCBinaryData *);
static json_t	*pbjson_double(double);
static json_t	*pbjson_int64(int64_t);
static json_t	*pbjson_uint64(uint64_t);
static json_t	*pbjson_struct(const ProtobufCMessage *, int);
static json_t	*pbjson_wkt_value(const ProtobufCMessage *, int);
static size_t	 pbjson_elem_size(ProtobufCType);
static int	 pbjson_is_map(const ProtobufCFieldDescriptor *);
static char	*pbjson_camel(const char *, char *, size_t);

json_t *
pbjson_encode(const ProtobufCMessage *m)
{
	return pbjson_message(m, 0);
}

void
pbjson_print(FILE *fp, const ProtobufCMessage *m)
{
	json_t	*j;

	if ((j = pbjson_encode(m)) == NULL) {
		cli_warnx("cannot encode the reply as JSON");
		return;
	}
	output_json(fp, j);
	json_decref(j);
}

static json_t *
pbjson_message(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	json_t					*o, *v;
	char					 name[128];
	unsigned				 i;

	if (depth > PBJSON_MAXDEPTH)
		return NULL;
	if (strcmp(d->name, "google.protobuf.Struct") == 0 ||
	    strcmp(d->name, "google.protobuf.Value") == 0 ||
	    strcmp(d->name, "google.protobuf.ListValue") == 0)
		return pbjson_struct(m, depth);
	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (!pbjson_present(m, f))
			continue;
		if ((v = pbjson_field(m, f, depth)) == NULL ||
		    json_object_set_new(o, pbjson_camel(f->name, name,
		    sizeof(name)), v) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Whether a field appears in the output at all. */
static int
pbjson_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char	*base = (const char *)m;
	const void	*p = base + f->offset;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) ==
		    f->id;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return 1;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(ProtobufCMessage *const *)p != NULL;
	if (f->type == PROTOBUF_C_TYPE_STRING)
		return *(char *const *)p != NULL;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
		return *(const protobuf_c_boolean *)(base +
		    f->quantifier_offset);
	return 1;
}

static json_t *
pbjson_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    int depth)
{
	const char	*base = (const char *)m;
	size_t		 n;

	if (f->label != PROTOBUF_C_LABEL_REPEATED)
		return pbjson_value(f, base + f->offset, depth);
	n = *(const size_t *)(base + f->quantifier_offset);
	if (pbjson_is_map(f))
		return pbjson_map(f, *(void *const *)(base + f->offset), n,
		    depth);
	return pbjson_repeated(f, *(void *const *)(base + f->offset), n,
	    depth);
}

static json_t *
pbjson_repeated(const ProtobufCFieldDescriptor *f, const void *arr, size_t n,
    int depth)
{
	json_t	*a, *v;
	size_t	 i, sz = pbjson_elem_size(f->type);

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		v = pbjson_value(f, (const char *)arr + i * sz, depth);
		if (v == NULL || json_array_append_new(a, v) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* A map<K, V> is a repeated XxxEntry{key = 1, value = 2}. */
static json_t *
pbjson_map(const ProtobufCFieldDescriptor *f, const void *arr, size_t n,
    int depth)
{
	const ProtobufCMessageDescriptor	*ed = f->descriptor;
	const ProtobufCFieldDescriptor		*kf = &ed->fields[0];
	const ProtobufCFieldDescriptor		*vf = &ed->fields[1];
	const ProtobufCMessage			*e;
	json_t					*o, *k, *v;
	char					 kbuf[64];
	const char				*key;
	size_t					 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		e = ((ProtobufCMessage *const *)arr)[i];
		if ((k = pbjson_value(kf, (const char *)e + kf->offset,
		    depth)) == NULL)
			goto bad;
		if (json_is_string(k))
			key = json_string_value(k);
		else {
			snprintf(kbuf, sizeof(kbuf), json_is_true(k) ? "true" :
			    json_is_false(k) ? "false" : "%lld",
			    (long long)json_integer_value(k));
			key = kbuf;
		}
		v = pbjson_present(e, vf) ? pbjson_value(vf,
		    (const char *)e + vf->offset, depth + 1) : json_null();
		if (v == NULL || json_object_set_new(o, key, v) == -1) {
			json_decref(k);
			goto bad;
		}
		json_decref(k);
	}
	return o;
 bad:
	json_decref(o);
	return NULL;
}

/* One value of field f stored at p. */
static json_t *
pbjson_value(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return pbjson_int64(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return pbjson_uint64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return pbjson_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return pbjson_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return pbjson_enum(f->descriptor, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING:
		return json_string(*(char *const *)p != NULL ?
		    *(char *const *)p : "");
	case PROTOBUF_C_TYPE_BYTES:
		return pbjson_bytes(p);
	case PROTOBUF_C_TYPE_MESSAGE:
		if (*(ProtobufCMessage *const *)p == NULL)
			return json_null();
		return pbjson_message(*(ProtobufCMessage *const *)p,
		    depth + 1);
	}
	return NULL;
}

static json_t *
pbjson_enum(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue	*ev;

	if ((ev = protobuf_c_enum_descriptor_get_value(d, v)) != NULL)
		return json_string(ev->name);
	return json_integer(v);
}

/*
 * An enum value's name for a table column, without the prefix its
 * type repeats ("POLICY_STATUS_LOADED" -> "LOADED"); "UNKNOWN" for a
 * value the descriptor does not have.
 */
const char *
pbjson_enum_name(const ProtobufCEnumDescriptor *d, int v, const char *prefix)
{
	const ProtobufCEnumValue	*ev;
	size_t				 n = strlen(prefix);

	if ((ev = protobuf_c_enum_descriptor_get_value(d, v)) == NULL)
		return "UNKNOWN";
	if (strncmp(ev->name, prefix, n) == 0)
		return ev->name + n;
	return ev->name;
}

static json_t *
pbjson_bytes(const ProtobufCBinaryData *b)
{
	json_t	*v;
	char	*out;

	if (b->len > (size_t)INT32_MAX / 2)
		return NULL;
	if ((out = malloc(4 * ((b->len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, b->data, (int)b->len);
	v = json_string(out);
	free(out);
	return v;
}

static json_t *
pbjson_double(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

static json_t *
pbjson_int64(int64_t v)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

static json_t *
pbjson_uint64(uint64_t v)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

/*
 * Struct {fields: map<string, Value>}, ListValue {values: [Value]} and
 * Value {oneof kind}: found by field name so that the generated types
 * need not be linked here.
 */
static json_t *
pbjson_struct(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	const char				*base = (const char *)m;
	size_t					 n;

	if (strcmp(d->name, "google.protobuf.Value") == 0)
		return pbjson_wkt_value(m, depth);
	f = &d->fields[0];
	n = *(const size_t *)(base + f->quantifier_offset);
	if (strcmp(d->name, "google.protobuf.ListValue") == 0)
		return pbjson_repeated(f, *(void *const *)(base + f->offset), n,
		    depth);
	return pbjson_map(f, *(void *const *)(base + f->offset), n, depth);
}

static json_t *
pbjson_wkt_value(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	unsigned				 i;

	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (!pbjson_present(m, f))
			continue;
		if (strcmp(f->name, "null_value") == 0)
			return json_null();
		return pbjson_value(f, (const char *)m + f->offset, depth);
	}
	return json_null();
}

static size_t
pbjson_elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* protoc-c keeps no map flag: an XxxEntry {key = 1; value = 2} is one. */
static int
pbjson_is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor	*d = f->descriptor;
	size_t					 len;

	if (f->type != PROTOBUF_C_TYPE_MESSAGE || d == NULL ||
	    d->n_fields != 2)
		return 0;
	len = strlen(d->name);
	return len > 5 && strcmp(d->name + len - 5, "Entry") == 0 &&
	    strcmp(d->fields[0].name, "key") == 0 && d->fields[0].id == 1 &&
	    strcmp(d->fields[1].name, "value") == 0 && d->fields[1].id == 2;
}

/* created_at_ms -> createdAtMs */
static char *
pbjson_camel(const char *name, char *buf, size_t len)
{
	size_t	 o = 0;
	int	 up = 0;

	for (; *name != '\0' && o + 1 < len; name++) {
		if (*name == '_') {
			up = 1;
			continue;
		}
		buf[o++] = up && *name >= 'a' && *name <= 'z' ?
		    (char)(*name - 'a' + 'A') : *name;
		up = 0;
	}
	buf[o] = '\0';
	return buf;
}
