# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# Unit tests of the watch and log buses (svc/logd, svc/watchd); the
# daemons themselves are built by mk/gateway.mk.
$(eval $(call unit,logbus,svc/logd/logline.c svc/logd/logbus.c svc/logd/logstore.c,))
$(eval $(call unit,watchbus,svc/watchd/watchbus.c,))

# The ring files as found at start (libipc's sources named: this file
# is read before mk/libipc.mk).
$(eval $(call fuzz,logstore,svc/logd/logline.c svc/logd/logbus.c svc/logd/logstore.c libipc/ipc.c libipc/ipc_pack.c libipc/log.c proto/names.c,))
