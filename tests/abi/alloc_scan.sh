#!/usr/bin/env bash
# Every allocation of the library goes through src/common/alloc.c (and so through
# the allocator of clh_set_allocator): no other library source calls the C
# library's allocation functions. Fails listing each call found.
# Usage: alloc_scan.sh SOURCE_DIR/src
set -euo pipefail
src=$1
files=$(find "$src" -name '*.c' ! -path "$src/common/alloc.c" | sort)
[ -n "$files" ] || { echo "alloc_scan: no sources under $src" >&2; exit 1; }
# shellcheck disable=SC2086
if grep -nE '(^|[^_A-Za-z0-9])(malloc|calloc|realloc|free|strdup|strndup|aligned_alloc|posix_memalign|asprintf|vasprintf)[[:space:]]*\(' $files >&2; then
  echo "alloc_scan: the calls above bypass src/common/alloc.c (use clh_malloc, clh_calloc, clh_realloc, clh_free)" >&2
  exit 1
fi
echo "alloc_scan: $(echo "$files" | wc -l) sources, every allocation through src/common/alloc.c"
