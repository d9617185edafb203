/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_pack.h"
#include "log.h"
#include "msgs.h"

#define IPC_WR_INITSIZE	256

/* How the type bytes 0xc0..0xdf are laid out on the wire. */
enum ipc_tok {
	TOK_BAD,	/* 0xc1, never used */
	TOK_FIX,	/* fixed-size body of sz bytes */
	TOK_BLOB,	/* sz-byte length, then that many bytes */
	TOK_EXT,	/* sz-byte length, a type byte, then the body */
	TOK_ARRAY,	/* sz-byte element count */
	TOK_MAP		/* sz-byte pair count */
};

static const struct {
	unsigned char	 kind;
	unsigned char	 sz;
} ipc_tokens[32] = {
	{ TOK_FIX, 0 }, { TOK_BAD, 0 }, { TOK_FIX, 0 }, { TOK_FIX, 0 },
	{ TOK_BLOB, 1 }, { TOK_BLOB, 2 }, { TOK_BLOB, 4 },	/* bin */
	{ TOK_EXT, 1 }, { TOK_EXT, 2 }, { TOK_EXT, 4 },		/* ext */
	{ TOK_FIX, 4 }, { TOK_FIX, 8 },				/* float */
	{ TOK_FIX, 1 }, { TOK_FIX, 2 }, { TOK_FIX, 4 }, { TOK_FIX, 8 },
	{ TOK_FIX, 1 }, { TOK_FIX, 2 }, { TOK_FIX, 4 }, { TOK_FIX, 8 },
	{ TOK_FIX, 2 }, { TOK_FIX, 3 }, { TOK_FIX, 5 }, { TOK_FIX, 9 },
	{ TOK_FIX, 17 },					/* fixext */
	{ TOK_BLOB, 1 }, { TOK_BLOB, 2 }, { TOK_BLOB, 4 },	/* str */
	{ TOK_ARRAY, 2 }, { TOK_ARRAY, 4 },
	{ TOK_MAP, 2 }, { TOK_MAP, 4 },
};

static void	 ipc_wr_check(struct ipc_wr *, int);
static int	 ipc_rd_token(const unsigned char *, size_t, size_t *,
		    size_t *);
static int	 ipc_rd_tokfit(size_t, size_t, size_t, size_t *);
static int	 ipc_rd_scan(const unsigned char *, size_t);
static void	 ipc_rd_rebase(msgpack_object *, const char *, const char *);
static int	 ipc_rd_fail(struct ipc_rd *, int, const char *);
static const msgpack_object *ipc_rd_peek(struct ipc_rd *);
static const msgpack_object *ipc_rd_take(struct ipc_rd *,
		    msgpack_object_type);
static void	 ipc_rd_push(struct ipc_rd *, const msgpack_object *,
		    uint32_t);

/*
 * The buffer starts with room for the frame header, so that
 * ipc_wr_close can queue it as it is (ipc_compose_frame).  Most
 * payloads are small: the first block is one malloc serves from its
 * per-thread cache rather than msgpack's 8 KiB; msgpack_sbuffer_write
 * doubles it as needed.
 */
void
ipc_wr_init(struct ipc_wr *w)
{
	msgpack_sbuffer_init(&w->w_sb);
	msgpack_packer_init(&w->w_pk, &w->w_sb, msgpack_sbuffer_write);
	w->w_err = 0;
	if ((w->w_sb.data = malloc(IPC_WR_INITSIZE)) == NULL) {
		w->w_err = ENOMEM;
		return;
	}
	memset(w->w_sb.data, 0, IPC_HDR_SIZE);
	w->w_sb.size = IPC_HDR_SIZE;
	w->w_sb.alloc = IPC_WR_INITSIZE;
}

/* msgpack's pack functions fail only when the buffer cannot grow. */
static void
ipc_wr_check(struct ipc_wr *w, int rc)
{
	if (rc != 0 && w->w_err == 0)
		w->w_err = ENOMEM;
}

void
ipc_wr_array(struct ipc_wr *w, uint32_t n)
{
	if (w->w_err == 0)
		ipc_wr_check(w, msgpack_pack_array(&w->w_pk, n));
}

void
ipc_wr_map(struct ipc_wr *w, uint32_t n)
{
	if (w->w_err == 0)
		ipc_wr_check(w, msgpack_pack_map(&w->w_pk, n));
}

void
ipc_wr_nil(struct ipc_wr *w)
{
	if (w->w_err == 0)
		ipc_wr_check(w, msgpack_pack_nil(&w->w_pk));
}

