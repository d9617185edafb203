/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libpolicy: the sandbox policy (SandboxPolicy) shared by the CLI,
 * gatewayd and proxyd.  Four parts:
 *
 *   model    struct policy and its children                policy.c
 *   YAML     strict parser, emitter          policy_yaml.c policy_yaml_emit.c
 *                                                   policy_yaml_scalar.c
 *   checks   gateway safety, live-update immutability,
 *            sandbox-side L7 validation, normalisation  policy_validate.c
 *   engine   compiled, refcounted, immutable decision
 *            engine for proxyd: L4, L7, SSRF       policy_engine.c
 *                                    policy_glob.c policy_ssrf.c
 *
 * The library never logs and never touches global state: every
 * function that can fail hands back a malloc'd message (or a list of
 * them) for the caller to report.  Strings in the model are malloc'd
 * and owned by the struct policy; NULL and "" both mean "empty" (the
 * reference treats them alike).  An engine is immutable, so decisions
 * may run concurrently on one engine from several threads.
 *
 * Link with $(LIBPOLICY) $(POLICY_LIBS) (mk/policy.mk).
 */

#ifndef POLICY_H
#define POLICY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* A growable list of malloc'd strings (errors, warnings, paths). */
struct policy_strv {
	char		**v;
	size_t		  n;
	size_t		  cap;
};

/*
 * Query matcher: a glob string, or {any: [globs]}.  The `bad` bits
 * record shapes only the loose (file-mode) parser lets through, so
 * that policy_validate_l7() can report them with the reference texts.
 */
#define POLICY_QM_BAD_TYPE	0x01	/* neither a string nor a map */
#define POLICY_QM_BAD_KEYS	0x02	/* map keys other than glob/any */
#define POLICY_QM_BAD_GLOBTYPE	0x04	/* glob: not a string */
#define POLICY_QM_BAD_ANYTYPE	0x08	/* any: not a sequence */
#define POLICY_QM_BAD_ANYITEM	0x10	/* any: holds a non-string */

struct policy_qmatch {
	char			*key;
	char			*glob;		/* string form or {glob:} */
	int			 has_glob;
	struct policy_strv	 any;		/* {any:} form */
	int			 has_any;
	int			 object;	/* written as a map */
	unsigned int		 bad;		/* POLICY_QM_BAD_* */
};

/* One `- allow: {...}` entry of an endpoint's rules. */
struct policy_l7rule {
	char			*method;
	char			*path;
	char			*command;
	struct policy_qmatch	*query;		/* sorted by key */
	size_t			 nquery;
	int			 query_bad;	/* query: not a map (loose) */
};

struct policy_endpoint {
	char			*host;
	uint32_t		 port;		/* legacy single port */
	uint32_t		*ports;
	size_t			 nports;
	char			*protocol;	/* rest | sql | empty */
	char			*tls;		/* skip | terminate | passthrough */
	char			*enforcement;	/* enforce | audit */
	char			*access;	/* read-only | read-write | full */
	struct policy_l7rule	*rules;
	size_t			 nrules;
	int			 rules_present;	/* `rules:` given, maybe [] */
	struct policy_strv	 allowed_ips;
};

struct policy_binary {
	char			*path;
	int			 harness;	/* deprecated, ignored */
};

/* One network_policies entry; `key` is what decisions report. */
struct policy_netrule {
	char			*key;
	char			*name;
	struct policy_endpoint	*endpoints;
	size_t			 nendpoints;
	struct policy_binary	*binaries;
	size_t			 nbinaries;
};

struct policy {
	uint32_t		 version;

	int			 has_filesystem;
	int			 include_workdir;
	int			 has_include_workdir;
	struct policy_strv	 read_only;
	struct policy_strv	 read_write;

	int			 has_landlock;
	char			*landlock_compat;

	int			 has_process;
	char			*run_as_user;
	char			*run_as_group;

	struct policy_netrule	*rules;		/* sorted by key (bytewise) */
	size_t			 nrules;
};

/* policy.c: model helpers. */
struct policy	*policy_new(void);
void		 policy_free(struct policy *);
struct policy	*policy_default(void);		/* sandbox.md §1.10 */
struct policy_netrule *policy_rule_add(struct policy *, const char *);
struct policy_netrule *policy_rule_find(const struct policy *, const char *);
void		 policy_rules_sort(struct policy *);
struct policy_endpoint *policy_endpoint_add(struct policy_netrule *);
struct policy_binary *policy_binary_add(struct policy_netrule *,
		    const char *);
struct policy_l7rule *policy_l7rule_add(struct policy_endpoint *,
		    const char *, const char *);
