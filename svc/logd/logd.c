/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * logd: receives IPC_LOG_EVENT from the parent and from every daemon,
 * keeps the last RING_SIZE events and appends each as one line to the
 * log file whose fd the parent hands over (IPC_SETUP_LOGFILE).
 *
 * It is also the sandbox log bus (logbus.c): gatewayd pushes lines,
 * queries rings and subscribes WatchSandbox streams.  The rings are
 * persisted in the directory whose fd the parent hands over
 * (IPC_SETUP_LOGDIR, logstore.c); that directory is logd's only
 * filesystem access.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "libgrpc/grpc_wire.h"
#include "log.h"
#include "logd.h"
#include "proc.h"
#include "sandbox.h"

struct logd {
	struct proc_self	 lg_ps;
	struct ring		 lg_ring;
	struct logbuses		 lg_buses;
	int			 lg_fd;		/* log file, -1 until sent */
	uint64_t		 lg_lines;	/* written to lg_fd */
	uint64_t		 lg_errors;	/* failed writes */
};

static int	 logd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static int	 logd_dispatch_peer(struct proc_self *, int, struct ipc_msg *);
static int	 logd_dispatch_gatewayd(struct proc_self *, int,
		    struct ipc_msg *);
static void	 logd_logdir(struct logd *, struct ipc_msg *);
static void	 logd_push(struct logd *, struct ipc_msg *);
static void	 logd_filtered(struct logd *, struct ipc_msg *, int);
static void	 logd_drop(struct logd *, struct ipc_msg *);
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
	{ PROC_GATEWAY,	logd_dispatch_gatewayd },
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
	logbus_init(&lg->lg_buses, subs_gatewayd, &lg->lg_ps);
	lg->lg_fd = -1;
	log_sethook(logd_loghook);
	proc_child_handlers(&lg->lg_ps, logd_peers,
	    sizeof(logd_peers) / sizeof(logd_peers[0]));
	/* gatewayd's pushes and our query results exceed the defaults */
	proc_child_limits(&lg->lg_ps, PROC_GATEWAY, LOGBUS_MAXSIZE,
	    LOGBUS_MAXQUEUE);
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
	case IPC_SETUP_LOGDIR:
		logd_logdir(ps->ps_arg, msg);
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
 * gatewayd's messages (msgs.def, "watch and log buses").  Malformed ones
 * are fatal: gatewayd is one of ours.
 */
static int
logd_dispatch_gatewayd(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct logd	*lg = ps->ps_arg;

	switch (ipc_type(msg)) {
	case IPC_LOG_EVENT:
		logd_event(lg, peer, msg);
		break;
	case IPC_LOGBUS_PUSH:
		logd_push(lg, msg);
		break;
	case IPC_LOGBUS_QUERY:
		logd_filtered(lg, msg, 0);
		break;
	case IPC_LOGBUS_SUB:
		logd_filtered(lg, msg, 1);
		break;
	case IPC_LOGBUS_DROP:
		logd_drop(lg, msg);
		break;
	default:
		return subs_dispatch(&lg->lg_buses.lbs_subs, ps, peer, msg);
	}
	return 0;
}

/*
 * [str sandbox_id, [line...]]: the lines' own sandbox ids are ignored.
 * With a peerid, gatewayd waits for IPC_LOGBUS_PUSHED.
 */
static void
logd_push(struct logd *lg, struct ipc_msg *msg)
{
	struct ipc_rd	  r;
	struct ipc_wr	  w;
	int		  rc;
	struct logline	**lines = NULL;
	char		  id[LOGBUS_IDMAX + 1], lid[LOGBUS_IDMAX + 1];
	uint32_t	  n = 0, count = 0, i;
	size_t		  got = 0;
	struct logbus	 *lb;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_strbuf(&r, id, sizeof(id));
		ipc_rd_array(&r, &count);
	}
	if (n == 2 && !ipc_rd_error(&r) && count > 0 &&
	    (lines = calloc(count, sizeof(*lines))) == NULL)
		fatal("%s", __func__);
	for (i = 0; n == 2 && i < count && !ipc_rd_error(&r); i++) {
		if ((lines[got] = logline_read(&r, lid, sizeof(lid))) == NULL)
			break;
		got++;
	}
	if (n == 2 && got == count)
		ipc_rd_leave(&r);
	if (ipc_rd_end(&r) == -1 || n != 2 || got != count || id[0] == '\0' ||
	    (lb = logbus_get(&lg->lg_buses, id, 1)) == NULL) {
		while (got > 0)
			logline_free(lines[--got]);
		free(lines);
		proc_badmsg(&lg->lg_ps, PROC_GATEWAY, msg);
	}
	rc = logbus_append(&lg->lg_buses, lb, lines, got);
	free(lines);
	if (ipc_peerid(msg) == 0)
		return;
	/* gatewayd acknowledges PushSandboxLogs only after this. */
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_u32(&w, rc == 0 ? GRPC_OK : GRPC_INTERNAL);
	subs_send(&lg->lg_buses.lbs_subs, IPC_LOGBUS_PUSHED, ipc_peerid(msg),
	    &w);
}

