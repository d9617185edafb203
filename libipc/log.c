/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

#define LOG_LINE_MAX	2048

/* Until log_init says otherwise, everything goes to stderr. */
static int	 log_foreground = 1;
static int	 log_verbose;
static char	 log_title[64];
static int	 log_inhook;
static void	(*log_hook)(const char *, const char *);

static const char *log_levelname(int);
static void	 log_emit(int, const char *, const char *);
static void	 log_vmsg(int, int, const char *, va_list)
		    __attribute__((__format__(printf, 3, 0)));
static void	 vfatalc(int, const char *, va_list)
		    __attribute__((__format__(printf, 2, 0)));

void
log_init(int foreground, int facility)
{
	log_foreground = foreground;
	if (log_title[0] == '\0')
		log_procinit(program_invocation_short_name);
	if (!foreground)
		openlog(log_title, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

/* Also renames the syslog ident: openlog keeps the pointer. */
void
log_procinit(const char *title)
{
	if (title != NULL)
		strlcpy(log_title, title, sizeof(log_title));
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

const char *
log_procname(void)
{
	if (log_title[0] == '\0')
		return program_invocation_short_name;
	return log_title;
}

void
log_sethook(void (*hook)(const char *, const char *))
{
	log_hook = hook;
}

static const char *
log_levelname(int pri)
{
	if (pri <= LOG_CRIT)
		return "ERROR";
	if (pri <= LOG_WARNING)
		return "WARN";
	if (pri <= LOG_INFO)
		return "INFO";
	return "DEBUG";
}

/*
 * prefix is the "<proc>: " tag of foreground lines, omitted for fatal
 * lines, which name the process themselves.  A hook that logs in turn
 * only reaches stderr or syslog: it cannot recurse into itself.
 */
static void
log_emit(int pri, const char *prefix, const char *msg)
{
	if (log_foreground)
		fprintf(stderr, "%s%s\n", prefix, msg);
	else
		syslog(pri, "%s", msg);
	if (log_hook != NULL && !log_inhook) {
		log_inhook = 1;
		log_hook(log_levelname(pri), msg);
		log_inhook = 0;
	}
}

/* code, if not 0, is an errno whose text ends the line. */
static void
log_vmsg(int pri, int code, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE_MAX], prefix[sizeof(log_title) + 2];
	size_t	 len;
	int	 saved_errno = errno;

	if (pri >= LOG_DEBUG && log_verbose < 1)
		return;
	/* verbosity -1 ("warn"): warnings and worse only */
	if (pri >= LOG_INFO && log_verbose < 0)
		return;
	msg[0] = '\0';
	if (fmt != NULL)
		vsnprintf(msg, sizeof(msg), fmt, ap);
	if (code != 0) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, "%s%s",
		    len > 0 ? ": " : "", strerror(code));
	}
	snprintf(prefix, sizeof(prefix), "%s: ", log_procname());
	log_emit(pri, prefix, msg);
	errno = saved_errno;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	log_vmsg(pri, 0, fmt, ap);
}

void
log_warn(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	log_vmsg(LOG_ERR, errno, emsg, ap);
	va_end(ap);
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (log_verbose < 1)
		return;
	va_start(ap, emsg);
	vlog(LOG_DEBUG, emsg, ap);
	va_end(ap);
}

static void
vfatalc(int code, const char *emsg, va_list ap)
{
	char	 s[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];

	s[0] = '\0';
	if (emsg != NULL)
		vsnprintf(s, sizeof(s), emsg, ap);
	if (code != 0)
		snprintf(line, sizeof(line), "fatal in %s: %s%s%s",
		    log_procname(), s, s[0] != '\0' ? ": " : "",
		    strerror(code));
	else
		snprintf(line, sizeof(line), "fatal in %s: %s",
		    log_procname(), s);
	log_emit(LOG_CRIT, "", line);
}

void
fatal(const char *emsg, ...)
{
	va_list	 ap;
	int	 code = errno;

	va_start(ap, emsg);
	vfatalc(code, emsg, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
	exit(1);
}
