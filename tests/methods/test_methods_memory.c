/* The rehearsal memory: the even split (quota = capacity / tasks, old tasks
 * keep a prefix of their items), seeded determinism of selection and replay
 * batches, uniform selection over many seeds, the safetensors round trip
 * (contents and generator state continue identically), every load check
 * (dtype, shape, counts, task order, duplicates, quota, finiteness, missing
 * or extra tensors, metadata), and argument errors that change nothing. */
#include <stdint.h>
#include <string.h>

#include "common/testing.h"
#include "check.h"
#include "clheads.h"

#define W 3
#define NS 8

/* Sample i of task t: inputs (t, i, t*100+i), label i % 2. */
static void task_data(int64_t t, size_t n, float *x, int64_t *y) {
    for (size_t i = 0; i < n; i++) {
        x[i * W] = (float)t;
        x[i * W + 1] = (float)i;
        x[i * W + 2] = (float)(t * 100 + (int64_t)i);
        y[i] = (int64_t)(i % 2);
    }
}

static clh_memory *filled(size_t capacity, uint64_t seed, int tasks) {
    clh_memory *m = NULL;
    CHECK_OK(clh_memory_create(&m, capacity, W, seed));
    float x[NS * W];
    int64_t y[NS];
    for (int t = 0; t < tasks && m; t++) {
        task_data(10 + t, NS, x, y);
        CHECK_OK(clh_memory_add_task(m, 10 + t, x, NS, W, y));
    }
    return m;
}

static int same_contents(const clh_memory *a, const clh_memory *b) {
    size_t n = clh_memory_size(a);
    if (n != clh_memory_size(b) || clh_memory_num_tasks(a) != clh_memory_num_tasks(b)) return 0;
    if (n && (memcmp(clh_memory_inputs(a), clh_memory_inputs(b), n * W * sizeof(float)) ||
              memcmp(clh_memory_labels(a), clh_memory_labels(b), n * sizeof(int64_t)) ||
              memcmp(clh_memory_task_ids(a), clh_memory_task_ids(b), n * sizeof(int64_t))))
        return 0;
    for (size_t t = 0; t < clh_memory_num_tasks(a); t++) {
        int64_t ia, ib;
        size_t fa, fb, ca, cb;
        clh_memory_task_at(a, t, &ia, &fa, &ca);
        clh_memory_task_at(b, t, &ib, &fb, &cb);
        if (ia != ib || fa != fb || ca != cb) return 0;
    }
    return 1;
}

static void test_split(void) {
    clh_memory *m = NULL;
    CHECK_OK(clh_memory_create(&m, 10, W, 7));
    float x[NS * W], before[10 * W];
    int64_t y[NS];
    /* expected per-task counts after each arrival (capacity 10, 8 samples each) */
    static const size_t want[4][4] = {{8}, {5, 5}, {3, 3, 3}, {2, 2, 2, 2}};
    for (int t = 0; t < 4; t++) {
        size_t old_size = clh_memory_size(m);
        memcpy(before, clh_memory_inputs(m), old_size * W * sizeof(float));
        size_t old_first[4] = {0};
        for (int u = 0; u < t; u++) clh_memory_task_at(m, (size_t)u, NULL, &old_first[u], NULL);
        task_data(t, NS, x, y);
        CHECK_OK(clh_memory_add_task(m, t, x, NS, W, y));
        CHECK(clh_memory_num_tasks(m) == (size_t)t + 1);
        size_t total = 0;
        for (int u = 0; u <= t; u++) {
            int64_t id;
            size_t first, count;
            CHECK_OK(clh_memory_task_at(m, (size_t)u, &id, &first, &count));
            CHECK(id == u && first == total && count == want[t][u]);
            total += count;
            /* items belong to their task, are distinct, labels follow inputs */
            for (size_t i = first; i < first + count; i++) {
                const float *row = clh_memory_inputs(m) + i * W;
                CHECK(row[0] == (float)u && clh_memory_task_ids(m)[i] == u);
                CHECK(clh_memory_labels(m)[i] == (int64_t)row[1] % 2);
                for (size_t j = first; j < i; j++)
                    CHECK(clh_memory_inputs(m)[j * W + 1] != row[1]);
            }
            /* an old task keeps the first of its items, in order */
            if (u < t)
                CHECK(memcmp(clh_memory_inputs(m) + first * W, before + old_first[u] * W,
                             count * W * sizeof(float)) == 0);
        }
        CHECK(clh_memory_size(m) == total);
    }
    /* a task smaller than the quota keeps all its samples */
    clh_memory *small = NULL;
    CHECK_OK(clh_memory_create(&small, 100, W, 1));
    task_data(5, 4, x, y);
    CHECK_OK(clh_memory_add_task(small, 5, x, 4, W, y));
    CHECK(clh_memory_size(small) == 4);
    clh_memory_free(small);
    clh_memory_free(m);
}

