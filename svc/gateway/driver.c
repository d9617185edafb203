/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The local compute driver (architecture.md §5): the parent (root)
 * runs one openshell-sandbox per sandbox on this host, on gatewayd's
 * word (msgs.def "compute driver").  Per sandbox it issues a client
 * certificate (CN = sandbox id) into <state>/sandboxes/<id>/tls, which
 * is also the supervisor's --state-dir (its persistent /sandbox lives
 * there), reads the supervisor's --ready-fd line and reports the phase
 * back: READY with the effective Landlock/seccomp status as conditions,
 * ERROR with a reason when the supervisor exits.  Delete stops it
 * (SIGTERM, SIGKILL after DRV_STOP_SECS) and removes the directory: its
 * namespaces, veth and mounts die with its processes.  proc.c's SIGCHLD
 * handler reaps the supervisors and hands their status to
 * driver_reaped(); they also get PR_SET_PDEATHSIG so that none outlives
 * a parent that dies without driver_shutdown().
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"
#include "libpki/pki.h"
#include "log.h"
#include "paths.h"
#include "proc.h"

#define DRV_BIN			"openshell-sandbox"
#define DRV_ID_MAX		65
#define DRV_LINE_MAX		1024
#define DRV_STOP_SECS		5
#define DRV_IPC_MAX		(1024 * 1024)	/* a CREATE's environment */
#define DRV_MAXENV		160
#define DRV_MAXARGS		256
#define DRV_DEFAULT_CMD		"sleep infinity"
#define DRV_TLS_DIR		"/etc/openshell-tls"	/* SBX_TLS_DIR */
#define DRV_PATH		"PATH=/usr/local/sbin:/usr/local/bin:" \
				"/usr/sbin:/usr/bin:/sbin:/bin"

/* Phases as datamodel.proto numbers them (the parent links no proto). */
#define DRV_PHASE_PROVISIONING	1
#define DRV_PHASE_READY		2
#define DRV_PHASE_ERROR		3

struct drv_sbx {
	TAILQ_ENTRY(drv_sbx)	 ds_entry;
	struct driver		*ds_drv;
	char			 ds_id[DRV_ID_MAX];
	char			 ds_dir[PATH_MAX];	/* --state-dir */
	pid_t			 ds_pid;	/* 0: not running */
	int			 ds_readyfd;	/* our end of --ready-fd */
	struct event		*ds_evready;
	struct event		*ds_evkill;	/* SIGKILL after SIGTERM */
	char			 ds_line[DRV_LINE_MAX];
	size_t			 ds_linelen;
	int			 ds_ready;
	int			 ds_deleting;
	char			 ds_landlock[DRV_LINE_MAX];
	char			 ds_seccomp[DRV_LINE_MAX];
};

TAILQ_HEAD(drv_list, drv_sbx);

struct driver {
	struct gateway		*dr_gw;
	struct pki_ca		*dr_ca;		/* NULL: no CA key here */
	char			 dr_dir[PATH_MAX];	/* <state>/sandboxes */
	char			 dr_bin[PATH_MAX];
	char			 dr_endpoint[300];
	struct drv_list		 dr_list;
	struct event		*dr_sig[2];	/* TERM, INT */
	int			 dr_stopping;
};

/* What a CREATE carries, freed after the spawn. */
struct drv_req {
	char		 rq_id[DRV_ID_MAX];
	char		*rq_name;
	char		*rq_rootfs;
	char		*rq_command;
	char		*rq_env[DRV_MAXENV];	/* "K=V" */
	int		 rq_nenv;
};

static void	 driver_create(struct driver *, struct ipc_msg *);
static int	 driver_read_create(struct ipc_msg *, struct drv_req *);
static void	 driver_req_free(struct drv_req *);
static void	 driver_delete(struct driver *, struct ipc_msg *);
static int	 driver_envkey_ok(const char *);
static int	 driver_id_ok(const char *);
static struct drv_sbx *driver_find(struct driver *, const char *);
static struct drv_sbx *driver_new(struct driver *, const char *);
static int	 driver_certs(struct driver *, struct drv_sbx *);
static int	 driver_write(const char *, const char *, mode_t);
static int	 driver_spawn(struct driver *, struct drv_sbx *,
		    struct drv_req *);
static int	 driver_argv(struct driver *, struct drv_sbx *,
		    struct drv_req *, char **, char **);
static int	 driver_words(char *, char **, int);
static int	 driver_env(struct driver *, struct drv_sbx *,
		    struct drv_req *, char **, char **);
static void	 driver_exec(const char *, char **, char **, int, int,
		    pid_t) __attribute__((__noreturn__));
static void	 driver_readable(int, short, void *);
static void	 driver_line(struct drv_sbx *);
static void	 driver_field(const char *, const char *, const char *,
		    char *, size_t);
