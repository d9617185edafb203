/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * `sandbox upload' and `sandbox download' (control-plane.md §4.9): an
 * uncompressed tar stream over the system ssh (ProxyCommand ssh-proxy).
 * Local tar makes or unpacks the stream; this process sits in the
 * middle to count the bytes (a progress line on a terminal) and to
 * check that everything tar produced went through.  Upload takes the
 * file list from git (`git ls-files -co --exclude-standard -z') unless
 * --no-git-ignore or the source is not in a work tree.  Symlinks, modes
 * and mtimes travel in the tar headers; both ends unpack with `p'.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define SYNC_REMOTE_MAX	(4 * PATH_MAX + 1024)

struct sync_plan {
	char	 dir[PATH_MAX];		/* local tar -C */
	char	 entry[PATH_MAX];	/* single file: its name, else "" */
	char	 rename[PATH_MAX];	/* single file: the new name */
	char	 rdir[PATH_MAX];	/* remote directory ("" = $HOME) */
	char	 list[PATH_MAX];	/* NUL-separated file list, or "" */
};

static int	 sync_plan(const char *, const char *, struct sync_plan *);
static int	 sync_git_list(const char *, char *, size_t);
static pid_t	 sync_spawn(char **, int, int, int);
static int	 sync_relay(int, int, const char *);
static void	 sync_progress(const char *, uint64_t, int);
static int	 sync_ssh(const char *, const char *, int, int, pid_t *);

/* sandbox upload <name> <local> [dest] [--no-git-ignore] */
int
sync_upload(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-git-ignore",	no_argument,	NULL,	'G' },
		{ NULL,			0,		NULL,	0 }
	};
	struct sync_plan	 p;
	char			 remote[SYNC_REMOTE_MAX], q[PATH_MAX + 64];
	char			*tv[16], xform[2 * PATH_MAX + 16];
	int			 ch, nogit = 0, tp[2], sp[2], n = 0, rc, direct;
	pid_t			 tar, ssh;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'G')
			return 1;
		nogit = 1;
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3) {
		cli_warnx("usage: sandbox upload <name> <local> [dest] "
		    "[--no-git-ignore]");
		return 1;
	}
	if (sync_plan(argv[1], argc == 3 ? argv[2] : NULL, &p) == -1)
		return 1;
	if (!nogit && p.entry[0] == '\0' &&
	    sync_git_list(p.dir, p.list, sizeof(p.list)) == -1)
		return 1;
	if (p.rdir[0] == '\0')
		strlcpy(q, "\"$HOME\"", sizeof(q));
	else if (sshcmd_quote(q, sizeof(q), p.rdir) == -1)
		return 1;
	if (snprintf(remote, sizeof(remote), "mkdir -p %s && cat | tar xpf - "
	    "-C %s", q, q) >= (int)sizeof(remote))
		return 1;
	tv[n++] = "tar";
	tv[n++] = "cf";
	tv[n++] = "-";
	tv[n++] = "-C";
	tv[n++] = p.dir;
	if (p.entry[0] != '\0') {
		if (p.rename[0] != '\0') {
			if (snprintf(xform, sizeof(xform),
			    "--transform=s|^%s$|%s|", p.entry, p.rename) >=
			    (int)sizeof(xform))
				return 1;
			tv[n++] = xform;
		}
		tv[n++] = "--";
		tv[n++] = p.entry;
	} else if (p.list[0] != '\0') {
		tv[n++] = "--null";
		tv[n++] = "--no-recursion";
		tv[n++] = "-T";
		tv[n++] = p.list;
	} else
		tv[n++] = ".";
	tv[n] = NULL;
	if (pipe2(tp, O_CLOEXEC) == -1 || pipe2(sp, O_CLOEXEC) == -1) {
		cli_warnx("pipe: %s", strerror(errno));
		return 1;
	}
	/* Without a terminal there is no progress to show: tar writes
	 * straight into ssh, a copy and a process hop fewer per byte. */
	direct = !isatty(STDERR_FILENO);
	tar = sync_spawn(tv, -1, direct ? sp[1] : tp[1], -1);
	close(tp[1]);
	if (tar == -1 || sync_ssh(argv[0], remote, sp[0], -1, &ssh) == -1)
		return 1;
	close(sp[0]);
	rc = direct ? 0 : sync_relay(tp[0], sp[1], "Uploading");
	close(tp[0]);
	close(sp[1]);
	rc |= sshcmd_wait(tar) != 0;
	rc |= sshcmd_wait(ssh) != 0;
	if (p.list[0] != '\0')
		unlink(p.list);
	if (rc != 0)
		cli_warnx("upload failed");
	return rc != 0;
}

