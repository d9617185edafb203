/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Provider CRUD (control-plane.md §1.3 "Providers").  The store keeps
 * the raw credentials; every Provider that leaves through these RPCs
 * has each credential value replaced by "REDACTED" (keys kept).
 */

#include <sys/random.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gatewayd.h"
#include "log.h"
#include "proto/openshell.pb-c.h"
#include "store.h"

#define PV_NAME_MAX		253
#define PV_TYPE_MAX		64
#define PV_CREDS_MAX		32
#define PV_CONFIG_MAX		64
#define PV_KEY_MAX		256
#define PV_VALUE_MAX		8192
#define PV_LIST_DEFAULT		100
#define PV_LIST_MAX		1000
#define PV_REDACTED		"REDACTED"

#define OS	"/openshell.v1.OpenShell/"

typedef Openshell__Datamodel__V1__Provider	Provider;

/* Both string maps of Provider have entries of this layout. */
struct pv_kv {
	ProtobufCMessage	 base;
	char			*key;
	char			*value;
};

/* A map being built: borrowed entries, or owned ones when redacted. */
struct pv_map {
	struct pv_kv	**m_v;
	size_t		  m_n;
	struct pv_kv	 *m_own;
};

struct pv_list {
	Provider	**l_v;
	size_t		  l_n;
	int		  l_err;
};

static grpc_handler_fn	 pv_create;
static grpc_handler_fn	 pv_get;
static grpc_handler_fn	 pv_list;
static grpc_handler_fn	 pv_update;
static grpc_handler_fn	 pv_delete;
static int	 pv_check(struct grpc_call *, const Provider *);
static int	 pv_check_map(struct grpc_call *, const char *, size_t,
		    void *const *, size_t);
static int	 pv_put(struct gatewayd *, const Provider *);
static void	 pv_reply(struct grpc_call *, const Provider *);
static int	 pv_redact(const Provider *, Provider *, struct pv_map *);
static int	 pv_merge(struct pv_map *, size_t, void *const *, size_t,
		    void *const *);
static void	 pv_map_free(struct pv_map *);
static void	 pv_random_name(char *, size_t);
static char	*pv_trim(char *);
static int	 pv_list_cb(const struct store_object *, void *);

void
rpc_provider_register(struct gatewayd *gd)
{
	rpc_method(gd, OS "CreateProvider", pv_create);
	rpc_method(gd, OS "GetProvider", pv_get);
	rpc_method(gd, OS "ListProviders", pv_list);
	rpc_method(gd, OS "UpdateProvider", pv_update);
	rpc_method(gd, OS "DeleteProvider", pv_delete);
}

/* The stored provider, raw credentials included. */
int
rpc_provider_get(struct gatewayd *gd, const char *name, Provider **out)
{
	struct store_object	 obj;
	int			 rc;

	*out = NULL;
	memset(&obj, 0, sizeof(obj));
	if ((rc = store_get_by_name(gd->gd_store, STORE_T_PROVIDER, name,
	    &obj)) != STORE_OK)
		return rc;
	*out = openshell__datamodel__v1__provider__unpack(NULL, obj.so_len,
	    obj.so_payload);
	store_object_clear(&obj);
	return *out != NULL ? STORE_OK : STORE_ERR;
}

static void
pv_create(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__CreateProviderRequest	*req;
	Provider				 p;
	char					 id[GD_UUID_LEN], name[8];
	int					 rc;

	if ((req = openshell__v1__create_provider_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->provider == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "provider is required");
		goto done;
	}
	p = *req->provider;
	if (p.name[0] == '\0') {
		pv_random_name(name, sizeof(name));
		p.name = name;
	}
	p.type = pv_trim(p.type);
	if (p.type[0] == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "provider type is required");
		goto done;
	}
	if (p.n_credentials == 0) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "provider credentials are required");
		goto done;
	}
	if (pv_check(call, &p) == -1)
		goto done;
	rpc_uuid(id);
	p.id = id;
	if ((rc = pv_put(gd, &p)) == STORE_CONFLICT)
		rpc_error(call, GRPC_ALREADY_EXISTS, "provider already exists");
	else if (rc != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "cannot store the provider");
	else
		pv_reply(call, &p);
 done:
	openshell__v1__create_provider_request__free_unpacked(req, NULL);
}

