# Benchmarks: one program per bench/<name>/, built to $(BUILD)/bench/;
# bench/run.sh runs every one that exists.
$(eval $(call prog,$(BUILD)/bench/ipc_bench,bench/ipc/ipc_bench.c,))
