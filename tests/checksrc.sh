#!/bin/sh
# checksrc.sh - curl's rule: banned functions (sprintf, vsprintf, strcpy, strcat,
# atoi, gets) never appear in the project's C sources. Prints each hit with its place.
cd "${1:-.}" || exit 2
hits=$(grep -nE '(^|[^_a-zA-Z0-9])(sprintf|vsprintf|strcpy|strcat|atoi|gets)[[:space:]]*\(' \
  $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]') 2>/dev/null)
if [ -n "$hits" ]; then
  echo "banned functions (use snprintf, mf_strlcpy, buf_*, strtol, fgets):" >&2
  echo "$hits" >&2
  echo "1 checks, 1 failed" >&2
  exit 1
fi
echo "1 checks, 0 failed" >&2
