/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The gateway's certificate authority (control-plane.md §4.3,
 * architecture.md §3): an ECDSA P-256 CA kept in the gateway state
 * directory, the server certificate, the admin client certificate and
 * one client certificate per sandbox (CN = sandbox id, which the
 * gateway later authorizes by), and the CLI's client bundle.
 *
 * Every file is replaced atomically (temporary file, fsync, rename,
 * fsync of the directory): keys 0600, certificates 0644, directories
 * created 0700.  Functions return 0 or -1, or NULL, after logging;
 * key material is never logged.
 */

#ifndef PKI_H
#define PKI_H

#include <stddef.h>

#include <openssl/x509.h>

#define PKI_CA_DAYS		3650
#define PKI_LEAF_DAYS		365

/* Files in the CA directory (the gateway state dir). */
#define PKI_CA_CERT		"ca.crt"
#define PKI_CA_KEY		"ca.key"
#define PKI_SERVER_CERT		"server.crt"
#define PKI_SERVER_KEY		"server.key"

#define PKI_ORG			"openshell"
#define PKI_CA_CN		"openshell-ca"
#define PKI_SERVER_CN		"openshell-server"
#define PKI_ADMIN_CN		"openshell-admin"

/* Names in $XDG_CONFIG_HOME/openshell/clusters/<name>/mtls/. */
#define PKI_BUNDLE_CA		"ca.crt"
#define PKI_BUNDLE_CERT		"tls.crt"
#define PKI_BUNDLE_KEY		"tls.key"

/* Longest CN accepted (RFC 5280 ub-common-name) plus the NUL. */
#define PKI_CN_MAX		65

struct pki_ca;

struct pki_ca	*pki_ca_create(const char *, int);
struct pki_ca	*pki_ca_load(const char *);
void		 pki_ca_free(struct pki_ca *);
X509		*pki_ca_cert(const struct pki_ca *);

int	 pki_issue_server(struct pki_ca *, const char *, const char *const *,
	    int);
int	 pki_issue_client(struct pki_ca *, const char *, const char *,
	    const char *, int);
int	 pki_issue_client_pem(struct pki_ca *, const char *, int, char **,
	    char **);

int	 pki_cert_cn(X509 *, char *, size_t);
int	 pki_cert_file_cn(const char *, char *, size_t);
int	 pki_cert_pem(X509 *, char **);
int	 pki_cert_key_pem(EVP_PKEY *, char **);
int	 pki_store_add_pem(X509_STORE *, const char *, size_t);
X509	*pki_cert_load(const char *);
void	 pki_free_secret(char *);

int	 pki_write_client_bundle(const char *, const char *, const char *,
	    const char *, const char *);

#endif /* PKI_H */
