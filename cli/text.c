/* Escaping of outside text before it is printed (see text.h). */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '\\'; }

size_t cli_esc_into(char *out, size_t len, const char *text) {
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (!text) text = "(null)";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        char piece[5];
        size_t k;
        if (plain(*p)) {
            piece[0] = (char)*p, k = 1;
        } else if (*p == '\\') {
            piece[0] = '\\', piece[1] = '\\', k = 2;
        } else {
            piece[0] = '\\', piece[1] = 'x', piece[2] = hex[*p >> 4], piece[3] = hex[*p & 15];
            k = 4;
        }
        for (size_t i = 0; i < k; i++, n++)
            if (n + 1 < len) out[n] = piece[i];
    }
    if (len) out[n < len ? n : len - 1] = '\0';
    return n;
}

#define RING 8

const char *cli_esc(const char *text) {
    static char *ring[RING];
    static unsigned next;
    size_t need = cli_esc_into(NULL, 0, text) + 1;
    char *buf = malloc(need);
    if (!buf) return "<out of memory>";
    cli_esc_into(buf, need, text);
    free(ring[next % RING]);
    ring[next % RING] = buf;
    next++;
    return buf;
}
