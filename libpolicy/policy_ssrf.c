/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Internal-address protection for proxyd (sandbox.md §2.6), with the
 * special-purpose address list completed (G8).  Two modes:
 *
 *   default     every resolved address must be public: none of the
 *               IANA special-purpose blocks below, looking through
 *               IPv4-mapped, IPv4-translated, NAT64 and 6to4 forms;
 *   allowlist   (the endpoint has allowed_ips, or the CONNECT host is
 *               an IP literal) every address must lie in the list and
 *               none may be "always blocked": loopback, link-local,
 *               unspecified (0/8, ::) or the sandbox subnet
 *               10.200.0.0/24 where the supervisor listens (G8); the
 *               Kubernetes control-plane ports are refused outright.
 */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

struct ps_net {
	uint8_t		 addr[16];
	uint8_t		 len;
};

enum ps_embed {
	PS_NATIVE,	/* a plain IPv6 address */
	PS_V4,		/* an embedded IPv4 address, judge that */
	PS_BLOCK	/* a special form that is never public */
};

/* IPv4 special-purpose blocks (RFC 6890 and successors). */
static const struct ps_net ps_internal4[] = {
	{ { 0, 0, 0, 0 }, 8 },		/* "this network" */
	{ { 10, 0, 0, 0 }, 8 },		/* private */
	{ { 100, 64, 0, 0 }, 10 },	/* shared address space (CGN) */
	{ { 127, 0, 0, 0 }, 8 },	/* loopback */
	{ { 169, 254, 0, 0 }, 16 },	/* link-local, cloud metadata */
	{ { 172, 16, 0, 0 }, 12 },	/* private */
	{ { 192, 0, 0, 0 }, 24 },	/* IETF protocol assignments */
	{ { 192, 0, 2, 0 }, 24 },	/* TEST-NET-1 */
	{ { 192, 88, 99, 0 }, 24 },	/* 6to4 relay anycast */
	{ { 192, 168, 0, 0 }, 16 },	/* private */
	{ { 198, 18, 0, 0 }, 15 },	/* benchmarking */
	{ { 198, 51, 100, 0 }, 24 },	/* TEST-NET-2 */
	{ { 203, 0, 113, 0 }, 24 },	/* TEST-NET-3 */
	{ { 224, 0, 0, 0 }, 4 },	/* multicast */
	{ { 240, 0, 0, 0 }, 4 },	/* reserved, incl. broadcast */
};

/* IPv6 blocks that are never a public destination. */
static const struct ps_net ps_internal6[] = {
	{ { 0x01, 0x00 }, 64 },				/* discard 100::/64 */
	{ { 0x20, 0x01, 0x00, 0x00 }, 23 },		/* IETF 2001::/23 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },		/* documentation */
	{ { 0x3f, 0xff, 0x00, 0x00 }, 20 },		/* documentation */
	{ { 0xfc }, 7 },				/* unique local */
	{ { 0xfe, 0x80 }, 10 },				/* link-local */
	{ { 0xfe, 0xc0 }, 10 },				/* site-local */
	{ { 0xff }, 8 },				/* multicast */
};

static const struct ps_net ps_blocked4[] = {
	{ { 0, 0, 0, 0 }, 8 },		/* unspecified / this network */
	{ { 127, 0, 0, 0 }, 8 },	/* loopback */
	{ { 169, 254, 0, 0 }, 16 },	/* link-local */
	{ { 10, 200, 0, 0 }, 24 },	/* the sandbox subnet (G8) */
};

static const uint16_t ps_ctl_ports[] = { 2379, 2380, 6443, 10250, 10255 };

static int	 ps_in(const uint8_t *, const struct ps_net *, size_t);
static int	 ps_prefix(const uint8_t *, const uint8_t *, unsigned int);
static enum ps_embed ps_embedded(const uint8_t *, uint8_t *);
static int	 ps_addr(const struct sockaddr *, uint8_t *);
static void	 ps_ntop(const struct sockaddr *, char *, size_t);
static int	 ps_overlaps_blocked(const struct policy_cidr *);

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
ps_prefix(const uint8_t *a, const uint8_t *net, unsigned int len)
{
	unsigned int	 bytes = len / 8, bits = len % 8;
	uint8_t		 mask;

	if (memcmp(a, net, bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - bits));
	return (a[bytes] & mask) == (net[bytes] & mask);
}

static int
ps_in(const uint8_t *a, const struct ps_net *tab, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (ps_prefix(a, tab[i].addr, tab[i].len))
			return 1;
	return 0;
}