void
ipc_wr_bool(struct ipc_wr *w, int v)
{
	if (w->w_err != 0)
		return;
	if (v)
		ipc_wr_check(w, msgpack_pack_true(&w->w_pk));
	else
		ipc_wr_check(w, msgpack_pack_false(&w->w_pk));
}

void
ipc_wr_u32(struct ipc_wr *w, uint32_t v)
{
	if (w->w_err == 0)
		ipc_wr_check(w, msgpack_pack_uint32(&w->w_pk, v));
}

void
ipc_wr_u64(struct ipc_wr *w, uint64_t v)
{
	if (w->w_err == 0)
		ipc_wr_check(w, msgpack_pack_uint64(&w->w_pk, v));
}

void
ipc_wr_i64(struct ipc_wr *w, int64_t v)
{
	if (w->w_err == 0)
		ipc_wr_check(w, msgpack_pack_int64(&w->w_pk, v));
}

void
ipc_wr_str(struct ipc_wr *w, const char *s)
{
	if (s == NULL)
		ipc_wr_nil(w);
	else
		ipc_wr_strn(w, s, strlen(s));
}

/* Readers refuse strings with a NUL, so never write one. */
void
ipc_wr_strn(struct ipc_wr *w, const char *s, size_t n)
{
	if (w->w_err != 0)
		return;
	if ((s == NULL && n > 0) || n > UINT32_MAX ||
	    (n > 0 && memchr(s, '\0', n) != NULL)) {
		w->w_err = EINVAL;
		return;
	}
	ipc_wr_check(w, msgpack_pack_str(&w->w_pk, n));
	if (w->w_err == 0 && n > 0)
		ipc_wr_check(w, msgpack_pack_str_body(&w->w_pk, s, n));
}

void
ipc_wr_bin(struct ipc_wr *w, const void *p, size_t n)
{
	if (w->w_err != 0)
		return;
	if ((p == NULL && n > 0) || n > UINT32_MAX) {
		w->w_err = EINVAL;
		return;
	}
	ipc_wr_check(w, msgpack_pack_bin(&w->w_pk, n));
	if (w->w_err == 0 && n > 0)
		ipc_wr_check(w, msgpack_pack_bin_body(&w->w_pk, p, n));
}

/* The value written so far, without the room kept for the header. */
const void *
ipc_wr_data(const struct ipc_wr *w, size_t *len)
{
	if (w->w_sb.data == NULL || w->w_sb.size < IPC_HDR_SIZE) {
		*len = 0;
		return NULL;
	}
	*len = w->w_sb.size - IPC_HDR_SIZE;
	return w->w_sb.data + IPC_HDR_SIZE;
}

void
ipc_wr_free(struct ipc_wr *w)
{
	msgpack_sbuffer_destroy(&w->w_sb);
	msgpack_sbuffer_init(&w->w_sb);
}

/* fd: see ipc_compose; on any failure the caller still owns it. */
int
ipc_wr_close(struct ipc_wr *w, struct ipc_buf *ib, uint32_t type,
    uint32_t peerid, pid_t pid, int fd)
{
	size_t	 len = 0;
	int	 saved;

	if (w->w_err == 0 && ipc_wr_data(w, &len) != NULL && len == 0)
		w->w_err = EINVAL;	/* a payload is exactly one value */
	if (w->w_err == 0 && ipc_compose_frame(ib, type, peerid, pid, fd,
	    (unsigned char *)w->w_sb.data, len) == 0) {
		/* The queue owns the buffer now. */
		msgpack_sbuffer_release(&w->w_sb);
		return 0;
	}
	saved = w->w_err != 0 ? w->w_err : errno;
	ipc_wr_free(w);
	errno = saved;
	return -1;
}

/*
 * One token at p: its size in bytes (header and body) and the number
 * of values it contains (pairs count twice).  -1 if it does not fit.
 */
