/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The supervisor's configuration: options (flag or OPENSHELL_*
 * environment, sandbox.md §1.9/§5.1), the policy file with the
 * baseline enrichment, the users, and the agent's environment.
 */

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpolicy/policy.h"
#include "log.h"
#include "paths.h"
#include "supervisor.h"

#define SBX_DEFAULT_STATE	"/var/lib/openshell/sandboxes"

static void	 config_usage(void) __attribute__((__noreturn__));
static void	 config_env_defaults(struct sandbox *);
static void	 config_command(struct sandbox *, int, char **);
static void	 config_credential(struct sandbox *, const char *);
static void	 config_scrub(const char *);
static char	*config_slurp(const char *);
static void	 config_add(struct policy_strv *, const struct policy *,
		    const char *, const char *);
static int	 config_env_hidden(const struct sandbox *, const char *);
static void	 config_env_push(char ***, size_t *, size_t *, const char *,
		    const char *);

enum {
	OPT_ID = 256, OPT_NAME, OPT_ENDPOINT, OPT_CA, OPT_CERT, OPT_KEY,
	OPT_POLICY, OPT_STATE, OPT_ROOTFS, OPT_WORKDIR, OPT_HOSTS, OPT_READY,
	OPT_HIDE, OPT_CRED, OPT_UPSTREAM_CA, OPT_ROUTES,
};

static const struct option config_longopts[] = {
	{ "sandbox-id",	required_argument,	NULL,	OPT_ID },
	{ "name",	required_argument,	NULL,	OPT_NAME },
	{ "endpoint",	required_argument,	NULL,	OPT_ENDPOINT },
	{ "tls-ca",	required_argument,	NULL,	OPT_CA },
	{ "tls-cert",	required_argument,	NULL,	OPT_CERT },
	{ "tls-key",	required_argument,	NULL,	OPT_KEY },
	{ "policy",	required_argument,	NULL,	OPT_POLICY },
	{ "state-dir",	required_argument,	NULL,	OPT_STATE },
	{ "rootfs",	required_argument,	NULL,	OPT_ROOTFS },
	{ "workdir",	required_argument,	NULL,	OPT_WORKDIR },
	{ "hosts-file",	required_argument,	NULL,	OPT_HOSTS },
	{ "ready-fd",	required_argument,	NULL,	OPT_READY },
	{ "hide",	required_argument,	NULL,	OPT_HIDE },
	{ "credential",	required_argument,	NULL,	OPT_CRED },
	{ "upstream-ca", required_argument,	NULL,	OPT_UPSTREAM_CA },
	{ "inference-routes", required_argument, NULL,	OPT_ROUTES },
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 },
};

/* Never inherited by the agent, whatever else is. */
static const char *const config_secret_env[] = {
	"OPENSHELL_SSH_HANDSHAKE_SECRET",
	"OPENSHELL_TLS_KEY",
};

/* The sandbox CA for every runtime (trust.c writes the files). */
static const char *const config_trust_env[][2] = {
	{ "SSL_CERT_FILE",	SBX_TLS_BUNDLE },
	{ "REQUESTS_CA_BUNDLE",	SBX_TLS_BUNDLE },
	{ "CURL_CA_BUNDLE",	SBX_TLS_BUNDLE },
	{ "GIT_SSL_CAINFO",	SBX_TLS_BUNDLE },
	{ "NODE_EXTRA_CA_CERTS", SBX_TLS_CA },
};

static const char *const config_proxy_env[] = {
	"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
	"grpc_proxy",
};

static void
config_usage(void)
{
	fprintf(stderr, "usage: openshell-sandbox [-dv] [--policy file] "
	    "[--state-dir dir] [--sandbox-id id]\n"
	    "\t[--name name] [--endpoint url] [--tls-ca file] "
	    "[--tls-cert file]\n\t[--tls-key file] [--rootfs dir] "
	    "[--workdir dir] [--hosts-file file]\n"
	    "\t[--ready-fd n] [--hide dir]... [--credential KEY[=host,...]]..."
	    "\n\t[--upstream-ca file] [--inference-routes file] "
	    "[-- command [arg ...]]\n");
	exit(2);
}

