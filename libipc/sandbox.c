/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

/*
 * NAME
 *	sandbox -- privilege drop, capabilities, unveil on Landlock and
 *	pledge on seccomp
 *
 * DESCRIPTION
 *	sandbox_privdrop(uid, gid), for a root process only, clears the
 *	ambient and bounding capability sets and locks the securebits, then
 *	setgroups(1, &gid), setresgid, setresuid, and verifies the ids, the
 *	groups, that setuid(0)/setgid(0) now fail and that no capability is
 *	left.  sandbox_nnp() sets PR_SET_NO_NEW_PRIVS.  sandbox_dropcaps()
 *	empties every capability set it may.
 *
 *	sandbox_unveil(path, perms) collects a Landlock rule; perms is made
 *	of r (read files, list directories), w (write, truncate), c (create
 *	and remove files, directories, fifos, sockets, symlinks; rename
 *	across directories), x (execute) and i (ioctl on devices).  On a
 *	file the rights are cut to r, w, x, i.  sandbox_unveil_port(port,
 *	how) allows TCP bind and/or connect to one port; every other port
 *	is denied.  sandbox_unveil_anyport(how) leaves bind or connect
 *	unrestricted (proxyd's upstreams).  sandbox_unveil(NULL, NULL)
 *	builds one ruleset handling every right the kernel's ABI knows (up
 *	to ABI 6: fs incl. REFER, TRUNCATE, IOCTL_DEV; TCP bind/connect;
 *	abstract unix socket and signal scoping) and restricts the process.
 *	No rules means no filesystem access at all.
 *
 *	sandbox_pledge(promises) loads a seccomp filter built from the
 *	promise table below.  The default action kills the process, and so
 *	does any foreign architecture.  Filters stack: a second pledge can
 *	only take away.
 *
 * PROMISES
 *	(always)  exit, exit_group
 *	stdio	  i/o on open fds, memory without PROT_EXEC, signals, time,
 *		  ids (get), poll/epoll/select, pipes, eventfd, timerfd,
 *		  memfd, fsync and ftruncate on open fds, send/recv and
 *		  socket options on open sockets, socketpair(AF_UNIX),
 *		  tgkill to itself (abort, raise), a few ioctls (FIONREAD,
 *		  FIONBIO, FIOCLEX, FIONCLEX, TCGETS, TIOCGWINSZ), a few
 *		  prctls (names, dumpable off, get-only), getrlimit/prlimit
 *		  get-only, uname, getrandom
 *	rpath	  open/openat read-only; stat, access, readlink, getdents,
 *		  getcwd, chdir, statfs
 *	wpath	  open/openat without O_CREAT; truncate, chmod, chown, utimes
 *	cpath	  open with any flags, creat, mkdir, rmdir, unlink, rename,
 *		  link, symlink
 *	inet	  socket(AF_INET, AF_INET6), connect, bind, listen, accept
 *	unix	  socket(AF_UNIX), connect, bind, listen, accept
 *	dns	  socket(AF_INET, AF_INET6, AF_NETLINK/NETLINK_ROUTE),
 *		  connect, bind: what getaddrinfo(3) needs besides rpath
 *	recvfd, sendfd
 *		  nothing more than stdio (kept so that pledges read as on
 *		  OpenBSD)
 *	proc	  fork, vfork, clone without namespace flags, wait4, waitid,
 *		  kill, tgkill, setpgid, setsid, priorities
 *	exec	  execve, execveat, and arch_prctl/set_tid_address that a
 *		  new image needs at startup
 *	prot_exec mmap and mprotect with PROT_EXEC
 *	id	  set[res][ug]id, setgroups, setfs[ug]id, capget, capset
 *
 * PROBES
 *	Syscalls that libraries use to probe get an errno instead of a kill,
 *	but only where no promise allows them (libseccomp lets an
 *	unconditional rule replace conditional ones, whatever their action,
 *	so an unconditional probe is dropped once any rule names the call):
 *	open, openat, creat: EACCES -- glibc's tzset (/etc/localtime),
 *	    NSS and iconv open files lazily and cope with failure.
 *	stat, lstat, statx, access, faccessat[2], readlink[at]: EACCES --
 *	    existence checks by the same code paths.
 *	socket(AF_UNIX): EACCES -- getaddrinfo(3) asks nscd first, and
 *	    syslog(3) reconnects to /dev/log; both carry on without.
 *	clone3: ENOSYS -- its flags are in memory where seccomp cannot look;
 *	    glibc >= 2.34 falls back to clone(2), which proc checks.
 *	openat2: ENOSYS -- same reason; callers fall back to openat.
 *
 * CAVEATS
 *	localtime(3) may open /etc/localtime: call tzset() before pledging
 *	or pledge rpath.  syslog(3) cannot reconnect without unix: log to
 *	stderr, or pledge unix.  getaddrinfo(3) needs "rpath dns" and the
 *	/etc files unveiled.  Exec'ing a dynamic binary needs
 *	"rpath exec prot_exec": the filter survives execve.  Threads need
 *	proc (clone); dlopen(3), e.g. an OpenSSL provider, must happen
 *	before pledge.  Under rpath alone, an open for writing kills.
 *	Once locked, Landlock denies every TCP bind and connect not
 *	unveiled (accept on passed listeners is not affected), and signals
 *	and abstract sockets outside the domain.  sandbox_strict(1) makes
 *	anything short of ABI 6 fatal.
 *	In -fsanitize=address builds pledge runs LeakSanitizer's check
 *	early, as its exit-time check would be killed.
 *	OPENSHELL_SECCOMP_DEBUG=1 or sandbox_debug(1) traps instead of
 *	killing; the SIGSYS handler names the syscall on stderr and exits
 *	with SANDBOX_DEBUG_EXIT.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <linux/securebits.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SB_LSAN
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_LSAN
#endif
#endif
#ifdef SB_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/*
 * LeakSanitizer's exit check clones, ptraces and reads /proc: neither
 * the seccomp filter nor a Landlock domain allows that, so run the
 * check once, before whichever of the two is installed first.
 */
static void
sandbox_lsan_early(void)
{
#ifdef SB_LSAN
	static int	 done;

	if (!done) {
		done = 1;
		__lsan_do_leak_check();
	}
#endif
}

/* Landlock constants newer than Debian 12's Linux 6.1 headers. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP		(1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)	/* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)
#endif
#define SB_LL_RULE_NET_PORT	2
#define SB_LL_ABI_MAX		6	/* the newest ABI adding rights */

