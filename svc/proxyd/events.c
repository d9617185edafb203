/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The proxy's structured log events (sandbox.md §9): one line per
 * decision, "MESSAGE key=value ...", with the reference's field names
 * so that tooling written against it keeps working.  Values with
 * spaces, quotes or '=' are double-quoted (quotes and backslashes
 * escaped); control characters never reach the log.  The last
 * EVENTS_RING lines are kept for the control socket's dump.
 *
 *	CONNECT / CONNECT_L7	src_addr src_port proxy_addr dst_host
 *				dst_port binary binary_pid ancestors
 *				cmdline action engine policy reason
 *	FORWARD			the same + method path
 *	FORWARD_L7		dst_host dst_port method path binary policy
 *				l7_protocol l7_decision l7_deny_reason
 *	L7_REQUEST		dst_host dst_port binary policy l7_protocol
 *				l7_action l7_target l7_query_params
 *				l7_decision l7_deny_reason request_num
 *	HTTP_REQUEST		host port method path credentials_injected
 *				request_num
 *	SSRF (warn)		"<KIND> blocked: <reason>" dst_host dst_port
 *				reason
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include "proxyd.h"

#define EVENTS_RING	100	/* x EVENTS_LINE < CONTROL_MAXSIZE */
#define EVENTS_LINE	2048

struct ev_line {
	char	 buf[EVENTS_LINE];
	size_t	 len;
};

static void	 events_put(struct ev_line *, const char *, size_t);
static void	 events_kv(struct ev_line *, const char *, const char *);
static void	 events_kvu(struct ev_line *, const char *, unsigned long);
static void	 events_join(char *, size_t, char *const *, size_t,
		    const char *);
static void	 events_common(struct ev_line *, struct conn *, const char *,
		    const char *);
static void	 events_emit(int, struct ev_line *);

/* Copied, not allocated: a line per request must not cost a malloc. */
static struct ev_line	 events_ring[EVENTS_RING];
static uint32_t	 events_next;
static uint32_t	 events_count;

/* n bytes of s, as many as fit (the line stays terminated). */
static void
events_put(struct ev_line *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - 1 - l->len)
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

/* No printf here: a dozen pairs make every request's line. */
static void
events_kv(struct ev_line *l, const char *k, const char *v)
{
	size_t	 i;
	int	 quote;
	char	 ch;

	if (v == NULL || *v == '\0')
		v = "-";
	quote = strpbrk(v, " \"=\\") != NULL;
	events_put(l, " ", 1);
	events_put(l, k, strlen(k));
	events_put(l, quote ? "=\"" : "=", quote ? 2 : 1);
	for (i = 0; v[i] != '\0' && l->len + 3 < sizeof(l->buf); i++) {
		ch = v[i];
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			ch = '?';
		if (quote && (ch == '"' || ch == '\\'))
			l->buf[l->len++] = '\\';
		l->buf[l->len++] = ch;
	}
	if (quote && l->len + 1 < sizeof(l->buf))
		l->buf[l->len++] = '"';
	if (l->len >= sizeof(l->buf))
		l->len = sizeof(l->buf) - 1;
	l->buf[l->len] = '\0';
}

static void
events_kvu(struct ev_line *l, const char *k, unsigned long v)
{
	char	 num[24], *p = num + sizeof(num) - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	events_kv(l, k, p);
}

static void
events_join(char *buf, size_t len, char *const *v, size_t n, const char *sep)
{
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, sep, len);
		strlcat(buf, v[i], len);
	}
}

static void
events_common(struct ev_line *l, struct conn *c, const char *msg,
    const char *action)
{
	char		 tmp[1024];
	const struct ident *id = &c->c_ident;

	l->len = (size_t)snprintf(l->buf, sizeof(l->buf), "%s", msg);
	events_kv(l, "src_addr", c->c_src);
	events_kvu(l, "src_port", c->c_sport);
	snprintf(tmp, sizeof(tmp), "%s:%u", c->c_dst, c->c_dport);
	events_kv(l, "proxy_addr", tmp);
	events_kv(l, "dst_host", c->c_host);
	events_kvu(l, "dst_port", c->c_port);
	events_kv(l, "binary", id->i_exe);
	events_kvu(l, "binary_pid", id->i_pid);
	events_join(tmp, sizeof(tmp), id->i_anc, id->i_nanc, " -> ");
	events_kv(l, "ancestors", tmp);
	events_join(tmp, sizeof(tmp), id->i_cmd, id->i_ncmd, ", ");
	events_kv(l, "cmdline", tmp);
	events_kv(l, "action", action);
	events_kv(l, "engine", "opa");
}

void
events_conn(struct conn *c, const char *msg, const char *action,
    const char *reason)
{
	struct ev_line	 l;

	events_common(&l, c, msg, action);
	events_kv(&l, "policy", c->c_l4.allow ? c->c_l4.policy : NULL);
	events_kv(&l, "reason", reason);
	events_emit(LOG_LEVEL_INFO, &l);
}

