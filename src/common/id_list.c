/* Canonical int64 values and lists in metadata (see id_list.h). */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/error.h"
#include "common/id_list.h"
#include "common/number.h"

int clh_parse_int64(const char *text, const char *end, int64_t *out) {
    const char *p = text;
    if (!end) end = text + strlen(text);
    int negative = 0;
    if (p < end && *p == '-') negative = 1, p++;
    if (p >= end || *p < '0' || *p > '9') return 0;
    if (*p == '0' && (p + 1 < end || negative)) return 0;
    int64_t value = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return 0;
        if (value > (INT64_MAX - (*p - '0')) / 10) return 0;
        value = value * 10 + (*p - '0');
    }
    *out = negative ? -value : value;
    return 1;
}

clh_status clh_parse_int64_list(const char *source, const char *key, const char *text,
                                int64_t **values, size_t *count) {
    *values = NULL;
    *count = 0;
    if (!text || !text[0]) return CLH_OK;
    size_t n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    size_t bytes;
    if (!clh_mul_size(n, sizeof(int64_t), &bytes))
        return clh_fail(CLH_E_FORMAT, "%s: metadata %s has too many items", source, key);
    int64_t *parsed = clh_malloc(bytes);
    if (!parsed) return clh_fail(CLH_E_NOMEM, "%s: no memory for metadata %s", source, key);
    const char *item = text;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(item, ',');
        if (!end) end = item + strlen(item);
        if (!clh_parse_int64(item, end, &parsed[i])) {
            clh_free(parsed);
            return clh_fail(CLH_E_FORMAT, "%s: metadata %s = \"%.80s\": item %zu is not an integer",
                            source, key, text, i);
        }
        item = end + 1;
    }
    *values = parsed;
    *count = n;
    return CLH_OK;
}

/* Written by hand, not by snprintf: a checkpoint of many heads formats
 * hundreds of thousands of ids, and snprintf was a good part of saving it.
 * What it writes (also when cut off) is what snprintf(list + len, cap - len,
 * "%s%lld", len ? "," : "", value) wrote. */
size_t clh_append_int64(char *list, size_t cap, size_t len, int64_t value) {
    if (len >= cap) return len;
    char text[CLH_INT64_LIST_ITEM_MAX + 1];
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    size_t k = sizeof text - clh_digits_before(text + sizeof text, magnitude);
    if (value < 0) text[--k] = '-';
    if (len) text[--k] = ',';
    size_t n = sizeof text - k, room = cap - len - 1, kept = n < room ? n : room;
    memcpy(list + len, text + k, kept);
    list[len + kept] = '\0';
    return n <= room ? len + n : len;
}
