/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * try_syscall NAME...: make each named system call once, with
 * arguments chosen so that, where possible, the call would succeed or
 * fail with something other than EPERM without a seccomp filter; print
 * "NAME RET ERRNO" per call.  The security suite runs it inside a
 * sandbox (expects EPERM, ENOSYS for clone3) and outside (the control).
 */

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK	40
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080
#endif
#define UFFD_USER_ONLY	1

static long	 try_call(const char *);
static long	 try_clone(unsigned long);

static long
try_clone(unsigned long flags)
{
	long	 r;

	r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long
try_call(const char *n)
{
	if (strcmp(n, "socket_packet") == 0)
		return socket(AF_PACKET, SOCK_RAW, 0);
	if (strcmp(n, "socket_bluetooth") == 0)
		return socket(AF_BLUETOOTH, SOCK_STREAM, 0);
	if (strcmp(n, "socket_vsock") == 0)
		return socket(AF_VSOCK, SOCK_STREAM, 0);
	if (strcmp(n, "socket_netlink") == 0)
		return socket(AF_NETLINK, SOCK_RAW, 0);
	if (strcmp(n, "socket_netlink_hibits") == 0)	/* int truncation */
		return syscall(SYS_socket, 0x100000000UL | AF_NETLINK,
		    SOCK_RAW, 0);
	if (strcmp(n, "io_uring_setup") == 0)
		return syscall(SYS_io_uring_setup, 1, NULL);
	if (strcmp(n, "io_uring_enter") == 0)
		return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
	if (strcmp(n, "io_uring_register") == 0)
		return syscall(SYS_io_uring_register, -1, 0, NULL, 0);
	if (strcmp(n, "bpf") == 0)
		return syscall(SYS_bpf, -1, NULL, 0);
	if (strcmp(n, "userfaultfd") == 0)
		return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_ONLY);
	if (strcmp(n, "keyctl") == 0)
		return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -2, 0);
	if (strcmp(n, "add_key") == 0)
		return syscall(SYS_add_key, "", "", NULL, 0, -2);
	if (strcmp(n, "request_key") == 0)
		return syscall(SYS_request_key, "", "", NULL, 0);
	if (strcmp(n, "perf_event_open") == 0)
		return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	if (strcmp(n, "mount") == 0)
		return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
	if (strcmp(n, "umount2") == 0)
		return syscall(SYS_umount2, "/tmp", 0);
	if (strcmp(n, "fsopen") == 0)
		return syscall(SYS_fsopen, "tmpfs", 0);
	if (strcmp(n, "fsconfig") == 0)
		return syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0);
	if (strcmp(n, "fsmount") == 0)
		return syscall(SYS_fsmount, -1, 0, 0);
	if (strcmp(n, "fspick") == 0)
		return syscall(SYS_fspick, AT_FDCWD, "/", 0);
	if (strcmp(n, "move_mount") == 0)
		return syscall(SYS_move_mount, -1, "", -1, "", 0);
	if (strcmp(n, "open_tree") == 0)
		return syscall(SYS_open_tree, AT_FDCWD, "/", 0);
	if (strcmp(n, "mount_setattr") == 0)
		return syscall(SYS_mount_setattr, -1, "", 0, NULL, 0);
	if (strcmp(n, "pivot_root") == 0)
		return syscall(SYS_pivot_root, "/", "/");
	if (strcmp(n, "setns") == 0)
		return syscall(SYS_setns, -1, 0);
	if (strcmp(n, "unshare_user") == 0)
		return syscall(SYS_unshare, CLONE_NEWUSER);
	if (strcmp(n, "unshare_net") == 0)
		return syscall(SYS_unshare, CLONE_NEWNET);
	if (strcmp(n, "unshare_ns") == 0)
		return syscall(SYS_unshare, CLONE_NEWNS);
	if (strcmp(n, "clone_newuser") == 0)
		return try_clone(CLONE_NEWUSER);
	if (strcmp(n, "clone_newpid") == 0)
		return try_clone(CLONE_NEWPID);
	if (strcmp(n, "clone_newtime") == 0)
		return try_clone(CLONE_NEWTIME);
	if (strcmp(n, "clone3") == 0)
		return syscall(SYS_clone3, NULL, 0);
	if (strcmp(n, "kexec_load") == 0)
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (strcmp(n, "kexec_file_load") == 0)
		return syscall(SYS_kexec_file_load, -1, -1, 0, "", 0);
	if (strcmp(n, "init_module") == 0)
		return syscall(SYS_init_module, NULL, 0, "");
	if (strcmp(n, "finit_module") == 0)
		return syscall(SYS_finit_module, -1, "", 0);
	if (strcmp(n, "delete_module") == 0)
		return syscall(SYS_delete_module, "openshell_none", 0);
	if (strcmp(n, "ioctl_tiocsti") == 0)	/* ENOTTY without a filter */
		return ioctl(STDIN_FILENO, TIOCSTI, "x");
	if (strcmp(n, "ioctl_tiocsti_hibits") == 0)
		return syscall(SYS_ioctl, STDIN_FILENO,
		    0x100000000UL | TIOCSTI, "x");
	if (strcmp(n, "fork") == 0)	/* the control: must work */
		return try_clone(0);
	errno = 0;
	return -2;
}

int
main(int argc, char *argv[])
{
	long	 r;
	int	 i, e;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "ids") == 0) {	/* after a setuid exec */
			uid_t	 ru, eu, su;

			getresuid(&ru, &eu, &su);
			printf("ids %u %u %u\n", (unsigned int)ru,
			    (unsigned int)eu, (unsigned int)su);
			continue;
		}
		errno = 0;
		r = try_call(argv[i]);
		e = errno;
		if (r == -2 && e == 0) {
			fprintf(stderr, "unknown call %s\n", argv[i]);
			return 2;
		}
		printf("%s %ld %d\n", argv[i], r < 0 ? -1L : 0L,
		    r < 0 ? e : 0);
	}
	return 0;
}
