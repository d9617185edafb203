/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Binary identity for proxyd (sandbox.md §2.3, fixing G5).  proxyd
 * cannot see the agent's processes; for each accepted connection it
 * asks us (IPC_PROXY_IDENT) and we, root, answer from /proc:
 *
 *  1. the agent netns's TCP socket whose BOTH ends match the
 *     connection (local = the client's address and port, remote = the
 *     proxy's), ESTABLISHED, and its inode: one exact sock_diag lookup
 *     (NETLINK_SOCK_DIAG, a socket made in the agent's netns), or, if
 *     that is unavailable, the rows of /proc/<reaper>/net/tcp, tcp6;
 *  2. every process of the sandbox's PID namespace holding
 *     socket:[inode].  If they differ in exe or ancestry, the socket was
 *     passed or inherited across an identity boundary: deny ("socket
 *     shared between processes").  Borrowing an allowed process's
 *     socket lends no identity.  The members are listed by the agent's
 *     own procfs (/proc/<reaper>/root/proc, checked to be that PID
 *     namespace's), which holds only them: a few entries, where the
 *     host's /proc holds every process of the machine.  Pids, parents
 *     and ancestors are then the sandbox's (the reaper is 1, a parent
 *     outside is 0);
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

/*
 * c_diag and c_ns belong to the agent of c_reaper; a new reaper (or
 * none) drops them.  c_host is the host's /proc, the fallback.
 */
struct ident_cache {
	TAILQ_HEAD(, ident_fp)	 c_fps;
	pid_t			 c_reaper;
	int			 c_diag;	/* NETLINK_SOCK_DIAG, or -1 */
	int			 c_ns;		/* the agent's procfs, or -1 */
	int			 c_host;	/* /proc */
};

/* Where the processes are looked at: a procfs and its numbering. */
struct ident_view {
	int			 v_fd;		/* the procfs */
	pid_t			 v_stop;	/* the reaper, in it */
	int			 v_ns;		/* the agent's: pid = NSpid */
};

/* One walk over a procfs for the holders of a socket. */
struct ident_scan {
	const struct ident_view	*s_v;
	struct stat		 s_ns;		/* host view: the pid ns */
	char			 s_want[64];	/* socket:[inode] */
	pid_t			*s_hold;
	int			 s_max;
	int			 s_n;
	int			 s_seen;	/* v_stop was listed */
	int			 s_fd;		/* a process's fd dir */
	int			 s_found;
};

/*
 * Where the pids start in a procfs root listing (the kernel's
 * TGID_OFFSET): a seek there skips the ~50 fixed entries.  Were it
 * ever wrong, the reaper would be missing from the listing, and we
 * list from the start again.
 */
#define IDENT_FIRST_PID	258

/* The identity of one process. */
struct ident {
	pid_t			 i_pid;		/* in the view of ident_of */
	pid_t			 i_nspid;	/* in the sandbox's pid ns */
	char			 i_exe[PATH_MAX];
	struct policy_strv	 i_anc;
	struct policy_strv	 i_cmd;
};

static int	 ident_addr(const char *, int, uint32_t *);
static uint32_t	 ident_word(const char *);
static void	 ident_attach(struct sandbox *);
static void	 ident_detach(struct ident_cache *);
static int	 ident_diag_open(struct sandbox *);
static int	 ident_ns_open(pid_t);
static int	 ident_socket(struct sandbox *, const char *, uint16_t,
		    const char *, uint16_t, unsigned long *);
static int	 ident_diag(int, const char *, uint16_t, const char *,
		    uint16_t, unsigned long *);
static int	 ident_resolve(struct sandbox *, const char *, uint16_t,
		    const char *, uint16_t, struct ident *, char *, size_t);
static int	 ident_holders(struct sandbox *, struct ident_view *,
		    unsigned long, pid_t *, int);
static int	 ident_dir(int, off_t, int (*)(struct ident_scan *,
		    const char *), struct ident_scan *);
static int	 ident_scan_pid(struct ident_scan *, const char *);
static int	 ident_scan_fd(struct ident_scan *, const char *);
static int	 ident_of(struct sandbox *, const struct ident_view *, pid_t,
		    struct ident *, char *, size_t);
static int	 ident_exe(struct sandbox *, int, pid_t, char *, size_t);
static int	 ident_status(const struct ident_view *, pid_t, pid_t *,
		    pid_t *);
static ssize_t	 ident_read(int, pid_t, const char *, char *, size_t);
static void	 ident_cmdline(int, pid_t, struct ident *);
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
	c->c_diag = c->c_ns = -1;
	if ((c->c_host = open("/proc", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		free(c);
		return NULL;
	}
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
	ident_detach(c);
	close(c->c_host);
	free(c);
}

static void
ident_detach(struct ident_cache *c)
{
	if (c->c_diag != -1)
		close(c->c_diag);
	if (c->c_ns != -1)
		close(c->c_ns);
	c->c_diag = c->c_ns = -1;
	c->c_reaper = 0;
}

/*
 * The agent's netns and procfs, opened once per reaper.  Either may
 * stay -1 (no proc in a prepared root, an odd kernel): it is tried
 * again at the next lookup, and meanwhile the slower ways give the
 * same answer.
 */
static void
ident_attach(struct sandbox *sb)
{
	struct ident_cache	*c = sb->sb_ident;

	if (c->c_reaper != sb->sb_reaper)
		ident_detach(c);
	if (sb->sb_reaper <= 0)
		return;		/* the agent is gone: let its netns go */
	c->c_reaper = sb->sb_reaper;
	if (c->c_diag == -1 && (c->c_diag = ident_diag_open(sb)) == -1)
		log_debug("ident: no sock_diag, /proc/net/tcp it is");
	if (c->c_ns == -1 && (c->c_ns = ident_ns_open(sb->sb_reaper)) == -1)
		log_debug("ident: no agent procfs, scanning /proc");
}

/*
 * A sock_diag socket of the agent's netns (a netlink socket answers
 * for the netns it was made in), or -1.  The caller owns it.
 */
static int
ident_diag_open(struct sandbox *sb)
{
	int	 s;

	if (sb->sb_nn.nn_agent < 0 ||
	    setns(sb->sb_nn.nn_agent, CLONE_NEWNET) == -1)
		return -1;
	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (setns(sb->sb_nn.nn_orig, CLONE_NEWNET) == -1)
		fatal("ident: setns back to our netns");
	return s;
}

/*
 * The procfs the reaper mounted for its PID namespace, or -1.  It must
 * be a procfs whose pid 1 is in the reaper's PID namespace, i.e. that
 * namespace's own: then it lists the sandbox's processes and nothing
 * else.  The agent cannot move it (no mount rights, a busy mount
 * point).  The caller owns the fd.
 */
static int
ident_ns_open(pid_t reaper)
{
	struct statfs	 fs;
	struct stat	 want, got;
	char		 p[64];
	int		 fd;

	snprintf(p, sizeof(p), "/proc/%d/root/proc", (int)reaper);
	if ((fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)reaper);
	if (fstatfs(fd, &fs) == -1 || fs.f_type != PROC_SUPER_MAGIC ||
	    stat(p, &want) == -1 || fstatat(fd, "1/ns/pid", &got, 0) == -1 ||
	    got.st_ino != want.st_ino || got.st_dev != want.st_dev) {
		close(fd);
		return -1;
	}
	return fd;
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
	/* Out now, not after a loop turn: a connection waits for it. */
	if (proc_send_wr(&sb->sb_tree, PROC_PROXY, IPC_PROXY_IDENT_RESULT,
	    reqid, -1, &w) == -1)
		log_warn("proxyd: ident result");
}

static int
ident_resolve(struct sandbox *sb, const char *src, uint16_t sport,
    const char *dst, uint16_t dport, struct ident *id, char *err,
    size_t errlen)
{
	struct ident		 other;
	struct ident_view	 v;
	unsigned long		 inode = 0;
	pid_t			 hold[IDENT_MAXHOLD];
	int			 n, i, r;

	ident_attach(sb);
	if (sb->sb_reaper <= 0) {
		snprintf(err, errlen, "no agent");
		return -1;
	}
	if (ident_socket(sb, src, sport, dst, dport, &inode) == -1) {
		snprintf(err, errlen, "no established socket for %s:%u",
		    src, sport);
		return -1;
	}
	if ((n = ident_holders(sb, &v, inode, hold, IDENT_MAXHOLD)) <= 0) {
		snprintf(err, errlen, "no process owns socket %lu", inode);
		return -1;
	}
	if (ident_of(sb, &v, hold[0], id, err, errlen) == -1)
		return -1;
	for (i = 1; i < n; i++) {
		memset(&other, 0, sizeof(other));
		r = ident_of(sb, &v, hold[i], &other, err, errlen);
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

/* The inode of the agent's end of the connection; 0 or -1. */
static int
ident_socket(struct sandbox *sb, const char *src, uint16_t sport,
    const char *dst, uint16_t dport, unsigned long *inode)
{
	char	 path[64];
	int	 r;

	if (sb->sb_ident->c_diag != -1) {
		r = ident_diag(sb->sb_ident->c_diag, src, sport, dst, dport,
		    inode);
		if (r != -2)
			return r;
	}
	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)sb->sb_reaper);
	if (ident_tcp_find(path, src, sport, dst, dport, inode) == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int)sb->sb_reaper);
	return ident_tcp_find(path, src, sport, dst, dport, inode);
}

/*
 * One exact sock_diag lookup by both ends (the kernel's own hash
 * lookup, as for an arriving segment): 0 with the inode of an
 * ESTABLISHED socket, -1 when there is none, -2 when the lookup itself
 * failed (the caller falls back to /proc/net/tcp).  An IPv4 lookup
 * also finds a dual-stack socket on a v4-mapped address.
 */
static int
ident_diag(int s, const char *src, uint16_t sport, const char *dst,
    uint16_t dport, unsigned long *inode)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req_v2	r;
	}			 req;
	struct sockaddr_nl	 nl = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr		nh;
		char			buf[1024];
	}			 ans;
	struct inet_diag_msg	*m;
	struct nlmsgerr		*e;
	static uint32_t		 seq;
	ssize_t			 n;
	int			 fam;

	memset(&req, 0, sizeof(req));
	fam = strchr(src, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(fam, src, req.r.id.idiag_src) != 1 ||
	    inet_pton(fam, dst, req.r.id.idiag_dst) != 1)
		return -1;
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = ++seq;
	req.r.sdiag_family = (uint8_t)fam;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1U << TCP_ESTABLISHED;
	req.r.id.idiag_sport = htons(sport);
	req.r.id.idiag_dport = htons(dport);
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] =
	    INET_DIAG_NOCOOKIE;
	if (sendto(s, &req, sizeof(req), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) != (ssize_t)sizeof(req))
		return -2;
	/* The kernel answers within sendto: nothing to wait for. */
	n = recv(s, &ans, sizeof(ans), MSG_DONTWAIT);
	if (n < (ssize_t)sizeof(ans.nh) || !NLMSG_OK(&ans.nh, (size_t)n) ||
	    ans.nh.nlmsg_seq != req.nh.nlmsg_seq)
		return -2;
	if (ans.nh.nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(&ans.nh);
		return ans.nh.nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) &&
		    e->error == -ENOENT ? -1 : -2;
	}
	m = NLMSG_DATA(&ans.nh);
	if (ans.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    ans.nh.nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -2;
	/* The lookup falls back to listeners and finds TIME_WAITs. */
	if (m->idiag_state != TCP_ESTABLISHED || m->idiag_inode == 0 ||
	    m->id.idiag_sport != req.r.id.idiag_sport ||
	    m->id.idiag_dport != req.r.id.idiag_dport)
		return -1;
	*inode = m->idiag_inode;
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

/*
 * The processes of the sandbox's PID namespace holding inode, in *v's
 * numbering: the agent's procfs when we have it, else every host pid
 * whose PID namespace is the reaper's.  The reaper holds none.
 */
static int
ident_holders(struct sandbox *sb, struct ident_view *v, unsigned long inode,
    pid_t *hold, int max)
{
	struct ident_cache	*c = sb->sb_ident;
	struct ident_scan	 sc;
	char			 p[64];

	v->v_ns = c->c_ns != -1;
	v->v_fd = v->v_ns ? c->c_ns : c->c_host;
	v->v_stop = v->v_ns ? 1 : sb->sb_reaper;
	memset(&sc, 0, sizeof(sc));
	sc.s_v = v;
	sc.s_hold = hold;
	sc.s_max = max;
	snprintf(sc.s_want, sizeof(sc.s_want), "socket:[%lu]", inode);
	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)sb->sb_reaper);
	if (!v->v_ns && stat(p, &sc.s_ns) == -1)
		return -1;
	if (ident_dir(v->v_fd, IDENT_FIRST_PID, ident_scan_pid, &sc) == -1)
		return -1;
	if (!sc.s_seen) {
		sc.s_n = 0;
		if (ident_dir(v->v_fd, 0, ident_scan_pid, &sc) == -1)
			return -1;
	}
	return sc.s_n;
}

