# routerd: the sandbox's inference router (svc/routerd), a daemon of
# the sandbox tree (libexec/openshell/routerd).  It parses the agent's
# requests with proxyd's pure HTTP code (svc/proxyd/http.h); route.c,
# its own pure part, has a cmocka test linked against the real source.
include mk/pki.mk

ROUTERD_SRCS	:= $(sort $(wildcard svc/routerd/*.c)) \
		   svc/proxyd/parse.c svc/proxyd/body.c svc/proxyd/http.c
ROUTERD_LIBS	:= $(LIBPKI) $(shell pkg-config --libs libevent_core libevent_extra \
		   libevent_openssl openssl jansson)

$(eval $(call prog,$(BUILD)/libexec/openshell/routerd,$(ROUTERD_SRCS),$(ROUTERD_LIBS)))
$(BUILD)/libexec/openshell/routerd: $(LIBPKI)

$(eval $(call unit,routerd_route,svc/routerd/route.c,$(shell pkg-config --libs jansson)))
$(eval $(call fuzz,routerd,svc/routerd/route.c,$(shell pkg-config --libs jansson)))