void
config_options(struct sandbox *sb, int argc, char **argv)
{
	const char	*errstr, *state = NULL;
	int		 ch;

	sb->sb_readyfd = -1;
	while ((ch = getopt_long(argc, argv, "dhv", config_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			sb->sb_debug = 1;
			break;
		case 'v':
			sb->sb_verbose++;
			break;
		case OPT_ID:
			sb->sb_id = optarg;
			break;
		case OPT_NAME:
			sb->sb_name = optarg;
			break;
		case OPT_ENDPOINT:
			sb->sb_endpoint = optarg;
			break;
		case OPT_CA:
			sb->sb_tls_ca = optarg;
			break;
		case OPT_CERT:
			sb->sb_tls_cert = optarg;
			break;
		case OPT_KEY:
			sb->sb_tls_key = optarg;
			break;
		case OPT_POLICY:
			sb->sb_policy_file = optarg;
			break;
		case OPT_STATE:
			state = optarg;
			break;
		case OPT_ROOTFS:
			sb->sb_rootfs = optarg;
			break;
		case OPT_WORKDIR:
			sb->sb_workdir = optarg;
			break;
		case OPT_HOSTS:
			sb->sb_hosts_file = optarg;
			break;
		case OPT_READY:
			sb->sb_readyfd = strtonum(optarg, 0, 1 << 20, &errstr);
			if (errstr != NULL)
				errx(2, "--ready-fd %s: %s", optarg, errstr);
			break;
		case OPT_HIDE:
			if (sb->sb_nhide == SBX_MAXHIDE)
				errx(2, "too many --hide");
			sb->sb_hide[sb->sb_nhide++] = optarg;
			break;
		case OPT_CRED:
			config_credential(sb, optarg);
			break;
		case OPT_UPSTREAM_CA:
			sb->sb_upstream_ca = optarg;
			break;
		case OPT_ROUTES:
			sb->sb_routes_file = optarg;
			break;
		default:
			config_usage();
		}
	}
	config_env_defaults(sb);
	if (state == NULL && snprintf(sb->sb_state, sizeof(sb->sb_state),
	    "%s/%s", SBX_DEFAULT_STATE, sb->sb_id != NULL ? sb->sb_id :
	    sb->sb_name != NULL ? sb->sb_name : "default") >=
	    (int)sizeof(sb->sb_state))
		errx(2, "state directory path too long");
	if (state != NULL && strlcpy(sb->sb_state, state,
	    sizeof(sb->sb_state)) >= sizeof(sb->sb_state))
		errx(2, "--state-dir too long");
	if (sb->sb_state[0] != '/')
		errx(2, "--state-dir must be an absolute path");
	config_command(sb, argc - optind, argv + optind);
}

/* A flag wins over its OPENSHELL_* variable. */
static void
config_env_defaults(struct sandbox *sb)
{
	static const struct {
		const char	*env;
		size_t		 off;
	} envs[] = {
		{ "OPENSHELL_SANDBOX_ID", offsetof(struct sandbox, sb_id) },
		{ "OPENSHELL_SANDBOX", offsetof(struct sandbox, sb_name) },
		{ "OPENSHELL_ENDPOINT", offsetof(struct sandbox, sb_endpoint) },
		{ "OPENSHELL_TLS_CA", offsetof(struct sandbox, sb_tls_ca) },
		{ "OPENSHELL_TLS_CERT", offsetof(struct sandbox, sb_tls_cert) },
		{ "OPENSHELL_TLS_KEY", offsetof(struct sandbox, sb_tls_key) },
		{ "OPENSHELL_UPSTREAM_CA",
		    offsetof(struct sandbox, sb_upstream_ca) },
		{ "OPENSHELL_INFERENCE_ROUTES",
		    offsetof(struct sandbox, sb_routes_file) },
	};
	char		**field, *v;
	size_t		  i;

	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		field = (char **)((char *)sb + envs[i].off);
		if (*field == NULL && (v = getenv(envs[i].env)) != NULL &&
		    *v != '\0' && (*field = strdup(v)) == NULL)
			err(1, NULL);
	}
}

/* `-- cmd args', else OPENSHELL_SANDBOX_COMMAND split on blanks, else
 * /bin/bash (sandbox.md §5.1). */
