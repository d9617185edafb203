/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell: the command line.  Each command group lives in its own
 * file and is listed in cli_cmds, kept sorted by name.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_cmd {
	const char	*cc_name;
	int		(*cc_main)(int, char **);
	const char	*cc_usage;
};

static const struct cli_cmd cli_cmds[] = {
	{ "admin",	admin_main,
	    "admin <service> status|stats|log-level <level>|dump [-o json]" },
};

#define NCMDS	(sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void	 cli_usage(FILE *, int) __attribute__((__noreturn__));

const char	*cli_progname = "openshell";

int
main(int argc, char *argv[])
{
	size_t	 i;

	if (argc < 2)
		cli_usage(stderr, 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)
		cli_usage(stdout, 0);
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], cli_cmds[i].cc_name) == 0)
			return cli_cmds[i].cc_main(argc - 1, argv + 1);
	cli_warnx("unknown command: %s", argv[1]);
	cli_usage(stderr, 1);
}

static void
cli_usage(FILE *fp, int status)
{
	size_t	 i;

	fprintf(fp, "usage:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "  %s %s\n", cli_progname, cli_cmds[i].cc_usage);
	exit(status);
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
