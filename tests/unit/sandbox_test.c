/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

/*
 * Every case forks a child that sandboxes itself and tries calls; the
 * parent judges by the exit status or the killing signal.  A child
 * reports a failed check on stderr with its line and exits 1; a child
 * that survives a call which should have killed it exits SURVIVED.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <seccomp.h>

#include "sandbox.h"

#define SURVIVED	99
#define NEED(c)		need((c), __LINE__, #c)

struct killcase {
	const char	*kc_promises;
	const char	*kc_name;
	void		(*kc_fn)(void);
};

/* Set by the parent before fork; the child reads its copy. */
static const char	*g_promises;
static char		 g_dir[64];
static char		 g_file[128];
static uint16_t		 g_port1, g_port2;
static int		 g_fd = -1;
static int		 g_usr1;

static void
need(int ok, int line, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "child: line %d: %s (errno %d)\n", line, what, errno);
	_exit(1);
}

/* No core files, and cmocka's own signal handlers are not ours. */
static void
child_prelude(void)
{
	struct rlimit	 rl = { 0, 0 };
	int		 sigs[] = { SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE,
			    SIGABRT };
	size_t		 i;

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

static int
run_child(void (*fn)(void), int code)
{
	pid_t	 pid;
	int	 status;

	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		child_prelude();
		fn();
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
expect_exit(int status, int code, const char *what)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == code)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d", what, WTERMSIG(status));
	fail_msg("%s: exit %d, want %d", what, WEXITSTATUS(status), code);
}

static void
expect_sigsys(int status, const char *what)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d, want SIGSYS", what,
		    WTERMSIG(status));
	fail_msg("%s: exit %d, want SIGSYS", what, WEXITSTATUS(status));
}

static void
pledge_now(void)
{
	NEED(sandbox_pledge(g_promises) == 0);
}

/* "Key:\tvalue" from /proc/self/status, or "" */
static const char *
proc_status(const char *key)
{
	static char	 line[256];
	FILE		*fp;
	size_t		 len = strlen(key);
	char		*v = NULL;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return "";
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, key, len) == 0 && line[len] == ':') {
			v = line + len + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			break;
		}
	}
	fclose(fp);
	return v == NULL ? "" : v;
}

