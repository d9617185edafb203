/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The agent's process tree.  The supervisor clones a REAPER into new
 * PID, mount, IPC and UTS namespaces as soon as the policy is known;
 * it joins the agent netns and builds the mount namespace (mounts.c)
 * while proxyd and sshd start, then waits for the supervisor's word
 * (spawn_go, once the proxy serves and the sandbox CA is installed)
 * before it forks the AGENT.  It reaps whatever the agent leaves
 * behind and exits with the agent's status: when it exits, the kernel
 * kills everything left in the PID namespace.  In gateway mode it
 * outlives the agent, for SSH sessions, until stopped (spawn_linger).
 *
 * The reaper is cloned with no exit signal, so that it is a "clone
 * child": proc.c's waitpid(-1) for the daemons never reaps it, and the
 * supervisor waits for it through a pidfd.
 *
 * The agent, before exec (sandbox.md §5.3, fixing G1-G4): uid/gid of
 * the sandbox user with every capability set cleared and the securebits
 * locked (sandbox_privdrop), no_new_privs, Landlock from the policy with
 * its effective status written to the supervisor, the agent seccomp
 * filter, then the environment config_env built.
 */

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpolicy/policy.h"
#include "log.h"
#include "sandbox.h"
#include "supervisor.h"

#define SPAWN_NS	(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | \
			    CLONE_NEWUTS)

/* The kernel's struct clone_args (v0), without <linux/sched.h>. */
struct spawn_clone_args {
	uint64_t	 flags;
	uint64_t	 pidfd;
	uint64_t	 child_tid;
	uint64_t	 parent_tid;
	uint64_t	 exit_signal;
	uint64_t	 stack;
	uint64_t	 stack_size;
	uint64_t	 tls;
};

extern char	**environ;

static pid_t	 spawn_agent_pid;	/* in the reaper */
static char	*spawn_args;		/* our argument strings */
static size_t	 spawn_argslen;
static volatile sig_atomic_t spawn_stopping;	/* a signal came */
static volatile sig_atomic_t spawn_final = -1;	/* the agent's status */
static int	 spawn_gofd = -1;	/* our end of the go pipe */

static void	 spawn_reaper_main(struct sandbox *, int, int)
		    __attribute__((__noreturn__));
static void	 spawn_keep(int, int);
static int	 spawn_wait_go(int);
static void	 spawn_exec(struct sandbox *, int)
		    __attribute__((__noreturn__));
static void	 spawn_signals(void);
static void	 spawn_forward(int);
static void	 spawn_linger(int, int) __attribute__((__noreturn__));
static void	 spawn_chld(int);
static void	 spawn_scrub_env(void);
static void	 spawn_retitle(void);
static int	 spawn_status(int);
static void	 spawn_report(int, const char *);

/*
 * Everything the agent needs must be in sb now: the reaper is a copy.
 * Ownership: on success sb_reaper, sb_pidfd (the reaper's pidfd) and
 * sb_statusfd (read end of the agent's status pipe) belong to sb; the
 * write end of the go pipe is spawn_go's.
 */
int
spawn_reaper(struct sandbox *sb)
{
	struct spawn_clone_args	 ca;
	int			 pfd[2], gfd[2], pidfd = -1;
	pid_t			 pid;

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		log_warn("pipe");
		return -1;
	}
	if (pipe2(gfd, O_CLOEXEC) == -1) {
		log_warn("pipe");
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = SPAWN_NS | CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = 0;
	if ((pid = syscall(SYS_clone3, &ca, sizeof(ca))) == -1) {
		log_warn("clone3");
		close(pfd[0]);
		close(pfd[1]);
		close(gfd[0]);
		close(gfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		close(gfd[1]);
		/* Gateway mode: stdout/stderr become the relay's pipes. */
		if (sb->sb_aio != NULL && agentio_child(sb->sb_aio) == -1)
			_exit(127);
		spawn_reaper_main(sb, pfd[1], gfd[0]);
	}
	close(pfd[1]);
	close(gfd[0]);
	spawn_gofd = gfd[1];
	sb->sb_reaper = pid;
	sb->sb_pidfd = pidfd;
	sb->sb_statusfd = pfd[0];
	log_debug("reaper pid %d", (int)pid);
	return 0;
}

/*
 * The agent may start.  0, or -1 when the reaper is gone (it exited
 * before: its status says why).  The go pipe is closed either way.
 */
int
spawn_go(struct sandbox *sb)
{
	ssize_t	 n;

	(void)sb;
	if (spawn_gofd == -1)
		return -1;
	n = write(spawn_gofd, "g", 1);
	close(spawn_gofd);
	spawn_gofd = -1;
	if (n != 1) {
		log_warn("releasing the agent");
		return -1;
	}
	return 0;
}

/*
 * The reaper is done: its exit status is the agent's (spawn_status).
 * Returns 0 with *status set, or -1 if it has not exited yet.
 */
int
spawn_reaped(struct sandbox *sb, int *status)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, sb->sb_pidfd, &si, WEXITED | WNOHANG | __WALL) ==
	    -1 || si.si_pid == 0)
		return -1;
	if (si.si_code == CLD_EXITED)
		*status = si.si_status;
	else
		*status = 128 + si.si_status;
	return 0;
}

