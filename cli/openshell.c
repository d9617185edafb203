/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell: the command line.  Each command group lives in its own
 * file and is listed in cli_cmds, kept sorted by name.  The global
 * flags (control-plane §5.1) may come anywhere before "--" and are
 * taken out of argv before the group sees it.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "proc.h"

struct cli_cmd {
	const char	*cc_name;
	const char	*cc_alias;
	int		(*cc_main)(int, char **);
	const char	*cc_usage;
};

static const struct cli_cmd cli_cmds[] = {
	{ "admin",	NULL,	admin_main,
	    "admin <service> status|stats|log-level <level>|dump [-o json] "
	    "[--sandbox N]" },
	{ "forward",	"fwd",	forward_main,
	    "forward start <[bind:]port> [name] [-d] | stop <port> [name] | "
	    "list" },
	{ "gateway",	"gw",	gateway_main,
	    "gateway start|stop|status|info [--name N] [--port P] [--bind A] "
	    "[--state-dir D]" },
	{ "inference",	NULL,	inference_main,
	    "inference set|update|get [--provider P] [--model M] "
	    "[--timeout S] [--system] [--no-verify]" },
	{ "logs",	"lg",	logs_main,
	    "logs [name] [-n N] [--tail] [--since 30s|5m|1h] "
	    "[--source gateway|sandbox|all]... [--level L]" },
	{ "policy",	"pol",	policy_main,
	    "policy set [name] --policy F [--wait] [--timeout S] | "
	    "get [name] [--rev N] [--full] | list [name] [--limit N]" },
	{ "provider",	NULL,	provider_main,
	    "provider create --name N --type T (--credential K[=V]... | "
	    "--from-existing) [--config K=V]... | get N | list | update N | "
	    "delete N..." },
	{ "sandbox",	"sb",	sandbox_main,
	    "sandbox create [--name N] [--policy F] [--provider P]... "
	    "[--from DIR] [--forward [bind:]port] [--no-keep] [-- cmd...] | "
	    "list [--limit N] [--offset N] [--ids|--names] | "
	    "get [name] | delete <name>...|--all | connect [name] | "
	    "exec [name] [--tty] [--workdir D] [--env K=V]... -- cmd... | "
	    "upload <name> <local> [dest] [--no-git-ignore] | "
	    "download <name> <path> [dest] | ssh-config [name]" },
	{ "ssh-proxy",	NULL,	ssh_proxy_main,
	    NULL },
	{ "status",	NULL,	status_main,
	    "status" },
	{ "term",	NULL,	term_main,
	    "term [--interval S]" },
};

#define NCMDS	(sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void	 cli_usage(FILE *, int) __attribute__((__noreturn__));
static int	 cli_wants_help(int, char **);
static void	 cli_cmd_usage(const struct cli_cmd *, const char *);
static int	 cli_form_is(const char *, const char *);
static int	 cli_globals(int, char **, int);
static int	 cli_global_arg(char **, int, int *, const char *,
		    const char **);

const char		*cli_progname = "openshell";
struct cli_global	 cli_global;

int
main(int argc, char *argv[])
{
	const struct cli_cmd	*cc;
	size_t			 i;

	log_procinit(cli_progname);
	argc = cli_globals(argc, argv, 1);
	if (argc < 2)
		cli_usage(stderr, 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)
		cli_usage(stdout, 0);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", cli_progname, OPENSHELL_VERSION);
		return 0;
	}
	for (i = 0; i < NCMDS; i++) {
		cc = &cli_cmds[i];
		if (strcmp(argv[1], cc->cc_name) != 0 &&
		    (cc->cc_alias == NULL || strcmp(argv[1], cc->cc_alias) != 0))
			continue;
		/*
		 * admin has flags of its own and talks to no gateway;
		 * ssh-proxy's --gateway is a URL (§5.2), not a name.
		 */
		if (cc->cc_main != admin_main && cc->cc_main != ssh_proxy_main)
			argc = cli_globals(argc, argv, 2);
		if (cc->cc_usage != NULL && cli_wants_help(argc, argv)) {
			cli_cmd_usage(cc, argc > 2 && argv[2][0] != '-' ?
			    argv[2] : NULL);
			return 0;
		}
		/* Warnings only, unless -v asks for more. */
		log_setverbose(cli_global.cg_verbose - 1);
		return cc->cc_main(argc - 1, argv + 1);
	}
	cli_warnx("unknown command: %s", argv[1]);
	cli_usage(stderr, 1);
}