static int
ipc_rd_token(const unsigned char *p, size_t avail, size_t *skip,
    size_t *nelem)
{
	size_t		 hdr = 1, body = 0, n = 0, i;
	unsigned char	 b = p[0], kind, sz;

	*nelem = 0;
	if (b < 0xc0 || b >= 0xe0) {
		if (b >= 0x80 && b <= 0x8f)		/* fixmap */
			*nelem = 2 * (b & 0x0f);
		else if (b >= 0x90 && b <= 0x9f)	/* fixarray */
			*nelem = b & 0x0f;
		else if (b >= 0xa0 && b <= 0xbf)	/* fixstr */
			body = b & 0x1f;
		return ipc_rd_tokfit(hdr, body, avail, skip);
	}
	kind = ipc_tokens[b - 0xc0].kind;
	sz = ipc_tokens[b - 0xc0].sz;
	if (kind == TOK_BAD)
		return -1;
	if (kind == TOK_FIX)
		return ipc_rd_tokfit(hdr, sz, avail, skip);
	hdr += sz + (kind == TOK_EXT);
	if (hdr > avail)
		return -1;
	for (i = 0; i < sz; i++)
		n = n << 8 | p[1 + i];
	if (kind == TOK_ARRAY)
		*nelem = n;
	else if (kind == TOK_MAP)
		*nelem = 2 * n;
	else
		body = n;
	return ipc_rd_tokfit(hdr, body, avail, skip);
}

static int
ipc_rd_tokfit(size_t hdr, size_t body, size_t avail, size_t *skip)
{
	if (hdr > avail || body > avail - hdr)
		return -1;
	*skip = hdr + body;
	return 0;
}

/*
 * msgpack-c allocates a container's elements as soon as it reads the
 * header, so five bytes announcing an array of 4G elements would cost
 * gigabytes.  Walk the encoding first: every value still expected
 * needs at least one more byte, and exactly one value must fill buf.
 */
static int
ipc_rd_scan(const unsigned char *buf, size_t len)
{
	size_t	 pos = 0, need = 1, skip, nelem;

	while (need > 0) {
		if (pos >= len ||
		    ipc_rd_token(buf + pos, len - pos, &skip, &nelem) == -1)
			return -1;
		pos += skip;
		need--;
		if (need > len - pos || nelem > len - pos - need)
			return -1;
		need += nelem;
	}
	return pos == len ? 0 : -1;
}

static int
ipc_rd_fail(struct ipc_rd *r, int err, const char *why)
{
	if (r->r_err == 0) {
		r->r_err = err;
		log_debug("%s: payload: %s", ipc_type_str(r->r_type), why);
	}
	return -1;
}

int
ipc_rd_init(struct ipc_rd *r, const struct ipc_msg *msg)
{
	const void	*data;
	size_t		 len;

	data = ipc_data(msg, &len);
	return ipc_rd_initbuf(r, ipc_type(msg), data, len);
}

/*
 * msgpack-c points strings, bins and exts into the buffer it parsed.
 * Point them into the reader's copy instead.
 */
static void
ipc_rd_rebase(msgpack_object *o, const char *from, const char *to)
{
	uint32_t	 i;

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		o->via.str.ptr = to + (o->via.str.ptr - from);
		break;
	case MSGPACK_OBJECT_BIN:
		o->via.bin.ptr = to + (o->via.bin.ptr - from);
		break;
	case MSGPACK_OBJECT_EXT:
		o->via.ext.ptr = to + (o->via.ext.ptr - from);
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++)
			ipc_rd_rebase(&o->via.array.ptr[i], from, to);
		break;
	case MSGPACK_OBJECT_MAP:
		for (i = 0; i < o->via.map.size; i++) {
			ipc_rd_rebase(&o->via.map.ptr[i].key, from, to);
			ipc_rd_rebase(&o->via.map.ptr[i].val, from, to);
		}
		break;
	default:
		break;
	}
}

/*
 * The reader keeps its own copy of buf in the msgpack zone, so strings
 * and bins it returns stay valid until ipc_rd_end whatever becomes of
 * the message.  The zone's first chunk usually has room for it.
 */
int
ipc_rd_initbuf(struct ipc_rd *r, uint32_t type, const void *buf, size_t len)
{
	msgpack_unpack_return	 rc;
	char			*copy;
	size_t			 off = 0;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&r->r_up);
	r->r_type = type;
	if (len == 0 || buf == NULL || ipc_rd_scan(buf, len) == -1)
		return ipc_rd_fail(r, EBADMSG, "not exactly one value");
	rc = msgpack_unpack_next(&r->r_up, buf, len, &off);
	if (rc != MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_unpacked_destroy(&r->r_up);
		return ipc_rd_fail(r, rc == MSGPACK_UNPACK_NOMEM_ERROR ?
		    ENOMEM : EBADMSG, "unpack failed");
	}
	/* msgpack-c makes no zone for a scalar, which references nothing. */
	if (r->r_up.zone != NULL) {
		if ((copy = msgpack_zone_malloc(r->r_up.zone, len)) == NULL) {
			msgpack_unpacked_destroy(&r->r_up);
			return ipc_rd_fail(r, ENOMEM, "out of memory");
		}
		memcpy(copy, buf, len);
		ipc_rd_rebase(&r->r_up.data, buf, copy);
	}
	r->r_root = r->r_up.data;
	r->r_stack[0].f_obj = &r->r_root;
	r->r_stack[0].f_pos = 0;
	r->r_stack[0].f_n = 1;
	r->r_depth = 1;
	return 0;
}

