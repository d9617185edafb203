# libnssh: the NSSH1 preface (sign and verify), linked by sshd and by
# whoever dials a sandbox's SSH endpoint.
ifndef NSSH_SRCS
NSSH_SRCS	:= libnssh/nssh.c
NSSH_LIBS	:= $(shell pkg-config --libs openssl)

$(eval $(call unit,nssh,$(NSSH_SRCS),$(NSSH_LIBS)))
$(eval $(call fuzz,nssh,$(NSSH_SRCS),$(NSSH_LIBS)))
endif
