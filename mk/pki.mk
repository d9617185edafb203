# libpki: the gateway's certificate authority and the client bundle
# layout (OpenSSL 3).  Programs link $(LIBPKI) and $(LIBPKI_LIBS).
ifndef PKI_MK
PKI_MK	:= 1

LIBPKI_SRCS	:= $(sort $(wildcard libpki/*.c))
LIBPKI		:= $(BUILD)/lib/libpki.a
LIBPKI_LIBS	:= $(shell pkg-config --libs openssl)

# Only the OpenSSL 3 API: a deprecated call fails to compile.
$(patsubst %.c,$(OBJ)/%.o,$(LIBPKI_SRCS) tests/unit/pki_test.c): \
    ALL_CFLAGS += -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED

$(LIBPKI): $(patsubst %.c,$(OBJ)/%.o,$(LIBPKI_SRCS))
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(eval $(call unit,pki,$(LIBPKI_SRCS),$(LIBPKI_LIBS)))

endif
