/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The NSSH1 preface (control-plane.md §4.7): one line, at most
 * NSSH_LINE_MAX bytes, read a byte at a time so that nothing of what
 * follows it is consumed, then "OK\n" and SSH on the same socket, or
 * "ERR\n" and close.  Why a line was refused goes to our log only.
 */

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#include "sshd.h"

static void	 preface_read(int, short, void *);
static void	 preface_timeout(int, short, void *);
static void	 preface_done(struct conn *);
static void	 preface_reject(struct conn *, const char *);

void
preface_accept(int lfd, short event, void *arg)
{
	struct sshd	*sd = arg;
	struct conn	*c;
	struct timeval	 tv = { SSHD_PREFACE_TIMEOUT, 0 };
	int		 fd;

	(void)event;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	if (sd->sd_nconns >= SSHD_MAX_CONNS) {
		log_warnx("connection limit reached");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	c->c_sd = sd;
	c->c_fd = fd;
	c->c_state = CONN_PREFACE;
	c->c_ev_rd = event_new(sd->sd_base, fd, EV_READ | EV_PERSIST,
	    preface_read, c);
	c->c_timer = evtimer_new(sd->sd_base, preface_timeout, c);
	if (c->c_ev_rd == NULL || c->c_timer == NULL ||
	    event_add(c->c_ev_rd, NULL) == -1 ||
	    evtimer_add(c->c_timer, &tv) == -1)
		fatalx("%s: event_add", __func__);
	TAILQ_INSERT_TAIL(&sd->sd_conns, c, c_entry);
	sd->sd_nconns++;
}

static void
preface_read(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;
	char		 b;

	(void)event;
	for (;;) {
		if ((n = read(fd, &b, 1)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			preface_reject(c, "read error");
			return;
		}
		if (n == 0) {
			preface_reject(c, "EOF before the end of the line");
			return;
		}
		if (b == '\n')
			break;
		if (b == '\0' || c->c_len >= NSSH_LINE_MAX - 1) {
			preface_reject(c, "line too long or binary");
			return;
		}
		c->c_line[c->c_len++] = b;
	}
	c->c_line[c->c_len] = '\0';
	preface_done(c);
}

static void
preface_timeout(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	preface_reject(arg, "timeout");
}

static void
preface_done(struct conn *c)
{
	struct sshd	*sd = c->c_sd;
	const char	*why;
	int		 rc;

	rc = nssh_line_verify(sd->sd_secret, c->c_line, (int64_t)time(NULL),
	    sd->sd_skew, sd->sd_nonces, &why);
	explicit_bzero(c->c_line, sizeof(c->c_line));
	if (rc == -1) {
		preface_reject(c, why);
		return;
	}
	/* A fresh socket's buffer takes three bytes. */
	if (write(c->c_fd, "OK\n", 3) != 3) {
		preface_reject(c, "cannot answer");
		return;
	}
	sd->sd_st_ok++;
	log_info("NSSH1 preface accepted");
	event_del(c->c_timer);
	event_free(c->c_ev_rd);
	c->c_ev_rd = NULL;
	conn_ssh_start(c);
}

static void
preface_reject(struct conn *c, const char *why)
{
	ssize_t	 n;

	c->c_sd->sd_st_err++;
	log_warnx("NSSH1 preface rejected: %s", why);
	n = write(c->c_fd, "ERR\n", 4);	/* best effort: closing anyway */
	(void)n;
	conn_free(c);
}