/*
 * [str sandbox_id, u32 count, i64 since_ms, [str source...], str level]:
 * a query of count lines or, with sub, a subscription with a tail of
 * count.  The frame's peerid names the request or the stream.
 */
static void
logd_filtered(struct logd *lg, struct ipc_msg *msg, int sub)
{
	struct ipc_rd		 r;
	struct logfilter	 lf;
	char			 id[LOGBUS_IDMAX + 1];
	uint32_t		 n = 0, count = 0;
	int			 bad = 1;

	memset(&lf, 0, sizeof(lf));
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 5) {
		ipc_rd_strbuf(&r, id, sizeof(id));
		ipc_rd_u32(&r, &count);
		ipc_rd_i64(&r, &lf.lf_since);
		bad = logfilter_read(&r, &lf);
	}
	if (ipc_rd_end(&r) == -1 || n != 5 || bad) {
		logfilter_clear(&lf);
		proc_badmsg(&lg->lg_ps, PROC_GATEWAY, msg);
	}
	/* a subscription takes the filter's contents */
	if (!sub)
		logbus_query(&lg->lg_buses, ipc_peerid(msg), id, count, &lf);
	else if (logbus_subscribe(&lg->lg_buses, ipc_peerid(msg), id, count,
	    &lf) == -1)
		subs_end(&lg->lg_buses.lbs_subs, ipc_peerid(msg), GRPC_INTERNAL,
		    "log subscription refused");
	logfilter_clear(&lf);
}

static void
logd_drop(struct logd *lg, struct ipc_msg *msg)
{
	char	 id[LOGBUS_IDMAX + 1];

	if (subs_msg_id(msg, id, sizeof(id)) == -1)
		proc_badmsg(&lg->lg_ps, PROC_GATEWAY, msg);
	logbus_drop(&lg->lg_buses, id);
}

/*
 * [] + fd: the log ring directory; lbs_dirfd owns the fd from here on.
 */
static void
logd_logdir(struct logd *lg, struct ipc_msg *msg)
{
	int	 fd;

	fd = ipc_fd(msg);
	if (proc_msg_empty(msg) == -1 || fd == -1 ||
	    lg->lg_buses.lbs_dirfd != -1) {
		if (fd != -1)
			close(fd);
		proc_badmsg(&lg->lg_ps, PROC_PARENT, msg);
	}
	lg->lg_buses.lbs_dirfd = fd;
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
 * The rings come back from their files first.  Landlock: read, write,
 * create and remove beneath the log directory only, named through our
 * fd because the path's ancestors are not ours to search.  seccomp:
 * its channels, the control socket, fds received, and those files.
 * A restarted logd tells gatewayd that its subscriptions are gone.
 */
static void
logd_sandbox(struct proc_self *ps)
{
	struct logd	*lg = ps->ps_arg;
	char		 path[64];

	logstore_load(&lg->lg_buses);
	if (lg->lg_buses.lbs_dirfd != -1) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d",
		    lg->lg_buses.lbs_dirfd);
		if (sandbox_unveil(path, "rwc") == -1)
			fatal("unveil %s", path);
	}
	sandbox_unveil(NULL, NULL);
	sandbox_pledge("stdio rpath wpath cpath unix recvfd");
	subs_restarted(&lg->lg_buses.lbs_subs, ps);
}

static int
logd_ctl_keys(struct proc_self *ps, uint32_t type)
{
	(void)ps;
	switch (type) {
	case IPC_CTL_STATS:
		return 10;
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
	struct subs	*subs = &lg->lg_buses.lbs_subs;

	if (type == IPC_CTL_DUMP) {
		logd_dump(lg, w);
		return;
	}
	control_kv_u64(w, "events", lg->lg_ring.r_total);
	control_kv_u64(w, "lines_buffered", lg->lg_ring.r_count);
	control_kv_u64(w, "ring_size", lg->lg_ring.r_size);
	control_kv_u64(w, "lines_written", lg->lg_lines);
	control_kv_u64(w, "write_errors", lg->lg_errors);
	control_kv_u64(w, "sandboxes", subs->s_nbuses);
	control_kv_u64(w, "subscribers", subs->s_nsubs);
	control_kv_u64(w, "sandbox_lines", lg->lg_buses.lbs_lines);
	control_kv_u64(w, "sandbox_lines_dropped", subs->s_dropped);
	control_kv_u64(w, "ring_file_errors", lg->lg_buses.lbs_errors);
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
