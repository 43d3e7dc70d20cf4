/* The two helpers that took snprintf and jansson's hash table off the save
 * path: clh_append_int64 must write exactly what snprintf("%s%lld") wrote
 * (also when the buffer cuts it off), and clh_string_set must find exactly
 * the repeats a brute-force comparison finds. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "clheads/rng.h"
#include "common/id_list.h"
#include "common/string_set.h"

/* The library's splitmix64 stream (rng.h) for the random cases. */
static clh_rng rng = {0x9E3779B97F4A7C15ull};
static uint64_t next_u64(void) { return clh_rng_next(&rng); }

/* clh_append_int64 against snprintf for one value, at every buffer size. */
static void check_append(const char *start, int64_t value) {
    for (size_t cap = 0; cap <= 48; cap++) {
        char ours[64], want[64];
        memset(ours, 'x', sizeof ours);
        memset(want, 'x', sizeof want);
        size_t len = strlen(start); /* a short literal */
        snprintf(ours, sizeof ours, "%s", start);
        snprintf(want, sizeof want, "%s", start);
        size_t got = clh_append_int64(ours, cap, len, value), expected = len;
        if (len < cap) {
            int n = snprintf(want + len, cap - len, "%s%lld", len ? "," : "", (long long)value);
            expected = n > 0 && (size_t)n < cap - len ? len + (size_t)n : len;
        }
        CHECK(got == expected);
        CHECK(memcmp(ours, want, sizeof ours) == 0);
    }
}

static void test_append_int64(void) {
    static const int64_t edges[] = {0, 1, -1, 9, 10, -10, 99, 100, 123456789, -987654321,
                                    INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        check_append("", edges[i]);
        check_append("3,1", edges[i]);
    }
    for (int i = 0; i < 2000; i++) {
        int64_t value = (int64_t)(next_u64() >> (next_u64() % 64));
        if (i % 2) value = -value;
        check_append(i % 3 ? "7" : "", value);
    }
    /* A whole list, as the checkpoint's task_ids. */
    char list[CLH_INT64_LIST_ITEM_MAX * 4 + 1];
    size_t len = 0;
    list[0] = '\0';
    int64_t ids[4] = {5, -2, 0, 90};
    for (int i = 0; i < 4; i++) len = clh_append_int64(list, sizeof list, len, ids[i]);
    CHECK(strcmp(list, "5,-2,0,90") == 0 && len == 9);
}

static void test_string_set(void) {
    clh_string_set set;
    CHECK(clh_string_set_init(&set, 3));
    CHECK(clh_string_set_add(&set, "a") == 1);
    CHECK(clh_string_set_add(&set, "b") == 1);
    CHECK(clh_string_set_add(&set, "a") == 0);
    CHECK(clh_string_set_add(&set, "") == 1);
    CHECK(clh_string_set_add(&set, "") == 0);
    clh_string_set_release(&set);
    CHECK(set.slots == NULL);
    /* More than it was made for: -1 once half full, never a wrong answer. */
    CHECK(clh_string_set_init(&set, 0));
    static char many[40][8];
    int refused = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(many[i], sizeof many[i], "n%d", i);
        int added = clh_string_set_add(&set, many[i]);
        CHECK(added != 0);
        refused += added == -1;
    }
    CHECK(refused == 40 - (int)(set.capacity / 2));
    clh_string_set_release(&set);
    /* Random names from a small alphabet (many repeats) against brute force. */
    enum { N = 3000 };
    static char names[N][6];
    CHECK(clh_string_set_init(&set, N));
    int wrong = 0;
    for (int i = 0; i < N; i++) {
        size_t len = 1 + next_u64() % 4;
        for (size_t k = 0; k < len; k++) names[i][k] = "ab."[next_u64() % 3];
        names[i][len] = '\0';
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = strcmp(names[j], names[i]) == 0;
        int added = clh_string_set_add(&set, names[i]);
        wrong += added != (seen ? 0 : 1);
    }
    CHECK(wrong == 0);
    CHECK(set.count < 4 * 4 * 4 * 4 + 4 * 4 * 4 + 4 * 4 + 4);
    clh_string_set_release(&set);
}

int main(void) {
    test_append_int64();
    test_string_set();
    return check_done("test_common_strings");
}