static void test_determinism(void) {
    clh_memory *a = filled(10, 99, 3), *b = filled(10, 99, 3), *c = filled(10, 100, 3);
    CHECK(same_contents(a, b));
    CHECK(!same_contents(a, c));
    size_t ia[6], ib[6];
    float xa[6 * W], xb[6 * W];
    int64_t la[6], ta[6];
    for (int r = 0; r < 5; r++) {
        CHECK_OK(clh_memory_sample(a, 6, ia, xa, la, ta));
        CHECK_OK(clh_memory_sample(b, 6, ib, xb, NULL, NULL));
        CHECK(memcmp(ia, ib, sizeof ia) == 0 && memcmp(xa, xb, sizeof xa) == 0);
        for (int i = 0; i < 6; i++) {
            CHECK(ia[i] < clh_memory_size(a));
            for (int j = 0; j < i; j++) CHECK(ia[i] != ia[j]); /* without replacement */
            CHECK(memcmp(xa + i * W, clh_memory_inputs(a) + ia[i] * W, W * sizeof(float)) == 0);
            CHECK(la[i] == clh_memory_labels(a)[ia[i]] && ta[i] == clh_memory_task_ids(a)[ia[i]]);
        }
    }
    /* the whole memory: a permutation */
    size_t all[9];
    CHECK_OK(clh_memory_sample(a, 9, all, NULL, NULL, NULL));
    int seen[9] = {0};
    for (int i = 0; i < 9; i++) seen[all[i]]++;
    for (int i = 0; i < 9; i++) CHECK(seen[i] == 1);
    CHECK_STATUS(clh_memory_sample(a, 10, all, NULL, NULL, NULL), CLH_E_INVALID_ARG);
    clh_memory_free(a);
    clh_memory_free(b);
    clh_memory_free(c);
}

/* Over 20000 seeds, each of 10 samples is chosen about equally often as the
 * one item of a capacity-1 memory (deterministic: fixed seeds). */
static void test_uniform(void) {
    int hits[10] = {0};
    float x[10 * W];
    int64_t y[10];
    task_data(0, 10, x, y);
    for (uint64_t seed = 0; seed < 20000; seed++) {
        clh_memory *m = NULL;
        CHECK_OK(clh_memory_create(&m, 1, W, seed));
        CHECK_OK(clh_memory_add_task(m, 0, x, 10, W, y));
        hits[(int)clh_memory_inputs(m)[1]]++;
        clh_memory_free(m);
    }
    for (int i = 0; i < 10; i++) CHECK(hits[i] > 1800 && hits[i] < 2200);
}

static clh_status reload(const clh_st_tensor *t, size_t nt, const clh_st_meta *meta, size_t nm,
                         const char *prefix, clh_memory **out) {
    unsigned char *bytes = NULL;
    size_t len = 0;
    clh_status st = clh_st_encode(t, nt, meta, nm, &bytes, &len);
    if (st) return st;
    clh_st_file *file = NULL;
    st = clh_st_parse(&file, bytes, len);
    clh_st_bytes_free(bytes);
    if (st) return st;
    st = clh_memory_load_file(out, file, prefix);
    clh_st_free(file);
    return st;
}

