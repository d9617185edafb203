/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for logd's ring files (svc/logd/logstore.c,
 * logline.c): the input is a sandbox's <id>.log as found at start.
 * Loading it must not crash, must keep at most LOGBUS_RING lines, and
 * must leave a file that loads back to exactly the same lines without
 * another rewrite (a torn or foreign tail is cut off for good).
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc/logd/logd.h"

#define FUZZ_ID		"fuzz-sandbox"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 fuzz_dirfd = -1;

static int
fuzz_nosend(void *arg, uint32_t type, uint32_t peerid, struct ipc_wr *w)
{
	(void)arg;
	(void)type;
	(void)peerid;
	ipc_wr_free(w);
	return 0;
}

static void
fuzz_setup(void)
{
	char	 dir[] = "/tmp/logstore_fuzz.XXXXXX";

	if (mkdtemp(dir) == NULL ||
	    (fuzz_dirfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		abort();
}

static void
fuzz_same(const struct logbus *a, const struct logbus *b)
{
	const struct logline	*x, *y;
	size_t			 i;

	if (a->lb_count != b->lb_count)
		abort();
	for (i = 0; i < a->lb_count; i++) {
		x = logbus_line(a, i);
		y = logbus_line(b, i);
		if (x->ll_time != y->ll_time ||
		    strcmp(x->ll_message, y->ll_message) != 0 ||
		    strcmp(x->ll_level, y->ll_level) != 0 ||
		    x->ll_nfields != y->ll_nfields)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct logbuses		 one, two;
	struct logbus		*a, *b;
	int			 fd;

	if (fuzz_dirfd == -1)
		fuzz_setup();
	if ((fd = openat(fuzz_dirfd, FUZZ_ID LOGBUS_SUFFIX, O_WRONLY |
	    O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (len > 0 && write(fd, data, len) != (ssize_t)len))
		abort();
	close(fd);
	logbus_init(&one, fuzz_nosend, NULL);
	one.lbs_dirfd = fuzz_dirfd;
	logstore_load(&one);
	logbus_init(&two, fuzz_nosend, NULL);
	two.lbs_dirfd = fuzz_dirfd;
	logstore_load(&two);
	a = logbus_get(&one, FUZZ_ID, 0);
	b = logbus_get(&two, FUZZ_ID, 0);
	if (a == NULL || b == NULL || a->lb_count > LOGBUS_RING ||
	    b->lb_infile != b->lb_count)
		abort();
	fuzz_same(a, b);
	logbus_clear(&one);
	logbus_clear(&two);
	unlinkat(fuzz_dirfd, FUZZ_ID LOGBUS_SUFFIX, 0);
	return 0;
}
