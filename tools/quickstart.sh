#!/bin/sh
# quickstart.sh - README command 1: install what is missing, build, and run the
# default matrix's seed payloads (text, json, file: 14 stacks x 3, about 20 min)
# with the quick profile on the local node; ends with the results table. Extra
# arguments go to `mfbench run` instead: flask/fortunes (a database cell: the
# run makes its own PostgreSQL), '*/db', --all (the 98 cells, about 45 min).
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
if [ $# -eq 0 ]; then
  echo "quickstart: the seed's payloads of every stack ('*/text' '*/json' '*/file');" \
    "the database payloads run with: tools/quickstart.sh '*/db' (or flask/fortunes, or --all)" >&2
  set -- '*/text' '*/json' '*/file'
fi
exec build/mfbench run -p quick "$@"
