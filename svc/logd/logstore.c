/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The log rings on disk: one append-only file per sandbox,
 * <logs>/<sandbox id>.log, a sequence of msgpack bin values, each
 * holding one msgpack log line (the same value as on the gatewayd
 * channel).  The bin header gives every record's length up front, so a
 * crafted or torn file is never handed to an unpacker that would trust
 * its element counts.  A file that grows past
 * LOGBUS_COMPACT records is rewritten with the ring's lines (temporary
 * file, then rename, so a crash leaves one or the other).  At start
 * every file is read back; a torn last record (a crash during a write)
 * ends the file there and the file is rewritten.
 *
 * Everything goes through lbs_dirfd, the directory the parent opened:
 * logd cannot name the state directory itself (it is the parent's,
 * mode 0700).  File errors are counted, not fatal: the ring in memory
 * still works.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logd.h"

#define LOGSTORE_MAXFILE	(256 * 1024 * 1024)

static int	 logstore_name(char *, size_t, const char *, const char *);
static void	 logstore_load_one(struct logbuses *, const char *);
static int	 logstore_read(int, char **, size_t *);
static int	 logstore_parse(struct logbus *, const char *, size_t,
		    uint64_t *);
static int	 logstore_write(int, const void *, size_t);
static void	 logstore_record(struct ipc_wr *, const char *,
		    const struct logline *);
static int	 logstore_binhdr(const unsigned char *, size_t, size_t *,
		    size_t *);

