#!/bin/sh
# Run every test and end with one line "N passed, N failed".
#   tests/run.sh          unit tests, then the pytest suites
#   tests/run.sh unit     unit tests only
# Unit tests are cmocka programs under $BUILD/tests/unit, run with TAP
# output; the pytest suites report through JUnit XML.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
what=${1:-all}
passed=0
failed=0
skipped=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for t in "$BUILD"/tests/unit/*_test; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out/$name.tap" 2>&1
	rc=$?
	s=$(grep -c '^ok .*# SKIP' "$out/$name.tap")
	p=$(($(grep -c '^ok ' "$out/$name.tap") - s))
	skipped=$((skipped + s))
	f=$(grep -c '^not ok ' "$out/$name.tap")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# crashed before reporting
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name"
		sed 's/^/    /' "$out/$name.tap"
	else
		echo "ok   $name ($p)"
	fi
done

if [ "$what" = all ]; then
	suites=""
	for d in tests/integration tests/security tests/sdk; do
		[ -d "$d" ] && suites="$suites $d"
	done
	if [ -n "$suites" ]; then
		OPENSHELL_BUILD=$(cd "$BUILD" && pwd) "$PYTHON" -m pytest \
		    -p no:cacheprovider -q -rfE --junitxml="$out/pytest.xml" \
		    $suites
		counts=$("$PYTHON" - "$out/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1, 0)
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f, sk)
PY
)
		set -- $counts
		passed=$((passed + $1))
		failed=$((failed + $2))
		skipped=$((skipped + $3))
	fi
fi

if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "no tests ran" >&2
	failed=1
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
