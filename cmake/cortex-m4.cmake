# Toolchain: a Cortex-M4 with its single-precision FPU, bare metal, Debian's
# gcc-arm-none-eabi and newlib. Only the static library is built (a size and
# link check, scripts/cross_arm.sh): no operating system, so no shared
# library, no threads and no thread-local storage.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -ffunction-sections -fdata-sections")
# Compiler checks build a static library: linking a program needs a board's
# start-up code and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
