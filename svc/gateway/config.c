/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell-gateway's settings: command-line flags, each with an
 * environment variable (control-plane.md §4.1); a flag wins over its
 * variable, which wins over the default.  The defaults that depend on
 * the state directory (PKI, database) are filled in here too.
 */

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"
#include "paths.h"
#include "proc.h"

enum {
	OPT_NAME = 256, OPT_STATE, OPT_PORT, OPT_BIND, OPT_CERT, OPT_KEY,
	OPT_CA, OPT_DB, OPT_LOGLEVEL, OPT_SECRET, OPT_READYFD, OPT_SSHHOST,
	OPT_SSHPORT, OPT_SSHPATH, OPT_SKEW, OPT_HOSTS, OPT_DRIVER,
	OPT_UPSTREAMCA
};

/* Flags that have an environment variable, by option code. */
static const struct {
	int		 code;
	const char	*env;
} config_envs[] = {
	{ OPT_PORT,	"OPENSHELL_SERVER_PORT" },
	{ OPT_BIND,	"OPENSHELL_BIND_ADDRESS" },
	{ OPT_CERT,	"OPENSHELL_TLS_CERT" },
	{ OPT_KEY,	"OPENSHELL_TLS_KEY" },
	{ OPT_CA,	"OPENSHELL_TLS_CLIENT_CA" },
	{ OPT_DB,	"OPENSHELL_DB_URL" },
	{ OPT_LOGLEVEL,	"OPENSHELL_LOG_LEVEL" },
	{ OPT_SECRET,	"OPENSHELL_SSH_HANDSHAKE_SECRET" },
	{ OPT_SSHHOST,	"OPENSHELL_SSH_GATEWAY_HOST" },
	{ OPT_SSHPORT,	"OPENSHELL_SSH_GATEWAY_PORT" },
	{ OPT_SSHPATH,	"OPENSHELL_SSH_CONNECT_PATH" },
	{ OPT_SKEW,	"OPENSHELL_SSH_HANDSHAKE_SKEW_SECS" },
	{ OPT_HOSTS,	"OPENSHELL_HOSTS_FILE" },
	{ OPT_DRIVER,	"OPENSHELL_COMPUTE_DRIVER" },
	{ OPT_UPSTREAMCA, "OPENSHELL_UPSTREAM_CA" },
};

#define NENVS	(sizeof(config_envs) / sizeof(config_envs[0]))

static void	 config_usage(void) __attribute__((__noreturn__));
static void	 config_set(struct gateway *, int, const char *);
static void	 config_str(char *, size_t, const char *, const char *);
static int	 config_num(const char *, const char *, int, int);
static void	 config_defaults(struct gateway *, const char *,
		    const char *);
static int	 config_readable(const char *);

static void
config_usage(void)
{
	fprintf(stderr, "usage: openshell-gateway [-dnv] [--name name] "
	    "[--state-dir dir] [--port port]\n"
	    "\t[--bind addr] [--tls-cert file] [--tls-key file] "
	    "[--tls-client-ca file]\n"
	    "\t[--db-url url] [--log-level level] "
	    "[--ssh-handshake-secret secret]\n"
	    "\t[--ssh-gateway-host host] [--ssh-gateway-port port] "
	    "[--ssh-connect-path path]\n"
	    "\t[--ssh-handshake-skew-secs secs] [--ready-fd fd] "
	    "[--hosts-file file]\n"
	    "\t[--compute-driver local|none] [--upstream-ca file]\n");
	exit(1);
}

