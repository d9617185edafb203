/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Policy hash, config revision and the settings blob (policy_hash.h).
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "policy_hash.h"

typedef Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry PEntry;
typedef Openshell__Sandbox__V1__GetSandboxConfigResponse__SettingsEntry
    SEntry;

static int	 ph_msg(EVP_MD_CTX *, const ProtobufCMessage *);
static int	 ph_nibble(char);
static void	 ph_le32(EVP_MD_CTX *, uint32_t);
static int	 ph_entry_cmp(const void *, const void *);
static int	 ph_sentry_cmp(const void *, const void *);
static void	 ph_setting(EVP_MD_CTX *, const SEntry *);
static int	 ph_setting_cmp(const void *, const void *);
static int	 ph_load_one(const char *, json_t *,
		    struct policy_hash_setting *);
static const char *ph_type_name(enum policy_hash_type);
static void	 ph_setting_free(struct policy_hash_setting *);
static int	 ph_setting_eq(const struct policy_hash_setting *,
		    const struct policy_hash_setting *);

static void
ph_le32(EVP_MD_CTX *ctx, uint32_t v)
{
	uint8_t	 b[4];

	b[0] = v & 0xff;
	b[1] = (v >> 8) & 0xff;
	b[2] = (v >> 16) & 0xff;
	b[3] = (v >> 24) & 0xff;
	EVP_DigestUpdate(ctx, b, sizeof(b));
}

/* The protobuf encoding of m goes into the digest. */
static int
ph_msg(EVP_MD_CTX *ctx, const ProtobufCMessage *m)
{
	uint8_t	*buf;
	size_t	 len;

	len = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(len ? len : 1)) == NULL)
		return -1;
	protobuf_c_message_pack(m, buf);
	EVP_DigestUpdate(ctx, buf, len);
	free(buf);
	return 0;
}

static int
ph_entry_cmp(const void *a, const void *b)
{
	const PEntry *const *ea = a, *const *eb = b;

	return strcmp((*ea)->key ? (*ea)->key : "",
	    (*eb)->key ? (*eb)->key : "");
}

