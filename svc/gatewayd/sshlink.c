/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd's end of the ssh bridge (msgs.def "ssh bridge"): the
 * parent's IPC_DRIVER_SSH_FD answers go to the tunnel (connect_ssh.c)
 * or the exec (rpc_exec.c) that asked, by peerid; and the NSSH1
 * preface both of them need.
 */

#include <time.h>
#include <unistd.h>

#include "gatewayd.h"
#include "libnssh/nssh.h"
#include "log.h"

/* gatewayd owns the message's fd: someone uses it or it is closed. */
void
sshlink_fd(struct gatewayd *gd, struct ipc_msg *msg)
{
	int	 fd;

	if (connect_ssh_fd(gd, msg) == 0 || rpc_exec_fd(gd, msg) == 0)
		return;
	/* The asker is gone (client hung up while the parent dialled). */
	if ((fd = ipc_fd(msg)) != -1)
		close(fd);
}

/* "NSSH1 <token> <ts> <nonce> <hmac>\n" with a fresh nonce. */
int
sshlink_nssh_line(struct gatewayd *gd, const char *token, char *buf,
    size_t len)
{
	char	 nonce[GD_UUID_LEN];

	rpc_uuid(nonce);
	if (nssh_line_build(gd->gd_cfg.gc_handshake_secret, token,
	    (int64_t)time(NULL), nonce, buf, len) == -1) {
		log_warnx("%s: cannot build the NSSH1 preface", __func__);
		return -1;
	}
	return 0;
}
