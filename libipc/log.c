/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Batching (log_batch, opt-in): a daemon that logs a line per request
 * would pay a write(2), and wake whoever reads its stderr, per line.
 * Its stderr lines are gathered instead and written once per turn of
 * its event loop (an event activated by the first line of a turn),
 * before any ERROR line, when the buffer is full, at exit and on a
 * SIGTERM left at its default action.  A write holds at most PIPE_BUF
 * bytes and ends at a line's end: on a pipe shared with other daemons
 * it stays atomic, so lines never mix.  Syslog is never batched.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

#define LOG_LINE_MAX	2048
#define LOG_BATCH_MAX	PIPE_BUF

/* Until log_init says otherwise, everything goes to stderr. */
static int	 log_foreground = 1;
static int	 log_verbose;
static char	 log_title[64];
static int	 log_inhook;
static void	(*log_hook)(const char *, const char *);

/* The SIGTERM handler reads these: complete lines [off, len). */
static struct event		*log_batchev;
static char			 log_batchbuf[LOG_BATCH_MAX];
static volatile sig_atomic_t	 log_batchlen;
static volatile sig_atomic_t	 log_batchoff;

static const char *log_levelname(int);
static void	 log_emit(int, const char *, const char *);
static void	 log_batch_add(const char *, const char *);
static void	 log_batch_cb(evutil_socket_t, short, void *);
static void	 log_batch_term(int);
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

/*
 * From now on stderr lines wait for the end of the current turn of
 * base's loop.  Single-threaded daemons only: the buffer has no lock.
 */
void
log_batch(struct event_base *base)
{
	struct sigaction	 sa, old;

	if (!log_foreground || log_batchev != NULL)
		return;
	if ((log_batchev = event_new(base, -1, 0, log_batch_cb, NULL)) ==
	    NULL)
		return;		/* unbatched, as before */
	atexit(log_flush);
	/* Killed by SIGTERM still, but not before the buffer is out. */
	if (sigaction(SIGTERM, NULL, &old) == 0 &&
	    old.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = log_batch_term;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGTERM, &sa, NULL);
	}
}

/* Write out what is buffered; a failed write loses it, as stdio's. */
void
log_flush(void)
{
	ssize_t	 n;
	int	 saved_errno = errno;

	while (log_batchoff < log_batchlen) {
		n = write(STDERR_FILENO, log_batchbuf + log_batchoff,
		    (size_t)(log_batchlen - log_batchoff));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		log_batchoff += (sig_atomic_t)n;
	}
	log_batchlen = 0;
	log_batchoff = 0;
	errno = saved_errno;
}

static void
log_batch_cb(evutil_socket_t fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	log_flush();
}

/* Async-signal-safe: complete lines only, then the default action. */
static void
log_batch_term(int sig)
{
	ssize_t	 n;

	if (log_batchoff < log_batchlen) {
		n = write(STDERR_FILENO, log_batchbuf + log_batchoff,
		    (size_t)(log_batchlen - log_batchoff));
		(void)n;
	}
	raise(sig);
}

/* One line into the buffer; the first of a turn arms the flush. */
static void
log_batch_add(const char *prefix, const char *msg)
{
	size_t	 plen = strlen(prefix), mlen = strlen(msg);
	size_t	 len = plen + mlen + 1, at;

	if (len > sizeof(log_batchbuf) - (size_t)log_batchlen)
		log_flush();
	if (len > sizeof(log_batchbuf)) {
		fprintf(stderr, "%s%s\n", prefix, msg);
		return;
	}
	at = (size_t)log_batchlen;
	memcpy(log_batchbuf + at, prefix, plen);
	memcpy(log_batchbuf + at + plen, msg, mlen);
	log_batchbuf[at + len - 1] = '\n';
	if (at == 0)
		event_active(log_batchev, EV_TIMEOUT, 1);
	/* The line is whole before the handler may see it. */
	atomic_signal_fence(memory_order_seq_cst);
	log_batchlen = (sig_atomic_t)(at + len);
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
	if (log_foreground && log_batchev != NULL && pri > LOG_CRIT)
		log_batch_add(prefix, msg);
	else if (log_foreground) {
		log_flush();	/* what came before goes first */
		fprintf(stderr, "%s%s\n", prefix, msg);
	} else
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
