/* Internal: numbers in files, written and read the same whatever the
 * process's locale (LC_NUMERIC may make printf write "0,01" and strtod stop
 * at "0.01"). Every double the library or the tool writes into a file or
 * reads back from one goes through this pair (the reader is public). */
#ifndef CLH_INTERNAL_NUMBER_H
#define CLH_INTERNAL_NUMBER_H

#include <stddef.h>

#include "clheads/number.h"

/* Enough for "%.17g" of any double ("-2.2250738585072014e-308"). */
#define CLH_DOUBLE_TEXT_CAP 32

/* Writes value with '.' as the decimal point and 17 significant digits, so
 * clh_double_parse (clheads/number.h) gives back exactly the same double
 * (inf/nan as "inf", "-inf", "nan"). Returns 0 when the C locale cannot be
 * had (out of memory). */
int clh_format_double(double value, char text[CLH_DOUBLE_TEXT_CAP]);

#endif