static void test_roundtrip(void) {
    clh_memory *a = filled(10, 5, 3);
    size_t idx[4];
    CHECK_OK(clh_memory_sample(a, 4, idx, NULL, NULL, NULL)); /* the sampling stream moved */
    clh_memory_export *e = NULL;
    CHECK_OK(clh_memory_export_create(a, "memory", &e));
    size_t nt, nm;
    const clh_st_tensor *t = clh_memory_export_tensors(e, &nt);
    const clh_st_meta *meta = clh_memory_export_meta(e, &nm);
    CHECK(nt == 6 && nm == 4 && strcmp(t[0].name, "memory.inputs") == 0);
    clh_memory *b = NULL;
    CHECK_OK(reload(t, nt, meta, nm, "memory", &b));
    CHECK(b && same_contents(a, b) && clh_memory_capacity(b) == 10 && clh_memory_width(b) == W);
    if (b) {
        size_t ia[5], ib[5];
        CHECK_OK(clh_memory_sample(a, 5, ia, NULL, NULL, NULL));
        CHECK_OK(clh_memory_sample(b, 5, ib, NULL, NULL, NULL));
        CHECK(memcmp(ia, ib, sizeof ia) == 0);
        float x[NS * W];
        int64_t y[NS];
        task_data(50, NS, x, y);
        CHECK_OK(clh_memory_add_task(a, 50, x, NS, W, y));
        CHECK_OK(clh_memory_add_task(b, 50, x, NS, W, y));
        CHECK(same_contents(a, b));
    }
    clh_memory_free(b);
    clh_memory_export_free(e);

    /* file round trip, and an empty memory */
    char path[] = "/tmp/clh_memory_test.safetensors";
    CHECK_OK(clh_memory_save(a, "replay", path));
    b = NULL;
    CHECK_OK(clh_memory_load(&b, path, "replay"));
    CHECK(b && same_contents(a, b));
    clh_memory_free(b);
    b = NULL;
    CHECK_STATUS(clh_memory_load(&b, path, "memory"), CLH_E_FORMAT); /* no such prefix */
    CHECK(b == NULL);
    remove(path);
    clh_memory *empty = NULL, *back = NULL;
    CHECK_OK(clh_memory_create(&empty, 4, W, 0));
    CHECK_OK(clh_memory_export_create(empty, "memory", &e));
    t = clh_memory_export_tensors(e, &nt);
    meta = clh_memory_export_meta(e, &nm);
    CHECK_OK(reload(t, nt, meta, nm, "memory", &back));
    CHECK(back && clh_memory_size(back) == 0 && clh_memory_num_tasks(back) == 0);
    clh_memory_free(back);
    clh_memory_export_free(e);
    clh_memory_free(empty);
    clh_memory_free(a);
}

