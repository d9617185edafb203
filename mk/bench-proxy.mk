# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/proxy: the load generator and test server of bench/proxy/run.sh,
# in $(BUILD)/bench/proxy/ (a directory, so bench/run.sh does not run
# it bare).  run.sh drives it against proxyd, tinyproxy and a direct
# connection in one network namespace.
$(eval $(call prog,$(BUILD)/bench/proxy/proxy_load,bench/proxy/proxy_load.c,-lpthread))
