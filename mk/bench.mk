# Benchmarks: one program per bench/<name>/, built to $(BUILD)/bench/;
# bench/run.sh runs every one that exists.
$(eval $(call prog,$(BUILD)/bench/ipc_bench,bench/ipc/ipc_bench.c,))
# bench/l7: the HTTPS origin, the load generator and the floor relay of
# bench/l7/run.sh, in $(BUILD)/bench/l7/ (a directory: bench/run.sh does
# not run them).
$(eval $(call prog,$(BUILD)/bench/l7/l7_serve,bench/l7/l7_serve.c bench/l7/l7_net.c,$(shell pkg-config --libs openssl) -lpthread))
$(eval $(call prog,$(BUILD)/bench/l7/l7_load,bench/l7/l7_load.c bench/l7/l7_net.c,$(shell pkg-config --libs openssl) -lpthread))
$(eval $(call prog,$(BUILD)/bench/l7/l7_floor,bench/l7/l7_floor.c bench/l7/l7_net.c,$(shell pkg-config --libs openssl) -lpthread))