/* One corrupted copy of an export per check; each must fail and write nothing. */
static void test_load_rejects(void) {
    clh_memory *a = filled(10, 3, 2); /* tasks 10, 11 with 5 items each */
    clh_memory_export *e = NULL;
    CHECK_OK(clh_memory_export_create(a, "memory", &e));
    size_t nt, nm;
    const clh_st_tensor *orig = clh_memory_export_tensors(e, &nt);
    const clh_st_meta *orig_meta = clh_memory_export_meta(e, &nm);
    clh_st_tensor t[7];
    clh_st_meta meta[4];
    clh_memory *out = NULL;
    int64_t ids[10], counts[2], tasks[2];
    float inputs[10 * W];
    int32_t narrow[10] = {0};
#define RESET() (memcpy(t, orig, 6 * sizeof *t), memcpy(meta, orig_meta, 4 * sizeof *meta))
#define REJECT(status, n_tensors)                                              \
    do {                                                                       \
        out = NULL;                                                            \
        CHECK_STATUS(reload(t, (n_tensors), meta, 4, "memory", &out), status); \
        CHECK(out == NULL);                                                    \
    } while (0)
    /* labels as I32 */
    RESET();
    t[3].dtype = CLH_DT_I32;
    t[3].data = narrow;
    t[3].nbytes = 10 * sizeof(int32_t);
    REJECT(CLH_E_MISMATCH, 6);
    /* task_ids one short */
    RESET();
    t[4].shape[0] = 9;
    t[4].nbytes = 9 * 8;
    REJECT(CLH_E_MISMATCH, 6);
    /* counts that do not add up: 5 + 4 with 10 items */
    RESET();
    counts[0] = 5;
    counts[1] = 4;
    t[2].data = counts;
    REJECT(CLH_E_FORMAT, 6);
    /* a count over the quota (capacity 10 over 2 tasks: 5) */
    RESET();
    counts[0] = 6;
    counts[1] = 4;
    memcpy(ids, clh_memory_task_ids(a), sizeof ids);
    ids[5] = 10; /* keep the task order consistent with the counts */
    t[2].data = counts;
    t[4].data = ids;
    REJECT(CLH_E_FORMAT, 6);
    /* an item's task id out of order */
    RESET();
    memcpy(ids, clh_memory_task_ids(a), sizeof ids);
    ids[2] = 11;
    t[4].data = ids;
    REJECT(CLH_E_FORMAT, 6);
    /* a task twice */
    RESET();
    tasks[0] = tasks[1] = 10;
    memcpy(ids, clh_memory_task_ids(a), sizeof ids);
    for (int i = 0; i < 10; i++) ids[i] = 10;
    t[1].data = tasks;
    t[4].data = ids;
    REJECT(CLH_E_FORMAT, 6);
    /* a NaN input */
    RESET();
    memcpy(inputs, clh_memory_inputs(a), sizeof inputs);
    inputs[7] = NAN;
    t[0].data = inputs;
    REJECT(CLH_E_FORMAT, 6);
    /* more items than the capacity */
    RESET();
    meta[1].value = "9";
    REJECT(CLH_E_FORMAT, 6);
    /* a missing tensor (rng), an unknown one under the prefix */
    RESET();
    REJECT(CLH_E_MISMATCH, 5);
    RESET();
    t[6] = orig[5];
    t[6].name = "memory.extra";
    REJECT(CLH_E_MISMATCH, 7);
    /* width that disagrees with the inputs; bad metadata */
    RESET();
    meta[2].value = "4";
    REJECT(CLH_E_MISMATCH, 6);
    RESET();
    meta[1].value = "ten";
    REJECT(CLH_E_FORMAT, 6);
    RESET();
    meta[1].value = "0";
    REJECT(CLH_E_FORMAT, 6);
    RESET();
    meta[0].value = "2";
    REJECT(CLH_E_FORMAT, 6);
    /* the unchanged export still loads */
    RESET();
    CHECK_OK(reload(t, 6, meta, 4, "memory", &out));
    CHECK(out && same_contents(a, out));
    clh_memory_free(out);
    clh_memory_export_free(e);
    clh_memory_free(a);
}