void
events_forward(struct conn *c, const char *action, const char *reason)
{
	struct ev_line	 l;

	events_common(&l, c, "FORWARD", action);
	events_kv(&l, "policy", c->c_l4.allow ? c->c_l4.policy : NULL);
	events_kv(&l, "reason", reason);
	events_kv(&l, "method", c->c_head.h_method);
	events_kv(&l, "path", c->c_uri.u_path);
	events_emit(LOG_LEVEL_INFO, &l);
}

/* One request judged by an L7 endpoint's rules (§2.9 step 4). */
void
events_forward_l7(struct conn *c, const char *path, enum policy_verdict v)
{
	struct ev_line	 l;
	char		*why = NULL;

	if (v != POLICY_ALLOW)
		why = policy_l7_deny_detail(c->c_head.h_method, path);
	l.len = (size_t)snprintf(l.buf, sizeof(l.buf), "FORWARD_L7");
	events_kv(&l, "dst_host", c->c_host);
	events_kvu(&l, "dst_port", c->c_port);
	events_kv(&l, "method", c->c_head.h_method);
	events_kv(&l, "path", path);
	events_kv(&l, "binary", c->c_ident.i_exe);
	events_kv(&l, "policy", c->c_l4.policy);
	events_kv(&l, "l7_protocol", "rest");
	events_kv(&l, "l7_decision", policy_verdict_str(v));
	events_kv(&l, "l7_deny_reason", why);
	free(why);
	events_emit(LOG_LEVEL_INFO, &l);
}

/*
 * One request on an L7 tunnel (§2.8): target is redacted, decision
 * one of allow, allow_upgrade, audit, deny; why is the deny reason.
 */
void
events_l7(struct conn *c, const char *method, const char *target,
    const char *query, const char *decision, const char *why)
{
	struct ev_line	 l;

	l.len = (size_t)snprintf(l.buf, sizeof(l.buf), "L7_REQUEST");
	events_kv(&l, "dst_host", c->c_host);
	events_kvu(&l, "dst_port", c->c_port);
	events_kv(&l, "binary", c->c_ident.i_exe);
	events_kv(&l, "policy", c->c_l4.policy);
	events_kv(&l, "l7_protocol", "rest");
	events_kv(&l, "l7_action", method);
	events_kv(&l, "l7_target", target);
	events_kv(&l, "l7_query_params", query);
	events_kv(&l, "l7_decision", decision);
	events_kv(&l, "l7_deny_reason", why);
	events_kvu(&l, "request_num", c->c_reqnum);
	events_emit(LOG_LEVEL_INFO, &l);
}

/* One request relayed on a terminated tunnel without REST rules. */
void
events_http(struct conn *c, const char *method, const char *path, int ncred)
{
	struct ev_line	 l;

	l.len = (size_t)snprintf(l.buf, sizeof(l.buf), "HTTP_REQUEST");
	events_kv(&l, "host", c->c_host);
	events_kvu(&l, "port", c->c_port);
	events_kv(&l, "method", method);
	events_kv(&l, "path", path);
	events_kvu(&l, "credentials_injected", (unsigned long)ncred);
	events_kvu(&l, "request_num", c->c_reqnum);
	events_emit(LOG_LEVEL_INFO, &l);
}

/* kind: "CONNECT" or "FORWARD". */
void
events_ssrf(struct conn *c, const char *kind, const char *reason)
{
	struct ev_line	 l;

	l.len = (size_t)snprintf(l.buf, sizeof(l.buf), "%s blocked: %s",
	    kind, reason);
	if (l.len >= sizeof(l.buf))
		l.len = sizeof(l.buf) - 1;
	events_kv(&l, "dst_host", c->c_host);
	events_kvu(&l, "dst_port", c->c_port);
	events_kv(&l, "binary", c->c_ident.i_exe);
	events_kv(&l, "policy", c->c_l4.policy);
	events_kv(&l, "action", "deny");
	events_kv(&l, "reason", reason);
	events_emit(LOG_LEVEL_WARN, &l);
}

static void
events_emit(int level, struct ev_line *l)
{
	uint32_t	 slot = events_next++ % EVENTS_RING;

	if (level == LOG_LEVEL_WARN)
		log_warnx("%s", l->buf);
	else
		log_info("%s", l->buf);
	memcpy(events_ring[slot].buf, l->buf, l->len + 1);
	events_ring[slot].len = l->len;
	if (events_count < EVENTS_RING)
		events_count++;
}

/* The ring, oldest first, as an array of strings. */
void
events_dump(struct ipc_wr *w)
{
	uint32_t	 i, start;

	start = events_next - events_count;
	ipc_wr_array(w, events_count);
	for (i = 0; i < events_count; i++)
		ipc_wr_str(w, events_ring[(start + i) % EVENTS_RING].buf);
}
