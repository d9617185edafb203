/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * logd: receives IPC_LOG_EVENT from the parent and from every daemon,
 * keeps the last RING_SIZE events and appends each as one line to the
 * log file whose fd the parent hands over (IPC_SETUP_LOGFILE).  It has
 * no filesystem access of its own.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "logd.h"
#include "proc.h"
#include "sandbox.h"

struct logd {
	struct proc_self	 lg_ps;
	struct ring		 lg_ring;
	int			 lg_fd;		/* log file, -1 until sent */
	uint64_t		 lg_lines;	/* written to lg_fd */
	uint64_t		 lg_errors;	/* failed writes */
};

static int	 logd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static int	 logd_dispatch_peer(struct proc_self *, int, struct ipc_msg *);
static void	 logd_event(struct logd *, int, struct ipc_msg *);
static void	 logd_logfile(struct logd *, struct ipc_msg *);
static void	 logd_add(struct logd *, int64_t, const char *, uint32_t,
		    const char *, const char *);
static void	 logd_write(struct logd *, const struct ring_event *);
static void	 logd_loghook(const char *, const char *);
static void	 logd_sandbox(struct proc_self *);
static int	 logd_ctl_keys(struct proc_self *, uint32_t);
static void	 logd_ctl_fill(struct proc_self *, uint32_t, struct ipc_wr *);
static void	 logd_dump(struct logd *, struct ipc_wr *);

static const struct proc_handler logd_peers[] = {
	{ PROC_PARENT,	logd_dispatch_parent },
	{ PROC_GATEWAY,	logd_dispatch_peer },
	{ PROC_WATCH,	logd_dispatch_peer },
};

static const struct proc_ctl_ops logd_ctlops = {
	logd_ctl_keys,
	logd_ctl_fill,
};

/* log_sethook has no context argument: logd's own lines land here. */
static struct logd	 logd_state;

int
main(int argc, char *argv[])
{
	struct logd	*lg = &logd_state;

	proc_child_init(&lg->lg_ps, PROC_LOG, argc, argv);
	ring_init(&lg->lg_ring, RING_SIZE);
	lg->lg_fd = -1;
	log_sethook(logd_loghook);
	proc_child_handlers(&lg->lg_ps, logd_peers,
	    sizeof(logd_peers) / sizeof(logd_peers[0]));
	proc_child_setup(&lg->lg_ps, logd_sandbox, &logd_ctlops, lg);
	proc_child_run(&lg->lg_ps);
}

static int
logd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	switch (ipc_type(msg)) {
	case IPC_LOG_EVENT:
		logd_event(ps->ps_arg, peer, msg);
		break;
	case IPC_SETUP_LOGFILE:
		logd_logfile(ps->ps_arg, msg);
		break;
	default:
		return -1;
	}
	return 0;
}

static int
logd_dispatch_peer(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	if (ipc_type(msg) != IPC_LOG_EVENT)
		return -1;
	logd_event(ps->ps_arg, peer, msg);
	return 0;
}

/*
 * [i64 time_ms, str proc, u32 pid, str level, str message].  A daemon
 * is named by the channel it speaks on, not by what it claims; the
 * parent is trusted to name itself.
 */
static void
logd_event(struct logd *lg, int peer, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		 proc[LOGD_PROC_MAX], level[LOGD_LEVEL_MAX];
	char		*text = NULL;
	int64_t		 time = 0;
	uint32_t	 n = 0, pid = 0;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 5) {
		ipc_rd_i64(&r, &time);
		ipc_rd_strbuf(&r, proc, sizeof(proc));
		ipc_rd_u32(&r, &pid);
		ipc_rd_strbuf(&r, level, sizeof(level));
		ipc_rd_str(&r, &text);
	}
	if (ipc_rd_end(&r) == -1 || n != 5 || text == NULL) {
		free(text);
		proc_badmsg(&lg->lg_ps, peer, msg);
	}
	logd_add(lg, time, peer == PROC_PARENT ? proc : proc_name(peer), pid,
	    level, text);
	free(text);
}

/*
 * [] + fd: from now on lg_fd belongs to logd.  Events that arrived
 * before it are written out at once.
 */
