/* Internal: well-formed UTF-8, as JSON strings require it (shared by the
 * safetensors reader and writer). */
#ifndef CLH_INTERNAL_UTF8_H
#define CLH_INTERNAL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the well-formed UTF-8 sequence at p, of which `avail`
 * bytes may be read; 0 when it is not one: a stray continuation byte, an
 * overlong form, a UTF-16 surrogate, a code point past U+10FFFF, or a
 * sequence cut off before `avail` bytes. A NUL byte is a sequence of 1. */
static inline size_t clh_utf8_length(const unsigned char *p, size_t avail) {
    if (avail == 0) return 0;
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t length = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                    : c >= 0xf0 && c <= 0xf4                          ? 4
                                                                      : 0;
    if (length == 0 || length > avail) return 0;
    for (size_t k = 1; k < length; k++)
        if ((p[k] & 0xc0u) != 0x80u) return 0;
    /* The second byte's range rules out overlong forms, surrogates and code
     * points past U+10FFFF (RFC 3629, section 4). */
    unsigned char second = p[1];
    if ((c == 0xe0 && second < 0xa0) || (c == 0xed && second > 0x9f) ||
        (c == 0xf0 && second < 0x90) || (c == 0xf4 && second > 0x8f))
        return 0;
    return length;
}

#endif
