# OpenShell in C -- top-level build.
#
#   make            build everything into $(BUILD) (default build/)
#   make deps       install the Debian packages the project needs (idempotent)
#   make check      build and run every test; ends with "N passed, N failed"
#   make asan       the same with -fsanitize=address,undefined in build-asan/
#   make fuzz       run each libFuzzer target for $(FUZZ_SECONDS) seconds
#   make bench      run the benchmarks in bench/
#
# Each component describes itself in mk/<component>.mk; this file holds
# the shared flags and the rule templates they use.

BUILD		?= build
SAN		?=
FUZZ_SECONDS	?= 60
PYTHON		?= /usr/bin/python3

CC		?= cc
PKGS		:= msgpack libevent libseccomp libbsd-overlay
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN		:= -Wall -Wextra -Werror -Wformat=2 -Wshadow \
		   -Wstrict-prototypes -Wmissing-prototypes
HARDEN		:= -fstack-protector-strong -fPIE
ifeq ($(SAN),)
HARDEN		+= -D_FORTIFY_SOURCE=2
OPT		:= -O2
else
OPT		:= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=undefined
endif
CFLAGS		?= -g
ALL_CFLAGS	:= -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(CFLAGS) \
		   -I. -Ilibipc -Iproto -I$(BUILD)/gen $(PKG_CFLAGS)
comma		:= ,
ALL_LDFLAGS	:= -pie -Wl,-z,relro,-z,now $(if $(SAN),-fsanitize=address$(comma)undefined) \
		   $(LDFLAGS)

OBJ		:= $(BUILD)/obj
LIBIPC		:= $(BUILD)/lib/libipc.a

PROGS		:=
UNIT_TESTS	:=
FUZZ_TARGETS	:=
GENERATED	:=

.PHONY: all deps check unit asan fuzz bench clean format
all:

# $(call prog,target-path,sources,extra-libs)
define prog
PROGS += $(1)
$(1): $$(patsubst %.c,$$(OBJ)/%.o,$(2)) $$(LIBIPC)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(patsubst %.c,$$(OBJ)/%.o,$(2)) \
	    $$(LIBIPC) $(3) $$(PKG_LIBS)
endef

# $(call unit,name,sources,extra-libs): tests/unit/<name>_test.c plus
# the real sources it exercises, linked with cmocka.
define unit
UNIT_TESTS += $$(BUILD)/tests/unit/$(1)_test
$$(BUILD)/tests/unit/$(1)_test: $$(patsubst %.c,$$(OBJ)/%.o,tests/unit/$(1)_test.c $(2)) $$(LIBIPC)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ \
	    $$(patsubst %.c,$$(OBJ)/%.o,tests/unit/$(1)_test.c $(2)) \
	    $$(LIBIPC) $(3) -lcmocka $$(PKG_LIBS)
endef

# $(call fuzz,name,sources,extra-libs): tests/fuzz/<name>_fuzz.c, built
# with clang's libFuzzer and ASan/UBSan in $(BUILD)/fuzz.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	       -I. -Ilibipc -Iproto -I$(BUILD)/gen $(PKG_CFLAGS)
define fuzz
FUZZ_TARGETS += $$(BUILD)/fuzz/$(1)_fuzz
$$(BUILD)/fuzz/$(1)_fuzz: tests/fuzz/$(1)_fuzz.c $(2) $$(LIBIPC_SRCS) | $$(GENERATED)
	@mkdir -p $$(@D)
	clang $$(FUZZ_CFLAGS) -o $$@ $$^ $(3) $$(PKG_LIBS)
endef

include mk/libipc.mk
include $(filter-out mk/libipc.mk,$(sort $(wildcard mk/*.mk)))

# Objects: one per source, with header dependencies.  After the
# fragments, so that every generated header is known here.
$(OBJ)/%.o: %.c | $(GENERATED)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

all: $(PROGS) $(UNIT_TESTS)

deps:
	@sh mk/deps.sh

check: all
	@PYTHON=$(PYTHON) BUILD=$(BUILD) sh tests/run.sh

unit: $(UNIT_TESTS)
	@PYTHON=$(PYTHON) BUILD=$(BUILD) sh tests/run.sh unit

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 check

fuzz: $(FUZZ_TARGETS)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_TARGETS)

bench: all
	@BUILD=$(BUILD) sh bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-*

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