static void
config_command(struct sandbox *sb, int argc, char **argv)
{
	static char	*bash[] = { "/bin/bash", NULL };
	char		*cmd, *w, *save = NULL;
	int		 n = 0;

	if (argc > 0) {
		sb->sb_argv = argv;
		sb->sb_argc = argc;
		return;
	}
	if ((cmd = getenv("OPENSHELL_SANDBOX_COMMAND")) == NULL ||
	    *cmd == '\0') {
		sb->sb_argv = bash;
		sb->sb_argc = 1;
		return;
	}
	if ((cmd = strdup(cmd)) == NULL ||
	    (sb->sb_argv = calloc(strlen(cmd) / 2 + 2, sizeof(char *))) ==
	    NULL)
		err(1, NULL);
	for (w = strtok_r(cmd, " \t\n", &save); w != NULL;
	    w = strtok_r(NULL, " \t\n", &save))
		sb->sb_argv[n++] = w;
	if (n == 0) {
		sb->sb_argv[n++] = bash[0];
	}
	sb->sb_argc = n;
}

/*
 * --credential KEY[=host,host...]: KEY's value in our environment is a
 * provider secret.  The agent sees a placeholder; proxyd gets the
 * value, to be sent only to hosts matching one of the globs (none: it
 * is never substituted; creds.c warns).  The original bytes are wiped
 * so that /proc/<pid>/environ of this process (and of the reaper, a
 * fork of it) does not show them.
 */
static void
config_credential(struct sandbox *sb, const char *arg)
{
	struct cred	*cr;
	const char	*v, *hosts;
	char		 key[256];
	int		 i;

	if ((hosts = strchr(arg, '=')) == NULL)
		hosts = arg + strlen(arg);
	if ((size_t)(hosts - arg) >= sizeof(key) || hosts == arg)
		errx(2, "--credential %s: bad name", arg);
	memcpy(key, arg, (size_t)(hosts - arg));
	key[hosts - arg] = '\0';
	if (*hosts == '=')
		hosts++;

	for (i = 0; i < sb->sb_ncreds; i++)
		if (strcmp(sb->sb_creds[i].cr_key, key) == 0)
			return;
	if (sb->sb_ncreds == SBX_MAXCRED)
		errx(2, "too many --credential");
	if ((v = getenv(key)) == NULL)
		errx(2, "--credential %s: not in the environment", key);
	cr = &sb->sb_creds[sb->sb_ncreds++];
	if ((cr->cr_key = strdup(key)) == NULL ||
	    (cr->cr_value = strdup(v)) == NULL ||
	    (*hosts != '\0' && (cr->cr_hosts = strdup(hosts)) == NULL))
		err(1, NULL);
	config_scrub(key);
}

static void
config_scrub(const char *key)
{
	char	*v;

	if ((v = getenv(key)) != NULL)
		explicit_bzero(v, strlen(v));
}

/*
 * File mode: the policy file through the shared pipeline (sandbox.md
 * §1.6, 1.7d), enriched (§1.9), compiled once as a check; proxyd gets
 * the result as YAML and compiles it again.
 */
void
config_policy(struct sandbox *sb)
{
	struct policy_strv	 errs = { 0 }, warns = { 0 };
	struct policy_engine	*pe;
	struct policy		*p;
	char			*e = NULL;
	size_t			 i;

	if (sb->sb_policy_file == NULL)
		fatalx("gateway mode is not implemented yet: use --policy");
	if ((p = policy_yaml_load(sb->sb_policy_file, POLICY_YAML_LOOSE,
	    &e)) == NULL)
		fatalx("%s", policy_s(e));
	if (policy_normalize(p) == -1)
		fatalx("%s: cannot normalise the policy", sb->sb_policy_file);
	if (policy_validate_l7(p, &errs, &warns) > 0) {
		for (i = 0; i < errs.n; i++)
			log_warnx("policy: %s", errs.v[i]);
		fatalx("%s: invalid policy", sb->sb_policy_file);
	}
	for (i = 0; i < warns.n; i++)
		log_warnx("policy: %s", warns.v[i]);
	policy_strv_free(&errs);
	policy_strv_free(&warns);
	policy_default_process(p);
	if (p->has_filesystem && !p->has_include_workdir)
		p->include_workdir = 1;		/* file mode: true */
	else if (!p->has_filesystem)
		p->include_workdir = 1;
	config_enrich(p, sb->sb_rootfs != NULL ? sb->sb_rootfs : "/");
	if (p->include_workdir && sb->sb_workdir != NULL)
		config_add(&p->read_write, p, sb->sb_workdir, "/");
	if ((pe = policy_compile(p, &e)) == NULL)
		fatalx("policy: %s", policy_s(e));
	policy_engine_unref(pe);
	if ((sb->sb_policy_yaml = config_proxy_yaml(sb, p)) == NULL)
		fatalx("cannot encode the policy");
	sb->sb_hard = p->landlock_compat != NULL &&
	    strcmp(p->landlock_compat, "hard_requirement") == 0;
	sb->sb_policy = p;
	config_hosts(sb);
}

