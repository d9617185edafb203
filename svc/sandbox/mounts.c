/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The agent's mount namespace, built by the reaper (PID 1 of the
 * agent's PID namespace, root, in its own fresh mount namespace):
 *
 *	/		a tmpfs, read-only once populated (or --rootfs,
 *			bound recursively, read-only and nosuid)
 *	/bin, /lib...	the top-level symlinks of the host's / (merged /usr)
 *	listed paths	each read_only path of the policy bound at its real
 *			location read-only and nosuid (mount_setattr), each
 *			read_write path read-write, nosuid, nodev.  What the
 *			policy does not list does not exist: no stat of it,
 *			no connect(2) to a unix socket in it (Landlock
 *			restricts neither).  A policy listing / gets every
 *			entry of the host's /, read-only.
 *	/proc		a fresh proc of the agent's PID namespace
 *	/dev		tmpfs: null zero full random urandom tty bound from
 *			the host, a private devpts, shm tmpfs
 *	/tmp		tmpfs
 *	/sandbox	<state>/sandbox, read-write: the persistent home
 *	hidden dirs	the supervisor's and the gateway's state: covered
 *			by an empty read-only tmpfs (secrets invisible)
 *
 * then pivot_root into it.  Landlock narrows this further per policy.
 */

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpolicy/policy.h"
#include "log.h"
#include "supervisor.h"

#define MOUNTS_RO_ATTR	(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID)

static int	 mounts_path(char *, const char *, const char *);
struct mounts_ent {
	char		*me_real;	/* realpath, malloc'd */
	const char	*me_path;	/* as listed */
	int		 me_rw;
};

static int	 mounts_host(const struct sandbox *, const char *);
static void	 mounts_ent(struct mounts_ent *, size_t *, const char *, int);
static int	 mounts_covered(const struct mounts_ent *, size_t);
static int	 mounts_cmp(const void *, const void *);
static int	 mounts_under(const char *, const char *);
static int	 mounts_listed(const char *, const struct mounts_ent *);
static int	 mounts_alias(const char *, const struct mounts_ent *);
static int	 mounts_mkdirs(const char *, const char *);
static int	 mounts_toplinks(const char *);
static int	 mounts_whole(const char *, const char *);
static int	 mounts_rootfs(const char *, const char *);
static int	 mounts_points(const char *);
static int	 mounts_bind_ro(const char *, const char *);
static int	 mounts_dev(const char *);
static int	 mounts_tmpfs(const char *, const char *, const char *,
		    unsigned long);
static int	 mounts_hide(const char *, const char *);
static int	 mounts_pivot(const char *);

/* Skipped from the host's /: replaced, or never wanted. */
static const char *const mounts_skip[] = {
	"proc", "dev", "tmp", "sandbox", "lost+found", "run",
};

/* Made by us whatever the policy lists. */
static const char *const mounts_special[] = {
	"/proc", "/dev", "/tmp", "/sandbox",
};

static int
mounts_path(char *buf, const char *root, const char *path)
{
	if (snprintf(buf, PATH_MAX, "%s%s", root, path) >= PATH_MAX) {
		log_warnx("path too long: %s%s", root, path);
		return -1;
	}
	return 0;
}

/*
 * Runs in the reaper, which owns the namespace; on error the reaper
 * exits and the agent never starts.
 */
int
mounts_setup(const struct sandbox *sb)
{
	const char	*root = sb->sb_rootdir;
	char		 p[PATH_MAX];
	int		 i;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		log_warn("make / private");
		return -1;
	}
	if (sb->sb_rootfs != NULL) {
		if (mounts_rootfs(sb->sb_rootfs, root) == -1)
			return -1;
	} else if (mounts_tmpfs(root, "mode=0755", "root", 0) == -1 ||
	    mounts_host(sb, root) == -1)
		return -1;
	if (mounts_path(p, root, "/proc") == -1 ||
	    mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) == -1) {
		log_warn("mount proc");
		return -1;
	}
	if (mounts_dev(root) == -1)
		return -1;
	if (mounts_path(p, root, "/tmp") == -1 ||
	    mounts_tmpfs(p, "mode=1777", "tmp", MS_NODEV) == -1)
		return -1;
	if (mounts_path(p, root, "/sandbox") == -1 ||
	    mount(sb->sb_sbxdir, p, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV,
	    NULL) == -1) {
		log_warn("bind %s on /sandbox", sb->sb_sbxdir);
		return -1;
	}
	/* The sandbox CA at the standard paths (trust.c). */
	if (trust_mounts(sb, root) == -1)
		return -1;
	if (mounts_hide(root, sb->sb_state) == -1)
		return -1;
	for (i = 0; i < sb->sb_nhide; i++)
		if (mounts_hide(root, sb->sb_hide[i]) == -1)
			return -1;
	if (sb->sb_rootfs == NULL && mount(NULL, root, NULL, MS_REMOUNT |
	    MS_BIND | MS_RDONLY | MS_NOSUID, NULL) == -1) {
		log_warn("remount / read-only");
		return -1;
	}
	return mounts_pivot(root);
}

