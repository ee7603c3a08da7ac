#!/bin/sh
# quickstart.sh - README command 1: install what is missing, build, and run the
# whole default matrix with the quick profile on the local node; ends with the
# results table. Extra arguments go to `mfbench run` (e.g. flask/text).
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh
if [ ! -d build ] && ! meson setup build --buildtype=release >build.setup.log 2>&1; then
  tail -n 30 build.setup.log >&2
  echo "quickstart: meson setup failed (build.setup.log)" >&2
  exit 2
fi
if ! meson compile -C build >build.compile.log 2>&1; then
  tail -n 40 build.compile.log >&2
  echo "quickstart: the build failed (build.compile.log)" >&2
  exit 2
fi
if [ $# -eq 0 ]; then set -- --all; fi
exec build/mfbench run -p quick "$@"
