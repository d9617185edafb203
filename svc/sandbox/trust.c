/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * TLS trust for every runtime with no configuration (issue 6 point 2).
 * At each start of proxyd we send IPC_PROXY_TRUST with the extra
 * upstream anchors (--upstream-ca / OPENSHELL_UPSTREAM_CA, possibly
 * none): that turns termination on, and proxyd answers with the CA it
 * just made (IPC_PROXY_CA).  We write into <state>/run/tls:
 *
 *	openshell-ca.pem	the sandbox CA only (NODE_EXTRA_CA_CERTS)
 *	ca-bundle.pem		the system roots first, then the CA
 *
 * and the reaper binds that directory on /etc/openshell-tls and the
 * bundle over /etc/ssl/certs/ca-certificates.crt in the agent's own
 * mount tree (the host's file is never touched); config.c points
 * SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and GIT_SSL_CAINFO
 * at the bundle.  The roots are never replaced, only extended.
 *
 * The agent is not spawned before the CA is installed: proxyd answers
 * TRUST before IPC_SETUP_DONE on the same ordered channel, so the CA
 * is normally here when the tree is ready; otherwise trust_wait holds
 * the spawn for TRUST_TIMEOUT seconds and then gives up, fail closed
 * (no agent).  Termination off is accepted only when proxyd says so,
 * with an empty CA (it could not make one): the agent then starts
 * with the system roots alone and its TLS tunnels stay raw.
 *
 * A restarted proxyd makes a new CA: TRUST goes again and the files
 * are rewritten in place (same inodes), so that the binds in the
 * running agent's tree show the new CA.  A reader racing the rewrite
 * may see a short file once; the next read is whole.
 */

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "supervisor.h"

#define TRUST_TIMEOUT	10	/* seconds for proxyd's CA */
#define TRUST_MAXPEM	(1024 * 1024)

static void	 trust_load(struct sandbox *);
static char	*trust_slurp(const char *, size_t *);
static int	 trust_write(const char *, const struct iovec *, int);
static void	 trust_install(struct sandbox *, const char *);
static void	 trust_timeout(int, short, void *);
static int	 trust_shadow_etc(const struct sandbox *, const char *);
static int	 trust_bind(const char *, const char *);
static void	 trust_path(char *, const char *, const char *);

/* The spawn held by trust_wait. */
static void	(*trust_cb)(struct proc_tree *, void *);
static struct proc_tree *trust_pt;

/* The first existing system bundle, as the reference looks for it. */
static const char *const trust_system[] = {
	SBX_SYSTEM_BUNDLE,
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/ssl/cert.pem",
};

/* buf (PATH_MAX) := a b; an overlong path is a configuration error. */
static void
trust_path(char *buf, const char *a, const char *b)
{
	if (strlcpy(buf, a, PATH_MAX) >= PATH_MAX ||
	    strlcat(buf, b, PATH_MAX) >= PATH_MAX)
		fatalx("path too long: %s%s", a, b);
}

static char *
trust_slurp(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = NULL;
	if (fstat(fd, &st) == -1)
		;
	else if (!S_ISREG(st.st_mode) || st.st_size > TRUST_MAXPEM)
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
	else
		buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size &&
	    (n = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

/*
 * Once, at the first start of proxyd: the extra anchors and our
 * directory with the two files (empty until the CA comes), 0755/0644
 * so that the agent reads them through the binds.
 */
static void
trust_load(struct sandbox *sb)
{
	const char	*f[] = { "/openshell-ca.pem", "/ca-bundle.pem" };
	struct stat	 st;
	char		 p[PATH_MAX];
	size_t		 len, i;

	if (sb->sb_trust_pem != NULL)
		return;
	if (sb->sb_upstream_ca == NULL)
		sb->sb_trust_pem = strdup("");
	else if ((sb->sb_trust_pem = trust_slurp(sb->sb_upstream_ca,
	    &len)) == NULL)
		fatal("--upstream-ca %s", sb->sb_upstream_ca);
	else if (strstr(sb->sb_trust_pem, "-----BEGIN CERTIFICATE-----") ==
	    NULL)
		fatalx("--upstream-ca %s: no PEM certificate",
		    sb->sb_upstream_ca);
	if (sb->sb_trust_pem == NULL)
		fatal("%s", __func__);
	trust_path(sb->sb_tlsdir, sb->sb_state, "/run/tls");
	if (mkdir(sb->sb_tlsdir, 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", sb->sb_tlsdir);
	if (lstat(sb->sb_tlsdir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    chmod(sb->sb_tlsdir, 0755) == -1)
		fatalx("%s: not a directory", sb->sb_tlsdir);
	for (i = 0; i < 2; i++) {
		trust_path(p, sb->sb_tlsdir, f[i]);
		if (trust_write(p, NULL, 0) == -1)
			fatal("%s", p);
	}
	trust_path(p, sb->sb_state, "/run/etc");
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", p);
}

/* At every start of proxyd, before IPC_SETUP_DONE. */
void
trust_send(struct sandbox *sb, struct proc_tree *pt)
{
	struct ipc_wr	 w;

	trust_load(sb);
	if (sb->sb_trust != TRUST_INSTALLED)
		sb->sb_trust = TRUST_WAIT;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, sb->sb_trust_pem);
	if (proc_compose_wr(pt, PROC_PROXY, IPC_PROXY_TRUST, 0, -1, &w) == -1)
		log_warn("proxyd: trust");
}

/*
 * path := the iovecs, rewritten in place: O_TRUNC keeps the inode the
 * agent's binds point at.  No symlink is followed.
 */
static int
trust_write(const char *path, const struct iovec *iov, int n)
{
	ssize_t	 want = 0;
	int	 fd, i, rc = 0;

	for (i = 0; i < n; i++)
		want += (ssize_t)iov[i].iov_len;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		return -1;
	if (fchmod(fd, 0644) == -1 || (n > 0 && writev(fd, iov, n) != want))
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

/* The CA (or "" for none) into the two files. */
static void
trust_install(struct sandbox *sb, const char *ca)
{
	struct iovec	 iov[3];
	char		 p[PATH_MAX], sys[PATH_MAX], *roots = NULL;
	const char	*root = sb->sb_rootfs != NULL ? sb->sb_rootfs : "";
	size_t		 i, len = 0;

	for (i = 0; roots == NULL && i < sizeof(trust_system) /
	    sizeof(trust_system[0]); i++) {
		trust_path(sys, root, trust_system[i]);
		roots = trust_slurp(sys, &len);
	}
	if (roots == NULL)
		log_warnx("TLS: no system trust bundle: the agent's bundle "
		    "holds the sandbox CA only");
	iov[0].iov_base = roots != NULL ? roots : "";
	iov[0].iov_len = len;
	iov[1].iov_base = len > 0 && roots[len - 1] != '\n' ? "\n" : "";
	iov[1].iov_len = strlen(iov[1].iov_base);
	iov[2].iov_base = (char *)ca;
	iov[2].iov_len = strlen(ca);
	trust_path(p, sb->sb_tlsdir, "/ca-bundle.pem");
	if (trust_write(p, iov, 3) == -1)
		fatal("%s", p);
	trust_path(p, sb->sb_tlsdir, "/openshell-ca.pem");
	if (trust_write(p, &iov[2], 1) == -1)
		fatal("%s", p);
	free(roots);
}

/*
 * IPC_PROXY_CA [str pem] from proxyd, in reply to TRUST: install it;
 * a spawn held by trust_wait goes on.  -1: a bad message.
 */
int
trust_ca(struct sandbox *sb, struct ipc_msg *msg)
{
	char		*pem;

	if (ipc_rd_onestr(msg, &pem) == -1)
		return -1;
	if (sb->sb_trust_pem == NULL ||
	    (*pem != '\0' && strncmp(pem, "-----BEGIN CERTIFICATE-----",
	    27) != 0)) {
		free(pem);
		return -1;
	}
	trust_install(sb, pem);
	if (*pem == '\0') {
		sb->sb_trust = TRUST_OFF;
		log_warnx("TLS: proxyd has no CA, termination off: HTTPS "
		    "tunnels stay raw (no L7 rules, no credentials on them)");
	} else {
		sb->sb_trust = TRUST_INSTALLED;
		log_info("TLS: sandbox CA installed in the agent's trust "
		    "bundle");
	}
	free(pem);
	if (trust_cb != NULL) {
		event_del(sb->sb_ev_trust);
		trust_cb(trust_pt, sb);
		trust_cb = NULL;
	}
	return 0;
}

static void
trust_timeout(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	fatalx("TLS: proxyd sent no CA within %d s: the agent is not "
	    "started (fail closed)", TRUST_TIMEOUT);
}

/*
 * From the tree's ready hook: 1 when the CA is not here yet, and cb
 * (the hook itself) will run again once it is; 0 to go on now.
 */
int
trust_wait(struct sandbox *sb, struct proc_tree *pt,
    void (*cb)(struct proc_tree *, void *))
{
	struct timeval	 tv = { TRUST_TIMEOUT, 0 };

	if (sb->sb_trust != TRUST_WAIT)
		return 0;
	if (sb->sb_ev_trust == NULL && (sb->sb_ev_trust = evtimer_new(
	    pt->pt_base, trust_timeout, sb)) == NULL)
		fatalx("evtimer_new");
	trust_cb = cb;
	trust_pt = pt;
	evtimer_add(sb->sb_ev_trust, &tv);
	log_info("waiting for proxyd's CA");
	return 1;
}

/* A read-only bind of src on dst (both existing). */
static int
trust_bind(const char *src, const char *dst)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1) {
		log_warn("bind %s on %s", src, dst);
		return -1;
	}
	return 0;
}

/*
 * /etc has no openshell-tls: the tree's /etc becomes a tmpfs holding
 * a read-only bind of each entry of the old one (submounts included)
 * plus the empty openshell-tls; the old one is parked on
 * <state>/run/etc meanwhile and dropped.  Nothing of the host changes.
 */
static int
trust_shadow_etc(const struct sandbox *sb, const char *etc)
{
	struct dirent	*de;
	DIR		*d;
	char		 park[PATH_MAX], dir[PATH_MAX];
	int		 rc = 0;

	trust_path(park, sb->sb_state, "/run/etc");
	if (mount(etc, park, NULL, MS_BIND | MS_REC, NULL) == -1 ||
	    mount("tmpfs", etc, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0755") == -1) {
		log_warn("shadow %s", etc);
		return -1;
	}
	strlcat(park, "/", sizeof(park));
	if ((d = opendir(park)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			rc = mounts_entry(park, etc, de->d_name);
	closedir(d);
	trust_path(dir, etc, "/openshell-tls");
	if (rc == 0 && mkdir(dir, 0755) == -1)
		rc = -1;
	if (umount2(park, MNT_DETACH) == -1)
		log_warn("umount %s", park);
	if (rc == 0 && mount(NULL, etc, NULL, MS_REMOUNT | MS_BIND |
	    MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) == -1)
		rc = -1;
	return rc;
}

/*
 * In the reaper, on the agent's tree at root before pivot_root: the
 * files at the standard paths.  No /etc in the tree: nothing to do
 * (the policy gives the agent no /etc to read them from anyway).
 */
int
trust_mounts(const struct sandbox *sb, const char *root)
{
	char		 etc[PATH_MAX], p[PATH_MAX], src[PATH_MAX];
	struct stat	 st;

	if (sb->sb_tlsdir[0] == '\0')
		return 0;
	trust_path(etc, root, "/etc");
	if (lstat(etc, &st) == -1 || !S_ISDIR(st.st_mode))
		return 0;
	trust_path(p, root, SBX_TLS_DIR);
	if (lstat(p, &st) == -1 && trust_shadow_etc(sb, etc) == -1)
		return -1;
	if (trust_bind(sb->sb_tlsdir, p) == -1)
		return -1;
	trust_path(p, root, SBX_SYSTEM_BUNDLE);
	trust_path(src, sb->sb_tlsdir, "/ca-bundle.pem");
	if (lstat(p, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_info("no %s in the agent's tree: the bundle is at %s only",
		    SBX_SYSTEM_BUNDLE, SBX_TLS_BUNDLE);
		return 0;
	}
	return trust_bind(src, p);
}
