# openshell-sandbox: the supervisor of one sandbox (svc/sandbox), its
# security suite's syscall probe, and the unit test of its pure parts.
include mk/policy.mk
include mk/grpc.mk

SANDBOX_SRCS	:= $(sort $(wildcard svc/sandbox/*.c))
# Gateway mode: libgrpc (sync at startup, async after) and the proto
# messages, policy_proto included.
SANDBOX_LIBS	:= $(LIBPOLICY) $(POLICY_LIBS) $(GRPC_LIBS) $(PROTO_LIBS) \
		   $(shell pkg-config --libs libnl-route-3.0) $(LIBIPC)
SANDBOX_CFLAGS	:= $(shell pkg-config --cflags libnl-route-3.0)

$(eval $(call prog,$(BUILD)/bin/openshell-sandbox,$(SANDBOX_SRCS),$(SANDBOX_LIBS)))
$(BUILD)/bin/openshell-sandbox: $(LIBPOLICY) $(LIBGRPC) $(LIBPROTO)
$(patsubst %.c,$(OBJ)/%.o,$(SANDBOX_SRCS)): ALL_CFLAGS += $(SANDBOX_CFLAGS)

# tests/security: one named syscall, its errno on stdout.
$(eval $(call prog,$(BUILD)/tests/security/try_syscall,tests/security/try_syscall.c,))

# Unit tests: the agent's Landlock and seccomp (libipc.a), and the
# supervisor's pure parts.
$(eval $(call unit,agent_sandbox,,))
$(eval $(call unit,sbx,svc/sandbox/ident.c svc/sandbox/config.c \
    svc/sandbox/binalias.c,$(LIBPOLICY) $(POLICY_LIBS)))
$(BUILD)/tests/unit/sbx_test: $(LIBPOLICY)
$(eval $(call unit,routefile,svc/sandbox/routefile.c,$(POLICY_LIBS)))