static void	 driver_close_ready(struct drv_sbx *);
static void	 driver_reaped(pid_t, int, void *);
static void	 driver_killtimer(int, short, void *);
static void	 driver_remove(struct drv_sbx *);
static int	 driver_rm(const char *, const struct stat *, int,
		    struct FTW *);
static void	 driver_status(struct driver *, const char *, int, uint32_t,
		    const char *, const char *, const struct drv_sbx *);
static void	 driver_cond(struct ipc_wr *, const char *, const char *);
static void	 driver_free(struct drv_sbx *);
static void	 driver_signal(int, short, void *);
static void	 driver_tlsdir(void);

/*
 * Before the tree starts: <state>/sandboxes (0700), the CA (only when
 * the gateway generated its PKI: a named CA comes without its key),
 * the supervisor's path beside our own binary, the gRPC endpoint the
 * supervisors call back on, the host's /etc/openshell-tls.
 */
int
driver_init(struct gateway *gw)
{
	struct driver	*dr;
	char		 pki[PATH_MAX], exe[PATH_MAX], *p;
	const char	*host;
	ssize_t		 n;

	if ((dr = calloc(1, sizeof(*dr))) == NULL)
		return -1;
	dr->dr_gw = gw;
	TAILQ_INIT(&dr->dr_list);
	if (paths_join(dr->dr_dir, sizeof(dr->dr_dir), gw->gw_state,
	    PATHS_SANDBOXES) == -1 || paths_join(pki, sizeof(pki), gw->gw_state,
	    GATEWAY_PKIDIR) == -1)
		goto fail;
	if (mkdir(dr->dr_dir, 0700) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", dr->dr_dir);
		goto fail;
	}
	if (strncmp(gw->gw_tls_ca, pki, strlen(pki)) == 0)
		dr->dr_ca = pki_ca_load(pki);
	if (dr->dr_ca == NULL)
		log_warnx("no CA key: sandboxes cannot be started");
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		goto fail;
	exe[n] = '\0';
	if ((p = strrchr(exe, '/')) != NULL)
		*p = '\0';
	if (paths_join(dr->dr_bin, sizeof(dr->dr_bin), exe, DRV_BIN) == -1)
		goto fail;
	host = strcmp(gw->gw_bind, "0.0.0.0") == 0 ||
	    strcmp(gw->gw_bind, "::") == 0 ? "127.0.0.1" : gw->gw_bind;
	snprintf(dr->dr_endpoint, sizeof(dr->dr_endpoint),
	    strchr(host, ':') != NULL ? "https://[%s]:%d" : "https://%s:%d",
	    host, gw->gw_realport);
	driver_tlsdir();
	gw->gw_driver = dr;
	proc_tree_reaper(&gw->gw_tree, driver_reaped, dr);
	/* Beside proc.c's own handlers (libevent runs both). */
	dr->dr_sig[0] = evsignal_new(gw->gw_tree.pt_base, SIGTERM,
	    driver_signal, dr);
	dr->dr_sig[1] = evsignal_new(gw->gw_tree.pt_base, SIGINT,
	    driver_signal, dr);
	if (dr->dr_sig[0] == NULL || dr->dr_sig[1] == NULL ||
	    evsignal_add(dr->dr_sig[0], NULL) == -1 ||
	    evsignal_add(dr->dr_sig[1], NULL) == -1)
		fatalx("%s: evsignal", __func__);
	return 0;
 fail:
	free(dr);
	return -1;
}

/*
 * Once per gateway: an empty /etc/openshell-tls on the host, which
 * every sandbox binds its CA directory over (trust.c).  Without it
 * each sandbox rebuilds its /etc out of one bind per entry: most of
 * its mount work, and of the teardown's.  Where /etc is read-only the
 * sandboxes just keep doing that.
 */
static void
driver_tlsdir(void)
{
	if (mkdir(DRV_TLS_DIR, 0755) == -1 && errno != EEXIST)
		log_debug("driver: %s: %s", DRV_TLS_DIR, strerror(errno));
}

/* At every start of gatewayd: CREATE may carry a large environment. */
void
driver_configure(struct gateway *gw)
{
	struct proc_child	*pc = &gw->gw_tree.pt_children[PROC_GATEWAY];

	if (pc->pc_evopen)
		ipc_set_maxsize(&pc->pc_ev.ie_ib, DRV_IPC_MAX);
}

/* 0: a driver message handled; -1: not ours. */
int
driver_dispatch(struct gateway *gw, struct ipc_msg *msg)
{
	struct driver	*dr = gw->gw_driver;

	if (dr == NULL)
		return -1;
	switch (ipc_type(msg)) {
	case IPC_DRIVER_CREATE:
		driver_create(dr, msg);
		return 0;
	case IPC_DRIVER_DELETE:
		driver_delete(dr, msg);
		return 0;
	default:
		return -1;
	}
}