static int
pv_check(struct grpc_call *call, const Provider *p)
{
	if (strlen(p->name) > PV_NAME_MAX) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "name exceeds maximum length (%zu > %d)", strlen(p->name),
		    PV_NAME_MAX);
		return -1;
	}
	if (strlen(p->type) > PV_TYPE_MAX) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "type exceeds maximum length (%zu > %d)", strlen(p->type),
		    PV_TYPE_MAX);
		return -1;
	}
	if (pv_check_map(call, "credentials", p->n_credentials,
	    (void *const *)p->credentials, PV_CREDS_MAX) == -1 ||
	    pv_check_map(call, "config", p->n_config,
	    (void *const *)p->config, PV_CONFIG_MAX) == -1)
		return -1;
	return 0;
}

static int
pv_check_map(struct grpc_call *call, const char *field, size_t n,
    void *const *entries, size_t max)
{
	const struct pv_kv	*kv;
	size_t			 i;

	if (n > max) {
		rpc_error(call, GRPC_INVALID_ARGUMENT,
		    "%s exceeds maximum entries (%zu > %zu)", field, n, max);
		return -1;
	}
	for (i = 0; i < n; i++) {
		kv = entries[i];
		if (strlen(kv->key) > PV_KEY_MAX ||
		    strlen(kv->value) > PV_VALUE_MAX) {
			rpc_error(call, GRPC_INVALID_ARGUMENT,
			    "%s %s exceeds maximum length (%zu > %d)", field,
			    strlen(kv->key) > PV_KEY_MAX ? "key" : "value",
			    strlen(kv->key) > PV_KEY_MAX ? strlen(kv->key) :
			    strlen(kv->value), strlen(kv->key) > PV_KEY_MAX ?
			    PV_KEY_MAX : PV_VALUE_MAX);
			return -1;
		}
	}
	return 0;
}

static int
pv_put(struct gatewayd *gd, const Provider *p)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rc;

	len = protobuf_c_message_get_packed_size(&p->base);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		return STORE_ERR;
	protobuf_c_message_pack(&p->base, buf);
	rc = store_put(gd->gd_store, STORE_T_PROVIDER, p->id, p->name, buf, len,
	    rpc_now_ms());
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

static void
pv_reply(struct grpc_call *call, const Provider *p)
{
	Openshell__V1__ProviderResponse	 res =
	    OPENSHELL__V1__PROVIDER_RESPONSE__INIT;
	Provider			 r;
	struct pv_map			 m;

	if (pv_redact(p, &r, &m) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		return;
	}
	res.provider = &r;
	rpc_reply(call, &res.base);
	pv_map_free(&m);
}

/* r is p with every credential value REDACTED; m holds the entries. */
static int
pv_redact(const Provider *p, Provider *r, struct pv_map *m)
{
	size_t	 i;

	*r = *p;
	memset(m, 0, sizeof(*m));
	if (p->n_credentials == 0)
		return 0;
	if ((m->m_own = calloc(p->n_credentials, sizeof(*m->m_own))) ==
	    NULL || (m->m_v = calloc(p->n_credentials, sizeof(*m->m_v))) ==
	    NULL) {
		pv_map_free(m);
		return -1;
	}
	for (i = 0; i < p->n_credentials; i++) {
		m->m_own[i] = *(struct pv_kv *)p->credentials[i];
		m->m_own[i].value = PV_REDACTED;
		m->m_v[i] = &m->m_own[i];
	}
	m->m_n = p->n_credentials;
	r->credentials = (void *)m->m_v;
	return 0;
}

static void
pv_map_free(struct pv_map *m)
{
	free(m->m_v);
	free(m->m_own);
	memset(m, 0, sizeof(*m));
}

