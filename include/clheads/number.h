/* clheads — the one reader of decimal numbers in text: what the library uses
 * for the numbers in its files (the optimizer state's metadata), public so
 * that a program on the library (the clheads tool's options and run state)
 * reads its numbers the same way, whatever the process's locale.
 *
 * strtod follows LC_NUMERIC: under de_DE it stops at the '.' of "0.01".
 * clh_double_parse reads under a thread-local "C" numeric locale (POSIX
 * uselocale), so a caller's setlocale never reaches it and other threads are
 * not affected.
 *
 * Thread rules: none; the call keeps no state. */
#ifndef CLHEADS_NUMBER_H
#define CLHEADS_NUMBER_H

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* *out = the whole of text read as a decimal number with '.' as the decimal
 * point: an optional sign, digits with an optional fraction and exponent, or
 * inf / nan; what "%.17g" writes in the C locale, which reads back exactly
 * (subnormal values included; one below the smallest subnormal rounds to
 * 0, as in strtod). No leading or trailing blanks, no hex.
 * CLH_E_NULL for a NULL argument, CLH_E_INVALID_ARG (detail quoting the
 * text) for anything else or a magnitude past DBL_MAX, CLH_E_NOMEM when the
 * C locale cannot be had; on failure *out is unchanged. */
CLH_API clh_status clh_double_parse(const char *text, double *out);

#ifdef __cplusplus
}
#endif

#endif
