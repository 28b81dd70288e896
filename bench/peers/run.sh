#!/usr/bin/env bash
# Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
#
# bench/peers: build binary-trees (16, 18), GCBench and ring against gort,
# Boehm GC and glibc malloc/free, run them alternated and print one table
# (wall, peak RSS, collections, mean and max pause) and the gort/Boehm
# ratios at one and two markers. See README.md, "Benchmarks".
#
#	bash bench/peers/run.sh [-count=N] [-quick] [-only=REGEXP] [-v]
#
# Boehm is optional: libgc-dev is installed when missing (as root, with
# apt-get); if that fails its columns are skipped with a message.
# PEERS_BUILD names the meson build directory (default build-peers, at the
# top of the tree); it is configured with -Dtests=false.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${PEERS_BUILD:-build-peers}
case $build in /*) ;; *) build=$top/$build ;; esac

if ! pkg-config --exists bdw-gc 2>/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "# installing libgc-dev (Boehm GC) ..."
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgc-dev; } >/dev/null 2>&1; then
			echo "# could not install libgc-dev: Boehm's configurations are skipped"
		fi
	else
		echo "# libgc-dev (Boehm GC) is missing and cannot be installed here (not root, or no apt-get): Boehm's configurations are skipped"
	fi
fi
for tool in meson ninja pkg-config python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "bench/peers: $tool is missing (see the top README: bash tests/run.sh installs the build tools)" >&2
		exit 1
	fi
done

if [ -f "$build/build.ninja" ]; then
	# Reconfigure so that a libgc-dev installed since is found.
	meson setup --reconfigure "$build" "$top" >/dev/null
else
	meson setup "$build" "$top" -Dtests=false >/dev/null
fi
targets=()
for p in binarytrees gcbench ring; do
	for b in gort glibc boehm; do
		if [ $b != boehm ] || pkg-config --exists bdw-gc 2>/dev/null; then
			targets+=("bench/peers/peer_${p}_$b")
		fi
	done
done
# Stale Boehm binaries from an earlier build are not used when bdw-gc is gone.
if ! pkg-config --exists bdw-gc 2>/dev/null; then
	rm -f "$build"/bench/peers/peer_*_boehm
fi
ninja -C "$build" "${targets[@]}" >/dev/null || { ninja -C "$build" "${targets[@]}"; exit 1; }

exec python3 "$top/bench/peers/run.py" -bindir="$build/bench/peers" "$@"
