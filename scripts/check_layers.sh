#!/usr/bin/env bash
# Fails when a library source includes a layer above its own (see docs/ARCHITECTURE.md).
# Run by CTest (test_arch_layers, tests/arch.cmake) and by .ci/run.
# Layers, lowest first; a file in src/<layer>/ may include "<lower or same layer>/..."
# headers and the public "clheads/..." headers, nothing else from src/.
set -euo pipefail
cd "$(dirname "$0")/.."
layers=(common kernels heads train analytic methods io)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }
bad=0
while IFS= read -r -d '' file; do
  own=${file#src/}; own=${own%%/*}
  own_rank=$(rank "$own")
  if [ "$own_rank" -lt 0 ]; then echo "layers: $file is in no known layer" >&2; bad=1; continue; fi
  while IFS= read -r inc; do
    target=${inc%%/*}
    [ "$target" = clheads ] && continue
    if [ "$target" = "$inc" ]; then
      echo "layers: $file includes \"$inc\" without its layer (write \"<layer>/$inc\")" >&2; bad=1; continue
    fi
    t_rank=$(rank "$target")
    if [ "$t_rank" -lt 0 ]; then echo "layers: $file includes \"$inc\" from no known layer" >&2; bad=1
    elif [ "$t_rank" -gt "$own_rank" ]; then
      # analytic and methods sit side by side: neither may include the other.
      echo "layers: $file ($own) includes \"$inc\" ($target), a layer above it" >&2; bad=1
    elif [ "$t_rank" -ne "$own_rank" ] && { [ "$own" = methods ] && [ "$target" = analytic ]; }; then
      echo "layers: $file (methods) includes \"$inc\" (analytic): side-by-side layers" >&2; bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(find src -name '*.[ch]' -print0 | sort -z)
# The tool and the examples use the public headers only.
if grep -rnE '#[[:space:]]*include[[:space:]]*"(common|kernels|heads|train|analytic|methods|io)/' cli examples 2>/dev/null; then
  echo "layers: cli/ or examples/ include a library-internal header" >&2; bad=1
fi
[ "$bad" -eq 0 ] && echo "layers: every include points down"
exit "$bad"
