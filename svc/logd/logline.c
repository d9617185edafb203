/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Sandbox log lines: their msgpack form (on the gatewayd channel and in
 * the ring files alike) and the filters of control-plane.md 2.4.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "logd.h"

#define LOGLINE_NFIELDS		7
#define LOGLINE_MAXFIELDS	256	/* map entries kept per line */
#define LOGFILTER_MAXSOURCES	64

static void	 logline_read_fields(struct ipc_rd *, struct logline *);

static const char *const logline_levels[] = {
	"ERROR", "WARN", "INFO", "DEBUG", "TRACE"
};

void
logline_free(struct logline *ll)
{
	uint32_t	 i;

	if (ll == NULL)
		return;
	free(ll->ll_level);
	free(ll->ll_target);
	free(ll->ll_message);
	free(ll->ll_source);
	for (i = 0; i < ll->ll_nfields; i++) {
		free(ll->ll_fields[i].lf_key);
		free(ll->ll_fields[i].lf_value);
	}
	free(ll->ll_fields);
	free(ll);
}

/*
 * [str sandbox_id, i64 timestamp_ms, str level, str target,
 *  str message, str source, map<str,str> fields].  The sandbox id goes
 * to id, which must fit.  NULL when the value is not such a line (the
 * reader may then be left in any state: the caller gives up on it).
 */
struct logline *
logline_read(struct ipc_rd *r, char *id, size_t idlen)
{
	struct logline	*ll;
	uint32_t	 n = 0;

	if ((ll = calloc(1, sizeof(*ll))) == NULL)
		fatal("%s", __func__);
	ipc_rd_array(r, &n);
	if (n != LOGLINE_NFIELDS) {
		logline_free(ll);
		return NULL;
	}
	ipc_rd_strbuf(r, id, idlen);
	ipc_rd_i64(r, &ll->ll_time);
	ipc_rd_str(r, &ll->ll_level);
	ipc_rd_str(r, &ll->ll_target);
	ipc_rd_str(r, &ll->ll_message);
	ipc_rd_str(r, &ll->ll_source);
	logline_read_fields(r, ll);
	ipc_rd_leave(r);
	if (ipc_rd_error(r)) {
		logline_free(ll);
		return NULL;
	}
	return ll;
}

static void
logline_read_fields(struct ipc_rd *r, struct logline *ll)
{
	uint32_t	 n = 0, i;

	ipc_rd_map(r, &n);
	if (n > LOGLINE_MAXFIELDS) {
		ipc_rd_skip(r);	/* poisons the reader: see ipc_rd_leave */
		return;
	}
	if (n == 0 || ipc_rd_error(r)) {
		ipc_rd_leave(r);
		return;
	}
	if ((ll->ll_fields = calloc(n, sizeof(*ll->ll_fields))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n && !ipc_rd_error(r); i++) {
		ipc_rd_str(r, &ll->ll_fields[i].lf_key);
		ipc_rd_str(r, &ll->ll_fields[i].lf_value);
		ll->ll_nfields = i + 1;
	}
	ipc_rd_leave(r);
}

void
logline_write(struct ipc_wr *w, const char *id, const struct logline *ll)
{
	uint32_t	 i;

	ipc_wr_array(w, LOGLINE_NFIELDS);
	ipc_wr_str(w, id);
	ipc_wr_i64(w, ll->ll_time);
	ipc_wr_str(w, ll->ll_level != NULL ? ll->ll_level : "");
	ipc_wr_str(w, ll->ll_target != NULL ? ll->ll_target : "");
	ipc_wr_str(w, ll->ll_message != NULL ? ll->ll_message : "");
	ipc_wr_str(w, ll->ll_source != NULL ? ll->ll_source : "");
	ipc_wr_map(w, ll->ll_nfields);
	for (i = 0; i < ll->ll_nfields; i++) {
		ipc_wr_str(w, ll->ll_fields[i].lf_key);
		ipc_wr_str(w, ll->ll_fields[i].lf_value);
	}
}

/* Roughly the bytes the line takes in a frame: budgets, not limits. */
size_t
logline_size(const struct logline *ll)
{
	size_t		 n = 64;
	uint32_t	 i;

	n += ll->ll_level != NULL ? strlen(ll->ll_level) : 0;
	n += ll->ll_target != NULL ? strlen(ll->ll_target) : 0;
	n += ll->ll_message != NULL ? strlen(ll->ll_message) : 0;
	n += ll->ll_source != NULL ? strlen(ll->ll_source) : 0;
	for (i = 0; i < ll->ll_nfields; i++)
		n += strlen(ll->ll_fields[i].lf_key) +
		    strlen(ll->ll_fields[i].lf_value) + 8;
	return n;
}

/* ERROR 0, WARN 1, INFO 2, DEBUG 3, TRACE 4, anything else 5. */
int
logfilter_rank(const char *level)
{
	size_t	 i;

	if (level == NULL)
		return LOGRANK_OTHER;
	for (i = 0; i < sizeof(logline_levels) / sizeof(logline_levels[0]);
	    i++)
		if (strcasecmp(level, logline_levels[i]) == 0)
			return (int)i;
	return LOGRANK_OTHER;
}

/*
 * [str source...], str min_level: the two fields that follow in a
 * QUERY or SUB.  An empty min level lets every line through, which is
 * what rank LOGRANK_OTHER does.  -1 on a malformed value.
 */
int
logfilter_read(struct ipc_rd *r, struct logfilter *lf)
{
	char		 level[64];
	uint32_t	 n = 0, i;

	ipc_rd_array(r, &n);
	if (n > LOGFILTER_MAXSOURCES || ipc_rd_error(r))
		return -1;
	if (n > 0 && (lf->lf_sources = calloc(n, sizeof(char *))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n && !ipc_rd_error(r); i++) {
		ipc_rd_str(r, &lf->lf_sources[i]);
		lf->lf_nsources = i + 1;
	}
	ipc_rd_leave(r);
	ipc_rd_strbuf(r, level, sizeof(level));
	if (ipc_rd_error(r))
		return -1;
	lf->lf_minrank = level[0] == '\0' ? LOGRANK_OTHER :
	    logfilter_rank(level);
	return 0;
}

void
logfilter_clear(struct logfilter *lf)
{
	uint32_t	 i;

	for (i = 0; i < lf->lf_nsources; i++)
		free(lf->lf_sources[i]);
	free(lf->lf_sources);
	memset(lf, 0, sizeof(*lf));
	lf->lf_minrank = LOGRANK_OTHER;
}

/*
 * 2.4: an empty source on a line counts as "gateway"; a line passes
 * the level filter when its rank is at most the minimum's.  Live lines
 * (WatchSandbox after the replay) are not held to since.
 */
int
logfilter_match(const struct logfilter *lf, const struct logline *ll,
    int live)
{
	const char	*src;
	uint32_t	 i;

	if (!live && lf->lf_since > 0 && ll->ll_time < lf->lf_since)
		return 0;
	if (lf->lf_nsources > 0) {
		src = ll->ll_source != NULL && ll->ll_source[0] != '\0' ?
		    ll->ll_source : "gateway";
		for (i = 0; i < lf->lf_nsources; i++)
			if (strcmp(src, lf->lf_sources[i]) == 0)
				break;
		if (i == lf->lf_nsources)
			return 0;
	}
	return logfilter_rank(ll->ll_level) <= lf->lf_minrank;
}
