#!/bin/bash
# The API fuzzer of gort's collector (tests/fuzz/fuzz_api.c, issue 10),
# from a fresh Debian 12 machine: install what is missing (clang, and
# libclang-rt-14-dev, which holds libFuzzer and the ASan runtime for
# Debian 12's clang 14), configure a build with clang, ASan and libFuzzer
# (build-fuzz/, or $FUZZ_BUILD_DIR), build fuzz_api, and fuzz for
# FUZZ_SECONDS seconds (default 60) on a copy of the seed corpus: the
# first half with the concurrent sweep (GODEBUG=concurrentsweep=1), the
# second with the sweep in the pause (concurrentsweep=0), the second run
# starting from the corpus the first one grew. (Inputs also switch the
# mode between collections themselves: the OP_SWEEPMODE op.)
#
# Ends with one line: "1 passed, 0 failed", or "0 passed, 1 failed" after
# the path of the crash reproducer.
#
#   bash tests/fuzz/run.sh                        # 60 s
#   FUZZ_SECONDS=3600 bash tests/fuzz/run.sh      # an hour
#   FUZZ_ARGS='-jobs=2 -workers=2' bash tests/fuzz/run.sh   # more libFuzzer flags
#
# Reproduce a crash (the report names the failed invariant and the last
# ops; FUZZ_TRACE=1 prints every op):
#   FUZZ_TRACE=1 build-fuzz/tests/fuzz/fuzz_api build-fuzz/fuzz-artifacts/crash-...
# A failure can depend on the heap that earlier inputs left behind; the
# run keeps the last 16 inputs in build-fuzz/fuzz-artifacts/history-<pid>-NN,
# replayed in order in one process by
#   build-fuzz/tests/fuzz/fuzz_api -runs=1 build-fuzz/fuzz-artifacts/history-<pid>-*
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
secs=${FUZZ_SECONDS:-60}
dir=${FUZZ_BUILD_DIR:-build-fuzz}
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac

fail() { echo "$*"; echo "0 passed, 1 failed"; exit 1; }

# ---- what a fresh Debian 12 lacks
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in clang meson ninja-build pkg-config; do
	installed "$p" || missing+=("$p")
done
if command -v clang >/dev/null; then
	major=$(clang -dumpversion | cut -d. -f1)
else
	major=14	# Debian 12's clang
fi
installed "libclang-rt-$major-dev" || missing+=("libclang-rt-$major-dev")
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	echo "installing: ${missing[*]}"
	$SUDO apt-get update -qq || fail "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null ||
		fail "apt-get install ${missing[*]} failed"
	major=$(clang -dumpversion | cut -d. -f1)
	installed "libclang-rt-$major-dev" || {
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "libclang-rt-$major-dev" >/dev/null ||
			fail "apt-get install libclang-rt-$major-dev failed"
	}
fi

# ---- configure and build: gort with ASan and libFuzzer's coverage
# (-fsanitize=fuzzer-no-link, minus the collector's scan loops), fuzz_api
# with -fsanitize=fuzzer. No LTO (libFuzzer and LTO do not mix here),
# no Check suites.
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Dfuzz=true -Dtests=false -Db_lto=false \
		-Db_sanitize=address -Db_lundef=false \
		"-Dc_args=-fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=$root/tests/fuzz/sancov-ignorelist.txt" \
		-Dc_link_args=-fsanitize=fuzzer-no-link >"$dir.setup.log" 2>&1 ||
		{ cat "$dir.setup.log"; fail "meson setup failed"; }
	rm -f "$dir.setup.log"
fi
ninja -C "$dir" tests/fuzz/fuzz_api >/dev/null || { ninja -C "$dir" tests/fuzz/fuzz_api; fail "build failed"; }
bin="$dir/tests/fuzz/fuzz_api"

# ---- fuzz: two halves, one per sweep mode, on a copy of the seeds
corpus="$dir/fuzz-corpus"
art="$dir/fuzz-artifacts"
rm -rf "$corpus" "$art"
mkdir -p "$corpus" "$art"
cp "$root"/tests/fuzz/corpus/* "$corpus"/
# No fake stacks: locals must stay on the goroutine stacks the collector
# scans (libFuzzer's own per-input leak check stays on).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=0}"
export FUZZ_HISTORY_DIR="$art"
half1=$(( (secs + 1) / 2 ))
half2=$(( secs - half1 ))
status=0
for mode in 1 0; do
	t=$half1
	[ "$mode" = 0 ] && t=$half2
	[ "$t" -le 0 ] && continue
	echo "=== fuzz_api: ${t} s, GODEBUG=concurrentsweep=$mode"
	# shellcheck disable=SC2086
	GODEBUG="concurrentsweep=$mode" timeout -k 10 $(( t + 180 )) "$bin" \
		-max_total_time="$t" -max_len=2048 -timeout=60 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$art/" \
		${FUZZ_ARGS:-} "$corpus" >"$art/fuzz-cs$mode.log" 2>&1
	rc=$?
	grep -E "^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)" "$art/fuzz-cs$mode.log"
	if [ $rc -ne 0 ]; then
		status=1
		tail -n 60 "$art/fuzz-cs$mode.log"
		break
	fi
done
if [ $status -eq 0 ]; then
	echo "1 passed, 0 failed"
	exit 0
fi
repro=$(ls -t "$art"/crash-* "$art"/timeout-* "$art"/oom-* "$art"/leak-* 2>/dev/null | head -1)
echo "reproducer: ${repro:-(none written: see $art/fuzz-cs*.log)}"
echo "0 passed, 1 failed"
exit 1
