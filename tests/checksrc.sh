#!/bin/sh
# checksrc.sh - curl's rule: banned functions (sprintf, vsprintf, strcpy, strcat,
# atoi, gets, strtok) never appear in the project's C sources, tracked or new
# (not ignored). Prints each hit with its place.
cd "${1:-.}" || exit 2
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h')
else
  files=$(find . -name '*.[ch]' ! -path './build*')
fi
[ -n "$files" ] || { echo "checksrc: no C sources found under $(pwd)" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per file name (the tree has no spaces)
hits=$(grep -nE '(^|[^_a-zA-Z0-9])(sprintf|vsprintf|strcpy|strcat|atoi|gets|strtok)[[:space:]]*\(' \
  $files 2>/dev/null)
if [ -n "$hits" ]; then
  echo "banned functions (use snprintf, vsnprintf, mf_strlcpy, buf_*, strtol, fgets, strtok_r):" >&2
  echo "$hits" >&2
  echo "1 checks, 1 failed" >&2
  exit 1
fi
echo "1 checks, 0 failed" >&2