/*
 * Directory: its contents at `.'.  File: an entry named after it; a
 * dest not ending in '/' names the new file (parent dir + name) unless
 * the parent would be "/".
 */
static int
sync_plan(const char *local, const char *dest, struct sync_plan *p)
{
	struct stat	 st;
	char		 tmp[PATH_MAX], *slash;
	size_t		 len;

	memset(p, 0, sizeof(*p));
	if (stat(local, &st) == -1) {
		cli_warnx("%s: %s", local, strerror(errno));
		return -1;
	}
	if (dest != NULL && strlcpy(p->rdir, dest, sizeof(p->rdir)) >=
	    sizeof(p->rdir))
		return -1;
	if (S_ISDIR(st.st_mode))
		return strlcpy(p->dir, local, sizeof(p->dir)) < sizeof(p->dir) ?
		    0 : -1;
	strlcpy(tmp, local, sizeof(tmp));
	strlcpy(p->entry, basename(tmp), sizeof(p->entry));
	strlcpy(tmp, local, sizeof(tmp));
	strlcpy(p->dir, dirname(tmp), sizeof(p->dir));
	len = strlen(p->rdir);
	if (dest == NULL || len == 0 || p->rdir[len - 1] == '/')
		return 0;
	if ((slash = strrchr(p->rdir, '/')) == NULL || slash == p->rdir)
		return 0;
	if (strpbrk(slash + 1, "|\\&") != NULL ||
	    strpbrk(p->entry, "|\\&.*[]^$") != NULL)
		return 0;	/* not expressible in --transform: keep name */
	strlcpy(p->rename, slash + 1, sizeof(p->rename));
	*slash = '\0';
	return 0;
}

/*
 * The git file list of dir into a temporary file (its path into out);
 * out stays "" when dir is not in a work tree.  Listed files that are
 * gone (deleted, not yet staged) are left out.
 */
