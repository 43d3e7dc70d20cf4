# Toolchain: 32-bit ARM Linux (armhf) with Debian's gcc-arm-linux-gnueabihf.
# Tests run under qemu-arm user mode (Debian's qemu-user) with the cross
# libraries as its root: CTest prefixes every test program with it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
# The cross C library, and "/" for Debian's multiarch armhf packages
# (libjansson-dev:armhf in /usr/lib/arm-linux-gnueabihf) that the build with
# file I/O links.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config reads the armhf .pc files only (never the host's).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)
# The cross C library at run time too (-L for the loader, LD_LIBRARY_PATH
# before the ld.so.cache): Debian's libc6:armhf, which libjansson4:armhf
# brings, is another build of glibc than the cross loader in
# /usr/arm-linux-gnueabihf, and the two mixed crash in pthread_create.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/arm-linux-gnueabihf -E LD_LIBRARY_PATH=/usr/arm-linux-gnueabihf/lib)