/*
 * IPv6 forms that carry an IPv4 address: mapped ::ffff:0:0/96,
 * translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 6to4 2002::/16
 * yield PS_V4; IPv4-compatible ::/96 and local-use NAT64
 * 64:ff9b:1::/48 are never public, PS_BLOCK.
 */
static enum ps_embed
ps_embedded(const uint8_t *a, uint8_t *v4)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	static const uint8_t xlat[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	    0, 0 };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t nat64l[6] = { 0, 0x64, 0xff, 0x9b, 0, 1 };
	static const uint8_t zero[12];

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, xlat, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0) {
		memcpy(v4, a + 12, 4);
		return PS_V4;
	}
	if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(v4, a + 2, 4);
		return PS_V4;
	}
	if (memcmp(a, zero, 12) == 0 || memcmp(a, nat64l, 6) == 0) {
		memcpy(v4, a + 12, 4);
		return PS_BLOCK;
	}
	return PS_NATIVE;
}

/* Address bytes of sa; returns 4, 16, or 0 for other families. */
static int
ps_addr(const struct sockaddr *sa, uint8_t *out)
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
		return 16;
	}
	return 0;
}

/* Is this address anywhere but the public Internet?  (default mode) */
int
policy_addr_internal(const struct sockaddr *sa)
{
	uint8_t		 a[16], v4[4];

	switch (ps_addr(sa, a)) {
	case 4:
		return ps_in(a, ps_internal4, NELEM(ps_internal4));
	case 16:
		switch (ps_embedded(a, v4)) {
		case PS_V4:
			return ps_in(v4, ps_internal4, NELEM(ps_internal4));
		case PS_BLOCK:
			return 1;
		default:
			return ps_in(a, ps_internal6, NELEM(ps_internal6));
		}
	default:
		return 1;
	}
}

/* Refused even when allowed_ips lists it.  (allowlist mode) */
int
policy_addr_always_blocked(const struct sockaddr *sa)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	static const struct ps_net ll6 = { { 0xfe, 0x80 }, 10 };
	uint8_t		 a[16], v4[4];

	switch (ps_addr(sa, a)) {
	case 4:
		return ps_in(a, ps_blocked4, NELEM(ps_blocked4));
	case 16:
		if (memcmp(a, loop6, 16) == 0 || ps_in(a, &ll6, 1))
			return 1;
		/* "::" is the compatible form of 0.0.0.0, inside 0/8. */
		if (ps_embedded(a, v4) != PS_NATIVE)
			return ps_in(v4, ps_blocked4, NELEM(ps_blocked4));
		return 0;
	default:
		return 1;
	}
}

int
policy_port_control_plane(uint16_t port)
{
	size_t	 i;

	for (i = 0; i < NELEM(ps_ctl_ports); i++)
		if (ps_ctl_ports[i] == port)
			return 1;
	return 0;
}

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (/32, /128). */
int
policy_cidr_parse(const char *s, struct policy_cidr *out)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long	 len;
	int		 max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strlcpy(buf, s, sizeof(buf));
	memset(out, 0, sizeof(*out));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (strchr(buf, '%') == NULL &&
	    inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return -1;
	out->prefix = (uint8_t)max;
	if (slash == NULL)
		return 0;
	if (*slash < '0' || *slash > '9' || strlen(slash) > 3)
		return -1;
	len = strtoul(slash, &end, 10);
	if (*end != '\0' || len > (unsigned long)max)
		return -1;
	out->prefix = (uint8_t)len;
	return 0;
}

int
policy_cidr_contains(const struct policy_cidr *net, const struct sockaddr *sa)
{
	uint8_t		 a[16];
	int		 n;

	n = ps_addr(sa, a);
	if ((n == 4 && net->family != AF_INET) ||
	    (n == 16 && net->family != AF_INET6) || n == 0)
		return 0;
	return ps_prefix(a, net->addr, net->prefix);
}

/*
 * Parse every entry; on any invalid one return -1 with *err set to the
 * reference text, "invalid CIDR/IP in allowed_ips: X" joined by "; ".
 */
int
policy_allowed_ips_parse(const char *const *v, size_t n,
    struct policy_cidr **nets, size_t *nnets, char **err)
{
	struct policy_strv	 errs = { 0 };
	struct policy_cidr	*out;
	size_t			 i;