/*
 * A running sandbox is re-announced (gatewayd restarted), a stopped
 * one started again with its stored command.
 */
static void
driver_create(struct driver *dr, struct ipc_msg *msg)
{
	struct drv_req	 rq;
	struct drv_sbx	*ds;

	if (driver_read_create(msg, &rq) == -1) {
		log_warnx("driver: malformed create");
		driver_req_free(&rq);
		return;
	}
	/* --compute-driver none: the record stays PROVISIONING. */
	if (dr->dr_gw->gw_nodriver) {
		driver_req_free(&rq);
		return;
	}
	if ((ds = driver_find(dr, rq.rq_id)) != NULL && ds->ds_pid != 0) {
		if (ds->ds_ready && !ds->ds_deleting)
			driver_status(dr, ds->ds_id, 0, DRV_PHASE_READY,
			    "SupervisorReady", "", ds);
		driver_req_free(&rq);
		return;
	}
	if (ds == NULL && (ds = driver_new(dr, rq.rq_id)) == NULL) {
		driver_status(dr, rq.rq_id, 0, DRV_PHASE_ERROR,
		    "DriverError", "cannot track the sandbox", NULL);
		driver_req_free(&rq);
		return;
	}
	ds->ds_deleting = 0;
	if (dr->dr_ca == NULL)
		driver_status(dr, ds->ds_id, 0, DRV_PHASE_ERROR, "DriverError",
		    "the gateway has no CA key to issue the sandbox's "
		    "certificate", NULL);
	else if (driver_certs(dr, ds) == -1)
		driver_status(dr, ds->ds_id, 0, DRV_PHASE_ERROR, "DriverError",
		    "cannot issue the sandbox's certificate", NULL);
	else if (driver_spawn(dr, ds, &rq) == -1)
		driver_status(dr, ds->ds_id, 0, DRV_PHASE_ERROR, "DriverError",
		    "cannot start openshell-sandbox", NULL);
	driver_req_free(&rq);
}

static int
driver_read_create(struct ipc_msg *msg, struct drv_req *rq)
{
	struct ipc_rd	 r;
	uint32_t	 n, nenv, i;
	char		*k = NULL, *v = NULL;

	memset(rq, 0, sizeof(*rq));
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n != 4) {
		ipc_rd_end(&r);
		return -1;
	}
	ipc_rd_strbuf(&r, rq->rq_id, sizeof(rq->rq_id));
	ipc_rd_str(&r, &rq->rq_name);
	ipc_rd_str(&r, &rq->rq_rootfs);
	ipc_rd_map(&r, &nenv);
	for (i = 0; i < nenv && !ipc_rd_error(&r); i++) {
		ipc_rd_str(&r, &k);
		ipc_rd_str(&r, &v);
		if (k != NULL && v != NULL && driver_envkey_ok(k) &&
		    rq->rq_nenv < DRV_MAXENV - 16) {
			if (strcmp(k, "OPENSHELL_SANDBOX_COMMAND") == 0 &&
			    rq->rq_command == NULL)
				rq->rq_command = strdup(v);
			if (asprintf(&rq->rq_env[rq->rq_nenv], "%s=%s", k,
			    v) != -1)
				rq->rq_nenv++;
		}
		free(k);
		free(v);
		k = v = NULL;
	}
	ipc_rd_leave(&r);
	if (ipc_rd_end(&r) == -1 || !driver_id_ok(rq->rq_id) ||
	    rq->rq_name == NULL)
		return -1;
	return 0;
}

static void
driver_req_free(struct drv_req *rq)
{
	int	 i;

	free(rq->rq_name);
	free(rq->rq_rootfs);
	free(rq->rq_command);
	for (i = 0; i < rq->rq_nenv; i++)
		free(rq->rq_env[i]);
	memset(rq, 0, sizeof(*rq));
}

