#!/bin/sh
# quickstart.sh - README command 1: install what is missing, build, and run the
# whole default matrix with the quick profile on the local node; ends with the
# results table. Extra arguments go to `mfbench run` (e.g. flask/text).
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
meson compile -C build >/dev/null
if [ $# -eq 0 ]; then set -- --all; fi
exec build/mfbench run -p quick "$@"
