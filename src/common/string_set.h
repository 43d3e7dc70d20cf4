/* Internal: a set of C strings (not copied) of a size known in advance, for
 * finding the first repeated name in a list in one pass: open addressing,
 * FNV-1a hashes, never more than half full. */
#ifndef CLH_INTERNAL_STRING_SET_H
#define CLH_INTERNAL_STRING_SET_H

#include <stddef.h>

typedef struct clh_string_set {
    const char **slots; /* [capacity], NULL where empty */
    size_t capacity;    /* a power of two, at least twice the strings to hold */
    size_t count;
} clh_string_set;

/* Room for `expected` strings. 0 (the set empty and unusable) when out of
 * memory or when the size overflows. */
int clh_string_set_init(clh_string_set *set, size_t expected);
void clh_string_set_release(clh_string_set *set);

/* Adds `text` (kept by pointer: it must outlive the set). Returns 1 when
 * added, 0 when an equal string is already in the set, -1 when the set
 * already holds the `expected` strings it was made for. */
int clh_string_set_add(clh_string_set *set, const char *text);

#endif
