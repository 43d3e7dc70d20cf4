/* Internal: ASCII case-insensitive string equality, shared by the name
 * parsers (paradigms, optimizer kinds). strcasecmp is POSIX, not C11. */
#ifndef CLH_INTERNAL_ASCII_H
#define CLH_INTERNAL_ASCII_H

#include <ctype.h>

static inline int clh_equal_ignoring_case(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

#endif
