/* clheads — CLH_API marks every function of the public API.
 *
 * The shared library is built with hidden visibility (-fvisibility=hidden), so
 * only functions declared with CLH_API are exported: the ABI is exactly what
 * the headers under include/clheads/ declare (tests/abi/exports_test.sh
 * checks this against `nm -D` of libclheads.so). CLH_BUILDING_SHARED is
 * defined only while the shared library itself is compiled; a program using
 * clheads (shared or static) and the static library see an empty CLH_API.
 */
#ifndef CLHEADS_EXPORT_H
#define CLHEADS_EXPORT_H

#if defined(CLH_BUILDING_SHARED) && (defined(__GNUC__) || defined(__clang__))
#define CLH_API __attribute__((visibility("default")))
#else
#define CLH_API
#endif

#endif
