/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Binary identity for proxyd (sandbox.md §2.3, fixing G5).  proxyd
 * cannot see the agent's processes; for each accepted connection it
 * asks us (IPC_PROXY_IDENT) and we, root, answer from /proc:
 *
 *  1. the agent netns's TCP table (/proc/<reaper>/net/tcp, tcp6): the
 *     ESTABLISHED row whose BOTH ends match the connection (local = the
 *     client's address and port, remote = the proxy's), and its inode;
 *  2. every process of the sandbox's PID namespace holding
 *     socket:[inode].  If they differ in exe or ancestry, the socket was
 *     passed or inherited across an identity boundary: deny ("socket
 *     shared between processes").  Borrowing an allowed process's
 *     socket lends no identity;
 *  3. exe = the running image (stat of /proc/<pid>/exe), which must
 *     still be the file at its path in the agent's root ("binary
 *     integrity check failed" otherwise), and a trust-on-first-use
 *     fingerprint per path (dev, ino, size, mtime, ctime) -- no hashing
 *     on the hot path: the root is read-only, only /sandbox and /tmp
 *     can change, and the fingerprint catches that;
 *  4. ancestors by PPid up to (not including) the reaper, each checked
 *     the same way; cmdline paths for the log.
 */

#include <sys/queue.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpolicy/policy.h"
#include "log.h"
#include "supervisor.h"

#define IDENT_MAXDEPTH	64
#define IDENT_MAXHOLD	16

struct ident_fp {
	TAILQ_ENTRY(ident_fp)	 f_entry;
	char			*f_path;
	dev_t			 f_dev;
	ino_t			 f_ino;
	off_t			 f_size;
	struct timespec		 f_mtime;
	struct timespec		 f_ctime;
};

struct ident_cache {
	TAILQ_HEAD(, ident_fp)	 c_fps;
};

/* The identity of one process. */
struct ident {
	pid_t			 i_pid;		/* host pid */
	pid_t			 i_nspid;	/* in the sandbox's pid ns */
	char			 i_exe[PATH_MAX];
	struct policy_strv	 i_anc;
	struct policy_strv	 i_cmd;
};

static int	 ident_addr(const char *, int, uint32_t *);
static uint32_t	 ident_word(const char *);
static int	 ident_resolve(struct sandbox *, const char *, uint16_t,
		    const char *, uint16_t, struct ident *, char *, size_t);
static int	 ident_holders(pid_t, unsigned long, pid_t *, int);
static int	 ident_holds(pid_t, const char *);
static int	 ident_of(struct sandbox *, pid_t, struct ident *, char *,
		    size_t);
static int	 ident_exe(struct sandbox *, pid_t, char *, size_t);
static int	 ident_status(pid_t, pid_t *, pid_t *);
static void	 ident_cmdline(pid_t, struct ident *);
static int	 ident_same(const struct ident *, const struct ident *);
static void	 ident_clear(struct ident *);
static void	 ident_reply(struct sandbox *, uint32_t, int, const char *,
		    const struct ident *);

struct ident_cache *
ident_new(void)
{
	struct ident_cache	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	TAILQ_INIT(&c->c_fps);
	return c;
}

void
ident_free(struct ident_cache *c)
{
	struct ident_fp	*f;

	if (c == NULL)
		return;
	while ((f = TAILQ_FIRST(&c->c_fps)) != NULL) {
		TAILQ_REMOVE(&c->c_fps, f, f_entry);
		free(f->f_path);
		free(f);
	}
	free(c);
}

/* IPC_PROXY_IDENT from proxyd; 0 handled, -1 malformed (kill it). */
int
ident_dispatch(struct sandbox *sb, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct ident	 id;
	char		 src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char		 err[256];
	uint32_t	 n, sport, dport;
	int		 ok;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	ipc_rd_strbuf(&r, src, sizeof(src));
	ipc_rd_u32(&r, &sport);
	ipc_rd_strbuf(&r, dst, sizeof(dst));
	ipc_rd_u32(&r, &dport);
	ipc_rd_leave(&r);
	if (ipc_rd_end(&r) == -1 || n != 4 || sport > 65535 || dport > 65535)
		return -1;
	memset(&id, 0, sizeof(id));
	err[0] = '\0';
	ok = ident_resolve(sb, src, sport, dst, dport, &id, err,
	    sizeof(err)) == 0;
	if (!ok)
		log_debug("ident %s:%u: %s", src, sport, err);
	ident_reply(sb, ipc_peerid(msg), ok, err, &id);
	ident_clear(&id);
	return 0;
}

static void
ident_reply(struct sandbox *sb, uint32_t reqid, int ok, const char *err,
    const struct ident *id)
{
	struct ipc_wr	 w;
	size_t		 i;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 6);
	ipc_wr_bool(&w, ok);
	ipc_wr_str(&w, ok ? "" : err);
	ipc_wr_u32(&w, ok ? (uint32_t)id->i_nspid : 0);
	ipc_wr_str(&w, ok ? id->i_exe : "");
	ipc_wr_array(&w, ok ? (uint32_t)id->i_anc.n : 0);
	for (i = 0; ok && i < id->i_anc.n; i++)
		ipc_wr_str(&w, id->i_anc.v[i]);
	ipc_wr_array(&w, ok ? (uint32_t)id->i_cmd.n : 0);
	for (i = 0; ok && i < id->i_cmd.n; i++)
		ipc_wr_str(&w, id->i_cmd.v[i]);
	if (proc_compose_wr(&sb->sb_tree, PROC_PROXY, IPC_PROXY_IDENT_RESULT,
	    reqid, -1, &w) == -1)
		log_warn("proxyd: ident result");
}

