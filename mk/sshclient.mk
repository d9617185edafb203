# ssh-exec: the SSH client of one ExecSandbox (svc/sshclient), exec'd
# by the gateway parent's per-exec worker (svc/gateway/sshexec.c).
SSHCLIENT_SRCS	:= $(sort $(wildcard svc/sshclient/*.c))
SSHCLIENT_LIBS	:= $(shell pkg-config --libs libssh)

$(eval $(call prog,$(BUILD)/libexec/openshell/ssh-exec,$(SSHCLIENT_SRCS),$(SSHCLIENT_LIBS)))
