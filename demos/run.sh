#!/bin/bash
# From a fresh machine: install what is missing, build gort, run the
# flagship demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec ./build/demos/allocdemo "$@"