/* Where proc, dev, tmp and sandbox go; existing ones are fine. */
static int
mounts_points(const char *root)
{
	static const char *const points[] = { "/proc", "/dev", "/tmp",
	    "/sandbox" };
	char	 p[PATH_MAX];
	size_t	 i;

	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		if (mounts_path(p, root, points[i]) == -1 ||
		    (mkdir(p, 0755) == -1 && errno != EEXIST)) {
			log_warn("mount point %s", points[i]);
			return -1;
		}
	return 0;
}

/*
 * --rootfs: the prepared tree, bound recursively; its mount points made
 * (in the tree itself) before the whole is set read-only, so that what
 * is mounted on top afterwards keeps its own flags.
 */
static int
mounts_rootfs(const char *rootfs, const char *root)
{
	struct mount_attr	 ma;

	if (mount(rootfs, root, NULL, MS_BIND | MS_REC, NULL) == -1) {
		log_warn("bind %s", rootfs);
		return -1;
	}
	if (mounts_points(root) == -1)
		return -1;
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = MOUNTS_RO_ATTR;
	if (syscall(SYS_mount_setattr, AT_FDCWD, root, AT_RECURSIVE, &ma,
	    sizeof(ma)) == -1) {
		log_warn("mount_setattr %s", root);
		return -1;
	}
	return 0;
}

/*
 * The host's view, narrowed to the policy.  Shortest real path first,
 * so that a nested path is bound over its parent's bind.
 */
static int
mounts_host(const struct sandbox *sb, const char *root)
{
	const struct policy	*p = sb->sb_policy;
	struct mounts_ent	*ents;
	size_t			 i, n = 0;
	int			 rc = 0;

	if (policy_strv_has(&p->read_only, "/") ||
	    policy_strv_has(&p->read_write, "/"))
		return mounts_whole("/", root);
	if (mounts_toplinks(root) == -1)
		return -1;
	if ((ents = calloc(p->read_only.n + p->read_write.n,
	    sizeof(*ents))) == NULL)
		return -1;
	for (i = 0; i < p->read_only.n; i++)
		mounts_ent(&ents[n], &n, p->read_only.v[i], 0);
	for (i = 0; i < p->read_write.n; i++)
		mounts_ent(&ents[n], &n, p->read_write.v[i], 1);
	qsort(ents, n, sizeof(*ents), mounts_cmp);
	for (i = 0; rc == 0 && i < n; i++)
		rc = mounts_covered(ents, i) ? mounts_alias(root, &ents[i]) :
		    mounts_listed(root, &ents[i]);
	for (i = 0; i < n; i++)
		free(ents[i].me_real);
	free(ents);
	return rc == 0 ? mounts_points(root) : rc;
}

/* A path that cannot be resolved is left out; Landlock logs it. */
static void
mounts_ent(struct mounts_ent *me, size_t *n, const char *path, int rw)
{
	size_t	 i;

	if ((me->me_real = realpath(path, NULL)) == NULL)
		return;
	for (i = 0; i < sizeof(mounts_special) / sizeof(mounts_special[0]);
	    i++)
		if (mounts_under(me->me_real, mounts_special[i])) {
			free(me->me_real);
			me->me_real = NULL;
			return;
		}
	me->me_path = path;
	me->me_rw = rw;
	(*n)++;
}

