#!/bin/sh
# Run each libFuzzer target given as an argument for $FUZZ_SECONDS on
# its corpus in $BUILD/fuzz/corpus/<name>, seeded from
# tests/fuzz/corpus/<name>/.  One line per target; exits non-zero if
# any target crashed (the log and the crashing input stay in
# $BUILD/fuzz/).
set -u
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
seeds=$(dirname "$0")/corpus
failed=0

for t in "$@"; do
	name=$(basename "$t" _fuzz)
	corpus=$BUILD/fuzz/corpus/$name
	log=$BUILD/fuzz/$name.log
	mkdir -p "$corpus"
	if [ -d "$seeds/$name" ]; then
		cp "$seeds/$name"/* "$corpus"/
	fi
	if "$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/$name-" \
	    "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		files=$(ls "$corpus" | wc -l)
		echo "ok   $name: ${runs:-?} runs in ${FUZZ_SECONDS}s," \
		    "corpus $files"
	else
		echo "FAIL $name: see $log"
		grep -m 5 -E 'ERROR|ipc_fuzz:|Test unit written' "$log" |
		    sed 's/^/    /'
		failed=1
	fi
done
exit $failed
