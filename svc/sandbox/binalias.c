/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Binary paths that are symlinks.  A policy names /usr/bin/python3;
 * the kernel reports the running image, /usr/bin/python3.11, and the
 * identity (ident.c) never trusts argv[0].  So for every exact binary
 * path of the policy that resolves, in the agent's root, to another
 * file, proxyd's copy of the policy also lists that file.  The copy
 * kept by the gateway does not change.
 *
 * Only what the agent cannot arrange is followed.  In its mount
 * namespace (mounts.c) a path outside the policy's read_write list
 * and its own /sandbox, /tmp, /proc, /dev and /sys is either absent or
 * the host's file, read-only: no step may enter one of those places,
 * and the file reached must be a regular file.  Otherwise the path
 * keeps matching only itself.
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpolicy/policy.h"
#include "log.h"
#include "supervisor.h"

#define BINALIAS_MAXLINKS	40

static const char *const binalias_agents[] = {
	"/sandbox", "/tmp", "/proc", "/dev", "/sys",
};

static int	 binalias_under(const char *, const char *);
static int	 binalias_agents_place(const char *, const struct policy_strv *);
static int	 binalias_lstat(const char *, const char *, struct stat *);
static int	 binalias_step(const char *, const struct policy_strv *,
		    char *, size_t, char *, size_t, int *);

/*
 * Adds the alias of every exact binary path of p that has one.
 * Returns how many were added.
 */
int
binalias_policy(struct policy *p, const char *root)
{
	struct policy_netrule	*r;
	char			 to[PATH_MAX];
	const char		*path;
	size_t			 i, j, n0;
	int			 added = 0;

	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		n0 = r->nbinaries;
		for (j = 0; j < n0; j++) {
			path = policy_s(r->binaries[j].path);
			if (strchr(path, '*') != NULL || binalias_resolve(root,
			    path, &p->read_write, to, sizeof(to)) != 1 ||
			    binalias_listed(r, to))
				continue;
			if (policy_binary_add(r, to) == NULL)
				fatal("%s", __func__);
			log_info("policy %s: binary %s is %s", r->key, path, to);
			added++;
		}
	}
	return added;
}

int
binalias_listed(const struct policy_netrule *r, const char *path)
{
	size_t	 i;

	for (i = 0; i < r->nbinaries; i++)
		if (strcmp(policy_s(r->binaries[i].path), path) == 0)
			return 1;
	return 0;
}

/*
 * path (absolute, normalised) in the agent's root (root: "/" or a
 * prepared root filesystem), followed through symlinks as the kernel
 * would from that root.  1 with the file reached in out when that is
 * another path and safe to grant (see above); 0 when path is no
 * symlink or leads nowhere; -1 when a step is not safe.
 */
int
binalias_resolve(const char *root, const char *path,
    const struct policy_strv *rw, char *out, size_t len)
{
	char		 todo[PATH_MAX], done[PATH_MAX];
	struct stat	 st;
	int		 links = 0, r;

	if (path[0] != '/' || strlcpy(todo, path, sizeof(todo)) >=
	    sizeof(todo))
		return -1;
	done[0] = '\0';
	while (todo[0] != '\0')
		if ((r = binalias_step(root, rw, todo, sizeof(todo), done,
		    sizeof(done), &links)) != 1)
			return r;
	if (done[0] == '\0' || strcmp(done, path) == 0)
		return 0;
	if (binalias_lstat(root, done, &st) == -1 || !S_ISREG(st.st_mode) ||
	    strlcpy(out, done, len) >= len)
		return -1;
	return 1;
}

/*
 * Moves the first component of todo onto done, replacing a symlink by
 * its target.  1 to go on, 0 when the path does not exist, -1 when it
 * is not safe or too long.
 */
static int
binalias_step(const char *root, const struct policy_strv *rw, char *todo,
    size_t tlen, char *done, size_t dlen, int *links)
{
	char		 comp[NAME_MAX + 1], cand[PATH_MAX], full[PATH_MAX];
	char		 link[PATH_MAX], rest[PATH_MAX], *s = todo, *e, *slash;
	struct stat	 st;
	ssize_t		 n;

	while (*s == '/')
		s++;
	if ((e = strchr(s, '/')) == NULL)
		e = s + strlen(s);
	if ((size_t)(e - s) >= sizeof(comp))
		return -1;
	memcpy(comp, s, (size_t)(e - s));
	comp[e - s] = '\0';
	if (strlcpy(rest, e, sizeof(rest)) >= sizeof(rest))
		return -1;
	if (comp[0] == '\0' || strcmp(comp, ".") == 0) {
		strlcpy(todo, rest, tlen);
		return 1;
	}
	if (strcmp(comp, "..") == 0) {	/* never above the root */
		if ((slash = strrchr(done, '/')) != NULL)
			*slash = '\0';
		strlcpy(todo, rest, tlen);
		return 1;
	}
	if (snprintf(cand, sizeof(cand), "%s/%s", done, comp) >=
	    (int)sizeof(cand) || binalias_agents_place(cand, rw))
		return -1;
	if (binalias_lstat(root, cand, &st) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (!S_ISLNK(st.st_mode)) {
		strlcpy(done, cand, dlen);
		strlcpy(todo, rest, tlen);
		return 1;
	}
	if (++*links > BINALIAS_MAXLINKS ||
	    snprintf(full, sizeof(full), "%s%s", strcmp(root, "/") == 0 ?
	    "" : root, cand) >= (int)sizeof(full) ||
	    (n = readlink(full, link, sizeof(link) - 1)) <= 0)
		return -1;
	link[n] = '\0';
	if (link[0] == '/')
		done[0] = '\0';		/* from the root again */
	if (snprintf(todo, tlen, "%s%s", link, rest) >= (int)tlen)
		return -1;
	return 1;
}

static int
binalias_lstat(const char *root, const char *path, struct stat *st)
{
	char	 full[PATH_MAX];

	if (snprintf(full, sizeof(full), "%s%s", strcmp(root, "/") == 0 ?
	    "" : root, path) >= (int)sizeof(full)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return lstat(full, st);
}

/* Where the agent's view is its own, or writable by it. */
static int
binalias_agents_place(const char *path, const struct policy_strv *rw)
{
	size_t	 i;

	for (i = 0; i < sizeof(binalias_agents) / sizeof(binalias_agents[0]);
	    i++)
		if (binalias_under(path, binalias_agents[i]))
			return 1;
	for (i = 0; rw != NULL && i < rw->n; i++)
		if (binalias_under(path, rw->v[i]))
			return 1;
	return 0;
}

/* path is dir or below it. */
static int
binalias_under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}
