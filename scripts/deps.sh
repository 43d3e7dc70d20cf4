#!/usr/bin/env bash
# Installs the Debian packages that building, testing and running clheads need,
# skipping those already present (binutils: nm for the exported-symbols test).
# Needs root (or sudo) only when something is missing.
set -euo pipefail
packages=(cmake make gcc binutils clang pkg-config libopenblas-dev liblapacke-dev libjansson-dev zlib1g-dev
          python3 python3-torch python3-numpy libclang-rt-14-dev dataset-fashion-mnist
          locales-all) # de_DE.UTF-8 and tr_TR.UTF-8 for the locale tests
missing=()
add_armhf=0
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for arg in "$@"; do
  case "$arg" in
    # The run command fetches the digits with npm; Debian's npm brings Node.js along.
    --with-npm) command -v npm >/dev/null 2>&1 || missing+=(npm) ;;
    # scripts/cross_arm.sh: 32-bit ARM Linux under qemu-arm, and a Cortex-M4 with newlib;
    # Debian's armhf jansson (multiarch) for the armhf build with file I/O.
    --with-cross)
      for p in gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user gcc-arm-none-eabi \
               libnewlib-arm-none-eabi libjansson-dev:armhf; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
      done
      dpkg --print-foreign-architectures | grep -qx armhf || add_armhf=1 ;;
    # OpenMPI for -DCLH_WITH_MPI=ON and mpirun (data-parallel runs of the tool).
    --with-mpi)
      for p in libopenmpi-dev openmpi-bin; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
      done ;;
    *) echo "deps: unknown option $arg (--with-npm, --with-cross, --with-mpi)" >&2; exit 2 ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  if [ "$add_armhf" = 1 ]; then
    echo "deps: adding the armhf architecture (dpkg --add-architecture armhf)" >&2
    $sudo_cmd dpkg --add-architecture armhf
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