/*
 * Where main's argument strings lie (one run of them, as the kernel
 * lays them out), for the reaper to blank in its copy of our memory.
 */
void
spawn_argv(int argc, char *argv[])
{
	char	*end;
	int	 i;

	if (argc < 1)
		return;
	end = argv[0];
	for (i = 0; i < argc; i++) {
		if (argv[i] != end)
			return;		/* not one run: leave them */
		end += strlen(argv[i]) + 1;
	}
	spawn_args = argv[0];
	spawn_argslen = end - argv[0];
}

/*
 * The agent sees us as its PID 1, and /proc/1/cmdline is readable by
 * all: not our arguments (host paths, the sandbox id, the gateway).
 */
static void
spawn_retitle(void)
{
	if (spawn_args == NULL)
		return;
	memset(spawn_args, 0, spawn_argslen);
	strlcpy(spawn_args, "openshell-reaper", spawn_argslen);
}

/* PID 1 of the agent's PID namespace.  Never returns. */
static void
spawn_reaper_main(struct sandbox *sb, int statusfd, int gofd)
{
	pid_t	 pid;
	int	 st, status = 127;

	spawn_signals();
	/* Our supervisor gone, the sandbox goes too.  (getppid() is 0
	 * here, the parent being outside our PID namespace.) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		_exit(127);
	/* Root-owned and not dumpable: the agent cannot ptrace us or
	 * read our /proc entries. */
	prctl(PR_SET_DUMPABLE, 0);
	if (setns(sb->sb_nn.nn_agent, CLONE_NEWNET) == -1) {
		log_warn("setns agent netns");
		_exit(127);
	}
	if (mounts_setup(sb) == -1)
		_exit(127);
	if (sethostname("sandbox", 7) == -1)
		log_warn("sethostname");
	spawn_scrub_env();
	/* Nothing of the supervisor's stays open here while we wait. */
	spawn_keep(statusfd, gofd);
	if (spawn_wait_go(gofd) == -1)
		_exit(127);
	if ((pid = fork()) == -1) {
		log_warn("fork agent");
		_exit(127);
	}
	if (pid == 0)
		spawn_exec(sb, statusfd);
	spawn_agent_pid = pid;
	/* Only now: the agent's argv came from those strings. */
	spawn_retitle();
	/* Gateway mode: the status pipe stays for the agent's exit. */
	if (!sb->sb_gateway || (statusfd != 3 && dup2(statusfd, 3) == -1)) {
		close(statusfd);
		statusfd = -1;
	} else
		statusfd = 3;
	closefrom(statusfd == -1 ? STDERR_FILENO + 1 : 4);
	for (;;) {
		if ((pid = waitpid(-1, &st, 0)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(status);
		}
		if (pid == spawn_agent_pid) {
			status = spawn_status(st);
			if (statusfd == -1 || spawn_stopping)
				_exit(status);
			spawn_linger(statusfd, status);
		}
	}
}

/*
 * Gateway mode: the agent is gone but the sandbox stays, for SSH
 * sessions, until it is deleted (control-plane.md §5.2), so PID 1
 * stays too.  The agent's status goes to the supervisor as "exited N"
 * on the status pipe, the agent's output pipes are closed (EOF for
 * the relay once no background process holds them), and we reap what
 * sessions leave behind until a signal ends us with that status.
 */
static void
spawn_linger(int statusfd, int status)
{
	struct sigaction	 sa;
	sigset_t		 chld, old;
	char			 line[32];
	int			 n, fd, st;

	spawn_final = status;
	spawn_agent_pid = 0;
	/* First, so that the relay reads to EOF (a last line without a
	 * newline included) when the word comes. */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void)dup3(fd, STDOUT_FILENO, 0);
		(void)dup3(fd, STDERR_FILENO, 0);
		close(fd);
	}
	n = snprintf(line, sizeof(line), "exited %d\n", status);
	if (write(statusfd, line, (size_t)n) != n)
		_exit(status);
	close(statusfd);
	/* A handler, so that SIGCHLD ends sigsuspend. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = spawn_chld;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	for (;;) {
		while (waitpid(-1, &st, WNOHANG) > 0)
			;
		sigsuspend(&old);
	}
}

static void
spawn_chld(int sig)
{
	(void)sig;
}

/* Fds 0-2 and the two given (both above 2) stay; the rest is closed. */
static void
spawn_keep(int a, int b)
{
	int	 t;

	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	if (a > 3)
		close_range(3, (unsigned int)a - 1, 0);
	if (b > a + 1)
		close_range((unsigned int)a + 1, (unsigned int)b - 1, 0);
	close_range((unsigned int)b + 1, ~0U, 0);
}

