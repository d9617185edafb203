/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * struct policy <-> openshell.sandbox.v1.SandboxPolicy (protobuf-c).
 *
 * Both directions keep every field the two forms share: version,
 * filesystem (include_workdir, read_only, read_write), landlock,
 * process, and per network_policies entry its key, name, endpoints
 * (host, port, ports, protocol, tls, enforcement, access, L7 rules
 * with method/path/command/query matchers, allowed_ips) and binaries
 * (path, harness).  Presence of the three optional sections is kept
 * (has_filesystem/has_landlock/has_process <-> a set sub-message).
 *
 * Output maps are sorted by key (network_policies and every L7
 * query map), so that the encoding of a policy made here is a pure
 * function of its content: the gateway hashes and stores only such
 * canonical encodings.  On input a key given twice keeps its last
 * value, as protobuf map semantics say.
 *
 * What only one side can say is dropped: the YAML-only shapes of the
 * model (`rules: []` versus no rules, a query matcher written as a map
 * with only `glob`, the loose parser's `bad` bits) and nothing else.
 *
 * Messages returned here are allocated with malloc and released with
 * policy_proto_free() / policy_proto_rule_free(), never with
 * protobuf_c_message_free_unpacked() (which is for unpacked ones).
 *
 * Programs using this file link $(PROTO_LIBS) as well (mk/policy.mk
 * keeps it out of libpolicy's own tests, fuzzer and benchmark).
 */

#ifndef POLICY_PROTO_H
#define POLICY_PROTO_H

#include "proto/sandbox.pb-c.h"

struct policy;
struct policy_netrule;

struct policy	*policy_proto_to_model(
		    const Openshell__Sandbox__V1__SandboxPolicy *, char **);
Openshell__Sandbox__V1__SandboxPolicy *policy_proto_from_model(
		    const struct policy *);
void		 policy_proto_free(Openshell__Sandbox__V1__SandboxPolicy *);

int		 policy_proto_rule_to_model(struct policy *, const char *,
		    const Openshell__Sandbox__V1__NetworkPolicyRule *);
Openshell__Sandbox__V1__NetworkPolicyRule *policy_proto_rule_from_model(
		    const struct policy_netrule *);
void		 policy_proto_rule_free(
		    Openshell__Sandbox__V1__NetworkPolicyRule *);

#endif /* POLICY_PROTO_H */