char *
policy_hash_hex(const uint8_t *b, size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	char			*out;
	size_t			 i;

	if ((out = malloc(len * 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		out[i * 2] = digits[b[i] >> 4];
		out[i * 2 + 1] = digits[b[i] & 0xf];
	}
	out[len * 2] = '\0';
	return out;
}

static int
ph_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* *out is malloc'd (never NULL on success, even for ""). */
int
policy_hash_unhex(const char *s, uint8_t **out, size_t *len)
{
	size_t	 n = strlen(s), i;
	int	 hi, lo;

	if (n % 2 != 0 || (*out = malloc(n / 2 + 1)) == NULL)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if ((hi = ph_nibble(s[2 * i])) == -1 ||
		    (lo = ph_nibble(s[2 * i + 1])) == -1) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* out holds POLICY_HASH_LEN bytes; 0 or -1 (out of memory). */
int
policy_hash_policy(const Openshell__Sandbox__V1__SandboxPolicy *p, char *out)
{
	EVP_MD_CTX	*ctx;
	PEntry		**sorted = NULL;
	uint8_t		 md[32];
	size_t		 i;
	char		*hex;
	int		 rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto done;
	ph_le32(ctx, p->version);
	if ((p->filesystem != NULL && ph_msg(ctx, &p->filesystem->base)) ||
	    (p->landlock != NULL && ph_msg(ctx, &p->landlock->base)) ||
	    (p->process != NULL && ph_msg(ctx, &p->process->base)))
		goto done;
	if (p->n_network_policies > 0) {
		sorted = reallocarray(NULL, p->n_network_policies,
		    sizeof(*sorted));
		if (sorted == NULL)
			goto done;
		memcpy(sorted, p->network_policies,
		    p->n_network_policies * sizeof(*sorted));
		qsort(sorted, p->n_network_policies, sizeof(*sorted),
		    ph_entry_cmp);
	}
	for (i = 0; i < p->n_network_policies; i++) {
		if (sorted[i]->key != NULL)
			EVP_DigestUpdate(ctx, sorted[i]->key,
			    strlen(sorted[i]->key));
		/* An entry without a value encodes as an empty rule. */
		if (sorted[i]->value != NULL &&
		    ph_msg(ctx, &sorted[i]->value->base) == -1)
			goto done;
	}
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1 ||
	    (hex = policy_hash_hex(md, sizeof(md))) == NULL)
		goto done;
	strlcpy(out, hex, POLICY_HASH_LEN);
	free(hex);
	rc = 0;
done:
	free(sorted);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
ph_sentry_cmp(const void *a, const void *b)
{
	const SEntry *const *ea = a, *const *eb = b;

	return strcmp((*ea)->key ? (*ea)->key : "",
	    (*eb)->key ? (*eb)->key : "");
}

static void
ph_setting(EVP_MD_CTX *ctx, const SEntry *e)
{
	const Openshell__Sandbox__V1__SettingValue	*v = NULL;
	uint8_t						 b[9];
	uint64_t					 u;
	int						 i;

	if (e->key != NULL)
		EVP_DigestUpdate(ctx, e->key, strlen(e->key));
	ph_le32(ctx, e->value != NULL ? (uint32_t)e->value->scope : 0);
	if (e->value != NULL)
		v = e->value->value;
	if (v == NULL)
		return;
	switch (v->value_case) {
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE:
		b[0] = 0;
		EVP_DigestUpdate(ctx, b, 1);
		EVP_DigestUpdate(ctx, v->string_value,
		    strlen(v->string_value));
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE:
		b[0] = 1;
		b[1] = v->bool_value ? 1 : 0;
		EVP_DigestUpdate(ctx, b, 2);
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE:
		b[0] = 2;
		u = (uint64_t)v->int_value;
		for (i = 0; i < 8; i++)
			b[1 + i] = (u >> (8 * i)) & 0xff;
		EVP_DigestUpdate(ctx, b, 9);
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BYTES_VALUE:
		b[0] = 3;
		EVP_DigestUpdate(ctx, b, 1);
		EVP_DigestUpdate(ctx, v->bytes_value.data,
		    v->bytes_value.len);
		break;
	default:
		/* A SettingValue with no variant counts as no value. */
		break;
	}
}

/*
 * policy_hash is NULL when the response carries no policy.  Returns 0
 * only if the digest cannot be computed, which the caller can live
 * with: the supervisor then sees a changed revision once.
 */
uint64_t
policy_hash_config_revision(int32_t source, const char *policy_hash,
    SEntry *const *settings, size_t n)
{
	EVP_MD_CTX	*ctx;
	SEntry		**sorted = NULL;
	uint8_t		 md[32];
	uint64_t	 rev = 0;
	size_t		 i;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto done;
	ph_le32(ctx, (uint32_t)source);
	if (policy_hash != NULL)
		EVP_DigestUpdate(ctx, policy_hash, strlen(policy_hash));
	if (n > 0) {
		if ((sorted = reallocarray(NULL, n, sizeof(*sorted))) == NULL)
			goto done;
		memcpy(sorted, settings, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), ph_sentry_cmp);
	}
	for (i = 0; i < n; i++)
		ph_setting(ctx, sorted[i]);
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		goto done;
	for (i = 0; i < 8; i++)
		rev |= (uint64_t)md[i] << (8 * i);
done:
	free(sorted);
	EVP_MD_CTX_free(ctx);
	return rev;
}

/* ---- settings blob ---- */

static const char *
ph_type_name(enum policy_hash_type t)
{
	switch (t) {
	case PH_STRING:
		return "String";
	case PH_BOOL:
		return "Bool";
	case PH_INT:
		return "Int";
	default:
		return "Bytes";
	}
}

static int
ph_load_one(const char *key, json_t *obj, struct policy_hash_setting *s)
{
	const char	*type;
	json_t		*v;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(obj) ||
	    (type = json_string_value(json_object_get(obj, "type"))) == NULL ||
	    (v = json_object_get(obj, "value")) == NULL)
		return -1;
	if (strcmp(type, "String") == 0 && json_is_string(v))
		s->type = PH_STRING;
	else if (strcmp(type, "Bytes") == 0 && json_is_string(v))
		s->type = PH_BYTES;
	else if (strcmp(type, "Bool") == 0 && json_is_boolean(v)) {
		s->type = PH_BOOL;
		s->num = json_is_true(v);
	} else if (strcmp(type, "Int") == 0 && json_is_integer(v)) {
		s->type = PH_INT;
		s->num = json_integer_value(v);
	} else
		return -1;
	if ((s->type == PH_STRING || s->type == PH_BYTES) &&
	    (s->str = strdup(json_string_value(v))) == NULL)
		return -1;
	if ((s->key = strdup(key)) == NULL) {
		free(s->str);
		return -1;
	}
	return 0;
}

static int
ph_setting_cmp(const void *a, const void *b)
{
	const struct policy_hash_setting *sa = a, *sb = b;

	return strcmp(sa->key, sb->key);
}

/*
 * A NULL or empty payload is the missing blob: revision 0, nothing
 * set.  On failure *err says why (malloc'd) and out is empty.
 */
int
policy_hash_settings_load(const uint8_t *buf, size_t len,
    struct policy_hash_settings *out, char **err)
{
	json_error_t	 jerr;
	json_t		*root, *settings, *v;
	const char	*key;
	size_t		 n;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (buf == NULL || len == 0)
		return 0;
	if ((root = json_loadb((const char *)buf, len, 0, &jerr)) == NULL) {
		if (asprintf(err, "%s", jerr.text) == -1)
			*err = NULL;
		return -1;
	}
	v = json_object_get(root, "revision");
	settings = json_object_get(root, "settings");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (settings != NULL && !json_is_object(settings)))
		goto bad;
	out->revision = (uint64_t)json_integer_value(v);
	n = settings != NULL ? json_object_size(settings) : 0;
	if (n > 0 && (out->v = calloc(n, sizeof(*out->v))) == NULL)
		goto bad;
	if (n > 0)
		json_object_foreach(settings, key, v) {
			if (ph_load_one(key, v, &out->v[out->n]) == -1)
				goto bad;
			out->n++;
		}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), ph_setting_cmp);
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	policy_hash_settings_clear(out);
	*err = strdup("invalid settings blob");
	return -1;
}