static void test_errors(void) {
    clh_memory *m = NULL;
    CHECK_STATUS(clh_memory_create(&m, 0, W, 1), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "capacity") != NULL);
    CHECK_STATUS(clh_memory_create(&m, 4, 0, 1), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_memory_create(&m, SIZE_MAX / 2, 8, 1), CLH_E_OVERFLOW);
    CHECK(m == NULL);
    m = filled(10, 1, 1);
    clh_memory *ref = filled(10, 1, 1);
    float x[NS * W];
    int64_t y[NS];
    task_data(10, NS, x, y);
    CHECK_STATUS(clh_memory_add_task(m, 10, x, NS, W, y), CLH_E_INVALID_ARG); /* known id */
    CHECK_STATUS(clh_memory_add_task(m, 11, x, 0, W, y), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_memory_add_task(m, 11, x, NS, W - 1, y), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_memory_add_task(m, 11, NULL, NS, W, y), CLH_E_NULL);
    for (int i = 0; i < NS * W; i++) x[i] = NAN; /* every sample non-finite */
    CHECK_STATUS(clh_memory_add_task(m, 11, x, NS, W, y), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "task 11 sample") && strstr(clh_last_error(), "not finite"));
    CHECK(same_contents(m, ref)); /* nothing changed, the generator included: */
    task_data(11, NS, x, y);
    CHECK_OK(clh_memory_add_task(m, 11, x, NS, W, y));
    CHECK_OK(clh_memory_add_task(ref, 11, x, NS, W, y));
    CHECK(same_contents(m, ref));
    CHECK_STATUS(clh_memory_task_at(m, 2, NULL, NULL, NULL), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_memory_export_create(m, "", NULL), CLH_E_NULL);
    clh_memory_export *e = NULL;
    CHECK_STATUS(clh_memory_export_create(m, "memory.", &e), CLH_E_INVALID_ARG);
    CHECK(e == NULL);
    clh_memory_free(m);
    clh_memory_free(ref);
    clh_memory_free(NULL);
}

/* Allocation failures at every point of add and load: CLH_E_NOMEM and no change. */
static void test_alloc_failures(void) {
    clh_memory *m = filled(10, 4, 2), *ref = filled(10, 4, 2);
    float x[NS * W];
    int64_t y[NS];
    task_data(12, NS, x, y);
    int failures = 0;
    for (long k = 1; k < 20; k++) {
        clh_test_fail_alloc_after(k);
        clh_status st = clh_memory_add_task(m, 12, x, NS, W, y);
        clh_test_fail_alloc_after(0);
        if (st == CLH_OK) break;
        failures++;
        CHECK(st == CLH_E_NOMEM);
        CHECK(same_contents(m, ref));
    }
    CHECK(failures >= 1);
    CHECK_OK(clh_memory_add_task(ref, 12, x, NS, W, y));
    CHECK(same_contents(m, ref));

    unsigned char *bytes = NULL;
    size_t len = 0, nt, nm;
    clh_memory_export *e = NULL;
    CHECK_OK(clh_memory_export_create(m, "memory", &e));
    const clh_st_tensor *t = clh_memory_export_tensors(e, &nt);
    const clh_st_meta *meta = clh_memory_export_meta(e, &nm);
    CHECK_OK(clh_st_encode(t, nt, meta, nm, &bytes, &len));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    failures = 0;
    for (long k = 1; k < 20 && file; k++) {
        clh_memory *out = NULL;
        clh_test_fail_alloc_after(k);
        clh_status st = clh_memory_load_file(&out, file, "memory");
        clh_test_fail_alloc_after(0);
        if (st == CLH_OK) {
            CHECK(same_contents(m, out));
            clh_memory_free(out);
            break;
        }
        failures++;
        CHECK(st == CLH_E_NOMEM && out == NULL);
    }
    CHECK(failures >= 1);
    clh_st_free(file);
    clh_st_bytes_free(bytes);
    clh_memory_export_free(e);
    clh_memory_free(m);
    clh_memory_free(ref);
}

/* More tasks than capacity: the authors' quota capacity / tasks reaches 0. */
static void test_tiny_capacity(void) {
    clh_memory *m = filled(3, 1, 3);
    CHECK(clh_memory_size(m) == 3);
    float x[NS * W];
    int64_t y[NS];
    task_data(40, NS, x, y);
    CHECK_OK(clh_memory_add_task(m, 40, x, NS, W, y));
    CHECK(clh_memory_size(m) == 0 && clh_memory_num_tasks(m) == 4);
    CHECK_OK(clh_memory_sample(m, 0, NULL, NULL, NULL, NULL));
    clh_memory_free(m);
}

int main(void) {
    test_alloc_failures();
    test_tiny_capacity();
    test_split();
    test_determinism();
    test_uniform();
    test_roundtrip();
    test_load_rejects();
    test_errors();
    return check_done("test_methods_memory");
}