static void
driver_delete(struct driver *dr, struct ipc_msg *msg)
{
	struct timeval	 tv = { DRV_STOP_SECS, 0 };
	struct ipc_rd	 r;
	struct drv_sbx	*ds;
	char		 id[DRV_ID_MAX];
	uint32_t	 n;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	ipc_rd_strbuf(&r, id, sizeof(id));
	if (ipc_rd_end(&r) == -1 || n != 1 || !driver_id_ok(id)) {
		log_warnx("driver: malformed delete");
		return;
	}
	/* Unknown (a record left DELETING by a restart): clean up too. */
	if ((ds = driver_find(dr, id)) == NULL &&
	    (ds = driver_new(dr, id)) == NULL)
		return;
	ds->ds_deleting = 1;
	if (ds->ds_pid == 0) {
		driver_remove(ds);
		return;
	}
	if (kill(ds->ds_pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("driver: kill %d", (int)ds->ds_pid);
	if (ds->ds_evkill == NULL)
		ds->ds_evkill = evtimer_new(dr->dr_gw->gw_tree.pt_base,
		    driver_killtimer, ds);
	if (ds->ds_evkill != NULL)
		evtimer_add(ds->ds_evkill, &tv);
}

/*
 * The spec's environment reaches a root process: nothing that steers
 * the dynamic loader, libc or the resolver, and not what we force.
 */
static int
driver_envkey_ok(const char *k)
{
	static const char *deny[] = { "LD_", "MALLOC_", "GCONV_PATH=",
	    "GLIBC_TUNABLES=", "LOCPATH=", "NLSPATH=", "HOSTALIASES=",
	    "RES_OPTIONS=", "LOCALDOMAIN=", "PATH=", "OPENSHELL_SANDBOX_ID=",
	    "OPENSHELL_SANDBOX=", "OPENSHELL_ENDPOINT=", "OPENSHELL_TLS_",
	    "OPENSHELL_SSH_HANDSHAKE_" };
	char	 key[256];
	size_t	 i;

	if (k[0] == '\0' || strchr(k, '=') != NULL ||
	    snprintf(key, sizeof(key), "%s=", k) >= (int)sizeof(key))
		return 0;
	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		if (strncmp(key, deny[i], strlen(deny[i])) == 0)
			return 0;
	return 1;
}

/* Ids name a directory: no '/', no dot-names, no surprises. */
static int
driver_id_ok(const char *id)
{
	size_t	 i;

	if (id[0] == '\0' || id[0] == '.' || id[0] == '-')
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' ||
		    id[i] == '_' || id[i] == '.'))
			return 0;
	return i < DRV_ID_MAX;
}

static struct drv_sbx *
driver_find(struct driver *dr, const char *id)
{
	struct drv_sbx	*ds;

	TAILQ_FOREACH(ds, &dr->dr_list, ds_entry)
		if (strcmp(ds->ds_id, id) == 0)
			return ds;
	return NULL;
}

static struct drv_sbx *
driver_new(struct driver *dr, const char *id)
{
	struct drv_sbx	*ds;

	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return NULL;
	ds->ds_drv = dr;
	ds->ds_readyfd = -1;
	strlcpy(ds->ds_id, id, sizeof(ds->ds_id));
	if (paths_join(ds->ds_dir, sizeof(ds->ds_dir), dr->dr_dir, id) ==
	    -1) {
		free(ds);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&dr->dr_list, ds, ds_entry);
	return ds;
}

/*
 * <dir> 0700 root, <dir>/tls 0700: ca.crt, and a fresh tls.crt and
 * tls.key (0600) at every start.  Only the supervisor (root) reads
 * them; the agent never sees <dir> (--hide of the state directory).
 * They are issued in memory and written without fsync: a crash loses
 * nothing that the next start does not issue again, and create ->
 * READY latency is what the user waits for.
 */
static int
driver_certs(struct driver *dr, struct drv_sbx *ds)
{
	char	 tls[PATH_MAX], path[PATH_MAX], *crt = NULL, *key = NULL;
	int	 rc = -1;

	if ((mkdir(ds->ds_dir, 0700) == -1 && errno != EEXIST) ||
	    paths_join(tls, sizeof(tls), ds->ds_dir, "tls") == -1 ||
	    (mkdir(tls, 0700) == -1 && errno != EEXIST)) {
		log_warn("driver: %s", ds->ds_dir);
		return -1;
	}
	if (pki_issue_client_pem(dr->dr_ca, ds->ds_id, PKI_LEAF_DAYS, &crt,
	    &key) == -1)
		return -1;
	if (paths_join(path, sizeof(path), tls, PKI_BUNDLE_CA) == 0 &&
	    driver_write(path, dr->dr_gw->gw_ca_pem, 0644) == 0 &&
	    paths_join(path, sizeof(path), tls, PKI_BUNDLE_CERT) == 0 &&
	    driver_write(path, crt, 0644) == 0 &&
	    paths_join(path, sizeof(path), tls, PKI_BUNDLE_KEY) == 0 &&
	    driver_write(path, key, 0600) == 0)
		rc = 0;
	free(crt);
	pki_free_secret(key);
	return rc;
}

/* A file replaced by a new one (never written through a link). */
static int
driver_write(const char *path, const char *data, mode_t mode)
{
	char	 tmp[PATH_MAX];
	size_t	 len = strlen(data);
	int	 fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		goto fail;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	return 0;
 fail:
	log_warn("driver: %s", path);
	(void)unlink(tmp);
	return -1;
}