/* NUL-terminated compact JSON, keys sorted; NULL if out of memory. */
char *
policy_hash_settings_dump(const struct policy_hash_settings *s)
{
	json_t	*root, *settings, *v, *val;
	char	*out;
	size_t	 i;

	root = json_object();
	settings = json_object();
	if (root == NULL || settings == NULL) {
		json_decref(root);
		json_decref(settings);
		return NULL;
	}
	json_object_set_new(root, "revision",
	    json_integer((json_int_t)s->revision));
	for (i = 0; i < s->n; i++) {
		switch (s->v[i].type) {
		case PH_BOOL:
			val = json_boolean(s->v[i].num != 0);
			break;
		case PH_INT:
			val = json_integer(s->v[i].num);
			break;
		default:
			val = json_string(s->v[i].str ? s->v[i].str : "");
			break;
		}
		v = json_pack("{s:s,s:o}", "type", ph_type_name(s->v[i].type),
		    "value", val);
		json_object_set_new(settings, s->v[i].key, v);
	}
	json_object_set_new(root, "settings", settings);
	out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	return out;
}

const struct policy_hash_setting *
policy_hash_settings_get(const struct policy_hash_settings *s,
    const char *key)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return &s->v[i];
	return NULL;
}

static int
ph_setting_eq(const struct policy_hash_setting *a,
    const struct policy_hash_setting *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == PH_STRING || a->type == PH_BYTES)
		return strcmp(a->str ? a->str : "", b->str ? b->str : "") == 0;
	return a->num == b->num;
}

static void
ph_setting_free(struct policy_hash_setting *s)
{
	free(s->key);
	free(s->str);
}

/* Upserts a copy of v: 1 if something changed, 0 if not, -1 (ENOMEM). */
int
policy_hash_settings_put(struct policy_hash_settings *s,
    const struct policy_hash_setting *v)
{
	struct policy_hash_setting	 c, *nv;
	size_t				 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, v->key) == 0)
			break;
	if (i < s->n && ph_setting_eq(&s->v[i], v))
		return 0;
	memset(&c, 0, sizeof(c));
	c.type = v->type;
	c.num = v->num;
	if ((c.key = strdup(v->key)) == NULL ||
	    (v->str != NULL && (c.str = strdup(v->str)) == NULL)) {
		ph_setting_free(&c);
		return -1;
	}
	if (i < s->n) {
		ph_setting_free(&s->v[i]);
		s->v[i] = c;
		return 1;
	}
	if ((nv = reallocarray(s->v, s->n + 1, sizeof(*nv))) == NULL) {
		ph_setting_free(&c);
		return -1;
	}
	s->v = nv;
	s->v[s->n++] = c;
	qsort(s->v, s->n, sizeof(*s->v), ph_setting_cmp);
	return 1;
}

/* 1 if key was there and is gone, 0 if it was not there. */
int
policy_hash_settings_del(struct policy_hash_settings *s, const char *key)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			break;
	if (i == s->n)
		return 0;
	ph_setting_free(&s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	return 1;
}

void
policy_hash_settings_clear(struct policy_hash_settings *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		ph_setting_free(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
