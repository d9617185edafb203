/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The control socket: created by the parent, served by each daemon.
 * A client that sends anything malformed, or that cannot keep up with
 * its replies, is dropped; the daemon carries on.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "paths.h"
#include "proc.h"

#define CONTROL_LEVEL_MAX	16

static void	 control_accept(int, short, void *);
static void	 control_resume(int, short, void *);
static int	 control_peer_ok(struct control *, int, uid_t *, pid_t *);
static void	 control_add(struct control *, int, uid_t, pid_t);
static void	 control_drop(struct control_client *);
static void	 control_dispatch(struct ipc_ev *, struct ipc_msg *, void *);
static void	 control_closed(struct ipc_ev *, int, void *);
static int	 control_request(struct control_client *, struct ipc_msg *,
		    struct ipc_wr *, const char **);
static int	 control_rd_level(struct ipc_msg *, int *, const char **);
static int	 control_extra(struct proc_self *, uint32_t);
static void	 control_status(struct proc_self *, struct ipc_wr *);
static void	 control_stats(struct control *, struct ipc_wr *);
static void	 control_channels(struct proc_self *, struct ipc_wr *);
static void	 control_setlevel(struct proc_self *, int, struct ipc_wr *);
static void	 control_error(struct control_client *, struct ipc_msg *,
		    const char *);

static const char *control_levels[] = { "warn", "info", "debug" };

/*
 * Parent side.  Under umask 077 the socket never exists with a wider
 * mode, and the chmod makes 0600 explicit.  It is owned by whoever runs
 * the parent (root, or the invoking user); the caller owns the fd.
 */
int
control_listen(const char *path)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd, dirfd, saved;

	if (paths_sun(path, &sun, &dirfd) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	if (unlink(path) == -1 && errno != ENOENT)
		goto fail;
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(path, 0600) == -1 || listen(fd, CONTROL_MAXCLIENTS) == -1)
		goto fail;
	if (dirfd != -1)
		close(dirfd);
	return fd;
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (dirfd != -1)
		close(dirfd);
	errno = saved;
	return -1;
}

/* Daemon side: the control owns the listening fd from here on. */
struct control *
control_init(struct proc_self *ps, int fd)
{
	struct control	*ctl;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		fatal("%s", __func__);
	ctl->ctl_self = ps;
	ctl->ctl_fd = fd;
	TAILQ_INIT(&ctl->ctl_clients);
	ctl->ctl_ev = event_new(ps->ps_base, fd, EV_READ | EV_PERSIST,
	    control_accept, ctl);
	ctl->ctl_pause = evtimer_new(ps->ps_base, control_resume, ctl);
	if (ctl->ctl_ev == NULL || ctl->ctl_pause == NULL ||
	    event_add(ctl->ctl_ev, NULL) == -1)
		fatalx("%s: event", __func__);
	return ctl;
}

int
control_nclients(const struct control *ctl)
{
	return ctl == NULL ? 0 : ctl->ctl_nclients;
}

int
control_level_parse(const char *name, int *level)
{
	int	 i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, control_levels[i]) == 0) {
			*level = i - 1;
			return 0;
		}
	return -1;
}

const char *
control_level_name(int level)
{
	if (level < 0)
		return control_levels[0];
	return control_levels[level > 1 ? 2 : level + 1];
}

/* Out of fds: stop accepting for a second rather than spin. */
static void
control_accept(int fd, short event, void *arg)
{
	struct control	*ctl = arg;
	struct timeval	 tv = { 1, 0 };
	uid_t		 uid;
	pid_t		 pid;
	int		 cfd;

	(void)event;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("control: accept");
			event_del(ctl->ctl_ev);
			evtimer_add(ctl->ctl_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (control_peer_ok(ctl, cfd, &uid, &pid) == -1) {
		close(cfd);
		return;
	}
	control_add(ctl, cfd, uid, pid);
}

static void
control_resume(int fd, short event, void *arg)
{
	struct control	*ctl = arg;

	(void)fd;
	(void)event;
	event_add(ctl->ctl_ev, NULL);
}

/* Root, or the user who started the tree; and not too many at once. */
static int
control_peer_ok(struct control *ctl, int fd, uid_t *uid, pid_t *pid)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		return -1;
	}
	if (cred.uid != 0 && cred.uid != ctl->ctl_self->ps_invoker) {
		log_warnx("control: refused uid %u (pid %d)",
		    (unsigned int)cred.uid, (int)cred.pid);
		return -1;
	}
	if (ctl->ctl_nclients >= CONTROL_MAXCLIENTS) {
		log_warnx("control: too many clients, refused pid %d",
		    (int)cred.pid);
		return -1;
	}
	*uid = cred.uid;
	*pid = cred.pid;
	return 0;
}