#define SB_LL_FS_V1	((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define SB_LL_NET	(LANDLOCK_ACCESS_NET_BIND_TCP | \
			    LANDLOCK_ACCESS_NET_CONNECT_TCP)
#define SB_LL_SCOPE	(LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | \
			    LANDLOCK_SCOPE_SIGNAL)
#define SB_LL_FILE	(LANDLOCK_ACCESS_FS_EXECUTE | \
			    LANDLOCK_ACCESS_FS_WRITE_FILE | \
			    LANDLOCK_ACCESS_FS_READ_FILE | \
			    LANDLOCK_ACCESS_FS_TRUNCATE | \
			    LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* The kernel's layouts, with the members 6.1 headers lack. */
struct sandbox_ll_attr {
	uint64_t	 la_fs;
	uint64_t	 la_net;	/* ABI 4 */
	uint64_t	 la_scoped;	/* ABI 6 */
};

struct sandbox_ll_port {
	uint64_t	 lp_access;
	uint64_t	 lp_port;
};

struct sandbox_ll_rule {
	TAILQ_ENTRY(sandbox_ll_rule) lr_entry;
	int		 lr_type;	/* LANDLOCK_RULE_PATH_BENEATH or NET */
	int		 lr_fd;		/* O_PATH, owned by the rule */
	uint64_t	 lr_access;
	uint16_t	 lr_port;
	char		*lr_path;
};

#define SB_MISS_LANDLOCK	0x1
#define SB_MISS_LLPARTIAL	0x2
#define SB_MISS_SECCOMP		0x4

#define SB_MAXSYS		1024	/* above every native syscall number */
#define SB_ALLOW_COND		1	/* allowed[]: with argument rules */
#define SB_ALLOW_ALL		2	/* allowed[]: unconditionally */
#define SB_WORDLEN		32
#define SB_NITEMS(a)		(sizeof(a) / sizeof((a)[0]))

/* Open flags that write or create, for rpath and wpath. */
#define SB_O_TMPFILE	(O_TMPFILE & ~O_DIRECTORY)
#define SB_O_WRITE	(O_ACCMODE | O_CREAT | O_TRUNC | SB_O_TMPFILE)
#define SB_O_CREATE	(O_CREAT | SB_O_TMPFILE)
#define SB_CLONE_NS	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | \
			    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			    CLONE_NEWCGROUP)

enum sandbox_op {
	SO_ANY,		/* no (more) comparisons */
	SO_EQ,		/* arg == val */
	SO_MASKED,	/* (arg & mask) == val */
	SO_SELF,	/* arg == getpid() */
};

struct sandbox_cmp {
	unsigned int	 sc_arg;
	enum sandbox_op	 sc_op;
	uint64_t	 sc_mask;
	uint64_t	 sc_val;
};

struct sandbox_sysrule {
	const char		*sr_promise;
	const char		*sr_syscalls;	/* space separated */
	struct sandbox_cmp	 sr_cmp[2];	/* all must hold */
};

struct sandbox_probe {
	const char		*sp_syscalls;
	struct sandbox_cmp	 sp_cmp[2];
	int			 sp_errno;
};

#define ANY		{ { 0, SO_ANY, 0, 0 }, { 0, SO_ANY, 0, 0 } }
#define EQ(a, v)	{ { a, SO_EQ, 0, v }, { 0, SO_ANY, 0, 0 } }
#define EQ2(a, v, b, w)	{ { a, SO_EQ, 0, v }, { b, SO_EQ, 0, w } }
#define NONE_OF(a, m)	{ { a, SO_MASKED, m, 0 }, { 0, SO_ANY, 0, 0 } }
#define SELF(a)		{ { a, SO_SELF, 0, 0 }, { 0, SO_ANY, 0, 0 } }

/* Index 0 is the baseline every filter gets. */
static const char *const sandbox_promises[] = {
	"", "stdio", "rpath", "wpath", "cpath", "inet", "unix", "dns",
	"recvfd", "sendfd", "proc", "exec", "prot_exec", "id",
};

/*
 * The promise table.  Kept coarse on purpose (gmid's seccomp history):
 * one row per group of syscalls sharing an argument rule.  Names that
 * do not exist on the native architecture are skipped.
 */
