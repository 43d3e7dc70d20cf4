#!/usr/bin/env bash
# clheads on 32-bit ARM: the device core (CLH_CORE_ONLY: no file I/O, no threads,
# no BLAS) and the library with file I/O:
#  1. cross-built for ARM Linux (armhf, Debian's gcc-arm-linux-gnueabihf) with
#     warnings as errors, and its tests run under qemu-arm user mode: the core,
#     training and loss tests, the analytic heads and the methods (those of
#     their tests that touch no file), the PyTorch and numpy references (read
#     from tests/data with plain stdio), the portable multiply; 32-bit size_t
#     throughout;
#  2. the whole library (file I/O with Debian's armhf jansson, threads; no
#     BLAS, no tool) cross-built the same way, and the tests of the areas that
#     need neither the tool nor full MNIST run under qemu-arm: analytic and
#     methods again with their file round trips, the safetensors reader and
#     writer, checkpoints, optimizer state, the reduction, the findings' tests,
#     the ABI;
#  3. built for a Cortex-M4 (gcc-arm-none-eabi, newlib, -Os) as a static
#     library; tests/device/core_link.c, a training step of CIL heads, is
#     linked against it (nosys stubs) to show that it needs nothing bare metal
#     lacks. Prints the library's .text size (the README's figure).
# Installs the cross tools it needs (scripts/deps.sh --with-cross).
# Build trees: build-armhf, build-armhf-io and build-m4 (CLH_CROSS_PREFIX
# changes "build").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --with-cross
prefix=${CLH_CROSS_PREFIX:-build}
jobs=$(nproc)

echo "== armhf: the device core, tests under qemu-arm"
cmake -S . -B "$prefix-armhf" --toolchain cmake/arm-linux-gnueabihf.cmake -DCMAKE_BUILD_TYPE=Release \
  -DCLH_CORE_ONLY=ON -DCLH_WERROR=ON -DCLH_BUILD_BENCH=OFF >/dev/null
cmake --build "$prefix-armhf" -j"$jobs" >/dev/null
# Each test program runs as qemu-arm -L /usr/arm-linux-gnueabihf <program>
# (CMAKE_CROSSCOMPILING_EMULATOR in the toolchain file).
ctest --test-dir "$prefix-armhf" --output-on-failure -j"$jobs" --timeout 900

echo "== armhf: the library with file I/O and threads, tests under qemu-arm"
# The areas without the tool (cli, data, mpi need it; core runs above).
cmake -S . -B "$prefix-armhf-io" --toolchain cmake/arm-linux-gnueabihf.cmake \
  -DCMAKE_BUILD_TYPE=Release -DCLH_USE_BLAS=OFF -DCLH_WERROR=ON -DCLH_BUILD_CLI=OFF \
  -DCLH_BUILD_BENCH=OFF -DCLH_BUILD_EXAMPLES=OFF \
  "-DCLH_TEST_AREA_LIST=abi;analytic;checkpoint;fix;methods;reduce;train" >/dev/null
cmake --build "$prefix-armhf-io" -j"$jobs" >/dev/null
ctest --test-dir "$prefix-armhf-io" --output-on-failure -j"$jobs" --timeout 900

echo "== Cortex-M4: the device core as a static library, and a program linked against it"
cmake -S . -B "$prefix-m4" --toolchain cmake/cortex-m4.cmake -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DCLH_CORE_ONLY=ON -DCLH_WERROR=ON -DCLH_BUILD_TESTS=OFF -DCLH_BUILD_BENCH=OFF \
  -DCLH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$prefix-m4" -j"$jobs" >/dev/null
lib="$prefix-m4/libclheads.a"
m4_flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
# newlib's nosys stubs warn that they always fail (_sbrk aside); nothing here calls them.
arm-none-eabi-gcc "${m4_flags[@]}" -std=c11 -Os -Wall -Wextra -Werror -ffunction-sections \
  -fdata-sections -Iinclude tests/device/core_link.c "$lib" -lm --specs=nosys.specs \
  -Wl,--gc-sections -Wl,--no-warn-mismatch -o "$prefix-m4/core_link.elf" 2>"$prefix-m4/link.log" ||
  { cat "$prefix-m4/link.log" >&2; echo "cross_arm: the Cortex-M4 link check FAILED" >&2; exit 1; }
# The archive's sections summed (arm-none-eabi-size -t: the TOTALS line).
read -r text data bss _ < <(arm-none-eabi-size -t "$lib" | awk '/\(TOTALS\)/ { print $1, $2, $3 }')
read -r prog_text _ < <(arm-none-eabi-size "$prefix-m4/core_link.elf" | awk 'NR == 2 { print $1 }')
echo "cortex-m4: libclheads.a (-Os) .text $text bytes, .data $data, .bss $bss"
echo "cortex-m4: core_link.elf (a CIL training step, newlib included) .text $prog_text bytes"