/* The client's channel owns fd (also when ipc_ev_open fails). */
static void
control_add(struct control *ctl, int fd, uid_t uid, pid_t pid)
{
	struct proc_self	*ps = ctl->ctl_self;
	struct control_client	*cc;

	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warn("control");
		close(fd);
		return;
	}
	cc->cc_ctl = ctl;
	cc->cc_uid = uid;
	cc->cc_pid = pid;
	if (ipc_ev_open(&cc->cc_ev, ps->ps_base, fd, ps->ps_id, PROC_CONTROL,
	    control_dispatch, control_closed, cc) == -1) {
		log_warn("control: client pid %d", (int)pid);
		free(cc);
		return;
	}
	ipc_set_maxsize(&cc->cc_ev.ie_ib, CONTROL_MAXSIZE);
	ipc_set_maxqueue(&cc->cc_ev.ie_ib, CONTROL_MAXQUEUE);
	TAILQ_INSERT_TAIL(&ctl->ctl_clients, cc, cc_entry);
	ctl->ctl_nclients++;
	log_debug("control: client pid %d uid %u", (int)pid,
	    (unsigned int)uid);
}

/* Safe from the client's own callbacks (see ipc_ev_close). */
static void
control_drop(struct control_client *cc)
{
	struct control	*ctl = cc->cc_ctl;

	TAILQ_REMOVE(&ctl->ctl_clients, cc, cc_entry);
	ctl->ctl_nclients--;
	ipc_ev_close(&cc->cc_ev);
	free(cc);
}

static void
control_closed(struct ipc_ev *ev, int err, void *arg)
{
	struct control_client	*cc = arg;

	(void)ev;
	if (err != 0)
		log_warnx("control: dropped client pid %d: %s",
		    (int)cc->cc_pid, strerror(err));
	control_drop(cc);
}

static void
control_dispatch(struct ipc_ev *ev, struct ipc_msg *msg, void *arg)
{
	struct control_client	*cc = arg;
	struct ipc_wr		 w;
	const char		*errmsg = NULL;
	int			 rc;

	(void)ev;
	ipc_wr_init(&w);
	if ((rc = control_request(cc, msg, &w, &errmsg)) != 0) {
		ipc_wr_free(&w);
		if (rc == 1) {
			control_error(cc, msg, errmsg);
			return;
		}
		log_warnx("control: malformed %s from client pid %d, dropped",
		    ipc_type_str(ipc_type(msg)), (int)cc->cc_pid);
		control_drop(cc);
		return;
	}
	if (ipc_ev_compose_wr(&cc->cc_ev, IPC_CTL_REPLY, ipc_peerid(msg), -1,
	    &w) == -1) {
		log_warn("control: reply to client pid %d, dropped",
		    (int)cc->cc_pid);
		control_drop(cc);
	}
}

/* 0: reply in w; 1: an error for the client (*errmsg); -1: malformed. */
static int
control_request(struct control_client *cc, struct ipc_msg *msg,
    struct ipc_wr *w, const char **errmsg)
{
	struct proc_self	*ps = cc->cc_ctl->ctl_self;
	uint32_t		 type = ipc_type(msg);
	int			 extra, level = 0;

	if (type == IPC_CTL_LOG_LEVEL) {
		if (control_rd_level(msg, &level, errmsg) == -1)
			return *errmsg != NULL ? 1 : -1;
	} else if (proc_msg_empty(msg) == -1)
		return -1;
	extra = control_extra(ps, type);
	switch (type) {
	case IPC_CTL_STATUS:
		ipc_wr_map(w, 6 + extra);
		control_status(ps, w);
		break;
	case IPC_CTL_STATS:
		ipc_wr_map(w, 10 + extra);
		control_stats(cc->cc_ctl, w);
		break;
	case IPC_CTL_LOG_LEVEL:
		ipc_wr_map(w, 3 + extra);
		control_setlevel(ps, level, w);
		break;
	case IPC_CTL_DUMP:
		ipc_wr_map(w, 2 + extra);
		control_kv_str(w, "proc", ps->ps_title);
		control_kv_u64(w, "pid", (uint64_t)getpid());
		break;
	default:
		return -1;
	}
	if (extra > 0)
		ps->ps_ctlops->co_fill(ps, type, w);
	return 0;
}

/* [str level]: -1 with *errmsg NULL when malformed, set when unknown. */
static int
control_rd_level(struct ipc_msg *msg, int *level, const char **errmsg)
{
	struct ipc_rd	 r;
	char		 name[CONTROL_LEVEL_MAX];
	uint32_t	 n = 0;

	*errmsg = NULL;
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_strbuf(&r, name, sizeof(name));
	if (ipc_rd_end(&r) == -1 || n != 1)
		return -1;
	if (control_level_parse(name, level) == -1) {
		*errmsg = "unknown log level (use warn, info or debug)";
		return -1;
	}
	return 0;
}