static const struct sandbox_sysrule sandbox_sysrules[] = {
	{ "",		"exit exit_group", ANY },

	{ "stdio",	"read readv pread64 preadv preadv2 write writev "
	    "pwrite64 pwritev pwritev2 sendfile splice tee", ANY },
	{ "stdio",	"close close_range lseek fstat newfstatat fcntl dup "
	    "dup2 dup3 pipe pipe2 eventfd2 memfd_create fsync fdatasync "
	    "ftruncate umask", ANY },
	{ "stdio",	"brk munmap mremap madvise msync", ANY },
	{ "stdio",	"mmap mprotect", NONE_OF(2, PROT_EXEC) },
	{ "stdio",	"rt_sigaction rt_sigprocmask rt_sigreturn "
	    "rt_sigpending rt_sigsuspend rt_sigtimedwait sigaltstack pause "
	    "restart_syscall", ANY },
	{ "stdio",	"clock_gettime clock_getres gettimeofday time "
	    "nanosleep clock_nanosleep getitimer setitimer alarm "
	    "timerfd_create timerfd_settime timerfd_gettime", ANY },
	{ "stdio",	"getpid gettid getppid getuid geteuid getgid getegid "
	    "getresuid getresgid getgroups getpgrp getrlimit getrusage times "
	    "sysinfo uname sched_getaffinity sched_yield getrandom", ANY },
	{ "stdio",	"prlimit64", EQ2(0, 0, 2, 0) },	/* own, get only */
	{ "stdio",	"epoll_create epoll_create1 epoll_ctl epoll_wait "
	    "epoll_pwait epoll_pwait2 poll ppoll select pselect6", ANY },
	{ "stdio",	"futex set_robust_list rseq", ANY },
	{ "stdio",	"sendmsg recvmsg sendmmsg recvmmsg sendto recvfrom "
	    "shutdown getsockopt setsockopt getsockname getpeername", ANY },
	{ "stdio",	"socketpair", EQ(0, AF_UNIX) },
	{ "stdio",	"tgkill", SELF(0) },	/* abort(3), raise(3) */
	{ "stdio",	"ioctl", EQ(1, FIONREAD) },	/* libevent */
	{ "stdio",	"ioctl", EQ(1, FIONBIO) },
	{ "stdio",	"ioctl", EQ(1, FIOCLEX) },
	{ "stdio",	"ioctl", EQ(1, FIONCLEX) },
	{ "stdio",	"ioctl", EQ(1, TCGETS) },	/* isatty(3) */
	{ "stdio",	"ioctl", EQ(1, TIOCGWINSZ) },
	{ "stdio",	"prctl", EQ(0, PR_SET_NAME) },
	{ "stdio",	"prctl", EQ(0, PR_GET_NAME) },
	{ "stdio",	"prctl", EQ(0, PR_GET_DUMPABLE) },
	{ "stdio",	"prctl", EQ(0, PR_GET_NO_NEW_PRIVS) },
	{ "stdio",	"prctl", EQ(0, PR_GET_SECCOMP) },
	{ "stdio",	"prctl", EQ2(0, PR_SET_DUMPABLE, 1, 0) },

	{ "rpath",	"open", NONE_OF(1, SB_O_WRITE) },
	{ "rpath",	"openat", NONE_OF(2, SB_O_WRITE) },
	{ "rpath",	"stat lstat statx access faccessat faccessat2 readlink "
	    "readlinkat getdents getdents64 getcwd chdir fchdir statfs fstatfs "
	    "fadvise64", ANY },

	{ "wpath",	"open", NONE_OF(1, SB_O_CREATE) },
	{ "wpath",	"openat", NONE_OF(2, SB_O_CREATE) },
	{ "wpath",	"truncate chmod fchmod fchmodat chown fchown fchownat "
	    "lchown utimensat utimes", ANY },

	{ "cpath",	"open openat creat mkdir mkdirat rmdir unlink unlinkat "
	    "rename renameat renameat2 link linkat symlink symlinkat", ANY },

	{ "inet",	"socket", EQ(0, AF_INET) },
	{ "inet",	"socket", EQ(0, AF_INET6) },
	{ "inet",	"connect bind listen accept accept4", ANY },

	{ "unix",	"socket", EQ(0, AF_UNIX) },
	{ "unix",	"connect bind listen accept accept4", ANY },

	/* res_send: UDP, TCP on truncation; AI_ADDRCONFIG asks netlink */
	{ "dns",	"socket", EQ(0, AF_INET) },
	{ "dns",	"socket", EQ(0, AF_INET6) },
	{ "dns",	"socket", EQ2(0, AF_NETLINK, 2, NETLINK_ROUTE) },
	{ "dns",	"connect bind", ANY },

	{ "proc",	"fork vfork wait4 waitid kill tgkill tkill setpgid "
	    "setsid getpgid getsid getpriority setpriority", ANY },
	{ "proc",	"clone", NONE_OF(0, SB_CLONE_NS) },

	{ "exec",	"execve execveat arch_prctl set_tid_address", ANY },

	{ "prot_exec",	"mmap mprotect", ANY },

	{ "id",		"setuid setgid setreuid setregid setresuid setresgid "
	    "setgroups setfsuid setfsgid capget capset", ANY },
};

/* Why each of these is an errno rather than a kill: see PROBES above. */
static const struct sandbox_probe sandbox_probes[] = {
	{ "open openat creat", ANY, EACCES },
	{ "stat lstat statx access faccessat faccessat2 readlink readlinkat",
	    ANY, EACCES },
	{ "socket", EQ(0, AF_UNIX), EACCES },
	{ "clone3", ANY, ENOSYS },
	{ "openat2", ANY, ENOSYS },
};

static struct {
	int		 sb_strict;
	int		 sb_debug;
	int		 sb_warned;	/* SB_MISS_* already reported */
	int		 sb_locked;
	uint64_t	 sb_anynet;	/* TCP rights left unhandled */
	uint32_t	 sb_arch;	/* for the SIGSYS handler */
	char		*sb_sysname[SB_MAXSYS];
	TAILQ_HEAD(, sandbox_ll_rule) sb_rules;
} sb = {
	.sb_rules = TAILQ_HEAD_INITIALIZER(sb.sb_rules),
};

static void	 sandbox_missing(int, const char *);
static int	 sandbox_word(const char **, char *, size_t);
static int	 sandbox_caps_lockdown(void);
static void	 sandbox_caps_verify(void);
static void	 sandbox_privdrop_verify(uid_t, gid_t);
static void	 sandbox_rlimit_zero(int, const char *);
static int	 sandbox_ll_perms(const char *, uint64_t *);
static int	 sandbox_ll_known(void);
static uint64_t	 sandbox_ll_fs(int);
static int	 sandbox_ll_addpath(const char *, uint64_t);
static void	 sandbox_ll_append(int, int, uint64_t, uint16_t, const char *);
static uint64_t	 sandbox_ll_netrights(int);
static void	 sandbox_ll_partial(int);
static void	 sandbox_ll_lock(void);
static void	 sandbox_ll_add(int, const struct sandbox_ll_rule *,
		    const struct sandbox_ll_attr *);
static void	 sandbox_ll_free(void);
static int	 sandbox_promise_index(const char *);
static int	 sandbox_promise_set(const char *, uint32_t *);
static int	 sandbox_sysword(const char **, char *);
static int	 sandbox_sysnr(const char *);
static unsigned int sandbox_cmps(const struct sandbox_cmp *,
		    struct scmp_arg_cmp *);
static void	 sandbox_seccomp_attr(scmp_filter_ctx, enum scmp_filter_attr,
		    uint32_t);
static void	 sandbox_seccomp_rule(scmp_filter_ctx,
		    const struct sandbox_sysrule *, uint8_t *);
static void	 sandbox_seccomp_probe(scmp_filter_ctx,
		    const struct sandbox_probe *, const uint8_t *);
static void	 sandbox_seccomp_debug(scmp_filter_ctx);
static scmp_filter_ctx sandbox_seccomp_build(uint32_t);
static size_t	 sandbox_cat(char *, size_t, size_t, const char *);
static size_t	 sandbox_catnum(char *, size_t, size_t, unsigned long);
static void	 sandbox_sigsys(int, siginfo_t *, void *);

void
sandbox_strict(int on)
{
	sb.sb_strict = on;
}

void
sandbox_debug(int on)
{
	sb.sb_debug = on;
}

/* A feature the kernel lacks: one warning, or fatal when strict. */
static void
sandbox_missing(int what, const char *desc)
{
	if (sb.sb_strict)
		fatalx("sandbox strict: %s", desc);
	if (sb.sb_warned & what)
		return;
	sb.sb_warned |= what;
	log_warnx("sandbox: %s; going on without it", desc);
}

/*
 * Copy the next space-separated word of *pp into buf.  Returns 1, 0 at
 * the end, -1 for a word that does not fit (skipped).
 */
