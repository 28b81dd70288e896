#!/bin/bash
# The whole test suite, from a fresh machine: install what is missing,
# build gort three times (plain, under AddressSanitizer+UBSan, and the
# debug configuration below), run every Check suite in each, and end with
# one line "N passed, N failed" (Check's test counts, all builds added up).
#
# The third build is the debug configuration: clang (the compiler-
# independence check), the lock-order checker and runtime_checking's
# validators (-Dlockcheck=true -Dchecking=true).
#
# Then the API fuzzer (tests/fuzz/run.sh: clang, ASan, libFuzzer) for
# FUZZ_SECONDS (60 by default; 600 with GORT_STRESS=1; 0 skips it); it
# counts as one more test.
#
#   bash tests/run.sh            # the default suite (a few minutes)
#   GORT_STRESS=1 bash tests/run.sh   # also the long stress suites
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash .ci/install-deps || { echo "0 passed, 1 failed"; exit 1; }

stress=false
[ "${GORT_STRESS:-0}" = 1 ] && stress=true

# dir:compiler:meson options
configs=("build:gcc:"
	"build-asan:gcc:-Db_sanitize=address,undefined -Db_lundef=false"
	"build-check:clang:-Dlockcheck=true -Dchecking=true")
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

status=0
for c in "${configs[@]}"; do
	IFS=: read -r dir compiler opts <<<"$c"
	echo "=== $dir CC=$compiler ${opts:-(default)}"
	if [ ! -d "$dir" ]; then
		# shellcheck disable=SC2086
		CC=$compiler meson setup "$dir" $opts -Dstress=$stress >/dev/null || { echo "meson setup failed"; status=1; continue; }
	else
		meson configure "$dir" -Dstress=$stress >/dev/null
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; echo "build failed in $dir"; status=1; continue; }
	(cd "$dir" && meson test --print-errorlogs --num-processes 2) || status=1
done

# Add up Check's per-suite counts from every build's logs.
counts=$(python3 - "$root" "${configs[@]%%:*}" <<'PY'
import json, re, sys, os
root, dirs = sys.argv[1], sys.argv[2:]
passed = failed = 0
pat = re.compile(r'(\d+)%: Checks: (\d+), Failures: (\d+), Errors: (\d+)')
for d in dirs:
    log = os.path.join(root, d, 'meson-logs', 'testlog.json')
    if not os.path.exists(log):
        failed += 1
        continue
    for line in open(log):
        t = json.loads(line)
        m = pat.search(t.get('stdout', '') or '')
        if m:
            checks, fails, errs = map(int, m.groups()[1:])
            passed += checks - fails - errs
            failed += fails + errs
            if t['result'] not in ('OK', 'EXPECTEDFAIL') and fails + errs == 0:
                failed += 1   # the process failed after its checks
        elif t['result'] in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        elif t['result'] != 'SKIP':
            failed += 1
print(f"{passed} {failed}")
PY
)
read -r passed failed <<<"$counts"
passed=${passed:-0}
failed=${failed:-1}

fuzzsecs=${FUZZ_SECONDS:-60}
[ "$stress" = true ] && fuzzsecs=${FUZZ_SECONDS:-600}
if [ "$fuzzsecs" -gt 0 ]; then
	echo "=== fuzz_api (${fuzzsecs} s)"
	fuzzout=$(FUZZ_SECONDS=$fuzzsecs bash tests/fuzz/run.sh 2>&1)
	echo "$fuzzout" | sed '$d'	# its own count line: added up below
	if echo "$fuzzout" | tail -n 1 | grep -qx "1 passed, 0 failed"; then
		echo "fuzz_api: OK"
		passed=$((passed + 1))
	else
		echo "fuzz_api: FAIL"
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -ne 0 ] && status=1
exit $status
