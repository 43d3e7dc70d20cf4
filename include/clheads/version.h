/* clheads — the version of the headers and of the library.
 *
 * The macros give the version a program was compiled against; the functions
 * the version of the library it runs with (the shared library may be newer).
 * The shared library's soname carries the major version: within one major
 * version the ABI only grows (see the ABI notes in each header).
 * CLH_VERSION_NUMBER is MAJOR*10000 + MINOR*100 + PATCH, as in zstd.
 * CMake refuses to configure when these disagree with project(VERSION).
 */
#ifndef CLHEADS_VERSION_H
#define CLHEADS_VERSION_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLH_VERSION_MAJOR 0
#define CLH_VERSION_MINOR 1
#define CLH_VERSION_PATCH 0
#define CLH_VERSION_NUMBER (CLH_VERSION_MAJOR * 10000 + CLH_VERSION_MINOR * 100 + CLH_VERSION_PATCH)
#define CLH_VERSION_STRING "0.1.0"

/* The library's CLH_VERSION_NUMBER (e.g. 100 for 0.1.0). */
CLH_API unsigned clh_version_number(void);
/* The library's CLH_VERSION_STRING ("0.1.0"). Static storage; never NULL. */
CLH_API const char *clh_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