static int
sandbox_word(const char **pp, char *buf, size_t len)
{
	const char	*p = *pp;
	size_t		 n;

	p += strspn(p, " ");
	if (*p == '\0')
		return 0;
	n = strcspn(p, " ");
	*pp = p + n;
	if (n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 1;
}

/*
 * Privilege
 */

/*
 * Ownership: on return as root, the process keeps its ids but can never
 * regain a capability it gives up later: the bounding and ambient sets
 * are empty and SECBIT_NOROOT is locked (exec as uid 0 grants nothing).
 * Needs CAP_SETPCAP; returns -1 without it, having changed nothing but
 * the ambient set.
 */
static int
sandbox_caps_lockdown(void)
{
	int	 cap, r;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("%s: PR_CAP_AMBIENT_CLEAR_ALL", __func__);
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	    SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
	    0, 0, 0) == -1) {
		if (errno == EPERM)
			return -1;
		fatal("%s: PR_SET_SECUREBITS", __func__);
	}
	/* PR_CAPBSET_READ fails with EINVAL past the kernel's last cap. */
	for (cap = 0; (r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) != -1;
	    cap++) {
		if (r == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			fatal("%s: PR_CAPBSET_DROP %d", __func__, cap);
	}
	if (errno != EINVAL)
		fatal("%s: PR_CAPBSET_READ", __func__);
	return 0;
}

static void
sandbox_caps_verify(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	int				 i;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		fatal("%s: capget", __func__);
	for (i = 0; i < 2; i++) {
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			fatalx("%s: capabilities left after the drop",
			    __func__);
	}
}

/*
 * Ownership: after the call the process runs as uid/gid with only gid
 * as supplementary group and no capability, for good.  As non-root it
 * changes nothing and returns 0.  Any failure is fatal.
 */
int
sandbox_privdrop(uid_t uid, gid_t gid)
{
	uid_t	 ru, eu, su;

	if (getresuid(&ru, &eu, &su) == -1)
		fatal("%s: getresuid", __func__);
	if (ru != 0 && eu != 0 && su != 0)
		return 0;
	if (uid == 0)
		fatalx("%s: refusing to drop to uid 0", __func__);
	if (sandbox_caps_lockdown() == -1)
		fatalx("%s: no CAP_SETPCAP to clear the bounding set",
		    __func__);
	if (setgroups(1, &gid) == -1)
		fatal("%s: setgroups", __func__);
	if (setresgid(gid, gid, gid) == -1)
		fatal("%s: setresgid", __func__);
	if (setresuid(uid, uid, uid) == -1)
		fatal("%s: setresuid", __func__);
	sandbox_privdrop_verify(uid, gid);
	return 0;
}

static void
sandbox_privdrop_verify(uid_t uid, gid_t gid)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg, groups[2];

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("%s: getres[ug]id", __func__);
	if (ru != uid || eu != uid || su != uid)
		fatalx("%s: uid did not change", __func__);
	if (rg != gid || eg != gid || sg != gid)
		fatalx("%s: gid did not change", __func__);
	if (getgroups(2, groups) != 1 || groups[0] != gid)
		fatalx("%s: supplementary groups left", __func__);
	if (setuid(0) != -1)
		fatalx("%s: setuid(0) still works", __func__);
	if (gid != 0 && setgid(0) != -1)
		fatalx("%s: setgid(0) still works", __func__);
	sandbox_caps_verify();
}

void
sandbox_nnp(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s", __func__);
}

/*
 * Ownership: afterwards the process holds no capability.  The bounding
 * set can only be cleared with CAP_SETPCAP (root before
 * sandbox_privdrop, which does it); an unprivileged process keeps it,
 * which is harmless once sandbox_nnp() has been called, since exec can
 * then gain nothing.
 */
int
sandbox_dropcaps(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];

	if (sandbox_caps_lockdown() == -1)
		log_debug("%s: bounding set kept, no CAP_SETPCAP", __func__);
	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("%s: capset", __func__);
	sandbox_caps_verify();
	return 0;
}

/*
 * Resource limits (OpenSSH's sandbox).  Call before sandbox_pledge:
 * stdio allows prlimit only to read.
 */

static void
sandbox_rlimit_zero(int resource, const char *name)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(resource, &rl) == -1)
		fatal("setrlimit %s", name);
}

/* fork fails with EAGAIN; the kernel exempts uid 0. */
void
sandbox_rlimit_nofork(void)
{
	sandbox_rlimit_zero(RLIMIT_NPROC, "RLIMIT_NPROC");
}

/* Writing to regular files raises SIGXFSZ (EFBIG if ignored). */
void
sandbox_rlimit_nofiles_write(void)
{
	sandbox_rlimit_zero(RLIMIT_FSIZE, "RLIMIT_FSIZE");
}

/* No new descriptor at all: open, accept, pipe and SCM_RIGHTS fail. */
void
sandbox_rlimit_nonewfds(void)
{
	sandbox_rlimit_zero(RLIMIT_NOFILE, "RLIMIT_NOFILE");
}

/*
 * Landlock
 */

int
sandbox_landlock_abi(void)
{
	long	 abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	/* ENOSYS: not built; EOPNOTSUPP: disabled at boot */
	return abi < 0 ? 0 : (int)abi;
}

/* The ABI whose rights we handle: newer ones added none we know. */
static int
sandbox_ll_known(void)
{
	int	 abi = sandbox_landlock_abi();

	return abi > SB_LL_ABI_MAX ? SB_LL_ABI_MAX : abi;
}

