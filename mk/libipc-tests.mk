# libipc unit tests and fuzz target.  The unit tests link libipc.a,
# whose link line already carries msgpack and libevent.
$(eval $(call unit,ipc,,))
$(eval $(call unit,pack,,))
$(eval $(call unit,ipc_ev,,))
$(eval $(call unit,log,,))
$(eval $(call unit,log_batch,,))

# This file is read before mk/libipc.mk defines LIBIPC_SRCS, so name
# the sources the fuzzer needs ($^ drops duplicates if both are set).
$(eval $(call fuzz,ipc,libipc/ipc.c libipc/ipc_pack.c libipc/log.c proto/names.c,))
