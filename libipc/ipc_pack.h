/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Typed msgpack payloads with a sticky error, after OpenSMTPD's
 * m_create/m_add_* and m_msg, m_get_*, m_end.  A writer builds exactly
 * one msgpack value; a reader parses exactly one value from a payload
 * (short or trailing bytes are errors) and walks it in order.
 */

#ifndef IPC_PACK_H
#define IPC_PACK_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

#define IPC_RD_MAXDEPTH	16

struct ipc_wr {
	msgpack_sbuffer	 w_sb;
	msgpack_packer	 w_pk;
	int		 w_err;
};

void	 ipc_wr_init(struct ipc_wr *);
void	 ipc_wr_array(struct ipc_wr *, uint32_t);
void	 ipc_wr_map(struct ipc_wr *, uint32_t);
void	 ipc_wr_nil(struct ipc_wr *);
void	 ipc_wr_bool(struct ipc_wr *, int);
void	 ipc_wr_u32(struct ipc_wr *, uint32_t);
void	 ipc_wr_u64(struct ipc_wr *, uint64_t);
void	 ipc_wr_i64(struct ipc_wr *, int64_t);
void	 ipc_wr_str(struct ipc_wr *, const char *);	/* NULL packs nil */
void	 ipc_wr_strn(struct ipc_wr *, const char *, size_t);
void	 ipc_wr_bin(struct ipc_wr *, const void *, size_t);
const void *ipc_wr_data(const struct ipc_wr *, size_t *);
void	 ipc_wr_free(struct ipc_wr *);
/*
 * ipc_wr_close: compose the value as one frame on ib and free the
 * writer.  fd follows ipc_compose's ownership rule.  Returns -1 if the
 * writer saw an error or the compose failed.
 */
int	 ipc_wr_close(struct ipc_wr *, struct ipc_buf *, uint32_t, uint32_t,
	    pid_t, int);

struct ipc_rd_frame {
	const msgpack_object	*f_obj;		/* container, or the root */
	uint32_t		 f_pos;		/* next element */
	uint32_t		 f_n;		/* elements (map: keys+values) */
};

struct ipc_rd {
	msgpack_unpacked	 r_up;
	msgpack_object		 r_root;
	struct ipc_rd_frame	 r_stack[IPC_RD_MAXDEPTH];
	int			 r_depth;
	int			 r_err;
	uint32_t		 r_type;	/* for error messages */
};

/* Both return -1 (and leave r_err set) unless the payload holds
 * exactly one complete msgpack value. */
int	 ipc_rd_init(struct ipc_rd *, const struct ipc_msg *);
int	 ipc_rd_initbuf(struct ipc_rd *, uint32_t, const void *, size_t);
void	 ipc_rd_array(struct ipc_rd *, uint32_t *);	/* enter */
void	 ipc_rd_map(struct ipc_rd *, uint32_t *);	/* enter; pairs */
void	 ipc_rd_leave(struct ipc_rd *);	/* error unless all consumed */
int	 ipc_rd_isnil(struct ipc_rd *);	/* peek; consumes a nil */
void	 ipc_rd_bool(struct ipc_rd *, int *);
void	 ipc_rd_u32(struct ipc_rd *, uint32_t *);
void	 ipc_rd_u64(struct ipc_rd *, uint64_t *);
void	 ipc_rd_i64(struct ipc_rd *, int64_t *);
/* Strings must not contain NUL.  ipc_rd_str allocates (caller frees);
 * ipc_rd_strbuf fails if the string does not fit. */
void	 ipc_rd_str(struct ipc_rd *, char **);
void	 ipc_rd_strbuf(struct ipc_rd *, char *, size_t);
/* An array of at most max strings: 0 with *v (NULL-terminated) and *n,
 * or -1; either way the caller frees what *v holds. */
int	 ipc_rd_strv(struct ipc_rd *, size_t, char ***, size_t *);
/* Points into the reader's zone: valid until ipc_rd_end. */
void	 ipc_rd_bin(struct ipc_rd *, const void **, size_t *);
void	 ipc_rd_skip(struct ipc_rd *);
/* 0 iff no error and the whole value was consumed; frees the reader. */
int	 ipc_rd_end(struct ipc_rd *);
int	 ipc_rd_error(const struct ipc_rd *);
/* A whole [str] message: 0 with *s allocated (caller frees), or -1
 * with *s NULL. */
int	 ipc_rd_onestr(const struct ipc_msg *, char **);

#endif /* IPC_PACK_H */