/*
 * The supervisor's "g": the proxy serves.  EOF: it is gone without a
 * word (PR_SET_PDEATHSIG kills us too).  A signal meanwhile ends us
 * (spawn_forward: no agent yet).
 */
static int
spawn_wait_go(int fd)
{
	ssize_t	 n;
	char	 c;

	while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	close(fd);
	return n == 1 && c == 'g' ? 0 : -1;
}

/* libevent's handlers came with the clone: back to defaults, then the
 * ones a PID 1 needs to pass termination on to the agent. */
static void
spawn_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 set;
	int			 sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	sa.sa_handler = spawn_forward;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
}

static void
spawn_forward(int sig)
{
	spawn_stopping = 1;
	if (spawn_agent_pid > 0)
		kill(spawn_agent_pid, sig);
	else
		_exit(spawn_final != -1 ? spawn_final : 128 + sig);
}

/*
 * The secrets were wiped in place already (config.c); nothing of our
 * environment is needed below here, so no byte of it stays readable
 * through /proc/1/environ either.
 */
static void
spawn_scrub_env(void)
{
	char	**e;

	for (e = environ; e != NULL && *e != NULL; e++)
		explicit_bzero(*e, strlen(*e));
	clearenv();
}

static int
spawn_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 127;
}

/* One line to the supervisor; it logs it. */
static void
spawn_report(int fd, const char *line)
{
	char	 buf[SANDBOX_LL_STATUSLEN + 8];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n > 0 && write(fd, buf, (size_t)n) != n)
		log_warn("status pipe");
}

/* The agent.  Order matters: see the top of the file. */
static void
spawn_exec(struct sandbox *sb, int statusfd)
{
	const struct policy	*p = sb->sb_policy;
	char			 status[SANDBOX_LL_STATUSLEN];
	const char		*wd = sb->sb_workdir != NULL ? sb->sb_workdir :
				    "/sandbox";

	/* The status pipe on fd 3, close-on-exec; nothing else above. */
	if (statusfd != 3 && (dup2(statusfd, 3) == -1 ||
	    fcntl(3, F_SETFD, FD_CLOEXEC) == -1))
		_exit(127);
	statusfd = 3;
	closefrom(4);
	if (chdir(wd) == -1 && chdir("/sandbox") == -1 && chdir("/") == -1)
		_exit(127);
	/* Clears ambient, bounding and (by the uid change) every other
	 * capability set, locks the securebits, and verifies all that. */
	sandbox_privdrop(sb->sb_uid, sb->sb_gid);
	sandbox_nnp();
	if (sandbox_landlock_paths((const char *const *)p->read_only.v,
	    p->read_only.n, (const char *const *)p->read_write.v,
	    p->read_write.n, sb->sb_hard, status, sizeof(status)) == -1) {
		spawn_report(statusfd, status);
		fatalx("%s", status);
	}
	spawn_report(statusfd, status);
	if (sandbox_agent_filter() == -1)
		fatal("seccomp agent filter");
	spawn_report(statusfd, "seccomp mode=filter enforced=yes");
	close(statusfd);
	environ = sb->sb_env;
	execvp(sb->sb_argv[0], sb->sb_argv);
	fprintf(stderr, "openshell-sandbox: %s: %s\n", sb->sb_argv[0],
	    strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}
