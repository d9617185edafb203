# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# The openshell CLI itself is every cli/*.c, built by mk/gateway.mk;
# this fragment holds its unit tests.
include mk/proto.mk

$(eval $(call unit,pbjson,cli/pbjson.c cli/output.c,$(PROTO_LIBS) \
    $(shell pkg-config --libs jansson openssl)))
$(BUILD)/tests/unit/pbjson_test: $(LIBPROTO)
$(eval $(call unit,cli_config,cli/config.c,$(shell pkg-config --libs jansson)))