static int
ident_resolve(struct sandbox *sb, const char *src, uint16_t sport,
    const char *dst, uint16_t dport, struct ident *id, char *err,
    size_t errlen)
{
	struct ident	 other;
	char		 path[64];
	unsigned long	 inode = 0;
	pid_t		 hold[IDENT_MAXHOLD];
	int		 n, i, r;

	if (sb->sb_reaper <= 0) {
		snprintf(err, errlen, "no agent");
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)sb->sb_reaper);
	r = ident_tcp_find(path, src, sport, dst, dport, &inode);
	if (r != 0) {
		snprintf(path, sizeof(path), "/proc/%d/net/tcp6",
		    (int)sb->sb_reaper);
		r = ident_tcp_find(path, src, sport, dst, dport, &inode);
	}
	if (r != 0) {
		snprintf(err, errlen, "no established socket for %s:%u",
		    src, sport);
		return -1;
	}
	if ((n = ident_holders(sb->sb_reaper, inode, hold, IDENT_MAXHOLD)) <=
	    0) {
		snprintf(err, errlen, "no process owns socket %lu", inode);
		return -1;
	}
	if (ident_of(sb, hold[0], id, err, errlen) == -1)
		return -1;
	for (i = 1; i < n; i++) {
		memset(&other, 0, sizeof(other));
		r = ident_of(sb, hold[i], &other, err, errlen);
		if (r == 0 && !ident_same(id, &other)) {
			if (snprintf(err, errlen, "socket shared between "
			    "processes (%s and %s)", id->i_exe,
			    other.i_exe) < 0)
				err[0] = '\0';
			r = -1;
		}
		ident_clear(&other);
		if (r == -1)
			return -1;
	}
	return 0;
}

/*
 * /proc/net/tcp[6] stores each address as the raw 32-bit words of the
 * network-order address, printed as %08X.
 */
static int
ident_addr(const char *ip, int v6, uint32_t *w)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	memset(w, 0, 4 * sizeof(*w));
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		if (!v6) {
			w[0] = a4.s_addr;
			return 0;
		}
		/* v4-mapped, as a dual-stack socket shows it */
		memset(&a6, 0, sizeof(a6));
		a6.s6_addr[10] = a6.s6_addr[11] = 0xff;
		memcpy(&a6.s6_addr[12], &a4, 4);
	} else if (!v6 || inet_pton(AF_INET6, ip, &a6) != 1)
		return -1;
	memcpy(w, &a6, 16);
	return 0;
}

