/* Internal: ASCII case-insensitive string equality, shared by the name
 * parsers (paradigms, optimizer kinds). strcasecmp is POSIX, not C11, and
 * both it and tolower follow the locale (under tr_TR 'I' is not the upper
 * case of 'i'), so the folding here is plain ASCII. */
#ifndef CLH_INTERNAL_ASCII_H
#define CLH_INTERNAL_ASCII_H


static inline unsigned char clh_ascii_lower(unsigned char c) {
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static inline int clh_equal_ignoring_case(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (clh_ascii_lower((unsigned char)*a) != clh_ascii_lower((unsigned char)*b)) return 0;
    return *a == *b;
}

#endif
