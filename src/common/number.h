/* Internal: numbers in files, written and read the same whatever the
 * process's locale (LC_NUMERIC may make printf write "0,01" and strtod stop
 * at "0.01"). Every double the library or the tool writes into a file or
 * reads back from one goes through this pair (the reader is public). */
#ifndef CLH_INTERNAL_NUMBER_H
#define CLH_INTERNAL_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/number.h"

/* Enough for "%.17g" of any double ("-2.2250738585072014e-308"). */
#define CLH_DOUBLE_TEXT_CAP 32

/* Writes value with '.' as the decimal point and 17 significant digits, so
 * clh_double_parse (clheads/number.h) gives back exactly the same double
 * (inf/nan as "inf", "-inf", "nan"). Returns 0 when the C locale cannot be
 * had (out of memory). */
int clh_format_double(double value, char text[CLH_DOUBLE_TEXT_CAP]);

/* The decimal digits of value, as "%llu" writes them, placed so that they
 * end just before `end` (which must have 20 bytes of room before it);
 * returns how many (1 to 20). By hand, not by snprintf: checkpoints of many
 * heads write hundreds of thousands of ids and offsets. No terminator. */
size_t clh_digits_before(char *end, uint64_t value);

#endif
