/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for the NSSH1 preface check (libnssh), the first
 * bytes sshd reads from anyone who reaches its socket.  Invariants: an
 * arbitrary line never verifies; a line built with the secret verifies
 * once and is refused as a replay the second time.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libnssh/nssh.h"

#define SECRET	"fuzz-secret"
#define NOW	1700000000LL

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nssh_cache	*c;
	char			 line[NSSH_LINE_MAX + 2], tok[64];
	const char		*why;
	size_t			 n;

	if ((c = nssh_cache_new()) == NULL)
		abort();
	n = size < NSSH_LINE_MAX + 1 ? size : NSSH_LINE_MAX + 1;
	memcpy(line, data, n);
	line[n] = '\0';
	/* No signature can be guessed by the fuzzer. */
	if (nssh_line_verify(SECRET, line, NOW, 300, c, &why) == 0)
		abort();
	n = size < sizeof(tok) - 1 ? size : sizeof(tok) - 1;
	memcpy(tok, data, n);
	tok[n] = '\0';
	if (nssh_line_build(SECRET, tok, NOW, "nonce", line,
	    sizeof(line)) == 0) {
		if (nssh_line_verify(SECRET, line, NOW, 300, c, &why) != 0 &&
		    strchr(tok, '\0') == tok + n && n > 0 &&
		    strcspn(tok, " \t\r\n\v\f") == n)
			abort();
		if (nssh_line_verify(SECRET, line, NOW, 300, c, &why) == 0)
			abort();
	}
	nssh_cache_free(c);
	return 0;
}
