/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * A fixed-size ring of log events; the oldest is overwritten.  Text is
 * stored with control characters replaced, so that neither the log file
 * nor a terminal showing a dump can be fooled by a crafted message.
 */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logd.h"

static void	 ring_clean(char *);

void
ring_init(struct ring *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	if ((r->r_ev = calloc(size, sizeof(*r->r_ev))) == NULL)
		fatal("%s", __func__);
	r->r_size = size;
}

struct ring_event *
ring_push(struct ring *r, int64_t time, const char *proc, uint32_t pid,
    const char *level, const char *msg)
{
	struct ring_event	*re = &r->r_ev[r->r_head];
	char			*copy;

	if ((copy = strdup(msg)) == NULL)
		return NULL;
	free(re->re_msg);
	re->re_time = time;
	strlcpy(re->re_proc, proc, sizeof(re->re_proc));
	re->re_pid = pid;
	strlcpy(re->re_level, level, sizeof(re->re_level));
	re->re_msg = copy;
	ring_clean(re->re_proc);
	ring_clean(re->re_level);
	ring_clean(re->re_msg);
	r->r_head = (r->r_head + 1) % r->r_size;
	if (r->r_count < r->r_size)
		r->r_count++;
	r->r_total++;
	return re;
}

const struct ring_event *
ring_get(const struct ring *r, size_t i)
{
	size_t	 first;

	if (i >= r->r_count)
		return NULL;
	first = (r->r_head + r->r_size - r->r_count) % r->r_size;
	return &r->r_ev[(first + i) % r->r_size];
}

/* The events and their text; the ring may be initialised again. */
void
ring_free(struct ring *r)
{
	size_t	 i;

	for (i = 0; i < r->r_size; i++)
		free(r->r_ev[i].re_msg);
	free(r->r_ev);
	memset(r, 0, sizeof(*r));
}

static void
ring_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}
