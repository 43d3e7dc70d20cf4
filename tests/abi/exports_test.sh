#!/usr/bin/env bash
# The shared library exports exactly the functions the public headers declare:
#   declared = every function declared with CLH_API in include/clheads/*.h;
#   exported = the functions `nm -D --defined-only` lists in libclheads.so.
# Fails listing the names exported but not declared (internal symbols leaking,
# e.g. without hidden visibility), declared but not exported (a CLH_API
# declaration with no definition), and declarations in the public headers
# that lack CLH_API (they would be hidden in the shared library).
# Usage: exports_test.sh INCLUDE_DIR LIBCLHEADS_SO
set -euo pipefail
include=$1
lib=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

headers=$(find "$include" -name '*.h' | sort)
[ -n "$headers" ] || { echo "exports_test: no headers under $include" >&2; exit 1; }

# Declarations: comments removed, each top-level statement joined onto one line.
# shellcheck disable=SC2086
sed -e 's://.*$::' $headers | perl -0777 -pe 's{/\*.*?\*/}{}gs; s/\\\n/ /g' |
  grep -v '^[[:space:]]*#' | grep -vE '^[[:space:]]*(extern "C" \{|\})[[:space:]]*$' |
  tr '\n' ' ' | tr ';' '\n' >"$tmp/statements"
# A function declaration: "... name(" at the start of a statement, no typedef.
grep -v 'typedef' "$tmp/statements" | grep -E '\b(clh_[A-Za-z0-9_]+)[[:space:]]*\(' |
  grep -vE '\{' >"$tmp/functions" || true
{ grep -E '\bCLH_API\b' "$tmp/functions" || true; } | sed -E 's/^[^(]*\b(clh_[A-Za-z0-9_]+)[[:space:]]*\(.*/\1/' |
  sort -u >"$tmp/declared"
{ grep -vE '\bCLH_API\b' "$tmp/functions" || true; } | sed -E 's/^[^(]*\b(clh_[A-Za-z0-9_]+)[[:space:]]*\(.*/\1/' |
  sort -u >"$tmp/unmarked"

nm -D --defined-only --format=posix "$lib" | awk '$2 ~ /^[TtWiDBR]$/ { print $1 }' |
  sed 's/@.*//' | sort -u >"$tmp/exported"

fail=0
report() { # title file
  if [ -s "$2" ]; then
    echo "exports_test: $1 ($(wc -l <"$2")):" >&2
    sed 's/^/  /' "$2" >&2
    fail=1
  fi
}
comm -13 "$tmp/declared" "$tmp/exported" >"$tmp/extra"
comm -23 "$tmp/declared" "$tmp/exported" >"$tmp/missing"
report "exported by $(basename "$lib") but declared with CLH_API in no public header" "$tmp/extra"
report "declared with CLH_API but not exported" "$tmp/missing"
report "declared in a public header without CLH_API (add it)" "$tmp/unmarked"
[ "$(wc -l <"$tmp/declared")" -gt 0 ] || { echo "exports_test: parsed no declarations" >&2; fail=1; }
[ "$fail" = 0 ] || exit 1
echo "exports_test: $(wc -l <"$tmp/exported") exported functions, exactly the $(wc -l <"$tmp/declared") CLH_API declarations"
