/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The fingerprints and the settings blob of control-plane.md §2.6/§3.
 *
 *   policy_hash_policy()      lowercase hex SHA-256 over the version
 *                             (LE32), the encoded filesystem, landlock
 *                             and process sections (each if present),
 *                             then per network_policies entry in key
 *                             order the key bytes and the encoded rule.
 *                             Nested maps (L7 query) are hashed as
 *                             given: hash what policy_proto_from_model()
 *                             made, whose maps are sorted.
 *   policy_hash_config_revision()
 *                             first 8 bytes (LE u64) of SHA-256 over the
 *                             policy source (LE32), the policy hash (if
 *                             any) and every effective setting in key
 *                             order (key, scope LE32, then a type tag
 *                             and the value when a value is set).
 *   policy_hash_settings_*()  the JSON settings blob stored in objects
 *                             (`gateway_settings`, `sandbox_settings`):
 *                             {"revision": N, "settings": {key:
 *                             {"type": "String"|"Bool"|"Int"|"Bytes",
 *                             "value": ...}}}, keys sorted, Bytes as
 *                             lowercase hex.
 */

#ifndef POLICY_HASH_H
#define POLICY_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/sandbox.pb-c.h"

#define POLICY_HASH_LEN		65	/* 64 hex digits and the NUL */

int	 policy_hash_policy(const Openshell__Sandbox__V1__SandboxPolicy *,
	    char *);
uint64_t policy_hash_config_revision(int32_t, const char *,
	    Openshell__Sandbox__V1__GetSandboxConfigResponse__SettingsEntry
	    *const *, size_t);
char	*policy_hash_hex(const uint8_t *, size_t);
int	 policy_hash_unhex(const char *, uint8_t **, size_t *);

enum policy_hash_type {
	PH_STRING,
	PH_BOOL,
	PH_INT,
	PH_BYTES
};

/* One stored setting; str holds String values and Bytes as hex. */
struct policy_hash_setting {
	char			*key;
	enum policy_hash_type	 type;
	char			*str;
	int64_t			 num;	/* Int, or Bool as 0/1 */
};

struct policy_hash_settings {
	uint64_t			 revision;
	struct policy_hash_setting	*v;	/* sorted by key */
	size_t				 n;
};

int	 policy_hash_settings_load(const uint8_t *, size_t,
	    struct policy_hash_settings *, char **);
char	*policy_hash_settings_dump(const struct policy_hash_settings *);
const struct policy_hash_setting *policy_hash_settings_get(
	    const struct policy_hash_settings *, const char *);
int	 policy_hash_settings_put(struct policy_hash_settings *,
	    const struct policy_hash_setting *);
int	 policy_hash_settings_del(struct policy_hash_settings *,
	    const char *);
void	 policy_hash_settings_clear(struct policy_hash_settings *);

#endif /* POLICY_HASH_H */