/*
 * fn(sc, name) for each entry of the directory fd from offset off
 * (-1: where it is), until it returns nonzero; 0, or -1 on an error.  getdents64 itself:
 * a DIR costs an fstat and two fcntl per directory.
 */
static int
ident_dir(int fd, off_t off, int (*fn)(struct ident_scan *, const char *),
    struct ident_scan *sc)
{
	union {
		struct dirent64	 d;
		char		 b[8192];
	}		 u;
	struct dirent64	*de;
	ssize_t		 n, i;

	if (off >= 0 && lseek(fd, off, SEEK_SET) == -1)
		return -1;
	while ((n = getdents64(fd, u.b, sizeof(u.b))) > 0)
		for (i = 0; i < n; i += de->d_reclen) {
			de = (struct dirent64 *)(u.b + i);
			if (fn(sc, de->d_name))
				return 0;
		}
	return n == -1 ? -1 : 0;
}

/* A procfs root entry: does that process (of the sandbox) hold it? */
static int
ident_scan_pid(struct ident_scan *sc, const char *name)
{
	const struct ident_view	*v = sc->s_v;
	struct stat		 st;
	char			 p[64];
	pid_t			 pid;

	if (!isdigit((unsigned char)name[0]))
		return 0;
	pid = (pid_t)strtol(name, NULL, 10);
	if (pid == v->v_stop) {
		sc->s_seen = 1;
		return 0;
	}
	if (!v->v_ns) {
		snprintf(p, sizeof(p), "%d/ns/pid", (int)pid);
		if (fstatat(v->v_fd, p, &st, 0) == -1 ||
		    st.st_ino != sc->s_ns.st_ino || st.st_dev != sc->s_ns.st_dev)
			return 0;
	}
	snprintf(p, sizeof(p), "%d/fd", (int)pid);
	if ((sc->s_fd = openat(v->v_fd, p, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return 0;	/* gone, or a zombie */
	sc->s_found = 0;
	ident_dir(sc->s_fd, -1, ident_scan_fd, sc);
	close(sc->s_fd);
	if (sc->s_found)
		sc->s_hold[sc->s_n++] = pid;
	return sc->s_n >= sc->s_max;
}

/* An entry of a process's fd directory: the socket? */
static int
ident_scan_fd(struct ident_scan *sc, const char *name)
{
	char	 link[64];
	ssize_t	 n;

	if (name[0] == '.')
		return 0;
	n = readlinkat(sc->s_fd, name, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	sc->s_found = strcmp(link, sc->s_want) == 0;
	return sc->s_found;
}

/* exe, ancestors (up to the reaper) and cmdline paths of pid. */
static int
ident_of(struct sandbox *sb, const struct ident_view *v, pid_t pid,
    struct ident *id, char *err, size_t errlen)
{
	char	 exe[PATH_MAX];
	pid_t	 ppid, cur = pid, nspid;
	int	 depth;

	id->i_pid = pid;
	if (ident_status(v, pid, &ppid, &id->i_nspid) == -1 ||
	    ident_exe(sb, v->v_fd, pid, id->i_exe, sizeof(id->i_exe)) == -1) {
		snprintf(err, errlen, "binary integrity check failed for "
		    "pid %d", (int)pid);
		return -1;
	}
	ident_cmdline(v->v_fd, pid, id);
	for (depth = 0; depth < IDENT_MAXDEPTH && ppid > 1 &&
	    ppid != v->v_stop; depth++) {
		cur = ppid;
		if (ident_status(v, cur, &ppid, &nspid) == -1)
			break;
		if (ident_exe(sb, v->v_fd, cur, exe, sizeof(exe)) == -1) {
			snprintf(err, errlen, "ancestor integrity check "
			    "failed for pid %d", (int)nspid);
			return -1;
		}
		policy_strv_add(&id->i_anc, exe);
		ident_cmdline(v->v_fd, cur, id);
	}
	return 0;
}

/*
 * The running image of pid, checked against the file at its path in
 * the agent's root, and against the first sighting of that path.
 */
static int
ident_exe(struct sandbox *sb, int proc, pid_t pid, char *exe, size_t len)
{
	struct ident_fp	*f;
	struct stat	 run, file;
	char		 p[64], inroot[PATH_MAX + 64];
	ssize_t		 n;

	snprintf(p, sizeof(p), "%d/exe", (int)pid);
	if ((n = readlinkat(proc, p, exe, len - 1)) <= 0 ||
	    fstatat(proc, p, &run, 0) == -1)
		return -1;
	exe[n] = '\0';
	snprintf(inroot, sizeof(inroot), "%d/root%s", (int)pid, exe);
	if (fstatat(proc, inroot, &file, 0) == -1 ||
	    file.st_dev != run.st_dev || file.st_ino != run.st_ino)
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

/*
 * PPid and the innermost NSpid of pid, read with one read(2) each.  In
 * the agent's procfs pid is the NSpid already, and stat (a line of
 * numbers) is much cheaper for the kernel to write than status.
 */
static int
ident_status(const struct ident_view *v, pid_t pid, pid_t *ppid,
    pid_t *nspid)
{
	char	 buf[4096], *s, *e, *last;

	*nspid = pid;
	if (v->v_ns) {
		if (ident_read(v->v_fd, pid, "stat", buf, sizeof(buf)) <= 0 ||
		    (s = strrchr(buf, ')')) == NULL)
			return -1;
		/* ") S ppid ...": the state, then the parent */
		*ppid = (pid_t)strtol(s + 4, &e, 10);
		return s[1] == ' ' && s[3] == ' ' && e != s + 4 ? 0 : -1;
	}
	if (ident_read(v->v_fd, pid, "status", buf, sizeof(buf)) <= 0 ||
	    (s = strstr(buf, "\nPPid:")) == NULL)
		return -1;
	*ppid = (pid_t)strtol(s + 6, NULL, 10);
	if ((s = strstr(buf, "\nNSpid:")) != NULL) {
		if ((e = strchr(s + 1, '\n')) != NULL)
			*e = '\0';
		last = NULL;
		for (s = strtok(s + 7, " \t"); s != NULL;
		    s = strtok(NULL, " \t"))
			last = s;
		if (last != NULL)
			*nspid = (pid_t)strtol(last, NULL, 10);
	}
	return 0;
}

/* <pid>/<what> of a procfs into buf, NUL-terminated; its length. */
static ssize_t
ident_read(int proc, pid_t pid, const char *what, char *buf, size_t len)
{
	char	 p[64];
	ssize_t	 n;
	int	 fd;

	snprintf(p, sizeof(p), "%d/%s", (int)pid, what);
	if ((fd = openat(proc, p, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* argv elements that are absolute paths, other than the exes. */
static void
ident_cmdline(int proc, pid_t pid, struct ident *id)
{
	char	 buf[4096], *a;
	ssize_t	 n;

	if ((n = ident_read(proc, pid, "cmdline", buf, sizeof(buf))) <= 0)
		return;
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