/* The next value of the innermost container, not consumed. */
static const msgpack_object *
ipc_rd_peek(struct ipc_rd *r)
{
	const struct ipc_rd_frame	*f;
	const msgpack_object_kv		*kv;

	if (r->r_err != 0)
		return NULL;
	if (r->r_depth == 0) {
		ipc_rd_fail(r, EINVAL, "reader not initialised");
		return NULL;
	}
	f = &r->r_stack[r->r_depth - 1];
	if (f->f_pos >= f->f_n) {
		ipc_rd_fail(r, EBADMSG, "read past the end of a container");
		return NULL;
	}
	if (r->r_depth == 1)
		return f->f_obj;
	if (f->f_obj->type == MSGPACK_OBJECT_ARRAY)
		return &f->f_obj->via.array.ptr[f->f_pos];
	kv = &f->f_obj->via.map.ptr[f->f_pos / 2];
	return f->f_pos % 2 == 0 ? &kv->key : &kv->val;
}

/* Consume the next value, which must be of the given type. */
static const msgpack_object *
ipc_rd_take(struct ipc_rd *r, msgpack_object_type type)
{
	const msgpack_object	*o;

	if ((o = ipc_rd_peek(r)) == NULL)
		return NULL;
	r->r_stack[r->r_depth - 1].f_pos++;
	if (o->type != type) {
		ipc_rd_fail(r, EBADMSG, "type mismatch");
		return NULL;
	}
	return o;
}

static void
ipc_rd_push(struct ipc_rd *r, const msgpack_object *o, uint32_t n)
{
	struct ipc_rd_frame	*f;

	if (r->r_depth == IPC_RD_MAXDEPTH) {
		ipc_rd_fail(r, EBADMSG, "nested too deep");
		return;
	}
	f = &r->r_stack[r->r_depth++];
	f->f_obj = o;
	f->f_pos = 0;
	f->f_n = n;
}

void
ipc_rd_array(struct ipc_rd *r, uint32_t *n)
{
	const msgpack_object	*o;

	*n = 0;
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_ARRAY)) == NULL)
		return;
	ipc_rd_push(r, o, o->via.array.size);
	if (r->r_err == 0)
		*n = o->via.array.size;
}

void
ipc_rd_map(struct ipc_rd *r, uint32_t *n)
{
	const msgpack_object	*o;

	*n = 0;
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_MAP)) == NULL)
		return;
	if (o->via.map.size > UINT32_MAX / 2) {
		ipc_rd_fail(r, EBADMSG, "map too large");
		return;
	}
	ipc_rd_push(r, o, 2 * o->via.map.size);
	if (r->r_err == 0)
		*n = o->via.map.size;
}

void
ipc_rd_leave(struct ipc_rd *r)
{
	const struct ipc_rd_frame	*f;

	if (r->r_err != 0)
		return;
	if (r->r_depth <= 1) {
		ipc_rd_fail(r, EBADMSG, "leave without a container");
		return;
	}
	f = &r->r_stack[r->r_depth - 1];
	if (f->f_pos != f->f_n) {
		ipc_rd_fail(r, EBADMSG, "container left with unread values");
		return;
	}
	r->r_depth--;
}

int
ipc_rd_isnil(struct ipc_rd *r)
{
	const msgpack_object	*o;

	if ((o = ipc_rd_peek(r)) == NULL || o->type != MSGPACK_OBJECT_NIL)
		return 0;
	r->r_stack[r->r_depth - 1].f_pos++;
	return 1;
}

void
ipc_rd_bool(struct ipc_rd *r, int *v)
{
	const msgpack_object	*o;

	*v = 0;
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_BOOLEAN)) != NULL)
		*v = o->via.boolean;
}

void
ipc_rd_u32(struct ipc_rd *r, uint32_t *v)
{
	uint64_t	 u;

	*v = 0;
	ipc_rd_u64(r, &u);
	if (r->r_err == 0 && u > UINT32_MAX)
		ipc_rd_fail(r, EBADMSG, "u32 overflow");
	else if (r->r_err == 0)
		*v = (uint32_t)u;
}

