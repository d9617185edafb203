# proxyd: the sandbox's HTTP CONNECT / forward proxy, a daemon of the
# sandbox tree (libexec/openshell/proxyd).  Every C file of svc/proxyd
# is part of it; the pure parts (parse, rewrite, secrets, hosts, body)
# also have cmocka tests and a fuzz target linked against the real
# sources.  bench/proxy/run.sh measures it (bench/run.sh finds it).
include mk/policy.mk
include mk/pki.mk

PROXYD_SRCS	:= $(sort $(wildcard svc/proxyd/*.c))
PROXYD_PURE	:= svc/proxyd/parse.c svc/proxyd/rewrite.c svc/proxyd/http.c \
		   svc/proxyd/secrets.c svc/proxyd/hosts.c svc/proxyd/body.c
PROXYD_LIBS	:= $(LIBPOLICY) $(POLICY_LIBS) $(LIBPKI) \
		   $(shell pkg-config --libs libevent_core libevent_extra \
		   libevent_openssl openssl)

$(eval $(call prog,$(BUILD)/libexec/openshell/proxyd,$(PROXYD_SRCS),$(PROXYD_LIBS)))
$(BUILD)/libexec/openshell/proxyd: $(LIBPOLICY) $(LIBPKI)

$(eval $(call unit,proxyd_parse,$(PROXYD_PURE),))
$(eval $(call unit,proxyd_rewrite,$(PROXYD_PURE),))
$(eval $(call unit,proxyd_body,$(PROXYD_PURE),))
$(eval $(call unit,proxyd_http,$(PROXYD_PURE),))
$(eval $(call unit,proxyd_secrets,$(PROXYD_PURE),))
$(eval $(call fuzz,proxyd,$(PROXYD_PURE),))
