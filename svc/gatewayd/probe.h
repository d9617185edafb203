/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The upstream check of SetClusterInference (control-plane.md §1.3):
 * one small completion request to the provider's endpoint, without
 * blocking the loop.
 */

#ifndef PROBE_H
#define PROBE_H

struct gatewayd;
struct probe;

#define PROBE_TIMEOUT	30	/* seconds */

/*
 * ok: 1 if the endpoint answered 2xx.  url and protocol name the
 * endpoint probed; detail says what went wrong.  All valid during the
 * call only; the probe is gone afterwards.
 */
typedef void	 probe_done_fn(int, const char *, const char *, const char *,
		    void *);

/* Before the sandbox: resolver and client TLS context. 0 or -1. */
int		 probe_init(struct gatewayd *);
/* type is "openai", "anthropic" or "nvidia"; NULL on a bad base URL. */
struct probe	*probe_start(struct gatewayd *, const char *, const char *,
		    const char *, const char *, probe_done_fn *, void *);
/* done is not called after this. */
void		 probe_cancel(struct probe *);

#endif /* PROBE_H */
