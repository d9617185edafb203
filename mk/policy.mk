# libpolicy: the sandbox policy model, its strict YAML parser/emitter,
# the gateway and sandbox validations, and proxyd's decision engine.
# A pure library (no logging, no libipc); the core needs only libyaml.
#
#   $(LIBPOLICY)     everything in libpolicy/, including the protobuf
#                    conversion policy_proto.c (mk/config.mk)
#   $(POLICY_LIBS)   what a program links besides (libyaml)
#
# Users link "$(LIBPOLICY) $(POLICY_LIBS)" (plus $(PROTO_LIBS) if they
# call policy_proto_*) and list $(LIBPOLICY) as a prerequisite.  The
# tests, fuzzer and benchmark here build from the core sources only, so
# they need no generated protobuf code.
#
# Fragments sorted before this one that need these variables at parse
# time say "include mk/policy.mk" first; the guard makes that harmless.

ifndef POLICY_MK
POLICY_MK	:= 1

LIBPOLICY_SRCS	:= $(sort $(wildcard libpolicy/*.c))
LIBPOLICY_CORE	:= $(filter-out libpolicy/policy_proto.c,$(LIBPOLICY_SRCS))
LIBPOLICY	:= $(BUILD)/lib/libpolicy.a
POLICY_LIBS	:= $(shell pkg-config --libs yaml-0.1)

$(LIBPOLICY): $(patsubst %.c,$(OBJ)/%.o,$(LIBPOLICY_SRCS))
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

all: $(LIBPOLICY)

$(eval $(call unit,policy_yaml,$(LIBPOLICY_CORE),$(POLICY_LIBS)))
$(eval $(call unit,policy_validate,$(LIBPOLICY_CORE),$(POLICY_LIBS)))
$(eval $(call unit,policy_engine,$(LIBPOLICY_CORE),$(POLICY_LIBS)))
$(eval $(call fuzz,policy,$(LIBPOLICY_CORE),$(POLICY_LIBS)))
$(eval $(call prog,$(BUILD)/bench/policy_bench,bench/policy/policy_bench.c \
    $(LIBPOLICY_CORE),$(POLICY_LIBS)))

endif