	*nets = NULL;
	*nnets = 0;
	*err = NULL;
	if (n == 0)
		return 0;
	if ((out = calloc(n, sizeof(*out))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (policy_cidr_parse(v[i], &out[i]) == -1)
			policy_strv_addf(&errs,
			    "invalid CIDR/IP in allowed_ips: %s", v[i]);
	if (errs.n > 0) {
		*err = policy_strv_join(&errs, "; ");
		policy_strv_free(&errs);
		free(out);
		return -1;
	}
	*nets = out;
	*nnets = n;
	return 0;
}

/* Does the network share any address with an always-blocked block? */
static int
ps_overlaps_blocked(const struct policy_cidr *c)
{
	static const struct ps_net blocked6[] = {
		{ { 0 }, 128 }, { { [15] = 1 }, 128 }, { { 0xfe, 0x80 }, 10 },
	};
	const struct ps_net	*tab;
	size_t			 i, n;
	unsigned int		 len;

	tab = c->family == AF_INET ? ps_blocked4 : blocked6;
	n = c->family == AF_INET ? NELEM(ps_blocked4) : NELEM(blocked6);
	for (i = 0; i < n; i++) {
		len = c->prefix < tab[i].len ? c->prefix : tab[i].len;
		if (ps_prefix(c->addr, tab[i].addr, len))
			return 1;
	}
	return 0;
}

/*
 * Load-time warnings for an endpoint's allowed_ips (the reference only
 * notices these per connection): invalid entries, prefixes shorter
 * than /16, and entries overlapping the always-blocked ranges.
 */
void
policy_allowed_ips_warn(const char *const *v, size_t n, const char *loc,
    struct policy_strv *warns)
{
	struct policy_cidr	 c;
	size_t			 i;
	char			*slash;

	for (i = 0; i < n; i++) {
		if (policy_cidr_parse(v[i], &c) == -1) {
			policy_strv_addf(warns,
			    "%s: invalid CIDR/IP in allowed_ips: %s", loc, v[i]);
			continue;
		}
		slash = strchr(v[i], '/');
		if (c.prefix < 16)
			policy_strv_addf(warns, "%s: allowed_ips entry has a "
			    "very broad CIDR %.*s/%u (/%u) < /16; this may "
			    "expose control-plane services on the same network",
			    loc, slash ? (int)(slash - v[i]) : (int)strlen(v[i]),
			    v[i], c.prefix, c.prefix);
		if (ps_overlaps_blocked(&c))
			policy_strv_addf(warns, "%s: allowed_ips entry %s "
			    "overlaps an always-blocked range (loopback/"
			    "link-local/unspecified/sandbox subnet); those "
			    "addresses are always rejected", loc, v[i]);
	}
}

static void
ps_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	const void	*src;

	if (sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr;
	else {
		strlcpy(buf, "?", len);
		return;
	}
	if (inet_ntop(sa->sa_family, src, buf, (socklen_t)len) == NULL)
		strlcpy(buf, "?", len);
}

/*
 * Check the resolved addresses of host:port.  nnets == 0 selects the
 * default mode, otherwise the allowlist mode.  Returns 0 when the
 * connection may proceed, -1 with *reason (malloc'd) when not.
 */
int
policy_ssrf_check(const struct policy_cidr *nets, size_t nnets,
    const char *host, uint16_t port, const struct sockaddr_storage *addrs,
    size_t naddrs, char **reason)
{
	const struct sockaddr	*sa;
	char			 ip[INET6_ADDRSTRLEN];
	size_t			 i, j;
	int			 rc = 0;

	*reason = NULL;
	if (naddrs == 0)
		rc = asprintf(reason, "DNS resolution returned no addresses "
		    "for %s:%u", host, port);
	else if (nnets > 0 && policy_port_control_plane(port))
		rc = asprintf(reason, "port %u is a blocked control-plane "
		    "port, connection rejected", port);
	for (i = 0; i < naddrs && *reason == NULL && rc != -1; i++) {
		sa = (const struct sockaddr *)&addrs[i];
		ps_ntop(sa, ip, sizeof(ip));
		if (nnets == 0) {
			if (policy_addr_internal(sa))
				rc = asprintf(reason, "%s resolves to internal "
				    "address %s, connection rejected", host, ip);
			continue;
		}
		if (policy_addr_always_blocked(sa)) {
			rc = asprintf(reason, "%s resolves to always-blocked "
			    "address %s, connection rejected", host, ip);
			continue;
		}
		for (j = 0; j < nnets; j++)
			if (policy_cidr_contains(&nets[j], sa))
				break;
		if (j == nnets)
			rc = asprintf(reason, "%s resolves to %s which is not in "
			    "allowed_ips, connection rejected", host, ip);
	}
	if (rc == -1) {
		*reason = NULL;
		return -1;
	}
	return *reason != NULL ? -1 : 0;
}