/* Already visible with the same rights through a shorter entry. */
static int
mounts_covered(const struct mounts_ent *ents, size_t i)
{
	size_t	 j;

	for (j = 0; j < i; j++)
		if (ents[j].me_rw == ents[i].me_rw &&
		    mounts_under(ents[i].me_real, ents[j].me_real))
			return 1;
	return 0;
}

static int
mounts_cmp(const void *a, const void *b)
{
	const struct mounts_ent	*x = a, *y = b;
	size_t			 lx = strlen(x->me_real), ly = strlen(y->me_real);

	return lx < ly ? -1 : lx > ly;
}

/* path is dir or below it */
static int
mounts_under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

static int
mounts_listed(const char *root, const struct mounts_ent *me)
{
	struct mount_attr	 ma;
	struct stat		 st;
	char			 t[PATH_MAX];
	int			 fd;

	if (mounts_path(t, root, me->me_real) == -1 ||
	    stat(me->me_real, &st) == -1 || mounts_mkdirs(root,
	    me->me_real) == -1)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(t, 0755) == -1 && errno != EEXIST)
			return 0;
	} else if ((fd = open(t, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) != -1)
		close(fd);
	if (mount(me->me_real, t, NULL, MS_BIND | MS_REC, NULL) == -1) {
		log_warn("bind %s", me->me_real);
		return -1;
	}
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = me->me_rw ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV :
	    MOUNTS_RO_ATTR;
	if (syscall(SYS_mount_setattr, AT_FDCWD, t, AT_RECURSIVE, &ma,
	    sizeof(ma)) == -1) {
		log_warn("mount_setattr %s", t);
		return -1;
	}
	return mounts_alias(root, me);
}

/* The listed path went through a symlink: the same symlink here. */
static int
mounts_alias(const char *root, const struct mounts_ent *me)
{
	char		 t[PATH_MAX], link[PATH_MAX];
	struct stat	 st;
	ssize_t		 n;

	if (strcmp(me->me_path, me->me_real) == 0 ||
	    mounts_path(t, root, me->me_path) == -1 || lstat(t, &st) == 0)
		return 0;
	if ((n = readlink(me->me_path, link, sizeof(link) - 1)) == -1)
		return 0;	/* an intermediate component was the link */
	link[n] = '\0';
	if (mounts_mkdirs(root, me->me_path) == -1 || symlink(link, t) == -1)
		log_warn("symlink %s", me->me_path);
	return 0;
}

/* mkdir -p of path's parent under root (the tmpfs: no host writes). */
static int
mounts_mkdirs(const char *root, const char *path)
{
	char	 t[PATH_MAX], *s;
	size_t	 off;

	if (mounts_path(t, root, path) == -1)
		return -1;
	off = strlen(root);
	for (s = t + off + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(t, 0755) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", t + off);
			return -1;
		}
		*s = '/';
	}
	return 0;
}

/* bin -> usr/bin and friends: cheap, and nothing runs without them. */
static int
mounts_toplinks(const char *root)
{
	struct dirent	*de;
	DIR		*d;
	char		 s[PATH_MAX], t[PATH_MAX], link[PATH_MAX];
	ssize_t		 n;

	if ((d = opendir("/")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_LNK ||
		    snprintf(s, sizeof(s), "/%s", de->d_name) >=
		    (int)sizeof(s) || mounts_path(t, root, s) == -1 ||
		    (n = readlink(s, link, sizeof(link) - 1)) == -1)
			continue;
		link[n] = '\0';
		if (symlink(link, t) == -1)
			log_warn("symlink %s", s);
	}
	closedir(d);
	return 0;
}

/* Every entry of the host's / into the tmpfs root, read-only. */
static int
mounts_whole(const char *src, const char *root)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 i;
	int		 rc = 0;

	if ((d = opendir(src)) == NULL) {
		log_warn("opendir %s", src);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		for (i = 0; i < sizeof(mounts_skip) / sizeof(mounts_skip[0]);
		    i++)
			if (strcmp(de->d_name, mounts_skip[i]) == 0)
				break;
		if (i < sizeof(mounts_skip) / sizeof(mounts_skip[0]))
			continue;
		rc = mounts_entry(src, root, de->d_name);
	}
	closedir(d);
	return rc == 0 ? mounts_points(root) : rc;
}