static uint64_t
sandbox_ll_fs(int abi)
{
	uint64_t	 fs = SB_LL_FS_V1;

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

/* MAKE_CHAR and MAKE_BLOCK are never granted. */
static int
sandbox_ll_perms(const char *perms, uint64_t *access)
{
	*access = 0;
	for (; *perms != '\0'; perms++) {
		switch (*perms) {
		case 'r':
			*access |= LANDLOCK_ACCESS_FS_READ_FILE |
			    LANDLOCK_ACCESS_FS_READ_DIR;
			break;
		case 'w':
			*access |= LANDLOCK_ACCESS_FS_WRITE_FILE |
			    LANDLOCK_ACCESS_FS_TRUNCATE;
			break;
		case 'c':
			*access |= LANDLOCK_ACCESS_FS_MAKE_REG |
			    LANDLOCK_ACCESS_FS_MAKE_DIR |
			    LANDLOCK_ACCESS_FS_MAKE_SYM |
			    LANDLOCK_ACCESS_FS_MAKE_SOCK |
			    LANDLOCK_ACCESS_FS_MAKE_FIFO |
			    LANDLOCK_ACCESS_FS_REMOVE_FILE |
			    LANDLOCK_ACCESS_FS_REMOVE_DIR |
			    LANDLOCK_ACCESS_FS_REFER;
			break;
		case 'x':
			*access |= LANDLOCK_ACCESS_FS_EXECUTE;
			break;
		case 'i':
			*access |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/*
 * Rules are only collected here and handed to the kernel at lock time,
 * once it is known which network rights stay unhandled.  The path is
 * resolved now, as with unveil(2).  Returns -1 with errno from open(2).
 */
int
sandbox_unveil(const char *path, const char *perms)
{
	uint64_t	 access;

	if (sb.sb_locked) {
		errno = EPERM;
		return -1;
	}
	if (path == NULL && perms == NULL) {
		sandbox_lsan_early();
		sandbox_ll_lock();
		sb.sb_locked = 1;
		return 0;
	}
	if (path == NULL || perms == NULL ||
	    sandbox_ll_perms(perms, &access) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (sandbox_landlock_abi() == 0) {
		sandbox_missing(SB_MISS_LANDLOCK, "no Landlock");
		return 0;
	}
	return sandbox_ll_addpath(path, access);
}

static int
sandbox_ll_addpath(const char *path, uint64_t access)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		fatal("%s: fstat %s", __func__, path);
	/* Directory rights on a file are EINVAL. */
	if (!S_ISDIR(st.st_mode))
		access &= SB_LL_FILE;
	sandbox_ll_append(LANDLOCK_RULE_PATH_BENEATH, fd, access, 0, path);
	return 0;
}

static void
sandbox_ll_append(int type, int fd, uint64_t access, uint16_t port,
    const char *path)
{
	struct sandbox_ll_rule	*lr;

	if ((lr = calloc(1, sizeof(*lr))) == NULL ||
	    (lr->lr_path = strdup(path)) == NULL)
		fatal("%s", __func__);
	lr->lr_type = type;
	lr->lr_fd = fd;
	lr->lr_access = access;
	lr->lr_port = port;
	TAILQ_INSERT_TAIL(&sb.sb_rules, lr, lr_entry);
}

static uint64_t
sandbox_ll_netrights(int how)
{
	uint64_t	 access = 0;

	if (how & SANDBOX_NET_BIND)
		access |= LANDLOCK_ACCESS_NET_BIND_TCP;
	if (how & SANDBOX_NET_CONNECT)
		access |= LANDLOCK_ACCESS_NET_CONNECT_TCP;
	return access;
}

/* On ABI < 4 the rule is dropped; the lock reports the missing rights. */
int
sandbox_unveil_port(uint16_t port, int how)
{
	if (sb.sb_locked) {
		errno = EPERM;
		return -1;
	}
	if (how == 0 || (how & ~(SANDBOX_NET_BIND | SANDBOX_NET_CONNECT))) {
		errno = EINVAL;
		return -1;
	}
	if (sandbox_landlock_abi() == 0) {
		sandbox_missing(SB_MISS_LANDLOCK, "no Landlock");
		return 0;
	}
	if (sandbox_ll_known() >= 4)
		sandbox_ll_append(SB_LL_RULE_NET_PORT, -1,
		    sandbox_ll_netrights(how), port, "port");
	return 0;
}

int
sandbox_unveil_anyport(int how)
{
	if (sb.sb_locked) {
		errno = EPERM;
		return -1;
	}
	if (how == 0 || (how & ~(SANDBOX_NET_BIND | SANDBOX_NET_CONNECT))) {
		errno = EINVAL;
		return -1;
	}
	sb.sb_anynet |= sandbox_ll_netrights(how);
	return 0;
}

static void
sandbox_ll_partial(int abi)
{
	char	 desc[160];

	if (abi >= SB_LL_ABI_MAX)
		return;
	snprintf(desc, sizeof(desc), "Landlock ABI %d does not restrict%s%s%s"
	    "%s%s", abi, abi < 2 ? " refer" : "", abi < 3 ? " truncate" : "",
	    abi < 4 ? " tcp" : "", abi < 5 ? " ioctl_dev" : "",
	    abi < 6 ? " scoping" : "");
	sandbox_missing(SB_MISS_LLPARTIAL, desc);
}

/*
 * Ownership: restricts this process and all its future children for
 * good; the rules' fds are closed.
 */
static void
sandbox_ll_lock(void)
{
	struct sandbox_ll_attr	 attr;
	struct sandbox_ll_rule	*lr;
	size_t			 size;
	int			 abi, fd;

	if ((abi = sandbox_ll_known()) == 0) {
		sandbox_missing(SB_MISS_LANDLOCK, "no Landlock");
		sandbox_ll_free();
		return;
	}
	sandbox_ll_partial(abi);
	memset(&attr, 0, sizeof(attr));
	attr.la_fs = sandbox_ll_fs(abi);
	size = sizeof(attr.la_fs);
	if (abi >= 4) {
		attr.la_net = SB_LL_NET & ~sb.sb_anynet;
		size += sizeof(attr.la_net);
	}
	if (abi >= 6) {
		attr.la_scoped = SB_LL_SCOPE;
		size += sizeof(attr.la_scoped);
	}
	if ((fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0)) == -1)
		fatal("%s: landlock_create_ruleset", __func__);
	TAILQ_FOREACH(lr, &sb.sb_rules, lr_entry)
		sandbox_ll_add(fd, lr, &attr);
	sandbox_nnp();
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		fatal("%s: landlock_restrict_self", __func__);
	close(fd);
	sandbox_ll_free();
}

static void
sandbox_ll_add(int fd, const struct sandbox_ll_rule *lr,
    const struct sandbox_ll_attr *attr)
{
	struct landlock_path_beneath_attr	 pb;
	struct sandbox_ll_port			 np;
	const void				*rule;

	if (lr->lr_type == LANDLOCK_RULE_PATH_BENEATH) {
		pb.allowed_access = lr->lr_access & attr->la_fs;
		pb.parent_fd = lr->lr_fd;
		if (pb.allowed_access == 0)
			return;
		rule = &pb;
	} else {
		np.lp_access = lr->lr_access & attr->la_net;
		np.lp_port = lr->lr_port;
		if (np.lp_access == 0)
			return;
		rule = &np;
	}
	if (syscall(SYS_landlock_add_rule, fd, lr->lr_type, rule, 0) == -1)
		fatal("%s: landlock_add_rule %s %u", __func__, lr->lr_path,
		    (unsigned int)lr->lr_port);
}

static void
sandbox_ll_free(void)
{
	struct sandbox_ll_rule	*lr;

	while ((lr = TAILQ_FIRST(&sb.sb_rules)) != NULL) {
		TAILQ_REMOVE(&sb.sb_rules, lr, lr_entry);
		if (lr->lr_fd != -1)
			close(lr->lr_fd);
		free(lr->lr_path);
		free(lr);
	}
}

/*
 * seccomp
 */

static int
sandbox_promise_index(const char *name)
{
	size_t	 i;

	for (i = 0; i < SB_NITEMS(sandbox_promises); i++)
		if (strcmp(sandbox_promises[i], name) == 0)
			return i;
	return -1;
}

static int
sandbox_promise_set(const char *promises, uint32_t *set)
{
	char	 word[SB_WORDLEN];
	int	 i, r;

	*set = 1;	/* the baseline */
	while ((r = sandbox_word(&promises, word, sizeof(word))) != 0) {
		if (r == -1 || (i = sandbox_promise_index(word)) <= 0) {
			log_warnx("pledge: unknown promise \"%s\"",
			    r == -1 ? "(too long)" : word);
			errno = EINVAL;
			return -1;
		}
		*set |= 1U << i;
	}
	return 0;
}

/* A word of the table; a name that does not fit is a table bug. */
static int
sandbox_sysword(const char **pp, char *buf)
{
	int	 r;

	if ((r = sandbox_word(pp, buf, SB_WORDLEN)) == -1)
		fatalx("%s: syscall name too long in %s", __func__, *pp);
	return r;
}

/* -1 for a syscall the native architecture does not have. */
static int
sandbox_sysnr(const char *name)
{
	int	 nr;

	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		fatalx("%s: unknown syscall %s", __func__, name);
	if (nr < 0)
		return -1;
	if (nr >= SB_MAXSYS)
		fatalx("%s: syscall %s beyond the table", __func__, name);
	return nr;
}

/* Both arrays have two entries. */
static unsigned int
sandbox_cmps(const struct sandbox_cmp *scs, struct scmp_arg_cmp *cmp)
{
	const struct sandbox_cmp	*sc;
	unsigned int			 n;

	for (n = 0; n < 2; n++) {
		sc = &scs[n];
		memset(&cmp[n], 0, sizeof(cmp[n]));
		cmp[n].arg = sc->sc_arg;
		switch (sc->sc_op) {
		case SO_ANY:
			return n;
		case SO_EQ:
			cmp[n].op = SCMP_CMP_EQ;
			cmp[n].datum_a = sc->sc_val;
			break;
		case SO_MASKED:
			cmp[n].op = SCMP_CMP_MASKED_EQ;
			cmp[n].datum_a = sc->sc_mask;
			cmp[n].datum_b = sc->sc_val;
			break;
		case SO_SELF:
			cmp[n].op = SCMP_CMP_EQ;
			cmp[n].datum_a = (uint64_t)getpid();
			break;
		}
	}
	return n;
}

static void
sandbox_seccomp_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr,
    uint32_t val)
{
	int	 rc;

	if ((rc = seccomp_attr_set(ctx, attr, val)) < 0)
		fatalx("seccomp_attr_set %d: %s", attr, strerror(-rc));
}

/* allowed[nr] records how each syscall is allowed, for the probes. */
static void
sandbox_seccomp_rule(scmp_filter_ctx ctx, const struct sandbox_sysrule *sr,
    uint8_t *allowed)
{
	struct scmp_arg_cmp	 cmp[2];
	const char		*p = sr->sr_syscalls;
	char			 name[SB_WORDLEN];
	unsigned int		 ncmp;
	int			 nr, rc;

	ncmp = sandbox_cmps(sr->sr_cmp, cmp);
	while (sandbox_sysword(&p, name)) {
		if ((nr = sandbox_sysnr(name)) == -1)
			continue;
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, ncmp, cmp);
		if (rc < 0)
			fatalx("seccomp_rule_add %s: %s", name, strerror(-rc));
		if (ncmp == 0)
			allowed[nr] = SB_ALLOW_ALL;
		else if (allowed[nr] == 0)
			allowed[nr] = SB_ALLOW_COND;
	}
}

static void
sandbox_seccomp_probe(scmp_filter_ctx ctx, const struct sandbox_probe *sp,
    const uint8_t *allowed)
{
	struct scmp_arg_cmp	 cmp[2];
	const char		*p = sp->sp_syscalls;
	char			 name[SB_WORDLEN];
	unsigned int		 ncmp;
	int			 nr, rc;

	ncmp = sandbox_cmps(sp->sp_cmp, cmp);
	while (sandbox_sysword(&p, name)) {
		if ((nr = sandbox_sysnr(name)) == -1 ||
		    allowed[nr] == SB_ALLOW_ALL ||
		    (ncmp == 0 && allowed[nr] != 0))
			continue;
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(sp->sp_errno),
		    nr, ncmp, cmp);
		/* EEXIST: a promise allows exactly these arguments */
		if (rc == -EEXIST)
			continue;
		if (rc < 0)
			fatalx("seccomp_rule_add %s: %s", name, strerror(-rc));
	}
}