/*
 * What proxyd compiles: p, its binary symlinks resolved in the agent's
 * root (binalias.c) added to it.  NULL when it cannot be encoded.
 */
char *
config_proxy_yaml(struct sandbox *sb, struct policy *p)
{
	size_t	 len;

	binalias_policy(p, sb->sb_rootfs != NULL ? sb->sb_rootfs : "/");
	return policy_yaml_emit(p, &len);
}

/* --hosts-file: proxyd's resolver override (tests). */
void
config_hosts(struct sandbox *sb)
{
	if (sb->sb_hosts_file != NULL &&
	    (sb->sb_hosts = config_slurp(sb->sb_hosts_file)) == NULL)
		fatal("%s", sb->sb_hosts_file);
}

/*
 * Baseline enrichment, file path (sandbox.md §1.9): added only when
 * absent from both lists and present in the root the agent will see.
 * /sandbox and /tmp always exist there: the reaper makes them.
 */
void
config_enrich(struct policy *p, const char *root)
{
	static const char *const ro[] = { "/usr", "/lib", "/etc", "/app",
	    "/var/log", "/proc", "/dev/urandom" };
	static const char *const rw[] = { "/sandbox", "/tmp" };
	size_t	 i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		config_add(&p->read_only, p, ro[i], root);
	for (i = 0; i < sizeof(rw) / sizeof(rw[0]); i++)
		config_add(&p->read_write, p, rw[i], NULL);
}

/* root NULL: the path exists by construction. */
static void
config_add(struct policy_strv *sv, const struct policy *p, const char *path,
    const char *root)
{
	char		 full[PATH_MAX];
	struct stat	 st;

	if (policy_strv_has(&p->read_only, path) ||
	    policy_strv_has(&p->read_write, path))
		return;
	if (root != NULL && strcmp(path, "/proc") != 0 &&
	    strncmp(path, "/dev/", 5) != 0) {
		if (snprintf(full, sizeof(full), "%s%s", strcmp(root, "/") == 0 ?
		    "" : root, path) >= (int)sizeof(full) ||
		    stat(full, &st) == -1)
			return;
	}
	if (policy_strv_add(sv, path) == -1)
		fatal("%s", __func__);
}

static char *
config_slurp(const char *path)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	if ((fp = fopen(path, "re")) == NULL)
		return NULL;
	n = getdelim(&buf, &cap, '\0', fp);
	fclose(fp);
	if (n == -1) {
		free(buf);
		return strdup("");
	}
	return buf;
}

/*
 * proxyd's and sshd's user: known before the policy is, so that they
 * start while the policy is being fetched.
 */
void
config_daemon_user(struct sandbox *sb)
{
	struct passwd	*pw;

	if ((pw = getpwnam(SBX_DAEMON_USER)) == NULL)
		fatalx("user %s does not exist (make deps creates it)",
		    SBX_DAEMON_USER);
	sb->sb_duid = pw->pw_uid;
	sb->sb_dgid = pw->pw_gid;
}

/* The agent's user (run_as_*, never root). */
void
config_users(struct sandbox *sb)
{
	struct passwd	*pw;
	struct group	*gr;

	if ((pw = getpwnam(sb->sb_policy->run_as_user)) == NULL)
		fatalx("user %s does not exist (make deps creates it)",
		    sb->sb_policy->run_as_user);
	sb->sb_uid = pw->pw_uid;
	if ((gr = getgrnam(sb->sb_policy->run_as_group)) == NULL)
		fatalx("group %s does not exist", sb->sb_policy->run_as_group);
	sb->sb_gid = gr->gr_gid;
	if (sb->sb_uid == 0 || sb->sb_gid == 0)
		fatalx("the agent may not run as root");
}

