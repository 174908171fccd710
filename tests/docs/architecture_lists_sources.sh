#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a source file under protocol/, daemon/, client/ or tools/ is not
# named in docs/architecture.md, or when it names one there that does not
# exist. A file is named by its path from the
# repository root; `dir/name.{h,cc}` names dir/name.h and dir/name.cc.
#   architecture_lists_sources.sh SOURCE_DIR
set -eu
src=${1:?usage: architecture_lists_sources.sh SOURCE_DIR}
doc="$src/docs/architecture.md"
[ -f "$doc" ] || { echo "no $doc" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every path the document names, braces expanded, one per line.
grep -o '[A-Za-z0-9_./-]*\.{[a-z,]*}\|[A-Za-z0-9_./-]*\.\(c\|cc\|h\|hpp\)\b' "$doc" |
  while read -r name; do
    case "$name" in
      *'{'*)
        stem=${name%%\{*}
        exts=${name#*\{}
        exts=${exts%\}}
        for e in $(echo "$exts" | tr ',' ' '); do echo "$stem$e"; done
        ;;
      *) echo "$name" ;;
    esac
  done | sort -u >"$tmp/named"

# The sources: tracked files in a git checkout, else every file present.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$src" ls-files protocol daemon client tools
else
  (cd "$src" && find protocol daemon client tools -type f)
fi | grep '\.\(c\|cc\|h\|hpp\)$' | sort -u >"$tmp/sources"

status=0
missing=$(comm -23 "$tmp/sources" "$tmp/named")
if [ -n "$missing" ]; then
  echo "docs/architecture.md does not name these source files:" >&2
  echo "$missing" >&2
  status=1
fi
# And every file it names in those directories exists.
gone=$(grep '^\(protocol\|daemon\|client\|tools\)/' "$tmp/named" | while read -r f; do
  [ -e "$src/$f" ] || echo "$f"
done)
if [ -n "$gone" ]; then
  echo "docs/architecture.md names files that do not exist:" >&2
  echo "$gone" >&2
  status=1
fi
[ "$status" -eq 0 ] || exit 1
echo "docs/architecture.md names all $(wc -l <"$tmp/sources") source files"
