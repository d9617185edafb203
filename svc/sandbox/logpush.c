/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Gateway mode: the sandbox's log lines to the gateway over one
 * PushSandboxLogs client stream (sandbox.md §9, control-plane.md
 * §2.4).  Lines come from the supervisor's own log (a log hook), from
 * proxyd (IPC_LOG_EVENT) and from the agent's stdout/stderr
 * (agentio.c).  Each line is encoded once, when it is queued; a batch
 * is the PushSandboxLogsRequest built by concatenating them, sent when
 * LP_BATCH lines are waiting or every LP_FLUSH_MS.  The queue holds
 * LP_QUEUE_MAX lines and drops new ones beyond that; lines wait in it
 * while the stream is down (unlike the reference, which discards them)
 * so that a short reconnect loses nothing but a batch in flight.
 * OPENSHELL_LOG_PUSH_LEVEL (ERROR, WARN, INFO, DEBUG; default INFO)
 * is the least severe level pushed.
 */

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "libgrpc/grpc_aclient.h"
#include "log.h"
#include "proto/openshell.pb-c.h"
#include "supervisor.h"

#define LP_QUEUE_MAX	1024
#define LP_BATCH	50
#define LP_FLUSH_MS	500
#define LP_MAXFIELDS	32
#define LP_INFLIGHT_MAX	(1024 * 1024)	/* bytes not yet on the wire */
#define LP_BACKOFF_MIN	1000
#define LP_BACKOFF_MAX	30000
#define LP_PATH		"/openshell.v1.OpenShell/PushSandboxLogs"

struct lp_item {
	TAILQ_ENTRY(lp_item)	 li_entry;
	size_t			 li_len;
	uint8_t			 li_buf[];	/* encoded SandboxLogLine */
};

struct logpush {
	char			*lp_id;
	struct grpc_aclient	*lp_ac;
	struct grpc_acall	*lp_call;
	struct event		*lp_tick;
	struct event		*lp_reopen;
	int			 lp_backoff;
	time_t			 lp_opened;
	int			 lp_closing;
	int			 lp_minrank;	/* logpush_rank() */
	size_t			 lp_n;
	uint64_t		 lp_dropped;
	TAILQ_HEAD(, lp_item)	 lp_queue;
};

static struct logpush	*logpush_self;	/* for the log hook */

static void	 logpush_hook(const char *, const char *);
static void	 logpush_open(struct logpush *);
static void	 logpush_done(struct grpc_acall *, const struct grpc_status *,
		    void *);
static void	 logpush_tick(int, short, void *);
static void	 logpush_reopen(int, short, void *);
static void	 logpush_send(struct logpush *);
static size_t	 logpush_varint(uint8_t *, size_t);
static char	*logpush_split(char *, char **, char **);
static int	 logpush_rank(const char *);

struct logpush *
logpush_new(const char *id)
{
	struct logpush	*lp;

	if ((lp = calloc(1, sizeof(*lp))) == NULL ||
	    (lp->lp_id = strdup(id)) == NULL)
		fatal("%s", __func__);
	lp->lp_backoff = LP_BACKOFF_MIN;
	lp->lp_minrank = logpush_rank(getenv("OPENSHELL_LOG_PUSH_LEVEL"));
	if (lp->lp_minrank > 3)
		lp->lp_minrank = 2;
	TAILQ_INIT(&lp->lp_queue);
	return lp;
}

/* ERROR 0, WARN 1, INFO 2, DEBUG 3, anything else 4. */
static int
logpush_rank(const char *level)
{
	static const char *const names[] = { "ERROR", "WARN", "INFO",
	    "DEBUG" };
	int	 i;

	for (i = 0; level != NULL && i < 4; i++)
		if (strcasecmp(level, names[i]) == 0)
			return i;
	return 4;
}

/* From now on every supervisor log line at INFO or above is pushed. */
void
logpush_hook_install(struct logpush *lp)
{
	logpush_self = lp;
	log_sethook(logpush_hook);
}

static void
logpush_hook(const char *level, const char *msg)
{
	if (logpush_self == NULL)
		return;
	logpush_text(logpush_self, level, "openshell_sandbox", msg);
}

