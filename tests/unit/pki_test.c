/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Unit tests for libpki: certificates are checked with OpenSSL's own
 * verifier, files and directories with stat(2).
 */

#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "libpki/pki.h"

struct fixture {
	char		 root[PATH_MAX / 4];
	char		 state[PATH_MAX / 2];
	struct pki_ca	*ca;
};

static int	 setup(void **);
static int	 teardown(void **);
static int	 rm_entry(const char *, const struct stat *, int,
		    struct FTW *);
static int	 file_mode(const char *, const char *);
static int	 verify(X509 *, X509 *, int);
static long	 days_left(X509 *);
static char	*slurp(const char *, const char *);
static void	 name_entry(X509 *, int, const char *);
static void	 mkpath(char *, size_t, const char *, const char *);
static void	 assert_subject(X509 *, const char *, const char *);
static void	 assert_ext_critical(X509 *, int, int);
static void	 issue_pems(struct pki_ca *, char **, char **, char **);

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*tmp = getenv("TMPDIR");

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/pki_test.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	/* Not there yet: pki_ca_create must make it 0700. */
	snprintf(f->state, sizeof(f->state), "%s/state/pki", f->root);
	if ((f->ca = pki_ca_create(f->state, PKI_CA_DAYS)) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	pki_ca_free(f->ca);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int
file_mode(const char *dir, const char *name)
{
	char		 path[PATH_MAX];
	struct stat	 sb;

	mkpath(path, sizeof(path), dir, name);
	if (lstat(path, &sb) == -1)
		return -1;
	return sb.st_mode & (S_IFMT | 07777);
}

static void
mkpath(char *buf, size_t size, const char *dir, const char *name)
{
	int	 n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < size);
}

static char *
slurp(const char *dir, const char *name)
{
	char	 path[PATH_MAX], *buf;
	FILE	*fp;
	long	 len;

	mkpath(path, sizeof(path), dir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	if ((buf = calloc(1, len + 1)) != NULL &&
	    fread(buf, 1, len, fp) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

/* X509_verify_cert against a store holding only ca. */
static int
verify(X509 *ca, X509 *leaf, int purpose)
{
	X509_STORE	*store;
	X509_STORE_CTX	*ctx;
	int		 rc;

	store = X509_STORE_new();
	assert_non_null(store);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	ctx = X509_STORE_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	rc = X509_verify_cert(ctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

static long
days_left(X509 *x)
{
	int	 days, secs;

	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL,
	    X509_get0_notAfter(x)), 1);
	return days;
}

static void
assert_subject(X509 *x, const char *o, const char *cn)
{
	char	 buf[128];

	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_organizationName, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, o);
	assert_int_equal(pki_cert_cn(x, buf, sizeof(buf)), 0);
	assert_string_equal(buf, cn);
}

static void
assert_ext_critical(X509 *x, int nid, int critical)
{
	int	 idx;

	idx = X509_get_ext_by_NID(x, nid, -1);
	assert_true(idx >= 0);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, idx)),
	    critical);
}

static void
test_ca_created(void **state)
{
	struct fixture	*f = *state;
	X509		*ca = pki_ca_cert(f->ca);
	BIGNUM		*serial;
	EVP_PKEY	*pub;
	char		 group[32], parent[PATH_MAX];
	size_t		 glen;

	assert_subject(ca, "openshell", "openshell-ca");
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(ca),
	    X509_get_issuer_name(ca)), 0);
	assert_int_equal(X509_check_issued(ca, ca), X509_V_OK);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_ext_critical(ca, NID_basic_constraints, 1);
	assert_true(X509_get_extension_flags(ca) & EXFLAG_CA);
	assert_int_equal(X509_get_key_usage(ca),
	    KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(ca));
	assert_int_equal(X509_get_version(ca), X509_VERSION_3);
	assert_true(days_left(ca) >= PKI_CA_DAYS - 1);
	assert_true(days_left(ca) <= PKI_CA_DAYS);

	pub = X509_get0_pubkey(ca);
	assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof(group),
	    &glen), 1);
	assert_string_equal(group, "prime256v1");
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca), NULL);
	assert_non_null(serial);
	assert_true(BN_num_bits(serial) <= 128 && BN_num_bits(serial) > 64);
	BN_free(serial);

	assert_int_equal(file_mode(f->state, PKI_CA_KEY), S_IFREG | 0600);
	assert_int_equal(file_mode(f->state, PKI_CA_CERT), S_IFREG | 0644);
	mkpath(parent, sizeof(parent), f->root, "state");
	assert_int_equal(file_mode(parent, "pki"), S_IFDIR | 0700);
	assert_int_equal(file_mode(f->root, "state"), S_IFDIR | 0700);

	/* An existing CA is never replaced. */
	assert_null(pki_ca_create(f->state, PKI_CA_DAYS));
}

