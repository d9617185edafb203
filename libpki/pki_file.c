/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Files and directories holding keys and certificates.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log.h"
#include "pki.h"
#include "pki_local.h"

static int	 pki_file_write_all(int, const char *, size_t);

int
pki_file_path(char *buf, size_t size, const char *dir, const char *name)
{
	int	 n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size) {
		log_warnx("pki: path too long: %s/%s", dir, name);
		return -1;
	}
	return 0;
}

/* mkdir -p; directories made here are 0700, existing ones are kept. */
int
pki_file_mkdirs(const char *dir)
{
	char		 path[PATH_MAX];
	struct stat	 sb;
	char		*p;

	if (strlcpy(path, dir, sizeof(path)) >= sizeof(path)) {
		log_warnx("pki: path too long: %s", dir);
		return -1;
	}
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			*p = '\0';
			if (mkdir(path, 0700) == -1 && (errno != EEXIST ||
			    stat(path, &sb) == -1 || !S_ISDIR(sb.st_mode))) {
				log_warn("pki: mkdir %s", path);
				return -1;
			}
			*p = dir[p - path];
		}
		if (*p == '\0')
			break;
	}
	return 0;
}

/*
 * Replace path with data atomically: a reader sees the old file or the
 * new one, and after a crash the new one only if this returned 0.
 */
int
pki_file_write(const char *path, const char *data, mode_t mode)
{
	char	 tmp[PATH_MAX];
	int	 fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		log_warnx("pki: path too long: %s", path);
		return -1;
	}
	/* mkostemp creates 0600, so a key is never readable by others. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_warn("pki: %s", tmp);
		return -1;
	}
	if (fchmod(fd, mode) == -1 ||
	    pki_file_write_all(fd, data, strlen(data)) == -1 ||
	    fsync(fd) == -1) {
		log_warn("pki: write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		log_warn("pki: rename %s", path);
		unlink(tmp);
		return -1;
	}
	return pki_file_fsync_dir(path);
}

static int
pki_file_write_all(int fd, const char *data, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* Make a rename in the directory holding path durable. */
int
pki_file_fsync_dir(const char *path)
{
	char	 copy[PATH_MAX];
	int	 fd, rc;

	if (strlcpy(copy, path, sizeof(copy)) >= sizeof(copy)) {
		log_warnx("pki: path too long: %s", path);
		return -1;
	}
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		log_warn("pki: open directory of %s", path);
		return -1;
	}
	if ((rc = fsync(fd)) == -1)
		log_warn("pki: fsync directory of %s", path);
	close(fd);
	return rc;
}

EVP_PKEY *
pki_file_read_key(const char *path)
{
	struct stat	 sb;
	BIO		*bio;
	EVP_PKEY	*key = NULL;

	if ((bio = BIO_new_file(path, "r")) != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL) {
		ERR_clear_error();
		log_warnx("pki: cannot read a private key from %s", path);
		return NULL;
	}
	if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0)
		log_warnx("pki: %s is accessible by group or others", path);
	return key;
}