/*
 * Everything the child needs is built before the fork.  The ready
 * pipe's read end stays ours (ds_readyfd); the write end becomes the
 * supervisor's fd 3.  Its stdout and stderr (its log, and the agent's
 * output it relays) go to <dir>/supervisor.log.
 */
static int
driver_spawn(struct driver *dr, struct drv_sbx *ds, struct drv_req *rq)
{
	char	*argv[DRV_MAXARGS + 32], *envp[DRV_MAXENV + 16];
	char	*cmd = NULL, *envbuf[16];
	char	 logpath[PATH_MAX];
	int	 p[2] = { -1, -1 }, logfd = -1, rc = -1, i;
	pid_t	 pid, self = getpid();

	memset(envbuf, 0, sizeof(envbuf));
	if ((cmd = strdup(rq->rq_command != NULL && rq->rq_command[0] !=
	    '\0' ? rq->rq_command : DRV_DEFAULT_CMD)) == NULL ||
	    driver_argv(dr, ds, rq, argv, &cmd) == -1 ||
	    driver_env(dr, ds, rq, envp, envbuf) == -1)
		goto done;
	if (paths_join(logpath, sizeof(logpath), ds->ds_dir,
	    "supervisor.log") == -1 ||
	    (logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1 || pipe2(p, O_CLOEXEC) == -1) {
		log_warn("driver: %s", ds->ds_dir);
		goto done;
	}
	if ((pid = fork()) == -1) {
		log_warn("driver: fork");
		goto done;
	}
	if (pid == 0)
		driver_exec(dr->dr_bin, argv, envp, p[1], logfd, self);
	ds->ds_pid = pid;
	ds->ds_ready = 0;
	ds->ds_linelen = 0;
	ds->ds_landlock[0] = ds->ds_seccomp[0] = '\0';
	ds->ds_readyfd = p[0];
	p[0] = -1;
	if ((ds->ds_evready = event_new(dr->dr_gw->gw_tree.pt_base,
	    ds->ds_readyfd, EV_READ | EV_PERSIST, driver_readable, ds)) ==
	    NULL || event_add(ds->ds_evready, NULL) == -1)
		log_warnx("driver: cannot watch %s's ready line", ds->ds_id);
	log_info("sandbox %s: started openshell-sandbox pid %d", ds->ds_id,
	    (int)pid);
	rc = 0;
 done:
	for (i = 0; i < 2; i++)
		if (p[i] != -1)
			close(p[i]);
	if (logfd != -1)
		close(logfd);
	for (i = 0; i < 16; i++)
		free(envbuf[i]);
	free(cmd);
	return rc;
}

/* The supervisor's flags (Wave 3 decisions), then `-- command'. */
static int
driver_argv(struct driver *dr, struct drv_sbx *ds, struct drv_req *rq,
    char **argv, char **cmd)
{
	static char	 tls[3][PATH_MAX];
	struct gateway	*gw = dr->dr_gw;
	int		 n = 0;

	if (snprintf(tls[0], PATH_MAX, "%s/tls/%s", ds->ds_dir,
	    PKI_BUNDLE_CA) >= PATH_MAX || snprintf(tls[1], PATH_MAX,
	    "%s/tls/%s", ds->ds_dir, PKI_BUNDLE_CERT) >= PATH_MAX ||
	    snprintf(tls[2], PATH_MAX, "%s/tls/%s", ds->ds_dir,
	    PKI_BUNDLE_KEY) >= PATH_MAX)
		return -1;
	argv[n++] = DRV_BIN;
	if (gw->gw_verbose)
		argv[n++] = "-v";
	argv[n++] = "--sandbox-id";
	argv[n++] = ds->ds_id;
	argv[n++] = "--name";
	argv[n++] = rq->rq_name;
	argv[n++] = "--endpoint";
	argv[n++] = dr->dr_endpoint;
	argv[n++] = "--tls-ca";
	argv[n++] = tls[0];
	argv[n++] = "--tls-cert";
	argv[n++] = tls[1];
	argv[n++] = "--tls-key";
	argv[n++] = tls[2];
	argv[n++] = "--state-dir";
	argv[n++] = ds->ds_dir;
	argv[n++] = "--hide";
	argv[n++] = gw->gw_state;
	argv[n++] = "--ready-fd";
	argv[n++] = "3";
	if (rq->rq_rootfs != NULL && rq->rq_rootfs[0] != '\0') {
		argv[n++] = "--rootfs";
		argv[n++] = rq->rq_rootfs;
	}
	if (gw->gw_hosts_file[0] != '\0') {
		argv[n++] = "--hosts-file";
		argv[n++] = gw->gw_hosts_file;
	}
	if (gw->gw_upstream_ca[0] != '\0') {
		argv[n++] = "--upstream-ca";
		argv[n++] = gw->gw_upstream_ca;
	}
	argv[n++] = "--";
	if ((n += driver_words(*cmd, argv + n, DRV_MAXARGS)) == 0)
		return -1;
	argv[n] = NULL;
	return 0;
}

/*
 * The stored command is one string (the environment has no lists):
 * words split on blanks, '...' literal, "..." with \" and \\, a
 * backslash quotes the next character.  In place; returns the count.
 */
static int
driver_words(char *s, char **words, int max)
{
	char	*out = s, q = 0;
	int	 n = 0, inword = 0;

	for (; *s != '\0'; s++) {
		if (q == 0 && (*s == ' ' || *s == '\t' || *s == '\n')) {
			if (inword) {
				*out++ = '\0';
				inword = 0;
			}
			continue;
		}
		if (!inword) {
			if (n == max)
				return 0;
			words[n++] = out;
			inword = 1;
		}
		if (q == 0 && (*s == '\'' || *s == '"'))
			q = *s;
		else if (q != 0 && *s == q)
			q = 0;
		else if (*s == '\\' && q != '\'' && s[1] != '\0')
			*out++ = *++s;
		else
			*out++ = *s;
	}
	*out = '\0';
	return n;
}

/*
 * A fresh environment: PATH, what tests and packaging point us with,
 * the spec's environment, then the forced values (control-plane
 * §2.2).  Never the gateway's own OPENSHELL_TLS_* (its server key).
 */
static int
driver_env(struct driver *dr, struct drv_sbx *ds, struct drv_req *rq,
    char **envp, char **buf)
{
	static const char *pass[] = { "OPENSHELL_LIBEXEC",
	    "OPENSHELL_POLICY_POLL_INTERVAL_SECS", "LANG" };
	struct gateway	*gw = dr->dr_gw;
	const char	*v;
	size_t		 i;
	int		 n = 0, b = 0, rc = 0;

	envp[n++] = DRV_PATH;
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if ((v = getenv(pass[i])) != NULL)
			rc |= asprintf(&buf[b++], "%s=%s", pass[i], v) == -1;
	rc |= asprintf(&buf[b++], "OPENSHELL_SANDBOX_ID=%s", ds->ds_id) == -1;
	rc |= asprintf(&buf[b++], "OPENSHELL_SANDBOX=%s", rq->rq_name) == -1;
	rc |= asprintf(&buf[b++], "OPENSHELL_ENDPOINT=%s", dr->dr_endpoint) ==
	    -1;
	rc |= asprintf(&buf[b++], "OPENSHELL_SSH_HANDSHAKE_SECRET=%s",
	    gw->gw_secret) == -1;
	rc |= asprintf(&buf[b++], "OPENSHELL_SSH_HANDSHAKE_SKEW_SECS=%d",
	    gw->gw_ssh_skew) == -1;
	if (rc != 0)
		return -1;
	for (i = 0; i < (size_t)b; i++)
		envp[n++] = buf[i];
	for (i = 0; i < (size_t)rq->rq_nenv; i++)
		envp[n++] = rq->rq_env[i];
	envp[n] = NULL;
	return 0;
}

/*
 * In the forked child: its own session (a ^C on the gateway's
 * terminal is not for it), SIGTERM when the parent dies, stdin from
 * /dev/null, stdout and stderr to the log, the ready pipe on fd 3,
 * nothing else open.  Dups go to 0-2 before 3: neither source can be
 * below 3 (proc.c keeps 0-2 open), so none is overwritten first.
 */
static void
driver_exec(const char *bin, char **argv, char **envp, int readyfd,
    int logfd, pid_t parent)
{
	sigset_t	 set;
	int		 null;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* The parent may have died before PDEATHSIG was set. */
	if (setsid() == -1 || prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
	    getppid() != parent)
		_exit(127);
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 ||
	    dup2(logfd, STDOUT_FILENO) == -1 ||
	    dup2(logfd, STDERR_FILENO) == -1)
		_exit(127);
	if (readyfd == 3) {
		if (fcntl(readyfd, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(readyfd, 3) == -1)
		_exit(127);
	close_range(4, ~0U, 0);
	execve(bin, argv, envp);
	dprintf(STDERR_FILENO, "exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

static void
driver_readable(int fd, short event, void *arg)
{
	struct drv_sbx	*ds = arg;
	char		*nl;
	ssize_t		 n;

	(void)event;
	n = read(fd, ds->ds_line + ds->ds_linelen,
	    sizeof(ds->ds_line) - 1 - ds->ds_linelen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		driver_close_ready(ds);
		return;
	}
	ds->ds_linelen += (size_t)n;
	ds->ds_line[ds->ds_linelen] = '\0';
	if ((nl = strchr(ds->ds_line, '\n')) == NULL &&
	    ds->ds_linelen < sizeof(ds->ds_line) - 1)
		return;
	if (nl != NULL)
		*nl = '\0';
	driver_close_ready(ds);
	driver_line(ds);
}

/*
 * "ready landlock=<status> seccomp=<status>" (the plain "ready" of a
 * file-mode supervisor reports no isolation status).
 */
static void
driver_line(struct drv_sbx *ds)
{
	if (strncmp(ds->ds_line, "ready", 5) != 0 || ds->ds_deleting)
		return;
	driver_field(ds->ds_line, "landlock=", " seccomp=", ds->ds_landlock,
	    sizeof(ds->ds_landlock));
	driver_field(ds->ds_line, " seccomp=", NULL, ds->ds_seccomp,
	    sizeof(ds->ds_seccomp));
	ds->ds_ready = 1;
	log_info("sandbox %s: ready", ds->ds_id);
	driver_status(ds->ds_drv, ds->ds_id, 0, DRV_PHASE_READY,
	    "SupervisorReady", "", ds);
}

static void
driver_field(const char *line, const char *key, const char *end, char *buf,
    size_t len)
{
	const char	*s, *e;

	buf[0] = '\0';
	if ((s = strstr(line, key)) == NULL)
		return;
	s += strlen(key);
	if (end == NULL || (e = strstr(s, end)) == NULL)
		e = s + strlen(s);
	if ((size_t)(e - s) >= len)
		e = s + len - 1;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
}

static void
driver_close_ready(struct drv_sbx *ds)
{
	if (ds->ds_evready != NULL) {
		event_free(ds->ds_evready);
		ds->ds_evready = NULL;
	}
	if (ds->ds_readyfd != -1) {
		close(ds->ds_readyfd);
		ds->ds_readyfd = -1;
	}
}

/*
 * The gateway stops: the supervisors stop at once, in parallel with
 * the daemons, so that their streams do not hold up gatewayd's
 * graceful stop.  Their exits are no errors to record.
 */
static void
driver_signal(int sig, short event, void *arg)
{
	struct driver	*dr = arg;
	struct drv_sbx	*ds;

	(void)sig;
	(void)event;
	dr->dr_stopping = 1;
	TAILQ_FOREACH(ds, &dr->dr_list, ds_entry)
		if (ds->ds_pid > 0)
			kill(ds->ds_pid, SIGTERM);
}

/* proc.c's SIGCHLD handler: a pid that is not one of the daemons. */
static void
driver_reaped(pid_t pid, int status, void *arg)
{
	struct driver	*dr = arg;
	struct drv_sbx	*ds;
	char		 msg[128];
	const char	*abbrev;

	TAILQ_FOREACH(ds, &dr->dr_list, ds_entry)
		if (ds->ds_pid == pid)
			break;
	if (ds == NULL)
		return;
	ds->ds_pid = 0;
	driver_close_ready(ds);
	if (ds->ds_evkill != NULL)
		evtimer_del(ds->ds_evkill);
	if (ds->ds_deleting) {
		driver_remove(ds);
		return;
	}
	if (dr->dr_stopping)
		return;
	if (WIFSIGNALED(status)) {
		abbrev = sigabbrev_np(WTERMSIG(status));
		snprintf(msg, sizeof(msg), "openshell-sandbox was killed by "
		    "signal %d (SIG%s)%s", WTERMSIG(status), abbrev != NULL ?
		    abbrev : "?", ds->ds_ready ? "" : " before it was ready");
	} else
		snprintf(msg, sizeof(msg), "openshell-sandbox exited with "
		    "status %d%s", WEXITSTATUS(status), ds->ds_ready ? "" :
		    " before it was ready");
	log_warnx("sandbox %s: %s", ds->ds_id, msg);
	ds->ds_ready = 0;
	driver_status(dr, ds->ds_id, 0, DRV_PHASE_ERROR, WIFSIGNALED(status) ?
	    "SupervisorKilled" : "SupervisorExited", msg, NULL);
}

static void
driver_killtimer(int fd, short event, void *arg)
{
	struct drv_sbx	*ds = arg;

	(void)fd;
	(void)event;
	if (ds->ds_pid == 0)
		return;
	log_warnx("sandbox %s: openshell-sandbox pid %d did not stop, "
	    "killing it", ds->ds_id, (int)ds->ds_pid);
	kill(ds->ds_pid, SIGKILL);
}

/* The supervisor is gone: its directory goes, then the record. */
static void
driver_remove(struct drv_sbx *ds)
{
	struct driver	*dr = ds->ds_drv;
	char		 id[DRV_ID_MAX];

	if (nftw(ds->ds_dir, driver_rm, 16, FTW_DEPTH | FTW_PHYS |
	    FTW_MOUNT) == -1 && errno != ENOENT)
		log_warn("sandbox %s: cannot remove %s", ds->ds_id,
		    ds->ds_dir);
	log_info("sandbox %s: removed", ds->ds_id);
	strlcpy(id, ds->ds_id, sizeof(id));
	TAILQ_REMOVE(&dr->dr_list, ds, ds_entry);
	driver_free(ds);
	driver_status(dr, id, 1, 0, "", "", NULL);
}

static int
driver_rm(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 &&
	    errno != ENOENT)
		log_warn("rm %s", path);
	return 0;
}

/*
 * [str id, bool gone, u32 phase, str reason, str message, [conditions]]
 * With ds (a ready sandbox): Ready, Landlock and Seccomp conditions; an
 * error is a Ready condition False with its reason.
 */
static void
driver_status(struct driver *dr, const char *id, int gone, uint32_t phase,
    const char *reason, const char *message, const struct drv_sbx *ds)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 6);
	ipc_wr_str(&w, id);
	ipc_wr_bool(&w, gone);
	ipc_wr_u32(&w, phase);
	ipc_wr_str(&w, reason);
	ipc_wr_str(&w, message);
	ipc_wr_array(&w, ds != NULL ? 3 : phase == DRV_PHASE_ERROR ? 1 : 0);
	if (ds == NULL && phase == DRV_PHASE_ERROR) {
		ipc_wr_array(&w, 4);
		ipc_wr_str(&w, "Ready");
		ipc_wr_str(&w, "False");
		ipc_wr_str(&w, reason);
		ipc_wr_str(&w, message);
	}
	if (ds != NULL) {
		ipc_wr_array(&w, 4);
		ipc_wr_str(&w, "Ready");
		ipc_wr_str(&w, "True");
		ipc_wr_str(&w, reason);
		ipc_wr_str(&w, message);
		driver_cond(&w, "Landlock", ds->ds_landlock);
		driver_cond(&w, "Seccomp", ds->ds_seccomp);
	}
	if (proc_compose_wr(&dr->dr_gw->gw_tree, PROC_GATEWAY,
	    IPC_DRIVER_STATUS, 0, -1, &w) == -1)
		log_warn("driver: status of %s to gatewayd", id);
}

static void
driver_cond(struct ipc_wr *w, const char *type, const char *text)
{
	int	 on = strstr(text, "enforced=yes") != NULL;

	ipc_wr_array(w, 4);
	ipc_wr_str(w, type);
	ipc_wr_str(w, text[0] == '\0' ? "Unknown" : on ? "True" : "False");
	ipc_wr_str(w, text[0] == '\0' ? "NotReported" : on ? "Enforced" :
	    "NotEnforced");
	ipc_wr_str(w, text);
}

static void
driver_free(struct drv_sbx *ds)
{
	driver_close_ready(ds);
	if (ds->ds_evkill != NULL)
		event_free(ds->ds_evkill);
	free(ds);
}

/*
 * The gateway stops (its daemons are gone): every supervisor gets
 * SIGTERM and DRV_STOP_SECS, then SIGKILL.  State directories stay:
 * the next start brings the sandboxes back (gatewayd's CREATEs).
 */
void
driver_shutdown(struct gateway *gw)
{
	struct driver	*dr = gw->gw_driver;
	struct drv_sbx	*ds;
	struct timespec	 t0, now;
	int		 left, status;

	if (dr == NULL)
		return;
	TAILQ_FOREACH(ds, &dr->dr_list, ds_entry)
		if (ds->ds_pid > 0)
			kill(ds->ds_pid, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		left = 0;
		TAILQ_FOREACH(ds, &dr->dr_list, ds_entry) {
			if (ds->ds_pid > 0 &&
			    waitpid(ds->ds_pid, &status, WNOHANG) != 0)
				ds->ds_pid = 0;
			left += ds->ds_pid > 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* A SIGCHLD would be the wake-up, but the loop is gone:
		 * poll at 10 ms, which only ever costs the shutdown. */
		if (left > 0)
			poll(NULL, 0, 10);
	} while (left > 0 && now.tv_sec - t0.tv_sec < DRV_STOP_SECS);
	TAILQ_FOREACH(ds, &dr->dr_list, ds_entry)
		if (ds->ds_pid > 0) {
			log_warnx("sandbox %s: killing openshell-sandbox pid "
			    "%d", ds->ds_id, (int)ds->ds_pid);
			kill(ds->ds_pid, SIGKILL);
			waitpid(ds->ds_pid, &status, 0);
		}
	while ((ds = TAILQ_FIRST(&dr->dr_list)) != NULL) {
		TAILQ_REMOVE(&dr->dr_list, ds, ds_entry);
		driver_free(ds);
	}
	pki_ca_free(dr->dr_ca);
	event_free(dr->dr_sig[0]);
	event_free(dr->dr_sig[1]);
	free(dr);
	gw->gw_driver = NULL;
}
