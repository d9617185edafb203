#!/bin/sh
# Run every benchmark program built into $BUILD/bench/ (mk/bench.mk
# adds them), then every bench/<name>/run.sh (benchmarks that need a
# server and peers started around them).  Each prints our figure beside
# its reference and the ratio, one line per case.  Exits non-zero if
# any of them fails.
set -u
BUILD=${BUILD:-build}
failed=0
found=0

for b in "$BUILD"/bench/*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	found=1
	echo "== $(basename "$b")"
	if ! "$b"; then
		echo "FAIL $(basename "$b")"
		failed=1
	fi
done
for s in "$(dirname "$0")"/*/run.sh; do
	[ -f "$s" ] || continue
	found=1
	echo "== $(basename "$(dirname "$s")")"
	if ! BUILD=$BUILD sh "$s"; then
		echo "FAIL $s"
		failed=1
	fi
done
if [ "$found" -eq 0 ]; then
	echo "no benchmarks in $BUILD/bench (run make first)" >&2
	exit 1
fi
exit $failed
