/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Internals shared by the libpki files; not for other components.
 */

#ifndef PKI_LOCAL_H
#define PKI_LOCAL_H

#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum pki_kind {
	PKI_KIND_CA,
	PKI_KIND_SERVER,
	PKI_KIND_CLIENT
};

/* pki_cert.c */
EVP_PKEY	*pki_cert_keygen(void);
X509		*pki_cert_make(enum pki_kind, const char *, EVP_PKEY *,
		    X509 *, EVP_PKEY *, int, const char *const *);
int		 pki_cert_valid_cn(const char *);
int		 pki_sslerr(const char *);

/* pki_file.c */
int		 pki_file_mkdirs(const char *);
int		 pki_file_write(const char *, const char *, mode_t);
int		 pki_file_path(char *, size_t, const char *, const char *);
int		 pki_file_fsync_dir(const char *);
EVP_PKEY	*pki_file_read_key(const char *);

#endif /* PKI_LOCAL_H */
