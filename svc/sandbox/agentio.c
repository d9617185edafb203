/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Gateway mode: the agent's stdout and stderr are pipes to the
 * supervisor, which copies the bytes unchanged to its own stdout and
 * stderr (whoever started it still sees them) and pushes each line to
 * the gateway: level INFO, target "agent", fields {stream}.  A line
 * longer than AIO_LINE goes out in pieces; a last line without a
 * newline goes out at EOF.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "supervisor.h"

#define AIO_LINE	4096
#define AIO_READS	16	/* per wakeup: a chatty agent cannot starve
				 * the loop */

struct aio_stream {
	int		 as_rd;		/* ours */
	int		 as_wr;		/* the agent's, until spawned */
	int		 as_out;	/* our fd 1 or 2 */
	const char	*as_name;
	struct event	*as_ev;
	char		 as_buf[AIO_LINE + 1];
	size_t		 as_len;
};

struct agentio {
	struct aio_stream	 ai_s[2];
	struct logpush		*ai_lp;
};

static void	 agentio_read(int, short, void *);
static int	 agentio_pump(struct agentio *, struct aio_stream *, int);
static void	 agentio_lines(struct agentio *, struct aio_stream *, int);
static void	 agentio_copy(int, const char *, size_t);

static struct agentio	*agentio_self;	/* the event callbacks' context */

/* Both pipes, before the agent is spawned. */
struct agentio *
agentio_new(struct logpush *lp)
{
	struct agentio	*ai;
	int		 p[2], i;

	if ((ai = calloc(1, sizeof(*ai))) == NULL)
		fatal("%s", __func__);
	ai->ai_lp = lp;
	for (i = 0; i < 2; i++) {
		if (pipe2(p, O_CLOEXEC) == -1)
			fatal("pipe");
		if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
			fatal("fcntl");
		ai->ai_s[i].as_rd = p[0];
		ai->ai_s[i].as_wr = p[1];
		ai->ai_s[i].as_out = i == 0 ? STDOUT_FILENO : STDERR_FILENO;
		ai->ai_s[i].as_name = i == 0 ? "stdout" : "stderr";
	}
	agentio_self = ai;
	return ai;
}

/*
 * In the reaper, after the clone: the write ends become its (and so
 * the agent's) fds 1 and 2; the read ends are not its to keep.
 */
int
agentio_child(struct agentio *ai)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (dup2(ai->ai_s[i].as_wr, ai->ai_s[i].as_out) == -1)
			return -1;
		close(ai->ai_s[i].as_rd);
		close(ai->ai_s[i].as_wr);
	}
	return 0;
}

/* In the supervisor, after the clone: the write ends are the agent's. */
void
agentio_parent(struct agentio *ai, struct event_base *base)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		close(ai->ai_s[i].as_wr);
		ai->ai_s[i].as_wr = -1;
		ai->ai_s[i].as_ev = event_new(base, ai->ai_s[i].as_rd,
		    EV_READ | EV_PERSIST, agentio_read, &ai->ai_s[i]);
		if (ai->ai_s[i].as_ev == NULL ||
		    event_add(ai->ai_s[i].as_ev, NULL) == -1)
			fatalx("%s: event", __func__);
	}
}

static void
agentio_read(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	agentio_pump(agentio_self, arg, AIO_READS);
}

/* Up to max reads (0: until EAGAIN).  1 at EOF (closed), else 0. */
static int
agentio_pump(struct agentio *ai, struct aio_stream *as, int max)
{
	ssize_t	 n;
	int	 i;

	if (as->as_rd == -1)
		return 1;
	for (i = 0; max == 0 || i < max; i++) {
		n = read(as->as_rd, as->as_buf + as->as_len,
		    AIO_LINE - as->as_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			break;
		agentio_copy(as->as_out, as->as_buf + as->as_len, (size_t)n);
		as->as_len += (size_t)n;
		agentio_lines(ai, as, 0);
	}
	if (max != 0 && i == max)
		return 0;
	agentio_lines(ai, as, 1);
	if (as->as_ev != NULL)
		event_free(as->as_ev);
	as->as_ev = NULL;
	close(as->as_rd);
	as->as_rd = -1;
	return 1;
}

/* Whole lines out of the buffer; all of it when full or at EOF. */
static void
agentio_lines(struct agentio *ai, struct aio_stream *as, int eof)
{
	char	*kv[2] = { "stream", (char *)as->as_name }, *nl, *line;
	size_t	 off = 0;

	while ((nl = memchr(as->as_buf + off, '\n', as->as_len - off)) !=
	    NULL) {
		*nl = '\0';
		line = as->as_buf + off;
		logpush_line(ai->ai_lp, "INFO", "agent", line, kv, 1);
		off = (size_t)(nl - as->as_buf) + 1;
	}
	if (as->as_len > off && (eof || (off == 0 &&
	    as->as_len == AIO_LINE))) {
		as->as_buf[as->as_len] = '\0';
		logpush_line(ai->ai_lp, "INFO", "agent", as->as_buf + off, kv,
		    1);
		off = as->as_len;
	}
	memmove(as->as_buf, as->as_buf + off, as->as_len - off);
	as->as_len -= off;
}

/* Our stdout/stderr are the caller's to drain; a failure loses bytes
 * there, never the line pushed to the gateway. */
static void
agentio_copy(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/*
 * The agent is gone, and with its PID namespace every writer: read
 * what the pipes still hold, so that its lines precede "agent exited".
 */
void
agentio_drain(struct agentio *ai)
{
	int	 i;

	if (ai == NULL)
		return;
	for (i = 0; i < 2; i++)
		agentio_pump(ai, &ai->ai_s[i], 0);
}
