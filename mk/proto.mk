# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# proto: the gRPC wire contract.  proto/*.proto are the single source;
# everything below is generated into $(BUILD) at build time.
#
#   $(LIBPROTO)    protobuf-c messages of all four packages plus
#                  google.protobuf.Struct (protobuf-c does not ship it)
#   $(PROTO_LIBS)  what a program links to use them
#   $(PROTO_H)     generated headers; objects that include
#                  "proto/<file>.pb-c.h" list them as order-only
#                  prerequisites (or the whole of $(GENERATED))
#   $(PROTO_PY)    python messages and grpc stubs in $(BUILD)/python/proto
#
# Fragments sorted before this one that need these variables at parse
# time say "include mk/proto.mk" first; the guard makes that harmless.

ifndef PROTO_MK
PROTO_MK	:= 1

PROTOC		?= protoc
PROTOC_C	?= protoc-c
GRPC_PY_PLUGIN	?= $(shell command -v grpc_python_plugin)
PROTOBUF_INC	:= $(or $(shell pkg-config --variable=includedir protobuf \
		    2>/dev/null),/usr/include)

PROTO_FILES	:= datamodel.proto sandbox.proto openshell.proto inference.proto
PROTO_SRCS	:= $(addprefix proto/,$(PROTO_FILES))
PROTO_GEN	:= $(BUILD)/gen/proto
PROTO_STUBS	:= $(PROTO_FILES:.proto=) google/protobuf/struct
PROTO_C		:= $(patsubst %,$(PROTO_GEN)/%.pb-c.c,$(PROTO_STUBS))
PROTO_H		:= $(patsubst %,$(PROTO_GEN)/%.pb-c.h,$(PROTO_STUBS))
PROTO_OBJS	:= $(patsubst %,$(OBJ)/gen/proto/%.pb-c.o,$(PROTO_STUBS))
LIBPROTO	:= $(BUILD)/lib/libproto.a
PROTO_LIBS	:= $(LIBPROTO) $(shell pkg-config --libs libprotobuf-c)

PROTO_PYDIR	:= $(BUILD)/python/proto
PROTO_PY	:= $(patsubst %,$(PROTO_PYDIR)/%_pb2.py,$(PROTO_FILES:.proto=)) \
		   $(PROTO_PYDIR)/openshell_pb2_grpc.py \
		   $(PROTO_PYDIR)/inference_pb2_grpc.py

GENERATED	+= $(PROTO_H)

all: $(LIBPROTO) $(PROTO_PY)

# One protoc-c run writes every file; the stamp stands for all of them.
$(PROTO_GEN)/.stamp: $(PROTO_SRCS)
	@mkdir -p $(@D)
	$(PROTOC_C) -Iproto -I$(PROTOBUF_INC) --c_out=$(PROTO_GEN) \
	    $(PROTO_FILES) google/protobuf/struct.proto
	@touch $@

$(PROTO_C) $(PROTO_H): $(PROTO_GEN)/.stamp ;

# struct.pb-c.c includes itself by its import path, hence -I$(PROTO_GEN).
$(OBJ)/gen/proto/%.pb-c.o: $(PROTO_GEN)/%.pb-c.c | $(PROTO_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I$(PROTO_GEN) -MMD -MP -c -o $@ $<

$(LIBPROTO): $(PROTO_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(PROTO_PYDIR)/.stamp: $(PROTO_SRCS)
	@mkdir -p $(@D)
	$(PROTOC) -Iproto -I$(PROTOBUF_INC) --python_out=$(PROTO_PYDIR) \
	    --grpc_python_out=$(PROTO_PYDIR) \
	    --plugin=protoc-gen-grpc_python=$(GRPC_PY_PLUGIN) $(PROTO_FILES)
	@touch $@

$(PROTO_PY): $(PROTO_PYDIR)/.stamp ;

endif