static void
test_ca_reload(void **state)
{
	struct fixture	*f = *state;
	struct pki_ca	*again;
	char		*pem1, *pem2;

	again = pki_ca_load(f->state);
	assert_non_null(again);
	assert_int_equal(X509_cmp(pki_ca_cert(f->ca), pki_ca_cert(again)), 0);
	assert_int_equal(pki_cert_pem(pki_ca_cert(f->ca), &pem1), 0);
	assert_int_equal(pki_cert_pem(pki_ca_cert(again), &pem2), 0);
	assert_string_equal(pem1, pem2);
	free(pem1);
	free(pem2);
	/* The reloaded key signs certificates the original CA verifies. */
	assert_int_equal(pki_issue_server(again, f->state, NULL,
	    PKI_LEAF_DAYS), 0);
	pki_ca_free(again);
	assert_null(pki_ca_load(f->root));
}

static void
test_ca_half_written_is_replaced(void **state)
{
	struct fixture	*f = *state;
	struct pki_ca	*ca;
	char		 path[PATH_MAX];

	mkpath(path, sizeof(path), f->state, PKI_CA_CERT);
	assert_int_equal(unlink(path), 0);
	assert_null(pki_ca_load(f->state));
	ca = pki_ca_create(f->state, PKI_CA_DAYS);
	assert_non_null(ca);
	pki_ca_free(ca);
	ca = pki_ca_load(f->state);
	assert_non_null(ca);
	pki_ca_free(ca);
}

static void
test_server_cert(void **state)
{
	static const char *const extra[] = { "gw.example.test", "10.1.2.3",
	    "localhost", NULL };
	struct fixture	*f = *state;
	char		 path[PATH_MAX], cn[PKI_CN_MAX], host[256];
	EVP_PKEY	*key;
	X509		*x;
	FILE		*fp;

	assert_int_equal(pki_issue_server(f->ca, f->state, extra, 30), 0);
	mkpath(path, sizeof(path), f->state, PKI_SERVER_CERT);
	x = pki_cert_load(path);
	assert_non_null(x);
	assert_int_equal(verify(pki_ca_cert(f->ca), x, X509_PURPOSE_SSL_SERVER),
	    X509_V_OK);
	assert_int_equal(pki_cert_file_cn(path, cn, sizeof(cn)), 0);
	assert_string_equal(cn, "openshell-server");
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "gw.example.test", 0, 0, NULL),
	    1);
	assert_int_equal(X509_check_host(x, "other.example.test", 0, 0,
	    NULL), 0);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "10.1.2.3", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "10.1.2.4", 0), 0);
	if (gethostname(host, sizeof(host)) == 0)
		assert_int_equal(X509_check_host(x, host, 0, 0, NULL), 1);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_false(X509_get_extension_flags(x) & EXFLAG_CA);
	assert_true(days_left(x) >= 29 && days_left(x) <= 30);
	/* A server cert must not pass as a client cert. */
	assert_int_not_equal(verify(pki_ca_cert(f->ca), x,
	    X509_PURPOSE_SSL_CLIENT), X509_V_OK);

	assert_int_equal(file_mode(f->state, PKI_SERVER_KEY), S_IFREG | 0600);
	assert_int_equal(file_mode(f->state, PKI_SERVER_CERT), S_IFREG | 0644);
	mkpath(path, sizeof(path), f->state, PKI_SERVER_KEY);
	fp = fopen(path, "r");
	assert_non_null(fp);
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(key);
	assert_int_equal(X509_check_private_key(x, key), 1);
	EVP_PKEY_free(key);
	X509_free(x);

	/* A bad name fails the issue instead of being dropped. */
	assert_int_equal(pki_issue_server(f->ca, f->state,
	    (const char *const[]){ "bad name", NULL }, 30), -1);
}

