# The gateway tree: the parent openshell-gateway, its daemons under
# libexec/openshell/, and the openshell CLI.  Each program is every C
# file of its directory, so a new file needs no edit here.
#
# This fragment sorts before the libraries' own fragments but needs
# their variables at parse time; they are guarded against a second
# inclusion.
include mk/proto.mk
include mk/grpc.mk
include mk/pki.mk
include mk/policy.mk

GATEWAY_SRCS	:= $(sort $(wildcard svc/gateway/*.c)) libnssh/nssh.c
GATEWAYD_SRCS	:= $(sort $(wildcard svc/gatewayd/*.c)) libnssh/nssh.c
WATCHD_SRCS	:= $(sort $(wildcard svc/watchd/*.c))
LOGD_SRCS	:= $(sort $(wildcard svc/logd/*.c))
CLI_SRCS	:= $(sort $(wildcard cli/*.c))

# libipc.a comes again last: libgrpc and libpki log through it.
GATEWAY_LIBS	:= $(LIBPKI) $(LIBPKI_LIBS) $(shell pkg-config --libs openssl) \
		   $(LIBIPC)
GATEWAYD_LIBS	:= $(PROTO_LIBS) $(GRPC_LIBS) $(LIBPKI) $(LIBPKI_LIBS) \
		   $(shell pkg-config --libs sqlite3) $(LIBPOLICY) \
		   $(POLICY_LIBS) $(LIBIPC)
CLI_LIBS	:= $(PROTO_LIBS) $(GRPC_LIBS) $(LIBPKI) $(LIBPKI_LIBS) \
		   $(LIBPOLICY) $(POLICY_LIBS) \
		   $(shell pkg-config --libs jansson) $(LIBIPC)

$(eval $(call prog,$(BUILD)/bin/openshell-gateway,$(GATEWAY_SRCS),$(GATEWAY_LIBS)))
$(eval $(call prog,$(BUILD)/libexec/openshell/gatewayd,$(GATEWAYD_SRCS),$(GATEWAYD_LIBS)))
$(eval $(call prog,$(BUILD)/libexec/openshell/watchd,$(WATCHD_SRCS),))
$(eval $(call prog,$(BUILD)/libexec/openshell/logd,$(LOGD_SRCS),))
$(eval $(call prog,$(BUILD)/bin/openshell,$(CLI_SRCS),$(CLI_LIBS) $(shell pkg-config --libs ncursesw)))

$(BUILD)/bin/openshell-gateway: $(LIBPKI)
$(BUILD)/libexec/openshell/gatewayd: $(LIBPROTO) $(LIBGRPC) $(LIBPKI) $(LIBPOLICY)
$(BUILD)/bin/openshell: $(LIBPROTO) $(LIBGRPC) $(LIBPKI) $(LIBPOLICY)

# Unit tests: logd's ring, the shared paths, the control socket's
# parent side (control.c and paths.c come from libipc.a).
$(eval $(call unit,ring,$(filter %/ring.c,$(LOGD_SRCS)),))
$(eval $(call unit,paths,,))
$(eval $(call unit,control,,))