static int
config_env_hidden(const struct sandbox *sb, const char *kv)
{
	size_t	 i, n = strcspn(kv, "=");
	int	 c;

	for (i = 0; i < sizeof(config_secret_env) /
	    sizeof(config_secret_env[0]); i++)
		if (strlen(config_secret_env[i]) == n &&
		    strncmp(kv, config_secret_env[i], n) == 0)
			return 1;
	for (i = 0; i < sizeof(config_proxy_env) /
	    sizeof(config_proxy_env[0]); i++)
		if (strlen(config_proxy_env[i]) == n &&
		    strncmp(kv, config_proxy_env[i], n) == 0)
			return 1;
	for (c = 0; c < sb->sb_ncreds; c++)
		if (strlen(sb->sb_creds[c].cr_key) == n &&
		    strncmp(kv, sb->sb_creds[c].cr_key, n) == 0)
			return 1;
	for (i = 0; i < sizeof(config_trust_env) /
	    sizeof(config_trust_env[0]); i++)
		if (strlen(config_trust_env[i][0]) == n &&
		    strncmp(kv, config_trust_env[i][0], n) == 0)
			return 1;
	/* Ours for the daemons (set before they start), not the agent's. */
	if (strlen(PROC_LOG_PARENT_ENV) == n &&
	    strncmp(kv, PROC_LOG_PARENT_ENV, n) == 0)
		return 1;
	return strncmp(kv, "NO_PROXY=", 9) == 0 ||
	    strncmp(kv, "HOME=", 5) == 0 || strncmp(kv, "USER=", 5) == 0 ||
	    strncmp(kv, "LOGNAME=", 8) == 0 ||
	    strncmp(kv, "no_proxy=", 9) == 0 ||
	    strncmp(kv, "NODE_USE_ENV_PROXY=", 19) == 0 ||
	    strncmp(kv, "OPENSHELL_SANDBOX=", 18) == 0;
}

static void
config_env_push(char ***env, size_t *n, size_t *cap, const char *k,
    const char *v)
{
	char	*s;

	if (*n + 2 > *cap) {
		*cap = *cap * 2 + 16;
		if ((*env = reallocarray(*env, *cap, sizeof(char *))) == NULL)
			fatal("%s", __func__);
	}
	if (v == NULL)
		s = strdup(k);
	else if (asprintf(&s, "%s=%s", k, v) == -1)
		s = NULL;
	if (s == NULL)
		fatal("%s", __func__);
	(*env)[(*n)++] = s;
	(*env)[*n] = NULL;
}

/*
 * The agent's environment (sandbox.md §5.7, §3.2, §7.2): ours minus
 * the secrets, provider credentials as placeholders, the proxy
 * variables.
 */
void
config_env(struct sandbox *sb, char **envp)
{
	char	**env = NULL, ph[256];
	size_t	  n = 0, cap = 0, i;
	int	  c;

	for (; envp != NULL && *envp != NULL; envp++)
		if (strchr(*envp, '=') != NULL && !config_env_hidden(sb, *envp))
			config_env_push(&env, &n, &cap, *envp, NULL);
	for (c = 0; c < sb->sb_ncreds; c++) {
		snprintf(ph, sizeof(ph), "%s%s", SBX_PLACEHOLDER,
		    sb->sb_creds[c].cr_key);
		config_env_push(&env, &n, &cap, sb->sb_creds[c].cr_key, ph);
	}
	for (i = 0; i < sizeof(config_proxy_env) /
	    sizeof(config_proxy_env[0]); i++)
		config_env_push(&env, &n, &cap, config_proxy_env[i],
		    SBX_PROXY_URL);
	for (i = 0; i < sizeof(config_trust_env) /
	    sizeof(config_trust_env[0]); i++)
		config_env_push(&env, &n, &cap, config_trust_env[i][0],
		    config_trust_env[i][1]);
	config_env_push(&env, &n, &cap, "NO_PROXY", "127.0.0.1,localhost,::1");
	config_env_push(&env, &n, &cap, "no_proxy", "127.0.0.1,localhost,::1");
	config_env_push(&env, &n, &cap, "NODE_USE_ENV_PROXY", "1");
	config_env_push(&env, &n, &cap, "OPENSHELL_SANDBOX", "1");
	config_env_push(&env, &n, &cap, "HOME", "/sandbox");
	config_env_push(&env, &n, &cap, "USER", sb->sb_policy->run_as_user);
	config_env_push(&env, &n, &cap, "LOGNAME", sb->sb_policy->run_as_user);
	sb->sb_env = env;
	config_scrub_env();
}

/*
 * The secrets' bytes in our environment wiped in place (their names
 * stay, empty): the daemons are exec'd with our environment, and they
 * start before the agent's environment is built.
 */
void
config_scrub_env(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(config_secret_env) /
	    sizeof(config_secret_env[0]); i++)
		config_scrub(config_secret_env[i]);
}