static void
test_client_cert(void **state)
{
	static const char *sbid = "3f0b8c9e-6a1d-4e2f-9b7a-0c5d1e2f3a4b";
	struct fixture	*f = *state;
	char		 crt[PATH_MAX], key[PATH_MAX], cn[PKI_CN_MAX];
	char		*cpem, *kpem;
	X509		*x;
	BIO		*bio;

	mkpath(crt, sizeof(crt), f->root, "sandbox.crt");
	mkpath(key, sizeof(key), f->root, "sandbox.key");
	assert_int_equal(pki_issue_client(f->ca, sbid, crt, key,
	    PKI_LEAF_DAYS), 0);
	x = pki_cert_load(crt);
	assert_non_null(x);
	assert_int_equal(verify(pki_ca_cert(f->ca), x, X509_PURPOSE_SSL_CLIENT),
	    X509_V_OK);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_int_equal(pki_cert_cn(x, cn, sizeof(cn)), 0);
	assert_string_equal(cn, sbid);
	/* A buffer too small is an error, never a truncated CN. */
	assert_int_equal(pki_cert_cn(x, cn, 8), -1);
	assert_true(days_left(x) >= PKI_LEAF_DAYS - 1);
	assert_int_equal(file_mode(f->root, "sandbox.key"), S_IFREG | 0600);
	assert_int_equal(file_mode(f->root, "sandbox.crt"), S_IFREG | 0644);
	X509_free(x);

	assert_int_equal(pki_issue_client_pem(f->ca, PKI_ADMIN_CN,
	    PKI_LEAF_DAYS, &cpem, &kpem), 0);
	bio = BIO_new_mem_buf(cpem, -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(x);
	assert_int_equal(verify(pki_ca_cert(f->ca), x, X509_PURPOSE_SSL_CLIENT),
	    X509_V_OK);
	assert_int_equal(pki_cert_cn(x, cn, sizeof(cn)), 0);
	assert_string_equal(cn, "openshell-admin");
	assert_non_null(strstr(kpem, "-----BEGIN PRIVATE KEY-----"));
	X509_free(x);
	free(cpem);
	pki_free_secret(kpem);

	assert_int_equal(pki_issue_client_pem(f->ca, "../x", 1, &cpem, &kpem),
	    -1);
	assert_int_equal(pki_issue_client_pem(f->ca, "", 1, &cpem, &kpem), -1);
}

static void
test_foreign_ca_rejected(void **state)
{
	struct fixture	*f = *state;
	struct pki_ca	*other;
	char		 dir[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
	X509		*x;

	/* Same subject name as ours, different key: an impostor CA. */
	mkpath(dir, sizeof(dir), f->root, "other");
	other = pki_ca_create(dir, PKI_CA_DAYS);
	assert_non_null(other);
	mkpath(crt, sizeof(crt), dir, "admin.crt");
	mkpath(key, sizeof(key), dir, "admin.key");
	assert_int_equal(pki_issue_client(other, PKI_ADMIN_CN, crt, key,
	    PKI_LEAF_DAYS), 0);
	x = pki_cert_load(crt);
	assert_non_null(x);
	assert_int_equal(verify(pki_ca_cert(other), x,
	    X509_PURPOSE_SSL_CLIENT), X509_V_OK);
	assert_int_not_equal(verify(pki_ca_cert(f->ca), x,
	    X509_PURPOSE_SSL_CLIENT), X509_V_OK);
	X509_free(x);
	pki_ca_free(other);
}

static void
name_entry(X509 *x, int nid, const char *v)
{
	assert_int_equal(X509_NAME_add_entry_by_NID(X509_get_subject_name(x),
	    nid, MBSTRING_UTF8, (const unsigned char *)v, -1, -1, 0), 1);
}

static void
test_cn_ambiguous_rejected(void **state)
{
	char	 cn[PKI_CN_MAX];
	X509	*x;

	(void)state;
	x = X509_new();
	assert_non_null(x);
	assert_int_equal(pki_cert_cn(x, cn, sizeof(cn)), -1);
	name_entry(x, NID_commonName, "openshell-admin");
	assert_int_equal(pki_cert_cn(x, cn, sizeof(cn)), 0);
	name_entry(x, NID_commonName, "sandbox-1");
	assert_int_equal(pki_cert_cn(x, cn, sizeof(cn)), -1);
	X509_free(x);
}

static void
issue_pems(struct pki_ca *ca, char **capem, char **cpem, char **kpem)
{
	assert_int_equal(pki_cert_pem(pki_ca_cert(ca), capem), 0);
	assert_int_equal(pki_issue_client_pem(ca, PKI_ADMIN_CN, PKI_LEAF_DAYS,
	    cpem, kpem), 0);
}

static void
test_client_bundle(void **state)
{
	struct fixture	*f = *state;
	char		 cfg[PATH_MAX], base[PATH_MAX], mtls[PATH_MAX];
	char		 junk[PATH_MAX + 16];
	char		*capem, *cpem, *kpem, *c2, *k2, *s;
	FILE		*fp;

	mkpath(cfg, sizeof(cfg), f->root, "config/openshell");
	mkpath(base, sizeof(base), cfg, "clusters/dev");
	mkpath(mtls, sizeof(mtls), base, "mtls");
	issue_pems(f->ca, &capem, &cpem, &kpem);

	assert_int_equal(pki_write_client_bundle(cfg, "dev", capem, cpem,
	    kpem), 0);
	assert_int_equal(file_mode(base, "mtls"), S_IFDIR | 0700);
	assert_int_equal(file_mode(cfg, "clusters"), S_IFDIR | 0700);
	assert_int_equal(file_mode(mtls, PKI_BUNDLE_KEY), S_IFREG | 0600);
	assert_int_equal(file_mode(mtls, PKI_BUNDLE_CERT), S_IFREG | 0644);
	assert_int_equal(file_mode(mtls, PKI_BUNDLE_CA), S_IFREG | 0644);
	assert_int_equal(file_mode(base, "mtls.tmp"), -1);
	assert_int_equal(file_mode(base, "mtls.bak"), -1);
	s = slurp(mtls, PKI_BUNDLE_KEY);
	assert_string_equal(s, kpem);
	free(s);
	s = slurp(mtls, PKI_BUNDLE_CA);
	assert_string_equal(s, capem);
	free(s);

	/* Replacing: debris of an interrupted run is cleaned up. */
	mkpath(junk, sizeof(junk), base, "mtls.tmp");
	assert_int_equal(mkdir(junk, 0700), 0);
	mkpath(junk, sizeof(junk), base, "mtls.tmp/tls.key.Ab12Cd");
	fp = fopen(junk, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(pki_issue_client_pem(f->ca, PKI_ADMIN_CN, 1, &c2,
	    &k2), 0);
	assert_int_equal(pki_write_client_bundle(cfg, "dev", capem, c2, k2),
	    0);
	s = slurp(mtls, PKI_BUNDLE_CERT);
	assert_string_equal(s, c2);
	free(s);
	assert_int_equal(file_mode(base, "mtls.tmp"), -1);
	assert_int_equal(file_mode(base, "mtls.bak"), -1);

	/* A key that does not match the cert never replaces a bundle. */
	assert_int_equal(pki_write_client_bundle(cfg, "dev", capem, cpem,
	    k2), -1);
	assert_int_equal(pki_write_client_bundle(cfg, "dev", capem, "", k2),
	    -1);
	s = slurp(mtls, PKI_BUNDLE_KEY);
	assert_string_equal(s, k2);
	free(s);
	assert_int_equal(pki_write_client_bundle(cfg, "../evil", capem, c2,
	    k2), -1);
	assert_int_equal(pki_write_client_bundle(cfg, "a/b", capem, c2, k2),
	    -1);
	assert_int_equal(pki_write_client_bundle(cfg, "..", capem, c2, k2),
	    -1);

	free(capem);
	free(cpem);
	free(c2);
	pki_free_secret(kpem);
	pki_free_secret(k2);
}

/* A PEM bundle's certificates become anchors; junk is refused. */
static void
test_store_add_pem(void **state)
{
	struct fixture	*f = *state;
	X509_STORE	*st;
	X509_OBJECT	*o;
	char		*pem, *two;
	size_t		 n;

	assert_int_equal(pki_cert_pem(pki_ca_cert(f->ca), &pem), 0);
	n = strlen(pem);
	assert_non_null(two = malloc(2 * n + 16));
	snprintf(two, 2 * n + 16, "%s# comment\n%s", pem, pem);
	assert_non_null(st = X509_STORE_new());
	assert_int_equal(pki_store_add_pem(st, two, strlen(two)), 2);
	assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(st)), 1);
	o = sk_X509_OBJECT_value(X509_STORE_get0_objects(st), 0);
	assert_int_equal(X509_cmp(X509_OBJECT_get0_X509(o),
	    pki_ca_cert(f->ca)), 0);
	/* Cut short, the second is not counted: what parsed stays. */
	assert_int_equal(pki_store_add_pem(st, two, n + 20), 1);
	assert_int_equal(pki_store_add_pem(st, "not PEM", 7), 0);
	free(two);
	two = strdup("-----BEGIN CERTIFICATE-----\n!!\n"
	    "-----END CERTIFICATE-----\n");
	assert_int_equal(pki_store_add_pem(st, two, strlen(two)), -1);
	X509_STORE_free(st);
	free(two);
	free(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_created,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_reload,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_half_written_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_cert,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_cert,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_ca_rejected,
		    setup, teardown),
		cmocka_unit_test(test_cn_ambiguous_rejected),
		cmocka_unit_test_setup_teardown(test_client_bundle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_add_pem,
		    setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