void
config_options(struct gateway *gw, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name",		required_argument, NULL, OPT_NAME },
		{ "state-dir",		required_argument, NULL, OPT_STATE },
		{ "port",		required_argument, NULL, OPT_PORT },
		{ "bind",		required_argument, NULL, OPT_BIND },
		{ "tls-cert",		required_argument, NULL, OPT_CERT },
		{ "tls-key",		required_argument, NULL, OPT_KEY },
		{ "tls-client-ca",	required_argument, NULL, OPT_CA },
		{ "db-url",		required_argument, NULL, OPT_DB },
		{ "log-level",		required_argument, NULL, OPT_LOGLEVEL },
		{ "ssh-handshake-secret", required_argument, NULL, OPT_SECRET },
		{ "ready-fd",		required_argument, NULL, OPT_READYFD },
		{ "ssh-gateway-host",	required_argument, NULL, OPT_SSHHOST },
		{ "ssh-gateway-port",	required_argument, NULL, OPT_SSHPORT },
		{ "ssh-connect-path",	required_argument, NULL, OPT_SSHPATH },
		{ "ssh-handshake-skew-secs", required_argument, NULL,
		    OPT_SKEW },
		{ "hosts-file",		required_argument, NULL, OPT_HOSTS },
		{ "upstream-ca",	required_argument, NULL, OPT_UPSTREAMCA },
		{ "compute-driver",	required_argument, NULL, OPT_DRIVER },
		{ NULL,			0,		   NULL, 0 }
	};
	const char	*name = PATHS_DEFAULT_NAME, *state = NULL, *v;
	size_t		 i;
	int		 ch;

	gw->gw_port = GATEWAY_PORT;
	gw->gw_readyfd = -1;
	gw->gw_listenfd = -1;
	gw->gw_ssh_skew = GATEWAY_SSH_SKEW;
	config_str(gw->gw_bind, sizeof(gw->gw_bind), GATEWAY_BIND, "bind");
	config_str(gw->gw_ssh_host, sizeof(gw->gw_ssh_host), "127.0.0.1",
	    "ssh gateway host");
	config_str(gw->gw_ssh_path, sizeof(gw->gw_ssh_path), GATEWAY_SSH_PATH,
	    "ssh connect path");
	for (i = 0; i < NENVS; i++)
		if ((v = getenv(config_envs[i].env)) != NULL && *v != '\0')
			config_set(gw, config_envs[i].code, v);
	while ((ch = getopt_long(argc, argv, "dnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			gw->gw_debug = 1;
			break;
		case 'n':
			gw->gw_noaction = 1;
			break;
		case 'v':
			gw->gw_verbose = 1;
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_STATE:
			state = optarg;
			break;
		case '?':
			config_usage();
		default:
			config_set(gw, ch, optarg);
		}
	}
	if (optind != argc)
		config_usage();
	config_defaults(gw, name, state);
}

static void
config_set(struct gateway *gw, int code, const char *v)
{
	switch (code) {
	case OPT_PORT:
		gw->gw_port = config_num("port", v, 0, 65535);
		break;
	case OPT_BIND:
		config_str(gw->gw_bind, sizeof(gw->gw_bind), v, "bind");
		break;
	case OPT_CERT:
		config_str(gw->gw_tls_cert, sizeof(gw->gw_tls_cert), v,
		    "tls-cert");
		break;
	case OPT_KEY:
		config_str(gw->gw_tls_key, sizeof(gw->gw_tls_key), v,
		    "tls-key");
		break;
	case OPT_CA:
		config_str(gw->gw_tls_ca, sizeof(gw->gw_tls_ca), v,
		    "tls-client-ca");
		break;
	case OPT_DB:
		if (strncmp(v, "sqlite:", 7) == 0)
			v += 7;
		else if (strstr(v, "://") != NULL)
			errx(1, "unsupported database url: %s", v);
		config_str(gw->gw_db, sizeof(gw->gw_db), v, "db-url");
		break;
	case OPT_LOGLEVEL:
		config_str(gw->gw_loglevel, sizeof(gw->gw_loglevel), v,
		    "log-level");
		if (strcmp(v, "debug") == 0 || strcmp(v, "trace") == 0)
			gw->gw_verbose = 1;
		break;
	case OPT_SECRET:
		config_str(gw->gw_secret, sizeof(gw->gw_secret), v,
		    "ssh-handshake-secret");
		break;
	case OPT_READYFD:
		gw->gw_readyfd = config_num("ready-fd", v, 0, INT_MAX);
		break;
	case OPT_SSHHOST:
		config_str(gw->gw_ssh_host, sizeof(gw->gw_ssh_host), v,
		    "ssh-gateway-host");
		break;
	case OPT_SSHPORT:
		gw->gw_ssh_port = config_num("ssh-gateway-port", v, 1, 65535);
		break;
	case OPT_SSHPATH:
		config_str(gw->gw_ssh_path, sizeof(gw->gw_ssh_path), v,
		    "ssh-connect-path");
		break;
	case OPT_SKEW:
		gw->gw_ssh_skew = config_num("ssh-handshake-skew-secs", v, 0,
		    INT_MAX);
		break;
	case OPT_DRIVER:
		/* none: records only (control-plane tests), as before
		 * there was a driver. */
		if (strcmp(v, "local") != 0 && strcmp(v, "none") != 0)
			errx(1, "--compute-driver: local or none: %s", v);
		gw->gw_nodriver = strcmp(v, "none") == 0;
		break;
	case OPT_HOSTS:
		/* Each sandbox's proxyd resolves from it first (tests). */
		if (v[0] != '/')
			errx(1, "--hosts-file must be an absolute path");
		config_str(gw->gw_hosts_file, sizeof(gw->gw_hosts_file), v,
		    "hosts-file");
		break;
	case OPT_UPSTREAMCA:
		/* Extra anchors for every sandbox's TLS termination. */
		if (v[0] != '/')
			errx(1, "--upstream-ca must be an absolute path");
		config_str(gw->gw_upstream_ca, sizeof(gw->gw_upstream_ca), v,
		    "upstream-ca");
		break;
	default:
		config_usage();
	}
}

