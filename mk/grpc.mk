# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# libgrpc: gRPC over HTTP/2 (nghttp2 + OpenSSL + libevent), server and
# client, and the HTTP/1.1 side of the gateway port.
#
#   $(LIBGRPC)    the library
#   $(GRPC_LIBS)  what a program links to use it (libipc again after it,
#                 for log.h, since the prog template puts libipc first)
ifndef GRPC_MK
GRPC_MK	:= 1

include mk/proto.mk

LIBGRPC_SRCS	:= $(sort $(wildcard libgrpc/*.c))
LIBGRPC		:= $(BUILD)/lib/libgrpc.a
GRPC_PKGS	:= libnghttp2 libevent_openssl openssl
GRPC_LIBS	:= $(LIBGRPC) $(LIBIPC) $(shell pkg-config --libs $(GRPC_PKGS))

all: $(LIBGRPC)

$(LIBGRPC): $(patsubst %.c,$(OBJ)/%.o,$(LIBGRPC_SRCS))
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# Test fixture for tests/integration/test_grpc_transport.py.
$(eval $(call prog,$(BUILD)/tests/grpc/grpc_testd,tests/grpc/grpc_testd.c,$(GRPC_LIBS) $(PROTO_LIBS)))
$(BUILD)/tests/grpc/grpc_testd: $(LIBGRPC) $(LIBPROTO)
$(OBJ)/tests/grpc/grpc_testd.o: | $(PROTO_H)

# Our client against our server and against grpcio's.
$(eval $(call prog,$(BUILD)/tests/grpc/grpc_testc,tests/grpc/grpc_testc.c,$(GRPC_LIBS) $(PROTO_LIBS)))
$(BUILD)/tests/grpc/grpc_testc: $(LIBGRPC) $(LIBPROTO)
$(OBJ)/tests/grpc/grpc_testc.o: | $(PROTO_H)

# The asynchronous client against grpc_testd
# (tests/integration/test_grpc_aclient.py).
$(eval $(call prog,$(BUILD)/tests/grpc/grpc_atestc,tests/grpc/grpc_atestc.c,$(GRPC_LIBS) $(PROTO_LIBS)))
$(BUILD)/tests/grpc/grpc_atestc: $(LIBGRPC) $(LIBPROTO)
$(OBJ)/tests/grpc/grpc_atestc.o: | $(PROTO_H)

$(eval $(call fuzz,grpc_frame,libgrpc/grpc_frame.c))
$(eval $(call fuzz,http1,libgrpc/http1.c))

$(eval $(call unit,grpc_wire,libgrpc/grpc_wire.c))
$(eval $(call unit,grpc_frame,libgrpc/grpc_frame.c))
$(eval $(call unit,http1,libgrpc/http1.c))

endif