static void
logd_logfile(struct logd *lg, struct ipc_msg *msg)
{
	size_t	 i;
	int	 fd;

	fd = ipc_fd(msg);
	if (proc_msg_empty(msg) == -1 || fd == -1 || lg->lg_fd != -1) {
		if (fd != -1)
			close(fd);
		proc_badmsg(&lg->lg_ps, PROC_PARENT, msg);
	}
	lg->lg_fd = fd;
	for (i = 0; i < lg->lg_ring.r_count; i++)
		logd_write(lg, ring_get(&lg->lg_ring, i));
}

static void
logd_add(struct logd *lg, int64_t time, const char *proc, uint32_t pid,
    const char *level, const char *text)
{
	const struct ring_event	*re;

	if ((re = ring_push(&lg->lg_ring, time, proc, pid, level, text)) !=
	    NULL)
		logd_write(lg, re);
}

/*
 * "2026-01-02T03:04:05.678Z gatewayd[42] INFO: text".  Failures are
 * counted, not logged: a log line about the log would come back here.
 */
static void
logd_write(struct logd *lg, const struct ring_event *re)
{
	char		 line[4096], stamp[32];
	struct tm	 tm;
	time_t		 sec;
	ssize_t		 w;
	size_t		 off = 0, len;
	int		 n;

	if (lg->lg_fd == -1)
		return;
	sec = (time_t)(re->re_time / 1000);
	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		strlcpy(stamp, "-", sizeof(stamp));
	n = snprintf(line, sizeof(line), "%s.%03dZ %s[%u] %s: %s\n", stamp,
	    (int)(re->re_time % 1000), re->re_proc, re->re_pid, re->re_level,
	    re->re_msg);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	line[len - 1] = '\n';
	while (off < len) {
		if ((w = write(lg->lg_fd, line + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			lg->lg_errors++;
			return;
		}
		off += (size_t)w;
	}
	lg->lg_lines++;
}

static void
logd_loghook(const char *level, const char *text)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	logd_add(&logd_state, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	    log_procname(), (uint32_t)getpid(), level, text);
}

/*
 * Landlock with no rules at all: logd only uses fds it was given.
 * seccomp: its channels, the control socket, and fds received.
 */
static void
logd_sandbox(struct proc_self *ps)
{
	(void)ps;
	sandbox_unveil(NULL, NULL);
	sandbox_pledge("stdio unix recvfd");
}

static int
logd_ctl_keys(struct proc_self *ps, uint32_t type)
{
	(void)ps;
	switch (type) {
	case IPC_CTL_STATS:
		return 5;
	case IPC_CTL_DUMP:
		return 1;
	default:
		return 0;
	}
}

static void
logd_ctl_fill(struct proc_self *ps, uint32_t type, struct ipc_wr *w)
{
	struct logd	*lg = ps->ps_arg;

	if (type == IPC_CTL_DUMP) {
		logd_dump(lg, w);
		return;
	}
	control_kv_u64(w, "events", lg->lg_ring.r_total);
	control_kv_u64(w, "lines_buffered", lg->lg_ring.r_count);
	control_kv_u64(w, "ring_size", lg->lg_ring.r_size);
	control_kv_u64(w, "lines_written", lg->lg_lines);
	control_kv_u64(w, "write_errors", lg->lg_errors);
}

/* The newest events that fit one reply, oldest first. */
static void
logd_dump(struct logd *lg, struct ipc_wr *w)
{
	const struct ring_event	*re;
	size_t			 n, i, count = lg->lg_ring.r_count;
	size_t			 bytes = 0;

	for (n = 0; n < count && n < LOGD_DUMP_MAX; n++) {
		re = ring_get(&lg->lg_ring, count - 1 - n);
		bytes += strlen(re->re_msg) + 64;
		if (bytes > LOGD_DUMP_BUDGET)
			break;
	}
	ipc_wr_str(w, "events");
	ipc_wr_array(w, (uint32_t)n);
	for (i = count - n; i < count; i++) {
		re = ring_get(&lg->lg_ring, i);
		ipc_wr_map(w, 5);
		ipc_wr_str(w, "time_ms");
		ipc_wr_i64(w, re->re_time);
		control_kv_str(w, "proc", re->re_proc);
		control_kv_u64(w, "pid", re->re_pid);
		control_kv_str(w, "level", re->re_level);
		control_kv_str(w, "message", re->re_msg);
	}
}
