# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# gatewayd's UTF-8 check of request strings (svc/gatewayd/utf8.c); the
# daemon itself takes every file of its directory (mk/gateway.mk).
include mk/proto.mk

$(eval $(call unit,utf8,svc/gatewayd/utf8.c,$(PROTO_LIBS)))
$(BUILD)/tests/unit/utf8_test: $(LIBPROTO)
