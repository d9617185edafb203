# sshd: the sandbox's SSH server (svc/sshd), a daemon of the sandbox
# tree (libexec/openshell/sshd), on libssh and libnssh.
include mk/nssh.mk

SSHD_SRCS	:= $(sort $(wildcard svc/sshd/*.c)) $(NSSH_SRCS)
SSHD_LIBS	:= $(shell pkg-config --libs libssh openssl) \
		   $(shell pkg-config --libs libevent_core)

$(eval $(call prog,$(BUILD)/libexec/openshell/sshd,$(SSHD_SRCS),$(SSHD_LIBS)))
