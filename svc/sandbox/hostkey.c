/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * sshd's host key: a fresh Ed25519 key per run of the sandbox, made
 * with OpenSSL and written in the "openssh-key-v1" format (unencrypted)
 * that libssh reads natively; it exists in memory only (the parent's
 * and sshd's), never on disk where the agent could find it.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "session.h"

#define HOSTKEY_BLOB	512

struct hostkey_buf {
	unsigned char	 b[HOSTKEY_BLOB];
	size_t		 n;
};

static void	 hostkey_u32(struct hostkey_buf *, uint32_t);
static void	 hostkey_str(struct hostkey_buf *, const void *, size_t);
static char	*hostkey_armor(const struct hostkey_buf *);

/* The PEM text (caller frees), or NULL. */
char *
hostkey_new(void)
{
	EVP_PKEY		*pk;
	struct hostkey_buf	 pub, priv, all;
	unsigned char		 seed[64], raw[32];
	uint32_t		 check;
	size_t			 n = 32, m = 32;
	char			*pem = NULL;
	unsigned char		 pad = 1;

	memset(&pub, 0, sizeof(pub));
	memset(&priv, 0, sizeof(priv));
	memset(&all, 0, sizeof(all));
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return NULL;
	if (EVP_PKEY_get_raw_private_key(pk, seed, &n) != 1 || n != 32 ||
	    EVP_PKEY_get_raw_public_key(pk, raw, &m) != 1 || m != 32 ||
	    RAND_bytes((unsigned char *)&check, sizeof(check)) != 1)
		goto done;
	memcpy(seed + 32, raw, 32);
	hostkey_str(&pub, "ssh-ed25519", 11);
	hostkey_str(&pub, raw, 32);
	hostkey_u32(&priv, check);
	hostkey_u32(&priv, check);
	hostkey_str(&priv, "ssh-ed25519", 11);
	hostkey_str(&priv, raw, 32);
	hostkey_str(&priv, seed, 64);
	hostkey_str(&priv, "", 0);
	while (priv.n % 8 != 0)
		priv.b[priv.n++] = pad++;
	memcpy(all.b, "openssh-key-v1", 15);
	all.n = 15;
	hostkey_str(&all, "none", 4);
	hostkey_str(&all, "none", 4);
	hostkey_str(&all, "", 0);
	hostkey_u32(&all, 1);
	hostkey_str(&all, pub.b, pub.n);
	hostkey_str(&all, priv.b, priv.n);
	pem = hostkey_armor(&all);
 done:
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(&priv, sizeof(priv));
	explicit_bzero(&all, sizeof(all));
	EVP_PKEY_free(pk);
	return pem;
}

static void
hostkey_u32(struct hostkey_buf *b, uint32_t v)
{
	if (b->n + 4 > sizeof(b->b))
		fatalx("%s", __func__);
	b->b[b->n++] = v >> 24;
	b->b[b->n++] = v >> 16;
	b->b[b->n++] = v >> 8;
	b->b[b->n++] = v;
}

static void
hostkey_str(struct hostkey_buf *b, const void *p, size_t len)
{
	hostkey_u32(b, (uint32_t)len);
	if (b->n + len > sizeof(b->b))
		fatalx("%s", __func__);
	memcpy(b->b + b->n, p, len);
	b->n += len;
}

/* Base64 in 70-column lines between the OpenSSH armour lines. */
static char *
hostkey_armor(const struct hostkey_buf *b)
{
	static const char	 head[] =
	    "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	static const char	 tail[] =
	    "-----END OPENSSH PRIVATE KEY-----\n";
	unsigned char		 b64[HOSTKEY_BLOB * 2];
	char			*pem, *p;
	int			 n, i;

	n = EVP_EncodeBlock(b64, b->b, (int)b->n);
	if (n <= 0 || (pem = calloc(1, sizeof(head) + sizeof(tail) + n +
	    n / 70 + 2)) == NULL)
		return NULL;
	p = stpcpy(pem, head);
	for (i = 0; i < n; i += 70) {
		memcpy(p, b64 + i, n - i < 70 ? (size_t)(n - i) : 70);
		p += n - i < 70 ? n - i : 70;
		*p++ = '\n';
	}
	strcpy(p, tail);
	explicit_bzero(b64, sizeof(b64));
	return pem;
}