static int
control_extra(struct proc_self *ps, uint32_t type)
{
	int	 n;

	if (ps->ps_ctlops == NULL || ps->ps_ctlops->co_keys == NULL ||
	    ps->ps_ctlops->co_fill == NULL)
		return 0;
	n = ps->ps_ctlops->co_keys(ps, type);
	return n > 0 ? n : 0;
}

static void
control_status(struct proc_self *ps, struct ipc_wr *w)
{
	control_kv_str(w, "proc", ps->ps_title);
	control_kv_u64(w, "pid", (uint64_t)getpid());
	control_kv_u64(w, "uid", (uint64_t)getuid());
	control_kv_str(w, "state", ps->ps_running ? "running" : "starting");
	control_kv_u64(w, "uptime_s", proc_uptime(&ps->ps_started));
	control_kv_str(w, "version", OPENSHELL_VERSION);
}

/* Totals over the channels to the parent and the peers. */
static void
control_stats(struct control *ctl, struct ipc_wr *w)
{
	struct proc_self	*ps = ctl->ctl_self;
	struct ipc_buf		*ib;
	uint64_t		 in = 0, out = 0, bin = 0, bout = 0, q = 0;
	uint64_t		 qmax = 0;
	int			 i;

	for (i = 0; i < PROC_MAX; i++) {
		if (!ps->ps_chans[i].ch_open)
			continue;
		ib = &ps->ps_chans[i].ch_ev.ie_ib;
		in += ib->ib_msgs_in;
		out += ib->ib_msgs_out;
		bin += ib->ib_bytes_in;
		bout += ib->ib_bytes_out;
		q += ib->ib_qbytes;
		if (ib->ib_maxqueue > qmax)
			qmax = ib->ib_maxqueue;
	}
	control_kv_u64(w, "uptime_s", proc_uptime(&ps->ps_started));
	control_kv_u64(w, "restarts", ps->ps_restarts);
	control_kv_u64(w, "msgs_in", in);
	control_kv_u64(w, "msgs_out", out);
	control_kv_u64(w, "bytes_in", bin);
	control_kv_u64(w, "bytes_out", bout);
	control_kv_u64(w, "queue_bytes", q);
	control_kv_u64(w, "queue_max", qmax);
	control_channels(ps, w);
	control_kv_u64(w, "control_clients", (uint64_t)ctl->ctl_nclients);
}

static void
control_channels(struct proc_self *ps, struct ipc_wr *w)
{
	struct ipc_buf	*ib;
	uint32_t	 n = 0;
	int		 i;

	for (i = 0; i < PROC_MAX; i++)
		if (ps->ps_chans[i].ch_open)
			n++;
	ipc_wr_str(w, "channels");
	ipc_wr_array(w, n);
	for (i = 0; i < PROC_MAX; i++) {
		if (!ps->ps_chans[i].ch_open)
			continue;
		ib = &ps->ps_chans[i].ch_ev.ie_ib;
		ipc_wr_map(w, 4);
		control_kv_str(w, "peer", proc_name(i));
		control_kv_u64(w, "msgs_in", ib->ib_msgs_in);
		control_kv_u64(w, "msgs_out", ib->ib_msgs_out);
		control_kv_u64(w, "queue_bytes", ib->ib_qbytes);
	}
}

static void
control_setlevel(struct proc_self *ps, int level, struct ipc_wr *w)
{
	const char	*previous;

	previous = control_level_name(log_getverbose());
	log_setverbose(level);
	ps->ps_verbose = level;
	log_info("log level %s (was %s)", control_level_name(level), previous);
	control_kv_str(w, "proc", ps->ps_title);
	control_kv_str(w, "level", control_level_name(level));
	control_kv_str(w, "previous", previous);
}

static void
control_error(struct control_client *cc, struct ipc_msg *msg,
    const char *errmsg)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, errmsg);
	if (ipc_ev_compose_wr(&cc->cc_ev, IPC_CTL_ERROR, ipc_peerid(msg), -1,
	    &w) == -1) {
		log_warn("control: reply to client pid %d, dropped",
		    (int)cc->cc_pid);
		control_drop(cc);
	}
}

void
control_kv_str(struct ipc_wr *w, const char *key, const char *val)
{
	ipc_wr_str(w, key);
	ipc_wr_str(w, val);
}

void
control_kv_u64(struct ipc_wr *w, const char *key, uint64_t val)
{
	ipc_wr_str(w, key);
	ipc_wr_u64(w, val);
}