static void
config_str(char *dst, size_t len, const char *v, const char *what)
{
	if (strlcpy(dst, v, len) >= len)
		errx(1, "%s too long: %s", what, v);
}

static int
config_num(const char *what, const char *v, int min, int max)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(v, min, max, &errstr);
	if (errstr != NULL)
		errx(1, "%s is %s: %s", what, errstr, v);
	return (int)n;
}

/* The state directory, and what lives in it unless a flag says else. */
static void
config_defaults(struct gateway *gw, const char *name, const char *state)
{
	char	 pki[PATH_MAX];
	int	 ntls;

	if (!paths_name_ok(name))
		errx(1, "bad cluster name: %s", name);
	if (state != NULL)
		config_str(gw->gw_state, sizeof(gw->gw_state), state,
		    "state directory");
	else if (paths_statedir(name, gw->gw_state, sizeof(gw->gw_state)) ==
	    -1)
		errx(1, "cannot find the state directory (set HOME or "
		    "XDG_STATE_HOME, or use --state-dir)");
	if (paths_rundir(gw->gw_state, gw->gw_run, sizeof(gw->gw_run)) == -1 ||
	    paths_join(pki, sizeof(pki), gw->gw_state, GATEWAY_PKIDIR) == -1)
		errx(1, "state directory too long: %s", gw->gw_state);
	ntls = (gw->gw_tls_cert[0] != '\0') + (gw->gw_tls_key[0] != '\0') +
	    (gw->gw_tls_ca[0] != '\0');
	if (ntls != 0 && ntls != 3)
		errx(1, "--tls-cert, --tls-key and --tls-client-ca go "
		    "together");
	if (ntls == 0 && (paths_join(gw->gw_tls_cert, sizeof(gw->gw_tls_cert),
	    pki, "server.crt") == -1 || paths_join(gw->gw_tls_key,
	    sizeof(gw->gw_tls_key), pki, "server.key") == -1 ||
	    paths_join(gw->gw_tls_ca, sizeof(gw->gw_tls_ca), pki, "ca.crt") ==
	    -1))
		errx(1, "state directory too long: %s", gw->gw_state);
	if (gw->gw_db[0] == '\0' && paths_join(gw->gw_db, sizeof(gw->gw_db),
	    gw->gw_state, GATEWAY_DBFILE) == -1)
		errx(1, "state directory too long: %s", gw->gw_state);
	if (gw->gw_readyfd != -1 && fcntl(gw->gw_readyfd, F_GETFD) == -1)
		errx(1, "--ready-fd %d is not open", gw->gw_readyfd);
}

/*
 * -n: the TLS files are readable (or will be generated in the state
 * directory), the port is valid (already checked while parsing) and
 * the programs are there.
 */
int
config_check(struct gateway *gw)
{
	char	 pki[PATH_MAX];
	int	 bad = 0, generated;

	if (paths_join(pki, sizeof(pki), gw->gw_state, GATEWAY_PKIDIR) == -1)
		return -1;
	generated = strncmp(gw->gw_tls_ca, pki, strlen(pki)) == 0;
	if (!generated || access(gw->gw_tls_ca, F_OK) == 0) {
		bad |= config_readable(gw->gw_tls_cert);
		bad |= config_readable(gw->gw_tls_key);
		bad |= config_readable(gw->gw_tls_ca);
	}
	if (gw->gw_verbose) {
		printf("port %d\nbind %s\ndatabase %s\n", gw->gw_port,
		    gw->gw_bind, gw->gw_db);
		printf("tls %s%s\n", gw->gw_tls_cert, generated &&
		    access(gw->gw_tls_ca, F_OK) == -1 ?
		    " (to be generated)" : "");
	}
	return bad ? -1 : 0;
}

static int
config_readable(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return 1;
	}
	close(fd);
	return 0;
}
