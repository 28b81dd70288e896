#!/bin/bash
# From a fresh machine: install what is missing, build gort, run the
# demos. With a name, run only that demo (with its arguments):
#   bash demos/run.sh                 allocdemo, sieve, pingpong, fanout, heapprof
#   bash demos/run.sh sieve 5000      the first 5000 primes
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
if [ $# -gt 0 ]; then
	name=$1; shift
	exec "./build/demos/$name" "$@"
fi
for d in allocdemo sieve pingpong fanout heapprof; do
	echo "=== $d"
	case $d in
	pingpong) ./build/demos/$d 200000 ;;
	fanout) ./build/demos/$d 20000000 ;;
	heapprof)
		prof=$(mktemp /tmp/gort-heap.XXXXXX)
		./build/demos/$d "$prof"
		# The view (demos/README.md): in-use space by function.
		google-pprof --text ./build/demos/$d "$prof" 2>/dev/null | head -8
		rm -f "$prof" ;;
	*) ./build/demos/$d ;;
	esac
done