/* Streams from now on, through ac (not owned). */
void
logpush_start(struct logpush *lp, struct event_base *base,
    struct grpc_aclient *ac)
{
	struct timeval	 tv = { 0, LP_FLUSH_MS * 1000 };

	lp->lp_ac = ac;
	if ((lp->lp_tick = event_new(base, -1, EV_PERSIST, logpush_tick,
	    lp)) == NULL || (lp->lp_reopen = evtimer_new(base,
	    logpush_reopen, lp)) == NULL || event_add(lp->lp_tick, &tv) == -1)
		fatalx("%s: event", __func__);
	logpush_open(lp);
}

static void
logpush_open(struct logpush *lp)
{
	lp->lp_call = grpc_aclient_stream(lp->lp_ac, LP_PATH, 0, NULL,
	    logpush_done, lp);
	lp->lp_opened = time(NULL);
	logpush_send(lp);
}

/* The stream ended (the gateway's error, or our half-close). */
static void
logpush_done(struct grpc_acall *call, const struct grpc_status *st,
    void *arg)
{
	struct logpush	*lp = arg;
	struct timeval	 tv;

	(void)call;
	lp->lp_call = NULL;
	if (lp->lp_closing)
		return;
	log_debug("log stream ended: %s %s", grpc_wire_code_name(st->code),
	    st->message);
	if (time(NULL) - lp->lp_opened > 30)
		lp->lp_backoff = LP_BACKOFF_MIN;
	tv.tv_sec = lp->lp_backoff / 1000;
	tv.tv_usec = (lp->lp_backoff % 1000) * 1000;
	evtimer_add(lp->lp_reopen, &tv);
	lp->lp_backoff = lp->lp_backoff * 2 > LP_BACKOFF_MAX ? LP_BACKOFF_MAX :
	    lp->lp_backoff * 2;
}

static void
logpush_reopen(int fd, short ev, void *arg)
{
	struct logpush	*lp = arg;

	(void)fd;
	(void)ev;
	if (lp->lp_call == NULL && !lp->lp_closing)
		logpush_open(lp);
}

static void
logpush_tick(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	logpush_send(arg);
}

void
logpush_flush(struct logpush *lp)
{
	logpush_send(lp);
}

/*
 * Batches of up to LP_BATCH lines while the stream takes them: field 1
 * sandbox_id, then field 2 once per encoded line.
 */
static void
logpush_send(struct logpush *lp)
{
	struct lp_item	*li;
	uint8_t		*buf, *p;
	size_t		 idlen = strlen(lp->lp_id), len;
	int		 n;

	while (lp->lp_call != NULL && !TAILQ_EMPTY(&lp->lp_queue) &&
	    grpc_aclient_pending(lp->lp_call) < LP_INFLIGHT_MAX) {
		len = 1 + 10 + idlen;
		n = 0;
		TAILQ_FOREACH(li, &lp->lp_queue, li_entry) {
			if (n++ == LP_BATCH)
				break;
			len += 1 + 10 + li->li_len;
		}
		if ((p = buf = malloc(len)) == NULL)
			fatal("%s", __func__);
		*p++ = 0x0a;
		p += logpush_varint(p, idlen);
		memcpy(p, lp->lp_id, idlen);
		p += idlen;
		for (n = 0; n < LP_BATCH &&
		    (li = TAILQ_FIRST(&lp->lp_queue)) != NULL; n++) {
			*p++ = 0x12;
			p += logpush_varint(p, li->li_len);
			memcpy(p, li->li_buf, li->li_len);
			p += li->li_len;
			TAILQ_REMOVE(&lp->lp_queue, li, li_entry);
			free(li);
			lp->lp_n--;
		}
		grpc_aclient_send(lp->lp_call, buf, (size_t)(p - buf));
		free(buf);
	}
}