/*
 * Names are looked up now because the SIGSYS handler may only use
 * async-signal-safe calls.  The handler writes to fd 2, so that stays
 * allowed whatever was promised.
 */
static void
sandbox_seccomp_debug(scmp_filter_ctx ctx)
{
	struct sigaction	 sa;
	struct scmp_arg_cmp	 cmp;
	int			 nr, rc;

	sb.sb_arch = seccomp_arch_native();
	for (nr = 0; nr < SB_MAXSYS; nr++) {
		if (sb.sb_sysname[nr] == NULL)
			sb.sb_sysname[nr] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("%s: sigaction", __func__);
	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = 0;
	cmp.op = SCMP_CMP_EQ;
	cmp.datum_a = STDERR_FILENO;
	rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
	    &cmp);
	if (rc < 0)
		fatalx("seccomp_rule_add write: %s", strerror(-rc));
}

static scmp_filter_ctx
sandbox_seccomp_build(uint32_t set)
{
	scmp_filter_ctx	 ctx;
	uint8_t		 allowed[SB_MAXSYS];
	uint32_t	 def;
	size_t		 i;
	int		 idx;

	def = sb.sb_debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS;
	if ((ctx = seccomp_init(def)) == NULL)
		fatalx("%s: seccomp_init failed", __func__);
	sandbox_seccomp_attr(ctx, SCMP_FLTATR_ACT_BADARCH, def);
	sandbox_seccomp_attr(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	sandbox_seccomp_attr(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	memset(allowed, 0, sizeof(allowed));
	for (i = 0; i < SB_NITEMS(sandbox_sysrules); i++) {
		idx = sandbox_promise_index(sandbox_sysrules[i].sr_promise);
		if (idx == -1)
			fatalx("%s: bad promise in table", __func__);
		if (set & (1U << idx))
			sandbox_seccomp_rule(ctx, &sandbox_sysrules[i],
			    allowed);
	}
	for (i = 0; i < SB_NITEMS(sandbox_probes); i++)
		sandbox_seccomp_probe(ctx, &sandbox_probes[i], allowed);
	if (sb.sb_debug)
		sandbox_seccomp_debug(ctx);
	return ctx;
}

/*
 * Ownership: the filter binds this process, its threads and everything
 * it forks or execs, for good.  Returns -1 (EINVAL) only for an unknown
 * promise; a NULL promise string changes nothing.
 */
int
sandbox_pledge(const char *promises)
{
	scmp_filter_ctx	 ctx;
	const char	*env;
	uint32_t	 set;
	int		 rc;

	if (promises == NULL)
		return 0;
	if (sandbox_promise_set(promises, &set) == -1)
		return -1;
	if ((env = getenv("OPENSHELL_SECCOMP_DEBUG")) != NULL &&
	    strcmp(env, "1") == 0)
		sb.sb_debug = 1;
	/* PR_GET_SECCOMP fails with EINVAL without CONFIG_SECCOMP. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == -1 && errno == EINVAL) {
		sandbox_missing(SB_MISS_SECCOMP, "no seccomp");
		return 0;
	}
	ctx = sandbox_seccomp_build(set);
	sandbox_lsan_early();
	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("%s: seccomp_load: %s", __func__, strerror(-rc));
	seccomp_release(ctx);
	return 0;
}

/* Async-signal-safe formatting for the SIGSYS handler. */
static size_t
sandbox_cat(char *buf, size_t off, size_t size, const char *s)
{
	while (*s != '\0' && off + 1 < size)
		buf[off++] = *s++;
	return off;
}

static size_t
sandbox_catnum(char *buf, size_t off, size_t size, unsigned long n)
{
	char	 digits[24];
	size_t	 i = sizeof(digits) - 1;

	digits[i] = '\0';
	do {
		digits[--i] = '0' + n % 10;
		n /= 10;
	} while (n != 0 && i > 0);
	return sandbox_cat(buf, off, size, digits + i);
}

static void
sandbox_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char		 buf[160];
	size_t		 n;
	ssize_t		 w;
	int		 nr = si->si_syscall;

	(void)sig;
	(void)uctx;
	n = sandbox_cat(buf, 0, sizeof(buf), "sandbox: blocked syscall ");
	n = sandbox_catnum(buf, n, sizeof(buf), (unsigned long)nr);
	if (si->si_arch != sb.sb_arch) {
		n = sandbox_cat(buf, n, sizeof(buf), " of foreign arch ");
		n = sandbox_catnum(buf, n, sizeof(buf), si->si_arch);
	} else if (nr >= 0 && nr < SB_MAXSYS && sb.sb_sysname[nr] != NULL) {
		n = sandbox_cat(buf, n, sizeof(buf), " (");
		n = sandbox_cat(buf, n, sizeof(buf), sb.sb_sysname[nr]);
		n = sandbox_cat(buf, n, sizeof(buf), ")");
	}
	n = sandbox_cat(buf, n, sizeof(buf), "\n");
	w = write(STDERR_FILENO, buf, n);
	(void)w;
	_exit(SANDBOX_DEBUG_EXIT);
}

/*
 * The agent's Landlock domain, from a policy's read_only and read_write
 * lists (sandbox.md §5.5, fixing G3): every filesystem right of the
 * kernel's ABI is handled (up to ABI 6, plus abstract socket and signal
 * scoping); read_only grants read file, read dir and execute;
 * read_write every handled right.  TCP is left unhandled: the agent's
 * network namespace does that job.  A path that cannot be opened or
 * added is skipped with a logged reason under best effort, and fails
 * the whole call under hard (hard_requirement); so does a kernel
 * without Landlock.  `status' receives the EFFECTIVE result in one line
 * for the parent's log; the domain binds this process and its children
 * for good.  Returns 0, or -1 (hard failure, reason in status).
 */

struct sandbox_llp {
	int		 fd;
	int		 abi;
	int		 hard;
	int		 rules;
	int		 skipped;
	uint64_t	 fs;
	char		 why[192];	/* the first skip's reason */
};

static int	 sandbox_llp_add(struct sandbox_llp *, const char *,
		    uint64_t);
static int	 sandbox_llp_skip(struct sandbox_llp *, const char *, int);
static int	 sandbox_llp_ruleset(struct sandbox_llp *);

int
sandbox_landlock_paths(const char *const *ro, size_t nro,
    const char *const *rw, size_t nrw, int hard, char *status, size_t len)
{
	struct sandbox_llp	 lp;
	size_t			 i;
	int			 rc = -1;
	const char		*mode = hard ? "hard_requirement" :
				    "best_effort";

	memset(&lp, 0, sizeof(lp));
	lp.hard = hard;
	lp.fd = -1;
	if ((lp.abi = sandbox_ll_known()) == 0) {
		snprintf(status, len, "landlock abi=0 enforced=no "
		    "compatibility=%s reason=\"Landlock unavailable\"", mode);
		return hard ? -1 : 0;
	}
	lp.fs = sandbox_ll_fs(lp.abi);
	if (sandbox_llp_ruleset(&lp) == -1) {
		snprintf(status, len, "landlock abi=%d enforced=no "
		    "compatibility=%s reason=\"create_ruleset: %s\"", lp.abi,
		    mode, strerror(errno));
		return hard ? -1 : 0;
	}
	for (i = 0; i < nro; i++)
		if (sandbox_llp_add(&lp, ro[i], LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE) ==
		    -1)
			goto fail;
	for (i = 0; i < nrw; i++)
		if (sandbox_llp_add(&lp, rw[i], lp.fs) == -1)
			goto fail;
	if (lp.rules == 0) {
		snprintf(lp.why, sizeof(lp.why), "no rule could be added");
		goto fail;
	}
	sandbox_lsan_early();
	sandbox_nnp();
	if (syscall(SYS_landlock_restrict_self, lp.fd, 0) == -1) {
		snprintf(lp.why, sizeof(lp.why), "restrict_self: %s",
		    strerror(errno));
		goto fail;
	}
	snprintf(status, len, "landlock abi=%d kernel_abi=%d enforced=yes "
	    "compatibility=%s rules=%d skipped=%d%s%s%s", lp.abi,
	    sandbox_landlock_abi(), mode, lp.rules, lp.skipped,
	    lp.skipped ? " first_skip=\"" : "", lp.skipped ? lp.why : "",
	    lp.skipped ? "\"" : "");
	rc = 0;
	goto out;
fail:
	snprintf(status, len, "landlock abi=%d enforced=no compatibility=%s "
	    "rules=%d skipped=%d reason=\"%s\"", lp.abi, mode, lp.rules,
	    lp.skipped, lp.why);
	rc = hard ? -1 : 0;
out:
	close(lp.fd);
	return rc;
}

static int
sandbox_llp_ruleset(struct sandbox_llp *lp)
{
	struct sandbox_ll_attr	 attr;
	size_t			 size;

	memset(&attr, 0, sizeof(attr));
	attr.la_fs = lp->fs;
	size = sizeof(attr.la_fs);
	if (lp->abi >= 4)
		size += sizeof(attr.la_net);	/* 0: TCP not handled */
	if (lp->abi >= 6) {
		attr.la_scoped = SB_LL_SCOPE;
		size += sizeof(attr.la_scoped);
	}
	lp->fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	return lp->fd == -1 ? -1 : 0;
}

/* -1: a hard failure, the reason in lp->why. */
static int
sandbox_llp_add(struct sandbox_llp *lp, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr	 pb;
	struct stat				 st;
	int					 fd, e;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return sandbox_llp_skip(lp, path, errno);
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		return sandbox_llp_skip(lp, path, e);
	}
	if (!S_ISDIR(st.st_mode))
		access &= SB_LL_FILE;
	pb.allowed_access = access & lp->fs;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, lp->fd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) == -1) {
		e = errno;
		close(fd);
		return sandbox_llp_skip(lp, path, e);
	}
	close(fd);
	lp->rules++;
	return 0;
}

