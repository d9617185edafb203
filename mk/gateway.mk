# The gateway tree: the parent openshell-gateway, its daemons under
# libexec/openshell/, and the openshell CLI.  The CLI grows one file
# per command group: add them to CLI_SRCS.

GATEWAY_SRCS	:= svc/gateway/gateway.c svc/gateway/state.c svc/gateway/user.c
GATEWAYD_SRCS	:= svc/gatewayd/gatewayd.c
WATCHD_SRCS	:= svc/watchd/watchd.c
LOGD_SRCS	:= svc/logd/logd.c svc/logd/ring.c
CLI_SRCS	:= cli/openshell.c cli/admin.c cli/ctlconn.c cli/output.c
CLI_LIBS	:= $(shell pkg-config --libs jansson)

$(eval $(call prog,$(BUILD)/bin/openshell-gateway,$(GATEWAY_SRCS),))
$(eval $(call prog,$(BUILD)/libexec/openshell/gatewayd,$(GATEWAYD_SRCS),))
$(eval $(call prog,$(BUILD)/libexec/openshell/watchd,$(WATCHD_SRCS),))
$(eval $(call prog,$(BUILD)/libexec/openshell/logd,$(LOGD_SRCS),))
$(eval $(call prog,$(BUILD)/bin/openshell,$(CLI_SRCS),$(CLI_LIBS)))

# Unit tests: logd's ring, the shared paths, the control socket's
# parent side (control.c and paths.c come from libipc.a).
$(eval $(call unit,ring,$(filter %/ring.c,$(LOGD_SRCS)),))
$(eval $(call unit,paths,,))
$(eval $(call unit,control,,))
