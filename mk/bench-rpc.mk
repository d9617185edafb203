# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/rpc: the gateway's gRPC port under load.  The programs live in
# $(BUILD)/bench/rpc/ (a directory, so bench/run.sh does not run them
# bare); bench/rpc/run.sh starts a gateway and nghttpd and drives them.
include mk/proto.mk
include mk/grpc.mk

BENCH_RPC_LIBS	:= $(PROTO_LIBS) $(GRPC_LIBS) $(LIBIPC)

$(eval $(call prog,$(BUILD)/bench/rpc/rpc_load,bench/rpc/rpc_load.c bench/rpc/h2conn.c,$(BENCH_RPC_LIBS)))
$(eval $(call prog,$(BUILD)/bench/rpc/watch_fanout,bench/rpc/watch_fanout.c bench/rpc/h2conn.c,$(BENCH_RPC_LIBS)))
$(BUILD)/bench/rpc/rpc_load $(BUILD)/bench/rpc/watch_fanout: $(LIBGRPC) $(LIBPROTO)
$(OBJ)/bench/rpc/watch_fanout.o: | $(PROTO_H)
