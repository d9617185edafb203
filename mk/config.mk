# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# Policy configuration of the control plane: the SandboxPolicy <->
# libpolicy conversion (libpolicy/policy_proto.c), gatewayd's policy
# hash and settings blob (svc/gatewayd/policy_hash.c) and its config
# RPCs (svc/gatewayd/rpc_config.c), and their unit tests.
include mk/proto.mk
include mk/policy.mk

CONFIG_JANSSON		:= $(shell pkg-config --libs jansson)
CONFIG_TEST_LIBS	:= $(PROTO_LIBS) $(POLICY_LIBS) \
			   $(shell pkg-config --libs libcrypto) $(CONFIG_JANSSON)

# The settings blob is JSON (jansson).  The prog template's link line
# ends with $(PKG_LIBS), expanded when the recipe runs, so this adds
# it without touching mk/gateway.mk (harmless if that lists it too).
$(BUILD)/libexec/openshell/gatewayd: PKG_LIBS += $(CONFIG_JANSSON)

$(eval $(call unit,policy_proto,$(LIBPOLICY_SRCS),$(CONFIG_TEST_LIBS)))
$(BUILD)/tests/unit/policy_proto_test: $(LIBPROTO)
$(eval $(call unit,policy_hash,svc/gatewayd/policy_hash.c \
    $(LIBPOLICY_SRCS),$(CONFIG_TEST_LIBS)))
$(BUILD)/tests/unit/policy_hash_test: $(LIBPROTO)