static int
sync_git_list(const char *dir, char *out, size_t outlen)
{
	char	*gv[] = { "git", "-C", (char *)dir, "ls-files", "-co",
		    "--exclude-standard", "-z", NULL };
	char	 buf[65536], path[PATH_MAX * 2], *name;
	size_t	 have = 0, i, start;
	ssize_t	 n;
	pid_t	 pid;
	int	 pp[2], fd, devnull;
	struct stat st;

	out[0] = '\0';
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
	    pipe2(pp, O_CLOEXEC) == -1)
		return -1;
	pid = sync_spawn(gv, -1, pp[1], devnull);
	close(pp[1]);
	close(devnull);
	if (pid == -1)
		return -1;
	snprintf(out, outlen, "%s/openshell-upload.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if ((fd = mkstemp(out)) == -1) {
		out[0] = '\0';
		close(pp[0]);
		sshcmd_wait(pid);
		return -1;
	}
	while ((n = read(pp[0], buf + have, sizeof(buf) - have)) > 0) {
		have += (size_t)n;
		for (start = 0, i = 0; i < have; i++) {
			if (buf[i] != '\0')
				continue;
			name = buf + start;
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if (lstat(path, &st) == 0 &&
			    write(fd, name, i - start + 1) == -1)
				break;
			start = i + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	close(pp[0]);
	close(fd);
	if (sshcmd_wait(pid) != 0) {
		unlink(out);	/* not a git work tree: everything */
		out[0] = '\0';
	}
	return 0;
}

/* sandbox download <name> <path> [dest=.] */
int
sync_download(int argc, char **argv)
{
	char	 remote[SYNC_REMOTE_MAX], path[PATH_MAX], tmp[PATH_MAX];
	char	 qp[PATH_MAX + 64], qd[PATH_MAX + 64], qb[PATH_MAX + 64];
	char	*tv[8], *dest;
	size_t	 len;
	int	 sp[2], rc;
	pid_t	 tar, ssh;

	if (argc < 3 || argc > 4) {
		cli_warnx("usage: sandbox download <name> <path> [dest]");
		return 1;
	}
	dest = argc == 4 ? argv[3] : ".";
	strlcpy(path, argv[2], sizeof(path));
	for (len = strlen(path); len > 1 && path[len - 1] == '/'; len--)
		path[len - 1] = '\0';
	strlcpy(tmp, path, sizeof(tmp));
	if (sshcmd_quote(qp, sizeof(qp), path) == -1 ||
	    sshcmd_quote(qd, sizeof(qd), dirname(tmp)) == -1)
		return 1;
	strlcpy(tmp, path, sizeof(tmp));
	if (sshcmd_quote(qb, sizeof(qb), basename(tmp)) == -1)
		return 1;
	if (snprintf(remote, sizeof(remote), "if [ -d %s ]; then tar cf - "
	    "-C %s .; else tar cf - -C %s %s; fi", qp, qp, qd, qb) >=
	    (int)sizeof(remote)) {
		cli_warnx("path too long");
		return 1;
	}
	if (mkdir(dest, 0777) == -1 && errno != EEXIST) {
		cli_warnx("%s: %s", dest, strerror(errno));
		return 1;
	}
	tv[0] = "tar";
	tv[1] = "xpf";
	tv[2] = "-";
	tv[3] = "-C";
	tv[4] = dest;
	tv[5] = NULL;
	if (pipe2(sp, O_CLOEXEC) == -1)
		return 1;
	if (sync_ssh(argv[1], remote, -1, sp[1], &ssh) == -1)
		return 1;
	close(sp[1]);
	if (!isatty(STDERR_FILENO)) {
		/* No progress to show: tar reads straight from ssh. */
		tar = sync_spawn(tv, sp[0], -1, -1);
		rc = tar == -1;
	} else {
		int	 tp[2];

		/* Relayed only to count the bytes for the progress line. */
		if (pipe2(tp, O_CLOEXEC) == -1)
			return 1;
		tar = sync_spawn(tv, tp[0], -1, -1);
		close(tp[0]);
		rc = tar == -1 || sync_relay(sp[0], tp[1], "Downloading");
		close(tp[1]);
	}
	close(sp[0]);
	rc |= sshcmd_wait(ssh) != 0;
	rc |= tar == -1 || sshcmd_wait(tar) != 0;
	if (rc != 0)
		cli_warnx("download failed");
	return rc != 0;
}

/* ssh -T to the named sandbox running remote; -1 after a message. */
static int
sync_ssh(const char *name, const char *remote, int in, int out, pid_t *pid)
{
	struct ssh_target	 t;
	struct ssh_argv		 a;

	if (sshcmd_target(name, &t, 0) == -1 || sshcmd_base(&a, &t) == -1)
		return -1;
	sshcmd_add(&a, "-T");
	sshcmd_add(&a, "-o");
	sshcmd_add(&a, "RequestTTY=no");
	/* Bulk data: AES-GCM first (AES-NI at both ends; OpenSSH's own
	 * ChaCha20 costs ssh about three times the CPU per byte).  The
	 * default list follows, so nothing else is refused. */
	sshcmd_add(&a, "-o");
	sshcmd_add(&a, "Ciphers=^aes128-gcm@openssh.com,"
	    "aes256-gcm@openssh.com");
	sshcmd_add(&a, a.a_host);
	sshcmd_add(&a, remote);
	if ((*pid = sync_spawn(a.a_v, in, out, -1)) == -1)
		return -1;
	return 0;
}

/* fork + execvp with the given fds as 0/1/2 (-1: inherited). */
static pid_t
sync_spawn(char **argv, int in, int out, int err)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		cli_warnx("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((in != -1 && dup2(in, STDIN_FILENO) == -1) ||
		    (out != -1 && dup2(out, STDOUT_FILENO) == -1) ||
		    (err != -1 && dup2(err, STDERR_FILENO) == -1))
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Everything from in to out; 0 if all of it was written. */
static int
sync_relay(int in, int out, const char *what)
{
	char		 buf[65536];
	uint64_t	 total = 0;
	ssize_t		 n, w, off;
	int		 tty = isatty(STDERR_FILENO);

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if ((n = read(in, buf, sizeof(buf))) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				return -1;
		}
		total += (uint64_t)n;
		if (tty)
			sync_progress(what, total, 0);
	}
	if (tty)
		sync_progress(what, total, 1);
	return n == 0 ? 0 : -1;
}

static void
sync_progress(const char *what, uint64_t total, int last)
{
	static time_t	 shown;
	time_t		 now = time(NULL);
	int		 width = 30, fill;

	if (last == 0 && now == shown)
		return;
	shown = now;
	fill = (int)((total / 65536) % (uint64_t)(width + 1));
	fprintf(stderr, "\r%s [%-*.*s] %llu KiB%s", what, width,
	    last ? width : fill, "##############################",
	    (unsigned long long)(total / 1024), last ? "\n" : "");
	fflush(stderr);
}
