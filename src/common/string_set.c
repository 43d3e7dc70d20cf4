/* A fixed-size string set (see string_set.h). */
#include "common/string_set.h"

#include <stdint.h>
#include <string.h>

#include "common/alloc.h"

static uint64_t fnv1a(const char *text) {
    uint64_t hash = 0xcbf29ce484222325ull;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        hash = (hash ^ *c) * 0x100000001b3ull;
    return hash;
}

int clh_string_set_init(clh_string_set *set, size_t expected) {
    memset(set, 0, sizeof *set);
    size_t capacity = 16;
    while (capacity / 2 < expected) {
        if (capacity > SIZE_MAX / 2 / sizeof *set->slots) return 0;
        capacity *= 2;
    }
    set->slots = clh_calloc(capacity, sizeof *set->slots);
    if (!set->slots) return 0;
    set->capacity = capacity;
    return 1;
}

void clh_string_set_release(clh_string_set *set) {
    clh_free(set->slots);
    memset(set, 0, sizeof *set);
}

int clh_string_set_add(clh_string_set *set, const char *text) {
    if (set->count >= set->capacity / 2) return -1;
    size_t mask = set->capacity - 1, at = (size_t)fnv1a(text) & mask;
    while (set->slots[at]) { /* linear probing: a free slot always exists */
        if (strcmp(set->slots[at], text) == 0) return 0;
        at = (at + 1) & mask;
    }
    set->slots[at] = text;
    set->count++;
    return 1;
}