static void
pv_get(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd			*gd = arg;
	Openshell__V1__GetProviderRequest *req;
	Provider			*p;
	int				 rc;

	if ((req = openshell__v1__get_provider_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->name[0] == '\0')
		rpc_error(call, GRPC_INVALID_ARGUMENT, "name is required");
	else if ((rc = rpc_provider_get(gd, req->name, &p)) == STORE_NOTFOUND)
		rpc_error(call, GRPC_NOT_FOUND, "provider not found");
	else if (rc != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "cannot read the provider");
	else {
		pv_reply(call, p);
		openshell__datamodel__v1__provider__free_unpacked(p, NULL);
	}
	openshell__v1__get_provider_request__free_unpacked(req, NULL);
}

static void
pv_list(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__ListProvidersRequest	*req;
	Openshell__V1__ListProvidersResponse	 res =
	    OPENSHELL__V1__LIST_PROVIDERS_RESPONSE__INIT;
	struct pv_list				 l;
	Provider				*rv = NULL, **rp = NULL;
	struct pv_map				*mv = NULL;
	uint32_t				 limit;
	size_t					 i, nm = 0;

	if ((req = openshell__v1__list_providers_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	limit = req->limit == 0 ? PV_LIST_DEFAULT : req->limit;
	if (limit > PV_LIST_MAX)
		limit = PV_LIST_MAX;
	memset(&l, 0, sizeof(l));
	if ((l.l_v = calloc(limit, sizeof(*l.l_v))) == NULL ||
	    store_list(gd->gd_store, STORE_T_PROVIDER, limit, req->offset,
	    pv_list_cb, &l) != 0 || l.l_err ||
	    (rv = calloc(l.l_n + 1, sizeof(*rv))) == NULL ||
	    (rp = calloc(l.l_n + 1, sizeof(*rp))) == NULL ||
	    (mv = calloc(l.l_n + 1, sizeof(*mv))) == NULL) {
		rpc_error(call, GRPC_INTERNAL, "cannot list providers");
		goto done;
	}
	for (nm = 0; nm < l.l_n; nm++) {
		if (pv_redact(l.l_v[nm], &rv[nm], &mv[nm]) == -1) {
			rpc_error(call, GRPC_INTERNAL, "out of memory");
			goto done;
		}
		rp[nm] = &rv[nm];
	}
	res.providers = rp;
	res.n_providers = l.l_n;
	rpc_reply(call, &res.base);
 done:
	for (i = 0; mv != NULL && i < nm; i++)
		pv_map_free(&mv[i]);
	free(mv);
	free(rp);
	free(rv);
	for (i = 0; i < l.l_n; i++)
		openshell__datamodel__v1__provider__free_unpacked(l.l_v[i],
		    NULL);
	free(l.l_v);
	openshell__v1__list_providers_request__free_unpacked(req, NULL);
}

static int
pv_list_cb(const struct store_object *obj, void *arg)
{
	struct pv_list	*l = arg;
	Provider	*p;

	p = openshell__datamodel__v1__provider__unpack(NULL, obj->so_len,
	    obj->so_payload);
	if (p == NULL) {
		l->l_err = 1;
		return 1;
	}
	l->l_v[l->l_n++] = p;
	return 0;
}

/*
 * id, name and type are kept; each map merges: an empty incoming map
 * leaves it alone, else incoming keys are upserted and an empty value
 * deletes its key.  Limits are checked on the result.
 */
static void
pv_update(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__UpdateProviderRequest	*req;
	Provider				*old = NULL, p, *in;
	struct pv_map				 cm, fm;
	int					 rc;

	memset(&cm, 0, sizeof(cm));
	memset(&fm, 0, sizeof(fm));
	if ((req = openshell__v1__update_provider_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if ((in = req->provider) == NULL || in->name[0] == '\0') {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "name is required");
		goto done;
	}
	if ((rc = rpc_provider_get(gd, in->name, &old)) != STORE_OK) {
		rpc_error(call, rc == STORE_NOTFOUND ? GRPC_NOT_FOUND :
		    GRPC_INTERNAL, rc == STORE_NOTFOUND ?
		    "provider not found" : "cannot read the provider");
		goto done;
	}
	in->type = pv_trim(in->type);
	if (in->type[0] != '\0' && strcasecmp(in->type, old->type) != 0) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "provider type cannot "
		    "be changed; delete and recreate the provider");
		goto done;
	}
	p = *old;
	if (pv_merge(&cm, old->n_credentials, (void *const *)old->credentials,
	    in->n_credentials, (void *const *)in->credentials) == -1 ||
	    pv_merge(&fm, old->n_config, (void *const *)old->config,
	    in->n_config, (void *const *)in->config) == -1) {
		rpc_error(call, GRPC_INTERNAL, "out of memory");
		goto done;
	}
	p.credentials = (void *)cm.m_v;
	p.n_credentials = cm.m_n;
	p.config = (void *)fm.m_v;
	p.n_config = fm.m_n;
	if (pv_check(call, &p) == -1)
		goto done;
	if (pv_put(gd, &p) != STORE_OK)
		rpc_error(call, GRPC_INTERNAL, "cannot store the provider");
	else
		pv_reply(call, &p);
 done:
	pv_map_free(&cm);
	pv_map_free(&fm);
	if (old != NULL)
		openshell__datamodel__v1__provider__free_unpacked(old, NULL);
	openshell__v1__update_provider_request__free_unpacked(req, NULL);
}

/* m borrows the entries of both messages. */
static int
pv_merge(struct pv_map *m, size_t nold, void *const *old, size_t nin,
    void *const *in)
{
	struct pv_kv	*kv;
	size_t		 i, j;

	memset(m, 0, sizeof(*m));
	if ((m->m_v = calloc(nold + nin + 1, sizeof(*m->m_v))) == NULL)
		return -1;
	for (i = 0; i < nold; i++)
		m->m_v[m->m_n++] = old[i];
	if (nin == 0)
		return 0;
	for (i = 0; i < nin; i++) {
		kv = in[i];
		for (j = 0; j < m->m_n; j++)
			if (strcmp(m->m_v[j]->key, kv->key) == 0)
				break;
		if (kv->value[0] == '\0') {
			if (j < m->m_n)
				m->m_v[j] = m->m_v[--m->m_n];
		} else if (j < m->m_n)
			m->m_v[j] = kv;
		else
			m->m_v[m->m_n++] = kv;
	}
	return 0;
}

static void
pv_delete(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct gatewayd				*gd = arg;
	Openshell__V1__DeleteProviderRequest	*req;
	Openshell__V1__DeleteProviderResponse	 res =
	    OPENSHELL__V1__DELETE_PROVIDER_RESPONSE__INIT;
	int					 rc;

	if ((req = openshell__v1__delete_provider_request__unpack(NULL, len,
	    msg)) == NULL) {
		rpc_error(call, GRPC_INVALID_ARGUMENT, "invalid request");
		return;
	}
	if (req->name[0] == '\0')
		rpc_error(call, GRPC_INVALID_ARGUMENT, "name is required");
	else if ((rc = store_delete_by_name(gd->gd_store, STORE_T_PROVIDER,
	    req->name)) == STORE_ERR)
		rpc_error(call, GRPC_INTERNAL, "cannot delete the provider");
	else {
		res.deleted = rc == STORE_OK;
		rpc_reply(call, &res.base);
	}
	openshell__v1__delete_provider_request__free_unpacked(req, NULL);
}

/* Six random lowercase letters. */
static void
pv_random_name(char *buf, size_t len)
{
	uint8_t	 r[6];
	size_t	 i;

	if (len < sizeof(r) + 1 || getrandom(r, sizeof(r), 0) !=
	    (ssize_t)sizeof(r))
		fatal("%s", __func__);
	for (i = 0; i < sizeof(r); i++)
		buf[i] = 'a' + r[i] % 26;
	buf[i] = '\0';
}

/* In place; the result points into s. */
static char *
pv_trim(char *s)
{
	size_t	 n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}