int		 policy_strv_add(struct policy_strv *, const char *);
int		 policy_strv_addf(struct policy_strv *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
int		 policy_strv_has(const struct policy_strv *, const char *);
char		*policy_strv_join(const struct policy_strv *, const char *);
void		 policy_strv_free(struct policy_strv *);
const char	*policy_s(const char *);	/* NULL -> "" */

/* policy_yaml.c: YAML <-> model. */
#define POLICY_YAML_LOOSE	0x01	/* file mode: unknown keys ignored,
					   version optional, bad matchers kept */
struct policy	*policy_yaml_parse(const char *, size_t, int, char **);
struct policy	*policy_yaml_load(const char *, int, char **);
char		*policy_yaml_emit(const struct policy *, size_t *);

/* policy_validate.c: gateway and sandbox checks. */
#define POLICY_MAX_PATHS	256
#define POLICY_MAX_PATH_LEN	4096
void		 policy_default_process(struct policy *);
int		 policy_check_safety(const struct policy *,
		    struct policy_strv *);
char		*policy_validate_safety(const struct policy *);
char		*policy_validate_update(const struct policy *,
		    const struct policy *);
int		 policy_validate_l7(const struct policy *,
		    struct policy_strv *, struct policy_strv *);
int		 policy_normalize(struct policy *);

/* policy_engine.c: the compiled decision engine. */
struct policy_engine;

struct policy_exec {
	const char		 *path;		/* /proc/<pid>/exe */
	const char *const	 *ancestors;	/* nearest first */
	size_t			  nancestors;
	const char *const	 *cmdline;	/* logged, never matched */
	size_t			  ncmdline;
};

enum policy_proto {
	POLICY_PROTO_NONE,
	POLICY_PROTO_REST,
	POLICY_PROTO_SQL
};

#define POLICY_L4_INLINE	8

/*
 * Result of an L4 (CONNECT) decision.  It points into the engine, so
 * the caller keeps its engine reference while it uses the result, and
 * releases it with policy_l4_clear().
 */
struct policy_l4 {
	int			 allow;
	const char		*policy;	/* smallest matching key */
	char			*reason;	/* see policy_l4_reason() */
	char			*deny_host;	/* for a reason not yet written */
	uint16_t		 deny_port;

	/* Matched endpoint config, merged over every matching endpoint. */
	enum policy_proto	 proto;		/* L7 inspection applies */
	int			 enforce;
	int			 tls_skip;
	int			 has_allowed_ips;

	const struct policy_engine *engine;
	uint32_t		*eps;		/* matching endpoints */
	size_t			 neps;
	size_t			 epscap;
	uint32_t		 eps_inline[POLICY_L4_INLINE];
};

enum policy_verdict {
	POLICY_ALLOW,
	POLICY_AUDIT,		/* denied by the rules, audit mode */
	POLICY_DENY
};

struct policy_l7 {
	enum policy_verdict	 verdict;
	const char		*policy;	/* X-OpenShell-Policy: L4 key */
	const char		*rule_policy;	/* key whose rule allowed */
};

struct policy_param {
	const char		*key;
	const char		*value;
};

struct policy_engine *policy_compile(const struct policy *, char **);
struct policy_engine *policy_engine_ref(struct policy_engine *);
void		 policy_engine_unref(struct policy_engine *);
size_t		 policy_engine_nrules(const struct policy_engine *);
int		 policy_decide_l4(const struct policy_engine *, const char *,
		    uint16_t, const struct policy_exec *, struct policy_l4 *);
void		 policy_l4_clear(struct policy_l4 *);
const char	*policy_l4_reason(struct policy_l4 *);
int		 policy_decide_l7(const struct policy_engine *,
		    const struct policy_l4 *, const char *, const char *,
		    const struct policy_param *, size_t, struct policy_l7 *);
const char	*policy_verdict_str(enum policy_verdict);
char		*policy_l7_deny_detail(const char *, const char *);

/* policy_ssrf.c: internal-address protection (§2.6, G8). */
struct policy_cidr {
	sa_family_t		 family;
	uint8_t			 prefix;
	uint8_t			 addr[16];
};

#define POLICY_SANDBOX_SUBNET	"10.200.0.0/24"

int		 policy_cidr_parse(const char *, struct policy_cidr *);
int		 policy_cidr_contains(const struct policy_cidr *,
		    const struct sockaddr *);
int		 policy_addr_internal(const struct sockaddr *);
int		 policy_addr_always_blocked(const struct sockaddr *);
int		 policy_port_control_plane(uint16_t);
int		 policy_allowed_ips_parse(const char *const *, size_t,
		    struct policy_cidr **, size_t *, char **);
void		 policy_allowed_ips_warn(const char *const *, size_t,
		    const char *, struct policy_strv *);
int		 policy_ssrf_check(const struct policy_cidr *, size_t,
		    const char *, uint16_t, const struct sockaddr_storage *,
		    size_t, char **);
int		 policy_check_ssrf(const struct policy_l4 *, const char *,
		    uint16_t, const struct sockaddr_storage *, size_t, char **);

#endif /* POLICY_H */