/* Eight hex digits of a /proc/net/tcp address. */
static uint32_t
ident_word(const char *hex)
{
	char	 w[9];

	memcpy(w, hex, 8);
	w[8] = '\0';
	return (uint32_t)strtoul(w, NULL, 16);
}

/*
 * The inode of the ESTABLISHED socket whose local end is src:sport and
 * remote end dst:dport, from a /proc/<pid>/net/tcp or tcp6 file.
 * Returns 0, or -1 (no such row, or unreadable).  Exposed for the unit
 * test.
 */
int
ident_tcp_find(const char *path, const char *src, uint16_t sport,
    const char *dst, uint16_t dport, unsigned long *inode)
{
	FILE		*fp;
	char		*line = NULL, la[40], ra[40];
	size_t		 cap = 0;
	uint32_t	 ws[4], wd[4];
	unsigned int	 lp, rp, st;
	unsigned long	 ino;
	int		 v6, rc = -1, k, nw;

	v6 = strstr(path, "tcp6") != NULL;
	nw = v6 ? 4 : 1;
	if (ident_addr(src, v6, ws) == -1 || ident_addr(dst, v6, wd) == -1)
		return -1;
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (rc == -1 && getline(&line, &cap, fp) != -1) {
		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x "
		    "%x %*x:%*x %*x:%*x %*x %*u %*u %lu", la, &lp, ra, &rp, &st,
		    &ino) != 6)
			continue;
		if (st != 1 || ino == 0 || lp != sport || rp != dport ||
		    strlen(la) != (size_t)nw * 8 || strlen(ra) != (size_t)nw * 8)
			continue;
		for (k = 0; k < nw; k++)
			if (ident_word(la + k * 8) != ws[k] ||
			    ident_word(ra + k * 8) != wd[k])
				break;
		if (k == nw) {
			*inode = ino;
			rc = 0;
		}
	}
	free(line);
	fclose(fp);
	return rc;
}

/* Host pids of the processes in reaper's PID namespace holding inode. */
static int
ident_holders(pid_t reaper, unsigned long inode, pid_t *hold, int max)
{
	struct dirent	*de;
	struct stat	 ns, st;
	DIR		*d;
	char		 p[64], want[64];
	pid_t		 pid;
	int		 n = 0;

	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)reaper);
	if (stat(p, &ns) == -1 || (d = opendir("/proc")) == NULL)
		return -1;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (n < max && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)pid);
		if (pid == reaper || stat(p, &st) == -1 ||
		    st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue;
		if (ident_holds(pid, want))
			hold[n++] = pid;
	}
	closedir(d);
	return n;
}