static int
sandbox_llp_skip(struct sandbox_llp *lp, const char *path, int e)
{
	if (lp->skipped++ == 0 || lp->hard)
		snprintf(lp->why, sizeof(lp->why), "%s: %s", path,
		    strerror(e));
	if (lp->hard)
		return -1;
	if (e == ENOENT)
		log_info("landlock: skipping %s: %s", path, strerror(e));
	else
		log_warnx("landlock: skipping %s: %s", path, strerror(e));
	return 0;
}

/*
 * The agent's seccomp filter: default allow, with a deny list (the
 * reference's socket families plus the kernel attack surface an agent
 * never needs, and TIOCSTI/TIOCLINUX on a shared terminal).  EPERM,
 * so that programs see an ordinary refusal;
 * clone3 gets ENOSYS because its flags are out of the filter's reach
 * and glibc then falls back to clone(2), which is checked; a foreign
 * architecture (x32, i386 on x86_64) kills.  ptrace stays: the PID
 * namespace and Landlock's scoping confine it to the agent's own tree.
 * The caller has no_new_privs or CAP_SYS_ADMIN.  Returns 0, or -1 with
 * errno.
 */
static const char *const sandbox_agent_denied =
    "io_uring_setup io_uring_enter io_uring_register bpf userfaultfd "
    "keyctl add_key request_key perf_event_open "
    "mount umount umount2 fsopen fsconfig fsmount fspick move_mount "
    "open_tree mount_setattr pivot_root setns "
    "kexec_load kexec_file_load init_module finit_module delete_module";