static size_t
logpush_varint(uint8_t *p, size_t v)
{
	size_t	 n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Queues one line; fields are nfields key/value pairs. */
void
logpush_line(struct logpush *lp, const char *level, const char *target,
    const char *message, char *const *kv, size_t nfields)
{
	Openshell__V1__SandboxLogLine			 ll =
	    OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
	Openshell__V1__SandboxLogLine__FieldsEntry	 fe[LP_MAXFIELDS],
							*fp[LP_MAXFIELDS];
	struct lp_item					*li;
	struct timespec					 ts;
	size_t						 i;

	if (lp == NULL || logpush_rank(level) > lp->lp_minrank)
		return;
	if (lp->lp_n >= LP_QUEUE_MAX) {
		lp->lp_dropped++;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ll.sandbox_id = lp->lp_id;
	ll.timestamp_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	ll.level = (char *)level;
	ll.target = (char *)target;
	ll.message = (char *)message;
	ll.source = "sandbox";
	for (i = 0; i < nfields && i < LP_MAXFIELDS; i++) {
		openshell__v1__sandbox_log_line__fields_entry__init(&fe[i]);
		fe[i].key = kv[2 * i];
		fe[i].value = kv[2 * i + 1];
		fp[i] = &fe[i];
	}
	ll.n_fields = i;
	ll.fields = fp;
	if ((li = malloc(sizeof(*li) +
	    openshell__v1__sandbox_log_line__get_packed_size(&ll))) == NULL)
		fatal("%s", __func__);
	li->li_len = openshell__v1__sandbox_log_line__pack(&ll, li->li_buf);
	TAILQ_INSERT_TAIL(&lp->lp_queue, li, li_entry);
	if (++lp->lp_n >= LP_BATCH)
		logpush_send(lp);
}

/*
 * A line in the "MESSAGE key=value key=\"quoted value\" ..." form of
 * proxyd's events (events.c): the words before the first key=value
 * are the message, the pairs become fields.
 */
void
logpush_text(struct logpush *lp, const char *level, const char *target,
    const char *text)
{
	char	*buf, *p, *start, *next, *msgend = NULL, *kv[2 * LP_MAXFIELDS];
	size_t	 n = 0;

	if (lp == NULL || logpush_rank(level) > lp->lp_minrank)
		return;
	if ((buf = strdup(text)) == NULL)
		fatal("%s", __func__);
	for (p = buf; *p != '\0' && n < LP_MAXFIELDS; p = next) {
		start = p;
		if ((next = logpush_split(p, &kv[2 * n], &kv[2 * n + 1])) !=
		    NULL) {
			if (msgend == NULL)
				msgend = start;
			n++;
			continue;
		}
		next = start + strcspn(start, " ");
		if (*next == ' ')
			next++;
	}
	if (n == 0)
		logpush_line(lp, level, target, text, NULL, 0);
	else {
		if (msgend > buf)
			msgend[-1] = '\0';	/* the space before the key */
		logpush_line(lp, level, target, msgend > buf ? buf : "", kv, n);
	}
	free(buf);
}

/*
 * One key=value word at p: NUL-terminates key and value in place and
 * returns the next word, or NULL (nothing changed) if p is not one.
 */
static char *
logpush_split(char *p, char **k, char **v)
{
	char	*eq, *r, *w;

	eq = p + strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (eq == p || *eq != '=')
		return NULL;
	*eq = '\0';
	*k = p;
	if (eq[1] != '"') {
		*v = eq + 1;
		r = *v + strcspn(*v, " ");
		if (*r == ' ')
			*r++ = '\0';
		return r;
	}
	*v = w = eq + 2;
	for (r = eq + 2; *r != '\0' && *r != '"'; r++) {
		if (*r == '\\' && r[1] != '\0')
			r++;
		*w++ = *r;
	}
	if (*r == '"')
		r++;
	*w = '\0';
	return *r == ' ' ? r + 1 : r;
}

/*
 * At exit: the queued lines go, the stream is half-closed, and the
 * loop runs until the gateway acknowledges or timeout_ms pass.
 */
void
logpush_drain(struct logpush *lp, struct event_base *base, int timeout_ms)
{
	struct timeval	 tv;

	if (lp == NULL || lp->lp_call == NULL)
		return;
	logpush_send(lp);
	lp->lp_closing = 1;
	grpc_aclient_close_send(lp->lp_call);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	event_base_loopexit(base, &tv);
	while (lp->lp_call != NULL &&
	    event_base_loop(base, EVLOOP_ONCE) == 0 &&
	    !event_base_got_exit(base))
		;
}