void
ipc_rd_u64(struct ipc_rd *r, uint64_t *v)
{
	const msgpack_object	*o;

	*v = 0;
	if ((o = ipc_rd_peek(r)) != NULL &&
	    o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		ipc_rd_fail(r, EBADMSG, "negative value for an unsigned");
		return;
	}
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_POSITIVE_INTEGER)) != NULL)
		*v = o->via.u64;
}

void
ipc_rd_i64(struct ipc_rd *r, int64_t *v)
{
	const msgpack_object	*o;

	*v = 0;
	if ((o = ipc_rd_peek(r)) != NULL &&
	    o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		r->r_stack[r->r_depth - 1].f_pos++;
		*v = o->via.i64;
		return;
	}
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_POSITIVE_INTEGER)) == NULL)
		return;
	if (o->via.u64 > INT64_MAX)
		ipc_rd_fail(r, EBADMSG, "i64 overflow");
	else
		*v = (int64_t)o->via.u64;
}

int
ipc_rd_strv(struct ipc_rd *r, size_t max, char ***vp, size_t *np)
{
	uint32_t	 n = 0, i;
	char		**v;

	*vp = NULL;
	*np = 0;
	ipc_rd_array(r, &n);
	if (ipc_rd_error(r) || n > max)
		return -1;
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL) {
		ipc_rd_fail(r, ENOMEM, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		ipc_rd_str(r, &v[i]);
	ipc_rd_leave(r);
	*vp = v;
	*np = n;
	for (i = 0; i < n; i++)
		if (v[i] == NULL)
			return -1;
	return ipc_rd_error(r) ? -1 : 0;
}

/* *s is allocated; the caller frees it.  NULL on any error. */
void
ipc_rd_str(struct ipc_rd *r, char **s)
{
	const msgpack_object	*o;

	*s = NULL;
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_STR)) == NULL)
		return;
	if (o->via.str.size > 0 &&
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
		ipc_rd_fail(r, EBADMSG, "NUL in string");
		return;
	}
	if ((*s = malloc((size_t)o->via.str.size + 1)) == NULL) {
		ipc_rd_fail(r, ENOMEM, "out of memory");
		return;
	}
	if (o->via.str.size > 0)
		memcpy(*s, o->via.str.ptr, o->via.str.size);
	(*s)[o->via.str.size] = '\0';
}

void
ipc_rd_strbuf(struct ipc_rd *r, char *buf, size_t sz)
{
	const msgpack_object	*o;

	if (sz > 0)
		buf[0] = '\0';
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_STR)) == NULL)
		return;
	if (o->via.str.size > 0 &&
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
		ipc_rd_fail(r, EBADMSG, "NUL in string");
		return;
	}
	if ((size_t)o->via.str.size >= sz) {
		ipc_rd_fail(r, EBADMSG, "string too long");
		return;
	}
	if (o->via.str.size > 0)
		memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
}

void
ipc_rd_bin(struct ipc_rd *r, const void **p, size_t *len)
{
	const msgpack_object	*o;

	*p = NULL;
	*len = 0;
	if ((o = ipc_rd_take(r, MSGPACK_OBJECT_BIN)) == NULL)
		return;
	*p = o->via.bin.ptr;
	*len = o->via.bin.size;
}

/* Consumes one value of any type, containers included. */
void
ipc_rd_skip(struct ipc_rd *r)
{
	if (ipc_rd_peek(r) != NULL)
		r->r_stack[r->r_depth - 1].f_pos++;
}

/*
 * Containers entered need not be left if they were read to the end:
 * what matters is that every value was consumed.
 */
int
ipc_rd_end(struct ipc_rd *r)
{
	int	 i;

	if (r->r_err == 0 && r->r_depth == 0)
		ipc_rd_fail(r, EINVAL, "reader not initialised");
	for (i = 0; r->r_err == 0 && i < r->r_depth; i++)
		if (r->r_stack[i].f_pos != r->r_stack[i].f_n)
			ipc_rd_fail(r, EBADMSG, "unread values");
	msgpack_unpacked_destroy(&r->r_up);
	r->r_depth = 0;
	if (r->r_err != 0) {
		errno = r->r_err;
		return -1;
	}
	return 0;
}

int
ipc_rd_error(const struct ipc_rd *r)
{
	return r->r_err;
}

int
ipc_rd_onestr(const struct ipc_msg *msg, char **s)
{
	struct ipc_rd	 r;
	uint32_t	 n = 0;

	*s = NULL;
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_str(&r, s);
	if (ipc_rd_end(&r) == -1 || n != 1) {
		free(*s);
		*s = NULL;
		return -1;
	}
	return 0;
}