static const int sandbox_agent_families[] = {
	AF_PACKET, AF_BLUETOOTH, AF_VSOCK, AF_NETLINK,
};

static const uint64_t sandbox_agent_nsflags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, 0x00000080 /* TIME */,
};

static int	 sandbox_agent_rule(scmp_filter_ctx, uint32_t, const char *,
		    unsigned int, const struct scmp_arg_cmp *);

static int
sandbox_agent_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int ncmp, const struct scmp_arg_cmp *cmp)
{
	int	 nr, rc;

	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;	/* not on this architecture */
	if ((rc = seccomp_rule_add_array(ctx, action, nr, ncmp, cmp)) < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

int
sandbox_agent_filter(void)
{
	struct scmp_arg_cmp	 cmp;
	scmp_filter_ctx		 ctx;
	const char		*p = sandbox_agent_denied;
	char			 name[SB_WORDLEN];
	size_t			 i;
	int			 rc = -1, e;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) < 0)
		goto out;
	while (sandbox_sysword(&p, name))
		if (sandbox_agent_rule(ctx, SCMP_ACT_ERRNO(EPERM), name, 0,
		    NULL) == -1)
			goto out;
	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = 0;
	cmp.op = SCMP_CMP_MASKED_EQ;
	for (i = 0; i < SB_NITEMS(sandbox_agent_families); i++) {
		/* the kernel reads an int: compare the low 32 bits only */
		cmp.datum_a = 0xffffffffULL;
		cmp.datum_b = (uint64_t)sandbox_agent_families[i];
		if (sandbox_agent_rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 1,
		    &cmp) == -1)
			goto out;
	}
	for (i = 0; i < SB_NITEMS(sandbox_agent_nsflags); i++) {
		cmp.datum_a = sandbox_agent_nsflags[i];
		cmp.datum_b = sandbox_agent_nsflags[i];
		if (sandbox_agent_rule(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1,
		    &cmp) == -1 || sandbox_agent_rule(ctx,
		    SCMP_ACT_ERRNO(EPERM), "unshare", 1, &cmp) == -1)
			goto out;
	}
	/* Typing into the terminal the agent shares with whoever
	 * started it (CVE-2017-5226 in bubblewrap). */
	cmp.arg = 1;
	cmp.datum_a = 0xffffffffULL;
	cmp.datum_b = TIOCSTI;
	if (sandbox_agent_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1,
	    &cmp) == -1)
		goto out;
	cmp.datum_b = TIOCLINUX;
	if (sandbox_agent_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1,
	    &cmp) == -1)
		goto out;
	if (sandbox_agent_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0,
	    NULL) == -1)
		goto out;
	sandbox_lsan_early();
	if ((e = seccomp_load(ctx)) < 0) {
		errno = -e;
		goto out;
	}
	rc = 0;
out:
	e = errno;
	seccomp_release(ctx);
	errno = e;
	return rc;
}
