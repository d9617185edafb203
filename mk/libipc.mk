# libipc: framing, msgpack payloads, libevent glue, process framework,
# sandboxing and logging; linked by every binary.
LIBIPC_SRCS	:= $(sort $(wildcard libipc/*.c)) proto/names.c

$(LIBIPC): $(patsubst %.c,$(OBJ)/%.o,$(LIBIPC_SRCS))
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^
