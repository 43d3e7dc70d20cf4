/* Internal: integers and comma-separated integer lists in file metadata
 * ("3,1,2"), as the checkpoint and optimizer-state loaders read them. */
#ifndef CLH_INTERNAL_ID_LIST_H
#define CLH_INTERNAL_ID_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/status.h"

/* Parses [text, end) (end NULL: up to the NUL) as an int64 in the canonical
 * form that printf("%lld") and Python's str() write: an optional '-', digits
 * without leading zeros ("0" itself but not "-0"), nothing else, within
 * -INT64_MAX .. INT64_MAX. Returns 1 on success, 0 otherwise. */
int clh_parse_int64(const char *text, const char *end, int64_t *out);

/* Parses the list `text` of metadata `key` ("" or NULL: the empty list, then
 * *values is NULL) into new memory (*values, free with clh_free) of *count
 * canonical int64 items. CLH_E_FORMAT ("<source>: metadata <key> = ...")
 * for a malformed list, CLH_E_NOMEM; on error *values is NULL. */
clh_status clh_parse_int64_list(const char *source, const char *key, const char *text,
                                int64_t **values, size_t *count);

/* The most characters one list item takes: "-9223372036854775807" and a comma. */
#define CLH_INT64_LIST_ITEM_MAX 21

/* The one id-list formatter: appends `value` to the list list[0..len) (a comma
 * first unless the list is empty) within `cap` bytes including the NUL, and
 * returns the new length. The caller sizes `cap` as items * CLH_INT64_LIST_ITEM_MAX
 * + 1, so an item is never cut off. */
size_t clh_append_int64(char *list, size_t cap, size_t len, int64_t value);

#endif