static void
cli_usage(FILE *fp, int status)
{
	size_t	 i;

	fprintf(fp, "usage: %s [-v] [-g gateway] [--gateway-endpoint url] "
	    "command ...\n", cli_progname);
	fprintf(fp, "read commands take -o json\n");
	for (i = 0; i < NCMDS; i++)
		if (cli_cmds[i].cc_usage != NULL)	/* NULL: hidden */
			fprintf(fp, "  %s %s\n", cli_progname,
			    cli_cmds[i].cc_usage);
	exit(status);
}

/*
 * "help", -h or --help after the command word, before "--" (what
 * follows "--" belongs to the sandbox's command).
 */
static int
cli_wants_help(int argc, char **argv)
{
	int	 i;

	if (argc > 2 && strcmp(argv[2], "help") == 0)
		return 1;
	for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

/*
 * One command's usage on stdout, a line per form; with a verb (say
 * "create"), only that verb's form when there is one.  The forms are
 * separated by " | " outside parentheses; each after the first lacks
 * the command word.
 */
static void
cli_cmd_usage(const struct cli_cmd *cc, const char *verb)
{
	const char	*form[16], *p = cc->cc_usage + strlen(cc->cc_name);
	size_t		 nform = 0, i, len[16];
	int		 depth = 0, one = 0;

	form[nform++] = *p == ' ' ? p + 1 : p;
	for (; *p != '\0' && nform < 16; p++) {
		depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
		if (depth == 0 && strncmp(p, " | ", 3) == 0)
			form[nform++] = p + 3;
	}
	for (i = 0; i < nform; i++) {
		len[i] = i + 1 < nform ? (size_t)(form[i + 1] - form[i]) - 3 :
		    strlen(form[i]);
		one |= cli_form_is(form[i], verb);
	}
	for (i = 0; i < nform; i++)
		if (!one || cli_form_is(form[i], verb))
			printf("%s %s %s%s%.*s\n", i == 0 || one ? "usage:" :
			    "      ", cli_progname, cc->cc_name,
			    len[i] > 0 ? " " : "", (int)len[i], form[i]);
}

/* Does the usage form start with the word verb? */
static int
cli_form_is(const char *form, const char *verb)
{
	size_t	 n;

	if (verb == NULL)
		return 0;
	n = strlen(verb);
	return strncmp(form, verb, n) == 0 &&
	    (form[n] == ' ' || form[n] == '\0');
}

/*
 * Removes the global flags from argv[from..] (up to "--", or the
 * command word when from is 1) and returns the new argc.
 */
static int
cli_globals(int argc, char **argv, int from)
{
	int	 i, o, r;

	for (i = o = from; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 || (from == 1 &&
		    argv[i][0] != '-')) {
			while (i < argc)
				argv[o++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "-vv") == 0 ||
		    strcmp(argv[i], "-vvv") == 0) {
			cli_global.cg_verbose += (int)strlen(argv[i]) - 1;
			continue;
		}
		if ((r = cli_global_arg(argv, argc, &i, "gateway-endpoint",
		    &cli_global.cg_endpoint)) == 0)
			r = cli_global_arg(argv, argc, &i, "gateway",
			    &cli_global.cg_gateway);
		if (r == -1) {
			cli_warnx("option %s needs a value", argv[i]);
			exit(1);
		}
		if (r == 0)
			argv[o++] = argv[i];
	}
	argv[o] = NULL;
	return o;
}

/* 1 if argv[*i] was --<name> (or -g for gateway) and took its value. */
static int
cli_global_arg(char **argv, int argc, int *i, const char *name,
    const char **val)
{
	const char	*a = argv[*i];
	size_t		 n = strlen(name);

	if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, n) == 0 &&
	    a[2 + n] == '=') {
		*val = a + 3 + n;
		return 1;
	}
	if ((strncmp(a, "--", 2) == 0 && strcmp(a + 2, name) == 0) ||
	    (strcmp(name, "gateway") == 0 && strcmp(a, "-g") == 0)) {
		if (*i + 1 >= argc)
			return -1;
		*val = argv[++*i];
		return 1;
	}
	return 0;
}

void
cli_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The value of -o/--output: 1 for json, 0 for the human form. */
int
cli_output_json(const char *fmt)
{
	if (strcmp(fmt, "json") == 0)
		return 1;
	if (strcmp(fmt, "text") == 0 || strcmp(fmt, "table") == 0)
		return 0;
	cli_warnx("unknown output format '%s' (json, text)", fmt);
	return -1;
}

/* A non-negative decimal that fits 32 bits, for flag. */
int
cli_u32(const char *flag, const char *s, uint32_t *v)
{
	char		*end;
	unsigned long	 n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    n > UINT32_MAX) {
		cli_warnx("%s: invalid number '%s'", flag, s);
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}