static int
ident_holds(pid_t pid, const char *want)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[64], link[64];
	ssize_t		 n;
	int		 found = 0;

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	if ((d = opendir(p)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return found;
}

/* exe, ancestors (up to the reaper) and cmdline paths of pid. */
static int
ident_of(struct sandbox *sb, pid_t pid, struct ident *id, char *err,
    size_t errlen)
{
	char	 exe[PATH_MAX];
	pid_t	 ppid, cur = pid, nspid;
	int	 depth;

	id->i_pid = pid;
	if (ident_status(pid, &ppid, &id->i_nspid) == -1 ||
	    ident_exe(sb, pid, id->i_exe, sizeof(id->i_exe)) == -1) {
		snprintf(err, errlen, "binary integrity check failed for "
		    "pid %d", (int)pid);
		return -1;
	}
	ident_cmdline(pid, id);
	for (depth = 0; depth < IDENT_MAXDEPTH && ppid > 1 &&
	    ppid != sb->sb_reaper; depth++) {
		cur = ppid;
		if (ident_status(cur, &ppid, &nspid) == -1)
			break;
		if (ident_exe(sb, cur, exe, sizeof(exe)) == -1) {
			snprintf(err, errlen, "ancestor integrity check "
			    "failed for pid %d", (int)nspid);
			return -1;
		}
		policy_strv_add(&id->i_anc, exe);
		ident_cmdline(cur, id);
	}
	return 0;
}

/*
 * The running image of pid, checked against the file at its path in
 * the agent's root, and against the first sighting of that path.
 */
static int
ident_exe(struct sandbox *sb, pid_t pid, char *exe, size_t len)
{
	struct ident_fp	*f;
	struct stat	 run, file;
	char		 p[64], inroot[PATH_MAX + 64];
	ssize_t		 n;

	snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
	if ((n = readlink(p, exe, len - 1)) <= 0 || stat(p, &run) == -1)
		return -1;
	exe[n] = '\0';
	snprintf(inroot, sizeof(inroot), "/proc/%d/root%s", (int)pid, exe);
	if (stat(inroot, &file) == -1 || file.st_dev != run.st_dev ||
	    file.st_ino != run.st_ino)
		return -1;	/* replaced or deleted since exec */
	TAILQ_FOREACH(f, &sb->sb_ident->c_fps, f_entry)
		if (strcmp(f->f_path, exe) == 0)
			break;
	if (f == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL ||
		    (f->f_path = strdup(exe)) == NULL) {
			free(f);
			return -1;
		}
		f->f_dev = run.st_dev;
		f->f_ino = run.st_ino;
		f->f_size = run.st_size;
		f->f_mtime = run.st_mtim;
		f->f_ctime = run.st_ctim;
		TAILQ_INSERT_HEAD(&sb->sb_ident->c_fps, f, f_entry);
		return 0;
	}
	if (f->f_dev != run.st_dev || f->f_ino != run.st_ino ||
	    f->f_size != run.st_size ||
	    f->f_mtime.tv_sec != run.st_mtim.tv_sec ||
	    f->f_mtime.tv_nsec != run.st_mtim.tv_nsec ||
	    f->f_ctime.tv_sec != run.st_ctim.tv_sec ||
	    f->f_ctime.tv_nsec != run.st_ctim.tv_nsec)
		return -1;
	return 0;
}

/* PPid (host) and the innermost NSpid of pid. */
static int
ident_status(pid_t pid, pid_t *ppid, pid_t *nspid)
{
	FILE	*fp;
	char	 p[64], *line = NULL, *s, *last;
	size_t	 cap = 0;
	int	 got = 0;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	if ((fp = fopen(p, "re")) == NULL)
		return -1;
	*nspid = pid;
	while (getline(&line, &cap, fp) != -1) {
		if (strncmp(line, "PPid:", 5) == 0) {
			*ppid = (pid_t)strtol(line + 5, NULL, 10);
			got = 1;
		} else if (strncmp(line, "NSpid:", 6) == 0) {
			last = NULL;
			for (s = strtok(line + 6, " \t\n"); s != NULL;
			    s = strtok(NULL, " \t\n"))
				last = s;
			if (last != NULL)
				*nspid = (pid_t)strtol(last, NULL, 10);
		}
	}
	free(line);
	fclose(fp);
	return got ? 0 : -1;
}

/* argv elements that are absolute paths, other than the exes. */
static void
ident_cmdline(pid_t pid, struct ident *id)
{
	char	 p[64], buf[4096];
	ssize_t	 n;
	int	 fd;
	char	*a;

	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (a = buf; a < buf + n; a += strlen(a) + 1)
		if (a[0] == '/' && strcmp(a, id->i_exe) != 0 &&
		    !policy_strv_has(&id->i_anc, a) &&
		    !policy_strv_has(&id->i_cmd, a))
			policy_strv_add(&id->i_cmd, a);
}

static int
ident_same(const struct ident *a, const struct ident *b)
{
	size_t	 i;

	if (strcmp(a->i_exe, b->i_exe) != 0 || a->i_anc.n != b->i_anc.n)
		return 0;
	for (i = 0; i < a->i_anc.n; i++)
		if (strcmp(a->i_anc.v[i], b->i_anc.v[i]) != 0)
			return 0;
	return 1;
}

static void
ident_clear(struct ident *id)
{
	policy_strv_free(&id->i_anc);
	policy_strv_free(&id->i_cmd);
}