/* A sandbox id that is safe as a file name (ids are UUIDs). */
int
logstore_idok(const char *id)
{
	const char	*p;

	if (id[0] == '\0' || id[0] == '.' || strlen(id) > LOGBUS_IDMAX)
		return 0;
	for (p = id; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return 0;
	return 1;
}

static int
logstore_name(char *buf, size_t len, const char *id, const char *suffix)
{
	int	 n;

	n = snprintf(buf, len, "%s%s", id, suffix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Every <id>.log of the directory into its bus. */
void
logstore_load(struct logbuses *lbs)
{
	DIR		*dir;
	struct dirent	*de;
	char		 id[LOGBUS_IDMAX + 1];
	size_t		 len, slen = strlen(LOGBUS_SUFFIX);
	int		 fd;

	if (lbs->lbs_dirfd == -1)
		return;
	if ((fd = openat(lbs->lbs_dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (dir = fdopendir(fd)) == NULL) {
		log_warn("%s: log directory", __func__);
		if (fd != -1)
			close(fd);
		lbs->lbs_errors++;
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		len = strlen(de->d_name);
		if (len <= slen || len - slen > LOGBUS_IDMAX ||
		    strcmp(de->d_name + len - slen, LOGBUS_SUFFIX) != 0)
			continue;
		memcpy(id, de->d_name, len - slen);
		id[len - slen] = '\0';
		if (logstore_idok(id))
			logstore_load_one(lbs, id);
	}
	closedir(dir);
}

static void
logstore_load_one(struct logbuses *lbs, const char *id)
{
	struct logbus	*lb;
	char		 name[LOGBUS_IDMAX + 16], *buf = NULL;
	size_t		 len = 0;
	uint64_t	 n = 0;
	int		 fd, torn;

	if (logstore_name(name, sizeof(name), id, LOGBUS_SUFFIX) == -1)
		return;
	if ((fd = openat(lbs->lbs_dirfd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || logstore_read(fd, &buf, &len) == -1) {
		log_warn("%s: %s", __func__, name);
		lbs->lbs_errors++;
		if (fd != -1)
			close(fd);
		return;
	}
	close(fd);
	lb = logbus_get(lbs, id, 1);
	torn = logstore_parse(lb, buf, len, &n);
	free(buf);
	lb->lb_infile = n;
	if (torn)
		log_warnx("%s: torn record after %llu lines, rewriting", name,
		    (unsigned long long)n);
	if (torn || n > LOGBUS_COMPACT)
		logstore_compact(lbs, lb);
}

static int
logstore_read(int fd, char **bufp, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 r;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size > LOGSTORE_MAXFILE) {
		errno = EFBIG;
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("%s", __func__);
	while (off < (size_t)st.st_size) {
		r = read(fd, buf + off, (size_t)st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	*bufp = buf;
	*lenp = off;
	return 0;
}

/*
 * Records into the ring, counted in *n.  1 if the data ends in a torn
 * or foreign record (everything after it is ignored), else 0.
 */
static int
logstore_parse(struct logbus *lb, const char *buf, size_t len, uint64_t *n)
{
	struct ipc_rd		 r;
	struct logline		*ll;
	char			 id[LOGBUS_IDMAX + 1];
	size_t			 off = 0, hlen, rlen;

	while (off < len) {
		if (logstore_binhdr((const unsigned char *)buf + off,
		    len - off, &hlen, &rlen) == -1)
			return 1;
		ll = NULL;
		if (ipc_rd_initbuf(&r, 0, buf + off + hlen, rlen) == 0)
			ll = logline_read(&r, id, sizeof(id));
		if (ipc_rd_end(&r) == -1 || ll == NULL) {
			logline_free(ll);
			return 1;
		}
		logbus_restore(lb, ll);
		(*n)++;
		off += hlen + rlen;
	}
	return 0;
}

/*
 * A msgpack bin header (bin 8, 16, 32) at p: its size and the length
 * of the value it announces, which must be all there.  -1 if not.
 */
static int
logstore_binhdr(const unsigned char *p, size_t avail, size_t *hlen,
    size_t *rlen)
{
	size_t	 i, n;

	switch (avail > 0 ? p[0] : 0) {
	case 0xc4:
		n = 1;
		break;
	case 0xc5:
		n = 2;
		break;
	case 0xc6:
		n = 4;
		break;
	default:
		return -1;
	}
	if (avail < 1 + n)
		return -1;
	for (*rlen = 0, i = 0; i < n; i++)
		*rlen = *rlen << 8 | p[1 + i];
	*hlen = 1 + n;
	return *rlen == 0 || *rlen > avail - *hlen ? -1 : 0;
}

/* One line as a bin value holding its msgpack form. */
static void
logstore_record(struct ipc_wr *w, const char *id, const struct logline *ll)
{
	struct ipc_wr	 rec;
	const void	*data;
	size_t		 len;

	ipc_wr_init(&rec);
	logline_write(&rec, id, ll);
	if ((data = ipc_wr_data(&rec, &len)) != NULL)
		ipc_wr_bin(w, data, len);
	ipc_wr_free(&rec);
}

static int
logstore_write(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * The lines as one write at the end of the bus's file.  0 when they
 * are there (or are not to be persisted), -1 if the write failed.
 */
int
logstore_append(struct logbuses *lbs, struct logbus *lb,
    struct logline *const *lines, size_t n)
{
	struct ipc_wr	 w;
	const void	*data;
	char		 name[LOGBUS_IDMAX + 16];
	size_t		 len, i;
	int		 fd, rc = 0;

	if (lbs->lbs_dirfd == -1 || !lb->lb_persist || n == 0 ||
	    logstore_name(name, sizeof(name), lb->lb_bus.sb_id,
	    LOGBUS_SUFFIX) == -1)
		return 0;
	ipc_wr_init(&w);
	for (i = 0; i < n; i++)
		logstore_record(&w, lb->lb_bus.sb_id, lines[i]);
	data = ipc_wr_data(&w, &len);
	fd = openat(lbs->lbs_dirfd, name, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (data == NULL || fd == -1 || logstore_write(fd, data, len) == -1) {
		if (lbs->lbs_errors++ == 0)
			log_warn("%s: %s", __func__, name);
		rc = -1;
	} else
		lb->lb_infile += n;
	if (fd != -1)
		close(fd);
	ipc_wr_free(&w);
	return rc;
}

/* The file becomes exactly the ring. */
void
logstore_compact(struct logbuses *lbs, struct logbus *lb)
{
	struct ipc_wr	 w;
	const void	*data;
	char		 name[LOGBUS_IDMAX + 16], tmp[LOGBUS_IDMAX + 16];
	size_t		 len, i;
	int		 fd = -1, ok = 0;

	if (lbs->lbs_dirfd == -1 || !lb->lb_persist ||
	    logstore_name(name, sizeof(name), lb->lb_bus.sb_id,
	    LOGBUS_SUFFIX) == -1 ||
	    logstore_name(tmp, sizeof(tmp), lb->lb_bus.sb_id,
	    LOGBUS_TMPSUFFIX) == -1)
		return;
	ipc_wr_init(&w);
	for (i = 0; i < lb->lb_count; i++)
		logstore_record(&w, lb->lb_bus.sb_id, logbus_line(lb, i));
	if ((data = ipc_wr_data(&w, &len)) == NULL && lb->lb_count > 0)
		goto done;
	if ((fd = openat(lbs->lbs_dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    (len > 0 && logstore_write(fd, data, len) == -1) ||
	    renameat(lbs->lbs_dirfd, tmp, lbs->lbs_dirfd, name) == -1)
		goto done;
	ok = 1;
	lb->lb_infile = lb->lb_count;
 done:
	if (!ok) {
		log_warn("%s: %s", __func__, name);
		lbs->lbs_errors++;
		unlinkat(lbs->lbs_dirfd, tmp, 0);
	}
	if (fd != -1)
		close(fd);
	ipc_wr_free(&w);
}

void
logstore_remove(struct logbuses *lbs, const char *id)
{
	char	 name[LOGBUS_IDMAX + 16];

	if (lbs->lbs_dirfd == -1 || !logstore_idok(id) ||
	    logstore_name(name, sizeof(name), id, LOGBUS_SUFFIX) == -1)
		return;
	if (unlinkat(lbs->lbs_dirfd, name, 0) == -1 && errno != ENOENT) {
		log_warn("%s: %s", __func__, name);
		lbs->lbs_errors++;
	}
}
