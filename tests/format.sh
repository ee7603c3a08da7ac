#!/bin/sh
# format.sh - every C source (tracked or new, not ignored) is formatted as the
# repo's .clang-format says (clang-format 14, Debian's). Skipped (77) with the
# reason when clang-format or git is missing.
cd "${1:-.}" || exit 2
cf=$(command -v clang-format-14 || command -v clang-format) ||
  { echo "SKIP: clang-format not found (apt-get install clang-format)" >&2; exit 77; }
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
  { echo "SKIP: $(pwd) is not a git checkout (no file list)" >&2; exit 77; }
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h')
[ -n "$files" ] || { echo "format: no C sources found under $(pwd)" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per file name (the tree has no spaces)
if ! "$cf" --dry-run --Werror $files; then
  echo "$("$cf" --version): files above differ from .clang-format (run clang-format -i)" >&2
  exit 1
fi
echo "$(echo "$files" | wc -l) files formatted ($("$cf" --version))" >&2