static int
tcp_listener(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(s, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return s;
}

/* In the child: connect or bind a new TCP socket to 127.0.0.1:port. */
static int
tcp_try(uint16_t port, int bind_it)
{
	struct sockaddr_in	 sin;
	int			 s, r, saved;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (bind_it)
		r = bind(s, (struct sockaddr *)&sin, sizeof(sin));
	else
		r = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	saved = errno;
	close(s);
	errno = saved;
	return r;
}

static void
write_file(const char *path, const char *data)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
dir_setup(void **state)
{
	(void)state;
	strlcpy(g_dir, "/tmp/sandbox_test.XXXXXX", sizeof(g_dir));
	if (mkdtemp(g_dir) == NULL)
		return -1;
	snprintf(g_file, sizeof(g_file), "%s/f", g_dir);
	return 0;
}

static int
dir_teardown(void **state)
{
	(void)state;
	return nftw(g_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A fresh g_file and nothing else in g_dir. */
static int
dir_reset(void **state)
{
	dir_teardown(state);
	assert_int_equal(mkdir(g_dir, 0755), 0);
	write_file(g_file, "hello");
	return 0;
}

static void
sub(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", g_dir, name);
}

/*
 * seccomp: what stdio allows
 */

static void
on_usr1(int sig)
{
	(void)sig;
	g_usr1++;
}

static void
on_read(evutil_socket_t fd, short ev, void *arg)
{
	char	 c;

	(void)ev;
	if (read(fd, &c, 1) == 1)
		*(int *)arg = c;
}

static void
c_stdio_ok(void)
{
	struct event_base	*base;
	struct event		*ev;
	struct rlimit		 rl;
	struct timespec		 ts;
	struct tm		 tm;
	time_t			 now;
	char			 buf[8], *p;
	int			 pfd[2], sp[2], got = 0;

	NEED(pipe(pfd) == 0);
	NEED((base = event_base_new()) != NULL);
	NEED((ev = event_new(base, pfd[0], EV_READ, on_read, &got)) != NULL);
	NEED(event_add(ev, NULL) == 0);
	tzset();
	signal(SIGUSR1, on_usr1);
	g_promises = "stdio";
	pledge_now();

	NEED(write(pfd[1], "x", 1) == 1);
	NEED(event_base_loop(base, EVLOOP_ONCE) == 0 && got == 'x');
	NEED((p = malloc(1 << 20)) != NULL);
	memset(p, 1, 1 << 20);
	free(p);
	NEED(getpid() > 0 && getppid() > 0);
	NEED(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	now = time(NULL);
	NEED(localtime_r(&now, &tm) != NULL);
	NEED(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	NEED(isatty(pfd[0]) == 0);
	NEED(raise(SIGUSR1) == 0 && g_usr1 == 1);
	NEED(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	NEED(write(sp[0], "ab", 2) == 2 && read(sp[1], buf, 2) == 2);
	/* probes: an errno, not a kill */
	NEED(open("/etc/passwd", O_RDONLY) == -1 && errno == EACCES);
	NEED(access("/etc/passwd", R_OK) == -1 && errno == EACCES);
	NEED(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
	NEED(socket(AF_UNIX, SOCK_DGRAM, 0) == -1 && errno == EACCES);
	snprintf(buf, sizeof(buf), "%d", 42);
	NEED(strcmp(buf, "42") == 0);
}

static void
test_pledge_stdio_ok(void **state)
{
	(void)state;
	expect_exit(run_child(c_stdio_ok, 0), 0, "stdio");
}

/*
 * seccomp: what kills
 */

static void
k_socket_inet(void)
{
	pledge_now();
	socket(AF_INET, SOCK_STREAM, 0);
}

static void
k_socket_inet6(void)
{
	pledge_now();
	socket(AF_INET6, SOCK_STREAM, 0);
}

static void
k_socket_packet(void)
{
	pledge_now();
	socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
}

static void
k_socket_netlink(void)
{
	pledge_now();
	socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
}

static void
k_mmap_exec(void)
{
	pledge_now();
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
}

static void
k_mprotect_exec(void)
{
	void	*p;

	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	NEED(p != MAP_FAILED);
	pledge_now();
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static void
k_execve(void)
{
	char	*argv[] = { "true", NULL };

	pledge_now();
	execve("/bin/true", argv, NULL);
}

static void
k_unshare(void)
{
	pledge_now();
	unshare(CLONE_NEWUSER);
}

static void
k_mount(void)
{
	pledge_now();
	mount("none", "/mnt", "tmpfs", 0, NULL);
}

static void
k_ptrace(void)
{
	pledge_now();
	syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static void
k_bpf(void)
{
	pledge_now();
	syscall(SYS_bpf, 0, NULL, 0);
}

static void
k_keyctl(void)
{
	pledge_now();
	syscall(SYS_keyctl, 0, 0, 0, 0, 0);
}

static void
k_io_uring(void)
{
	pledge_now();
	syscall(SYS_io_uring_setup, 1, NULL);
}

static void
k_userfaultfd(void)
{
	pledge_now();
	syscall(SYS_userfaultfd, 0);
}

static void
k_perf(void)
{
	pledge_now();
	syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
}

static void
k_fork(void)
{
	pledge_now();
	if (fork() == 0)
		_exit(0);
}

static void
k_kill(void)
{
	pledge_now();
	kill(getppid(), 0);
}

static void
k_setuid(void)
{
	pledge_now();
	NEED(setuid(0) == 0);
}

static void
k_tiocsti(void)
{
	char	 c = 'x';

	pledge_now();
	ioctl(0, TIOCSTI, &c);
}

static void
k_dumpable(void)
{
	pledge_now();
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void
k_setrlimit(void)
{
	struct rlimit	 rl = { 8, 8 };

	pledge_now();
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* x32 numbering on x86_64 matches no rule. */
static void
k_x32(void)
{
	pledge_now();
	syscall(0x40000000 | SYS_getpid);
}

/* A foreign architecture: i386 getpid through int $0x80. */
static void
k_int80(void)
{
	long	 ret = 20;

	pledge_now();
#ifdef __x86_64__
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9",
	    "r10", "r11");
#else
	raise(SIGSYS);
#endif
	(void)ret;
}

static void
k_open_write(void)
{
	pledge_now();
	open("/dev/null", O_WRONLY);
}

static void
k_open_creat(void)
{
	char	 path[160];

	sub(path, sizeof(path), "new");
	pledge_now();
	open(path, O_WRONLY | O_CREAT, 0644);
}

static void
k_clone_ns(void)
{
	pledge_now();
	syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
}

static void
k_mkdir(void)
{
	char	 path[160];

	sub(path, sizeof(path), "d");
	pledge_now();
	mkdir(path, 0755);
}

static const struct killcase killcases[] = {
	{ "stdio", "socket(AF_INET)", k_socket_inet },
	{ "stdio", "mmap(PROT_EXEC)", k_mmap_exec },
	{ "stdio", "mprotect(PROT_EXEC)", k_mprotect_exec },
	{ "stdio", "execve", k_execve },
	{ "stdio", "unshare", k_unshare },
	{ "stdio", "mount", k_mount },
	{ "stdio", "ptrace", k_ptrace },
	{ "stdio", "bpf", k_bpf },
	{ "stdio", "keyctl", k_keyctl },
	{ "stdio", "io_uring_setup", k_io_uring },
	{ "stdio", "userfaultfd", k_userfaultfd },
	{ "stdio", "perf_event_open", k_perf },
	{ "stdio", "fork", k_fork },
	{ "stdio", "kill", k_kill },
	{ "stdio", "setuid", k_setuid },
	{ "stdio", "ioctl(TIOCSTI)", k_tiocsti },
	{ "stdio", "prctl(PR_SET_DUMPABLE, 1)", k_dumpable },
	{ "stdio", "setrlimit", k_setrlimit },
	{ "stdio", "x32 syscall", k_x32 },
	{ "stdio", "i386 int 0x80", k_int80 },
	{ "stdio inet", "socket(AF_PACKET)", k_socket_packet },
	{ "stdio inet", "socket(AF_NETLINK)", k_socket_netlink },
	{ "stdio unix", "socket(AF_INET)", k_socket_inet },
	{ "stdio unix", "socket(AF_INET6)", k_socket_inet6 },
	{ "stdio rpath", "open(O_WRONLY)", k_open_write },
	{ "stdio rpath", "open(O_CREAT)", k_open_creat },
	{ "stdio rpath", "mkdir", k_mkdir },
	{ "stdio wpath", "open(O_CREAT)", k_open_creat },
	{ "stdio proc", "clone(CLONE_NEWUSER)", k_clone_ns },
	{ "stdio proc", "unshare", k_unshare },
	{ "stdio proc exec", "mmap(PROT_EXEC)", k_mmap_exec },
};

static void
run_kills(const char *promises)
{
	char	 what[128];
	size_t	 i, n = 0;

	for (i = 0; i < sizeof(killcases) / sizeof(killcases[0]); i++) {
		if (strcmp(killcases[i].kc_promises, promises) != 0)
			continue;
		g_promises = promises;
		snprintf(what, sizeof(what), "pledge(\"%s\") %s", promises,
		    killcases[i].kc_name);
		expect_sigsys(run_child(killcases[i].kc_fn, SURVIVED), what);
		n++;
	}
	assert_true(n > 0);
}

static void
test_pledge_stdio_kills(void **state)
{
	(void)state;
	run_kills("stdio");
}

static void
test_pledge_other_kills(void **state)
{
	(void)state;
	run_kills("stdio inet");
	run_kills("stdio unix");
	run_kills("stdio rpath");
	run_kills("stdio wpath");
	run_kills("stdio proc");
	run_kills("stdio proc exec");
}

/*
 * seccomp: what the other promises allow
 */

static void
c_inet_ok(void)
{
	int	 s;

	g_promises = "stdio inet";
	pledge_now();
	NEED((s = socket(AF_INET6, SOCK_STREAM, 0)) != -1);
	close(s);
	NEED(tcp_try(g_port1, 0) == 0);
	NEED(tcp_try(0, 1) == 0);
	NEED((s = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	NEED(socket(AF_UNIX, SOCK_STREAM, 0) == -1 && errno == EACCES);
}

static void
c_unix_ok(void)
{
	struct sockaddr_un	 sun;
	int			 s, c;

	g_promises = "stdio unix";
	pledge_now();
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", g_dir);
	NEED((s = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	NEED(bind(s, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	NEED(listen(s, 1) == 0);
	NEED((c = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	NEED(connect(c, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	NEED(accept4(s, NULL, NULL, SOCK_CLOEXEC) != -1);
}

static void
test_pledge_net_ok(void **state)
{
	int	 l;

	dir_reset(state);
	l = tcp_listener(&g_port1);
	expect_exit(run_child(c_inet_ok, 0), 0, "stdio inet");
	close(l);
	expect_exit(run_child(c_unix_ok, 0), 0, "stdio unix");
}

static void
c_rpath_ok(void)
{
	char	 buf[64];
	DIR	*d;
	int	 fd;

	g_promises = "stdio rpath";
	pledge_now();
	NEED((fd = open(g_file, O_RDONLY)) != -1);
	NEED(read(fd, buf, sizeof(buf)) == 5);
	NEED((d = opendir(g_dir)) != NULL && readdir(d) != NULL);
	NEED(access(g_file, R_OK) == 0);
	NEED(readlink("/proc/self/exe", buf, sizeof(buf)) > 0);
	NEED(strcmp(proc_status("Seccomp"), "2") == 0);
}

static void
c_wpath_ok(void)
{
	int	 fd;

	g_promises = "stdio wpath";
	pledge_now();
	NEED((fd = open(g_file, O_WRONLY | O_TRUNC)) != -1);
	NEED(write(fd, "bye", 3) == 3);
	NEED(fchmod(fd, 0600) == 0);
	NEED(ftruncate(fd, 1) == 0 && fsync(fd) == 0);
}

static void
c_cpath_ok(void)
{
	char	 a[160], b[160], d[160];
	int	 fd;

	sub(a, sizeof(a), "a");
	sub(b, sizeof(b), "b");
	sub(d, sizeof(d), "d");
	g_promises = "stdio rpath wpath cpath";
	pledge_now();
	NEED((fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644)) != -1);
	NEED(write(fd, "x", 1) == 1);
	NEED(rename(a, b) == 0 && unlink(b) == 0);
	NEED(mkdir(d, 0755) == 0 && rmdir(d) == 0);
}

static void
test_pledge_path_ok(void **state)
{
	dir_reset(state);
	expect_exit(run_child(c_rpath_ok, 0), 0, "stdio rpath");
	expect_exit(run_child(c_wpath_ok, 0), 0, "stdio wpath");
	expect_exit(run_child(c_cpath_ok, 0), 0, "stdio rpath wpath cpath");
}

static void
c_proc_ok(void)
{
	pid_t	 pid;
	int	 status;

	g_promises = "stdio proc";
	pledge_now();
	NEED((pid = fork()) != -1);
	if (pid == 0)
		_exit(7);
	NEED(waitpid(pid, &status, 0) == pid);
	NEED(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	NEED(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
}

/* The filter survives execve: the new image starts under it. */
static void
c_exec_ok(void)
{
	g_promises = "stdio rpath exec prot_exec";
	pledge_now();
	execl("/bin/true", "true", (char *)NULL);
	NEED(0);
}

static void
test_pledge_proc_exec_ok(void **state)
{
	(void)state;
	expect_exit(run_child(c_proc_ok, 0), 0, "stdio proc");
	expect_exit(run_child(c_exec_ok, 1), 0, "stdio rpath exec prot_exec");
}

/* localhost comes from /etc/hosts; nothing leaves the host. */
static void
c_dns_ok(void)
{
	struct addrinfo	*res;

	g_promises = "stdio rpath dns";
	pledge_now();
	NEED(getaddrinfo("localhost", "80", NULL, &res) == 0);
	freeaddrinfo(res);
}

static void
test_pledge_dns_ok(void **state)
{
	FILE	*fp;
	char	 line[256];
	int	 found = 0;

	(void)state;
	if ((fp = fopen("/etc/hosts", "r")) != NULL) {
		while (!found && fgets(line, sizeof(line), fp) != NULL)
			found = line[0] != '#' && strstr(line, "localhost");
		fclose(fp);
	}
	if (!found)
		skip();
	expect_exit(run_child(c_dns_ok, 0), 0, "stdio rpath dns");
}

static void
c_unknown(void)
{
	int	 s;

	NEED(sandbox_pledge("stdio bogus") == -1 && errno == EINVAL);
	NEED(sandbox_pledge("stdio inet_and_a_very_long_bogus_promise_name")
	    == -1 && errno == EINVAL);
	NEED(sandbox_pledge(NULL) == 0);
	/* nothing was installed */
	NEED(strcmp(proc_status("Seccomp"), "0") == 0);
	NEED((s = socket(AF_INET, SOCK_STREAM, 0)) != -1);
}

static void
test_pledge_unknown(void **state)
{
	(void)state;
	expect_exit(run_child(c_unknown, 0), 0, "unknown promise");
}

/*
 * seccomp: debug mode names the syscall and exits SANDBOX_DEBUG_EXIT
 */

static void
c_debug_call(void)
{
	NEED(dup2(g_fd, STDERR_FILENO) != -1);
	g_promises = "stdio";
	pledge_now();
	socket(AF_INET, SOCK_STREAM, 0);
}

static void
c_debug_api(void)
{
	sandbox_debug(1);
	c_debug_call();
}

static void
c_debug_env(void)
{
	setenv("OPENSHELL_SECCOMP_DEBUG", "1", 1);
	c_debug_call();
}

/*
 * Run fn with g_fd as the write end of a pipe for its stderr; returns
 * how often needle appears in what it wrote, failing if never.
 */
static int
expect_stderr(void (*fn)(void), int code, const char *needle,
    const char *what)
{
	char	 buf[1024], *p;
	size_t	 len = 0;
	ssize_t	 n;
	int	 pfd[2], count = 0, status;

	assert_int_equal(pipe(pfd), 0);
	g_fd = pfd[1];
	status = run_child(fn, SURVIVED);
	close(pfd[1]);
	while (len < sizeof(buf) - 1 &&
	    (n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(pfd[0]);
	buf[len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		print_message("child stderr: %s\n", buf);
	expect_exit(status, code, what);
	for (p = buf; (p = strstr(p, needle)) != NULL; p++)
		count++;
	if (count == 0)
		fail_msg("%s: no \"%s\" in \"%s\"", what, needle, buf);
	return count;
}

static void
test_pledge_debug(void **state)
{
	(void)state;
	expect_stderr(c_debug_api, SANDBOX_DEBUG_EXIT, "(socket)",
	    "sandbox_debug(1)");
	expect_stderr(c_debug_env, SANDBOX_DEBUG_EXIT, "(socket)",
	    "OPENSHELL_SECCOMP_DEBUG=1");
}

/*
 * Landlock
 */

static void
need_landlock(int abi)
{
	if (sandbox_landlock_abi() < abi)
		skip();
}

static void
test_landlock_abi(void **state)
{
	long	 raw;

	(void)state;
	raw = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (raw < 0)
		raw = 0;
	assert_int_equal(sandbox_landlock_abi(), raw);
	print_message("# landlock ABI %d\n", sandbox_landlock_abi());
	need_landlock(1);
}

static void
c_ll_read(void)
{
	char	 buf[16], path[160];
	DIR	*d;
	int	 fd;

	sub(path, sizeof(path), "new");
	NEED(sandbox_unveil(g_dir, "r") == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED((fd = open(g_file, O_RDONLY)) != -1);
	NEED(read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	NEED((d = opendir(g_dir)) != NULL);
	NEED(open(g_file, O_WRONLY) == -1 && errno == EACCES);
	NEED(open(path, O_WRONLY | O_CREAT, 0644) == -1 && errno == EACCES);
	NEED(open("/etc/hostname", O_RDONLY) == -1 && errno == EACCES);
	if (sandbox_landlock_abi() >= 3)
		NEED(truncate(g_file, 0) == -1 && errno == EACCES);
}

static void
c_ll_write(void)
{
	char	 path[160];
	int	 fd;

	sub(path, sizeof(path), "new");
	NEED(sandbox_unveil(g_dir, "rw") == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED((fd = open(g_file, O_WRONLY | O_TRUNC)) != -1);
	NEED(write(fd, "bye", 3) == 3);
	NEED(truncate(g_file, 1) == 0);
	/* w is not c: creating needs "c", as with unveil(2) */
	NEED(open(path, O_WRONLY | O_CREAT, 0644) == -1 && errno == EACCES);
	NEED(unlink(g_file) == -1 && errno == EACCES);
}

static void
c_ll_create(void)
{
	char	 a[160], b[160], d[160];
	int	 fd;

	sub(a, sizeof(a), "a");
	sub(b, sizeof(b), "b");
	sub(d, sizeof(d), "d");
	NEED(sandbox_unveil(g_dir, "rwc") == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED((fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644)) != -1);
	NEED(write(fd, "x", 1) == 1);
	NEED(rename(a, b) == 0 && unlink(b) == 0);
	NEED(mkdir(d, 0755) == 0 && rmdir(d) == 0);
	NEED(mknod(a, S_IFCHR | 0600, makedev(1, 3)) == -1 && errno == EACCES);
	NEED(open("/etc/hostname", O_RDONLY) == -1 && errno == EACCES);
}

static void
c_ll_none(void)
{
	int	 pfd[2];

	NEED(pipe(pfd) == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED(open("/", O_RDONLY | O_DIRECTORY) == -1 && errno == EACCES);
	NEED(open("/etc/hostname", O_RDONLY) == -1 && errno == EACCES);
	NEED(open(g_file, O_RDONLY) == -1 && errno == EACCES);
	NEED(open("/dev/null", O_WRONLY) == -1 && errno == EACCES);
	/* open descriptors keep working */
	NEED(write(pfd[1], "x", 1) == 1);
}

/* A rule on a file: directory rights must be masked off. */
static void
c_ll_file(void)
{
	char	 g[160];
	int	 fd;

	sub(g, sizeof(g), "g");
	write_file(g, "other");
	NEED(sandbox_unveil(g_file, "rwcx") == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED((fd = open(g_file, O_RDWR)) != -1);
	NEED(open(g, O_RDONLY) == -1 && errno == EACCES);
	NEED(open(g_dir, O_RDONLY | O_DIRECTORY) == -1 && errno == EACCES);
}

static void
c_ll_errors(void)
{
	NEED(sandbox_unveil(g_dir, "rz") == -1 && errno == EINVAL);
	NEED(sandbox_unveil(NULL, "r") == -1 && errno == EINVAL);
	NEED(sandbox_unveil(g_dir, NULL) == -1 && errno == EINVAL);
	NEED(sandbox_unveil("/nonexistent/x", "r") == -1 && errno == ENOENT);
	NEED(sandbox_unveil_port(80, 0) == -1 && errno == EINVAL);
	NEED(sandbox_unveil_port(80, 4) == -1 && errno == EINVAL);
	NEED(sandbox_unveil_anyport(0) == -1 && errno == EINVAL);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED(sandbox_unveil(g_dir, "r") == -1 && errno == EPERM);
	NEED(sandbox_unveil_port(80, SANDBOX_NET_CONNECT) == -1 &&
	    errno == EPERM);
	NEED(sandbox_unveil_anyport(SANDBOX_NET_CONNECT) == -1 &&
	    errno == EPERM);
	NEED(sandbox_unveil(NULL, NULL) == -1 && errno == EPERM);
}

static void
test_landlock_fs(void **state)
{
	need_landlock(1);
	dir_reset(state);
	expect_exit(run_child(c_ll_read, 0), 0, "unveil r");
	expect_exit(run_child(c_ll_write, 0), 0, "unveil rw");
	dir_reset(state);
	expect_exit(run_child(c_ll_create, 0), 0, "unveil rwc");
	expect_exit(run_child(c_ll_none, 0), 0, "no rules");
	expect_exit(run_child(c_ll_file, 0), 0, "rule on a file");
	expect_exit(run_child(c_ll_errors, 0), 0, "unveil errors");
}

static void
c_ll_port(void)
{
	NEED(sandbox_unveil_port(g_port1, SANDBOX_NET_CONNECT) == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED(tcp_try(g_port1, 0) == 0);
	NEED(tcp_try(g_port2, 0) == -1 && errno == EACCES);
	NEED(tcp_try(g_port2, 1) == -1 && errno == EACCES);
	NEED(tcp_try(0, 1) == -1 && errno == EACCES);
}

static void
c_ll_anyport(void)
{
	NEED(sandbox_unveil_anyport(SANDBOX_NET_CONNECT) == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED(tcp_try(g_port1, 0) == 0);
	NEED(tcp_try(g_port2, 0) == 0);
	NEED(tcp_try(0, 1) == -1 && errno == EACCES);
}

static void
test_landlock_net(void **state)
{
	int	 l1, l2;

	(void)state;
	need_landlock(4);
	l1 = tcp_listener(&g_port1);
	l2 = tcp_listener(&g_port2);
	expect_exit(run_child(c_ll_port, 0), 0, "unveil_port");
	expect_exit(run_child(c_ll_anyport, 0), 0, "unveil_anyport");
	close(l1);
	close(l2);
}

static void
c_ll_scope(void)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 s;

	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED(kill(getpid(), 0) == 0);
	NEED(kill(getppid(), 0) == -1 && errno == EPERM);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	    snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "openshell-sandbox-test-%d", (int)getppid());
	NEED((s = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	NEED(connect(s, (struct sockaddr *)&sun, len) == -1 &&
	    errno == EPERM);
}

static void
test_landlock_scope(void **state)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 s;

	(void)state;
	need_landlock(6);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	    snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "openshell-sandbox-test-%d", (int)getpid());
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(s, -1);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, len), 0);
	assert_int_equal(listen(s, 1), 0);
	expect_exit(run_child(c_ll_scope, 0), 0, "scoping");
	close(s);
}

/* Make this process look like a kernel without Landlock. */
static void
hide_landlock(void)
{
	scmp_filter_ctx	 ctx;

	NEED((ctx = seccomp_init(SCMP_ACT_ALLOW)) != NULL);
	NEED(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(landlock_create_ruleset), 0) == 0);
	NEED(seccomp_load(ctx) == 0);
	seccomp_release(ctx);
}

/* One warning, and the process goes on unrestricted. */
static void
c_ll_missing(void)
{
	NEED(dup2(g_fd, STDERR_FILENO) != -1);
	hide_landlock();
	NEED(sandbox_landlock_abi() == 0);
	NEED(sandbox_unveil(g_dir, "r") == 0);
	NEED(sandbox_unveil_port(80, SANDBOX_NET_CONNECT) == 0);
	NEED(sandbox_unveil(NULL, NULL) == 0);
	NEED(open("/etc/hostname", O_RDONLY) != -1);
	NEED(sandbox_unveil(g_dir, "r") == -1 && errno == EPERM);
	_exit(0);
}

static void
c_ll_missing_strict(void)
{
	NEED(dup2(g_fd, STDERR_FILENO) != -1);
	hide_landlock();
	sandbox_strict(1);
	sandbox_unveil(g_dir, "r");
}

static void
test_landlock_missing(void **state)
{
	int	 n;

	(void)state;
	n = expect_stderr(c_ll_missing, 0, "going on without it",
	    "no Landlock");
	assert_int_equal(n, 1);
	expect_stderr(c_ll_missing_strict, 1, "sandbox strict: no Landlock",
	    "no Landlock, strict");
}

/*
 * Privilege drop, capabilities, rlimits
 */

static void
need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void
c_privdrop(void)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg, groups[4];

	NEED(sandbox_privdrop(65534, 65534) == 0);
	sandbox_nnp();
	NEED(sandbox_dropcaps() == 0);
	NEED(getresuid(&ru, &eu, &su) == 0);
	NEED(ru == 65534 && eu == 65534 && su == 65534);
	NEED(getresgid(&rg, &eg, &sg) == 0);
	NEED(rg == 65534 && eg == 65534 && sg == 65534);
	NEED(getgroups(4, groups) == 1 && groups[0] == 65534);
	NEED(setuid(0) == -1 && errno == EPERM);
	NEED(setgid(0) == -1 && errno == EPERM);
	NEED(strcmp(proc_status("NoNewPrivs"), "1") == 0);
	NEED(strcmp(proc_status("CapEff"), "0000000000000000") == 0);
	NEED(strcmp(proc_status("CapPrm"), "0000000000000000") == 0);
	NEED(strcmp(proc_status("CapInh"), "0000000000000000") == 0);
	NEED(strcmp(proc_status("CapBnd"), "0000000000000000") == 0);
	NEED(strcmp(proc_status("CapAmb"), "0000000000000000") == 0);
	/* not root any more: a no-op */
	NEED(sandbox_privdrop(1, 1) == 0 && getuid() == 65534);
}

static void
test_privdrop(void **state)
{
	(void)state;
	need_root();
	expect_exit(run_child(c_privdrop, 0), 0, "privdrop");
}

/* uid 0 without capabilities: still root, but powerless. */
static void
c_dropcaps_root(void)
{
	NEED(sandbox_dropcaps() == 0);
	NEED(getuid() == 0);
	NEED(strcmp(proc_status("CapEff"), "0000000000000000") == 0);
	NEED(strcmp(proc_status("CapBnd"), "0000000000000000") == 0);
	NEED(setuid(1) == -1 && errno == EPERM);
	NEED(chown(g_file, 1, 1) == -1 && errno == EPERM);
}

static void
test_dropcaps_root(void **state)
{
	need_root();
	dir_reset(state);
	expect_exit(run_child(c_dropcaps_root, 0), 0, "dropcaps as root");
}

static void
c_rlimit_nofork(void)
{
	if (geteuid() == 0)
		NEED(sandbox_privdrop(65534, 65534) == 0);
	sandbox_rlimit_nofork();
	NEED(fork() == -1 && errno == EAGAIN);
}

static void
c_rlimit_nofiles_write(void)
{
	int	 fd;

	NEED((fd = open(g_file, O_WRONLY)) != -1);
	signal(SIGXFSZ, SIG_IGN);
	sandbox_rlimit_nofiles_write();
	NEED(write(fd, "x", 1) == -1 && errno == EFBIG);
}

static void
c_rlimit_nonewfds(void)
{
	int	 pfd[2];

	sandbox_rlimit_nonewfds();
	NEED(pipe(pfd) == -1 && errno == EMFILE);
	NEED(open("/dev/null", O_RDONLY) == -1 && errno == EMFILE);
	NEED(write(STDERR_FILENO, "", 0) == 0);
}

static void
test_rlimits(void **state)
{
	dir_reset(state);
	expect_exit(run_child(c_rlimit_nofork, 0), 0, "rlimit_nofork");
	expect_exit(run_child(c_rlimit_nofiles_write, 0), 0,
	    "rlimit_nofiles_write");
	expect_exit(run_child(c_rlimit_nonewfds, 0), 0, "rlimit_nonewfds");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pledge_stdio_ok),
		cmocka_unit_test(test_pledge_stdio_kills),
		cmocka_unit_test(test_pledge_other_kills),
		cmocka_unit_test(test_pledge_net_ok),
		cmocka_unit_test(test_pledge_path_ok),
		cmocka_unit_test(test_pledge_proc_exec_ok),
		cmocka_unit_test(test_pledge_dns_ok),
		cmocka_unit_test(test_pledge_unknown),
		cmocka_unit_test(test_pledge_debug),
		cmocka_unit_test(test_landlock_abi),
		cmocka_unit_test(test_landlock_fs),
		cmocka_unit_test(test_landlock_net),
		cmocka_unit_test(test_landlock_scope),
		cmocka_unit_test(test_landlock_missing),
		cmocka_unit_test(test_privdrop),
		cmocka_unit_test(test_dropcaps_root),
		cmocka_unit_test(test_rlimits),
	};

	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