/* src/name (src ends in '/') bound read-only on root/name. */
int
mounts_entry(const char *src, const char *root, const char *name)
{
	char		 s[PATH_MAX], t[PATH_MAX], link[PATH_MAX];
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if (snprintf(s, sizeof(s), "%s%s", src, name) >= (int)sizeof(s) ||
	    snprintf(t, sizeof(t), "%s/%s", root, name) >= (int)sizeof(t) ||
	    lstat(s, &st) == -1)
		return 0;	/* gone meanwhile: nothing to bind */
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlink(s, link, sizeof(link) - 1)) == -1)
			return 0;
		link[n] = '\0';
		if (symlink(link, t) == -1) {
			log_warn("symlink %s", t);
			return -1;
		}
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(t, 0755) == -1) {
			log_warn("mkdir %s", t);
			return -1;
		}
	} else if ((fd = open(t, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) ==
	    -1) {
		log_warn("create %s", t);
		return -1;
	} else
		close(fd);
	return mounts_bind_ro(s, t);
}

/* A recursive bind, then read-only and nosuid on every mount in it. */
static int
mounts_bind_ro(const char *src, const char *dst)
{
	struct mount_attr	 ma;

	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == -1) {
		log_warn("bind %s", src);
		return -1;
	}
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = MOUNTS_RO_ATTR;
	if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &ma,
	    sizeof(ma)) == -1) {
		log_warn("mount_setattr %s", dst);
		return -1;
	}
	return 0;
}

static int
mounts_tmpfs(const char *dst, const char *opts, const char *what,
    unsigned long flags)
{
	if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | flags, opts) == -1) {
		log_warn("tmpfs %s", what);
		return -1;
	}
	return 0;
}

static int
mounts_dev(const char *root)
{
	static const char *const nodes[] = {
		"null", "zero", "full", "random", "urandom", "tty",
	};
	static const char *const links[][2] = {
		{ "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
	};
	char	 dev[PATH_MAX], p[PATH_MAX], s[PATH_MAX];
	size_t	 i;
	int	 fd;

	if (mounts_path(dev, root, "/dev") == -1 ||
	    mounts_tmpfs(dev, "mode=0755", "dev", MS_NOEXEC) == -1)
		return -1;
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		if (snprintf(p, sizeof(p), "%s/%s", dev, nodes[i]) >=
		    (int)sizeof(p) || snprintf(s, sizeof(s), "/dev/%s",
		    nodes[i]) >= (int)sizeof(s))
			return -1;
		if ((fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0666)) == -1)
			return -1;
		close(fd);
		if (mount(s, p, NULL, MS_BIND, NULL) == -1) {
			log_warn("bind %s", s);
			return -1;
		}
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (snprintf(p, sizeof(p), "%s/%s", dev, links[i][0]) >=
		    (int)sizeof(p) || symlink(links[i][1], p) == -1)
			return -1;
	}
	if (snprintf(p, sizeof(p), "%s/pts", dev) >= (int)sizeof(p) ||
	    mkdir(p, 0755) == -1 || mount("devpts", p, "devpts",
	    MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") ==
	    -1) {
		log_warn("devpts");
		return -1;
	}
	if (snprintf(p, sizeof(p), "%s/shm", dev) >= (int)sizeof(p) ||
	    mkdir(p, 01777) == -1 || mounts_tmpfs(p, "mode=1777", "shm",
	    MS_NODEV) == -1)
		return -1;
	return 0;
}

/* Nothing to hide where the path does not exist in the agent's tree. */
static int
mounts_hide(const char *root, const char *path)
{
	char		 p[PATH_MAX];
	struct stat	 st;

	if (path == NULL || path[0] != '/' || mounts_path(p, root, path) == -1)
		return 0;
	if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode))
		return 0;
	if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, "mode=0000,size=4k") == -1) {
		log_warn("hide %s", path);
		return -1;
	}
	return 0;
}

/* The old root goes entirely: nothing of the host is left above /. */
static int
mounts_pivot(const char *root)
{
	if (chdir(root) == -1 || syscall(SYS_pivot_root, ".", ".") == -1 ||
	    umount2(".", MNT_DETACH) == -1 || chdir("/") == -1) {
		log_warn("pivot_root %s", root);
		return -1;
	}
	return 0;
}
