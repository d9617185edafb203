/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The OpenBSD daemon log API.  Output goes to stderr (foreground, -d)
 * or syslog, tagged with the process title.  A process may install a
 * hook that also forwards each line to logd; the hook is never called
 * recursively and never for debug lines below the current verbosity.
 *
 * A busy daemon may opt in to batching (log_batch): its stderr lines
 * are then gathered and written once per event-loop turn.
 */

#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

struct event_base;

#define LOG_LEVEL_WARN	0
#define LOG_LEVEL_INFO	1
#define LOG_LEVEL_DEBUG	2

void	 log_init(int, int);		/* foreground, syslog facility */
void	 log_procinit(const char *);
void	 log_setverbose(int);		/* -1 warn, 0 +info, 1 +debug */
int	 log_getverbose(void);
const char *log_procname(void);
/* level name ("WARN", "INFO", "DEBUG", "ERROR"), formatted message */
void	 log_sethook(void (*)(const char *, const char *));
/* stderr lines buffered, written once per turn of this loop */
void	 log_batch(struct event_base *);
void	 log_flush(void);

void	 log_warn(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 log_warnx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 log_info(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 log_debug(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 vlog(int, const char *, va_list)
	    __attribute__((__format__(printf, 2, 0)));
__attribute__((__noreturn__)) void fatal(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
__attribute__((__noreturn__)) void fatalx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));

#endif /* LOG_H */
