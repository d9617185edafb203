/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The parent's key material: on first start a CA, the server
 * certificate and the admin client certificate in <state>/pki (libpki),
 * and the SSH handshake secret; at every start the PEM files read into
 * memory, since gatewayd gets them over IPC and has no access to the
 * state directory's pki/.
 */

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "libpki/pki.h"
#include "log.h"
#include "paths.h"

#define CERTS_PEM_MAX	(64 * 1024)
#define CERTS_IPC_MAX	(12 * 1024)	/* under IPC_MAXSIZE_DEFAULT */

static int	 certs_issue(struct gateway *, const char *);
static int	 certs_exists(const char *, const char *);
static char	*certs_read(const char *, size_t);
static int	 certs_gen_secret(const char *, char *, size_t);

/*
 * The generated PKI, unless the TLS files were named explicitly.  What
 * exists is kept: a CA is never replaced, and the server and admin
 * certificates are only issued when missing.
 */
int
certs_init(struct gateway *gw)
{
	char	 pki[PATH_MAX];

	if (paths_join(pki, sizeof(pki), gw->gw_state, GATEWAY_PKIDIR) == -1)
		return -1;
	if (strncmp(gw->gw_tls_ca, pki, strlen(pki)) != 0)
		return 0;
	if (mkdir(pki, 0700) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", pki);
		return -1;
	}
	return certs_issue(gw, pki);
}

static int
certs_issue(struct gateway *gw, const char *pki)
{
	struct pki_ca	*ca;
	const char	*extra[2] = { NULL, NULL };
	char		 crt[PATH_MAX], key[PATH_MAX];
	int		 rc = -1;

	if (certs_exists(pki, PKI_CA_CERT) && certs_exists(pki, PKI_CA_KEY))
		ca = pki_ca_load(pki);
	else {
		log_info("creating the gateway CA in %s", pki);
		ca = pki_ca_create(pki, PKI_CA_DAYS);
	}
	if (ca == NULL)
		return -1;
	/* A specific bind address is a name clients may use. */
	if (strcmp(gw->gw_bind, "0.0.0.0") != 0 &&
	    strcmp(gw->gw_bind, "::") != 0)
		extra[0] = gw->gw_bind;
	if (paths_join(crt, sizeof(crt), pki, GATEWAY_ADMIN_CERT) == -1 ||
	    paths_join(key, sizeof(key), pki, GATEWAY_ADMIN_KEY) == -1)
		goto done;
	if ((!certs_exists(pki, PKI_SERVER_CERT) ||
	    !certs_exists(pki, PKI_SERVER_KEY)) &&
	    pki_issue_server(ca, pki, extra, PKI_LEAF_DAYS) == -1)
		goto done;
	if ((!certs_exists(pki, GATEWAY_ADMIN_CERT) ||
	    !certs_exists(pki, GATEWAY_ADMIN_KEY)) &&
	    pki_issue_client(ca, PKI_ADMIN_CN, crt, key, PKI_LEAF_DAYS) == -1)
		goto done;
	rc = 0;
 done:
	pki_ca_free(ca);
	return rc;
}

static int
certs_exists(const char *dir, const char *name)
{
	char	 path[PATH_MAX];

	if (paths_join(path, sizeof(path), dir, name) == -1)
		return 0;
	return access(path, F_OK) == 0;
}

/* The three PEM files into memory, for IPC_SETUP_TLS. */
int
certs_load(struct gateway *gw)
{
	if ((gw->gw_cert_pem = certs_read(gw->gw_tls_cert, CERTS_PEM_MAX)) ==
	    NULL ||
	    (gw->gw_key_pem = certs_read(gw->gw_tls_key, CERTS_PEM_MAX)) ==
	    NULL ||
	    (gw->gw_ca_pem = certs_read(gw->gw_tls_ca, CERTS_PEM_MAX)) == NULL)
		return -1;
	/* They travel in one IPC message. */
	if (strlen(gw->gw_cert_pem) + strlen(gw->gw_key_pem) +
	    strlen(gw->gw_ca_pem) > CERTS_IPC_MAX) {
		log_warnx("TLS files too large (more than %d bytes together)",
		    CERTS_IPC_MAX);
		return -1;
	}
	return 0;
}

/* A whole small file as a string; NULL if missing, empty or too big. */
static char *
certs_read(const char *path, size_t max)
{
	char	*buf;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL)
		fatal("%s", __func__);
	while (len < max && (n = read(fd, buf + len, max - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len == 0 || len == max) {
		log_warnx("%s: %s", path, len == 0 ? "empty" : "too big");
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * The SSH handshake secret: the flag or variable, else the one kept in
 * <state>/pki, else a new one (32 random bytes as 64 lowercase hex
 * characters, file 0600) created once and reused.
 */
int
certs_secret(struct gateway *gw)
{
	char	 dir[PATH_MAX], path[PATH_MAX], *s;
	size_t	 len;

	if (gw->gw_secret[0] != '\0')
		return 0;
	if (paths_join(dir, sizeof(dir), gw->gw_state, GATEWAY_PKIDIR) ==
	    -1 || paths_join(path, sizeof(path), dir, GATEWAY_SECRETFILE) ==
	    -1) {
		log_warnx("state directory too long");
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", dir);
		return -1;
	}
	if (access(path, F_OK) == -1)
		return certs_gen_secret(path, gw->gw_secret,
		    sizeof(gw->gw_secret));
	if ((s = certs_read(path, sizeof(gw->gw_secret) + 1)) == NULL)
		return -1;
	len = strcspn(s, "\r\n");
	s[len] = '\0';
	if (len == 0 || strlcpy(gw->gw_secret, s, sizeof(gw->gw_secret)) >=
	    sizeof(gw->gw_secret)) {
		log_warnx("%s: bad secret", path);
		explicit_bzero(s, len);
		free(s);
		return -1;
	}
	explicit_bzero(s, len);
	free(s);
	return 0;
}

static int
certs_gen_secret(const char *path, char *out, size_t len)
{
	unsigned char	 raw[GATEWAY_SECRET_LEN / 2];
	size_t		 i;
	int		 fd;

	if (len < 2 * sizeof(raw) + 1 ||
	    getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		log_warn("getrandom");
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || write(fd, out, GATEWAY_SECRET_LEN) !=
	    GATEWAY_SECRET_LEN || write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		log_warn("%s", path);
		if (fd != -1) {
			close(fd);
			unlink(path);
		}
		return -1;
	}
	close(fd);
	return 0;
}
