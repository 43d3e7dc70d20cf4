/* The custom allocator (clheads/allocator.h) and clh_heads_reserve:
 *  - with a recording allocator installed, a whole workload (set-up, forward,
 *    mixed MTL batches, loss, backward, optimizer steps, saving and loading in
 *    memory) makes every one of its allocations through it (its call count
 *    equals the library's internal allocation counter), every block it hands
 *    out is freed exactly once, and none is left live at the end;
 *  - the allocator cannot be replaced while a block is live, needs all three
 *    functions and a valid struct_size, and its failures become CLH_E_NOMEM;
 *  - after clh_heads_reserve, set-up within the reserved rows and tasks makes
 *    0 allocations (and the first set-up past them does allocate), the weights
 *    are those of a handle that never reserved, and reserving keeps values. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/testing.h"

#define MAX_BLOCKS 4096

typedef struct recorder {
    void *blocks[MAX_BLOCKS];
    size_t live;
    unsigned long allocs, reallocs, frees, unknown_frees;
    long fail_after; /* > 0: the n-th call from now fails */
} recorder;

static int should_fail(recorder *r) { return r->fail_after > 0 && --r->fail_after == 0; }

static void *rec_alloc(void *ctx, size_t bytes) {
    recorder *r = ctx;
    r->allocs++;
    if (should_fail(r) || r->live == MAX_BLOCKS) return NULL;
    void *p = malloc(bytes);
    if (p) r->blocks[r->live++] = p;
    return p;
}

static ptrdiff_t find_block(const recorder *r, const void *p) {
    for (size_t i = 0; i < r->live; i++)
        if (r->blocks[i] == p) return (ptrdiff_t)i;
    return -1;
}

static void *rec_realloc(void *ctx, void *ptr, size_t bytes) {
    recorder *r = ctx;
    r->reallocs++;
    ptrdiff_t at = find_block(r, ptr);
    if (at < 0) {
        r->unknown_frees++;
        return NULL;
    }
    if (should_fail(r)) return NULL;
    void *p = realloc(ptr, bytes);
    if (p) r->blocks[at] = p;
    return p;
}

static void rec_free(void *ctx, void *ptr) {
    recorder *r = ctx;
    r->frees++;
    ptrdiff_t at = find_block(r, ptr);
    if (at < 0) {
        r->unknown_frees++;
        return;
    }
    r->blocks[at] = r->blocks[--r->live];
    free(ptr);
}

static recorder rec;

static clh_allocator recording_allocator(void) {
    clh_allocator a;
    clh_allocator_init(&a);
    a.alloc = rec_alloc;
    a.realloc = rec_realloc;
    a.free = rec_free;
    a.ctx = &rec;
    return a;
}

/* Everything a training program does, ending with nothing allocated. */
static void workload(void) {
    enum { IN = 6, B = 4 };
    float x[B * IN], logits[B * 9], dlogits[B * 9], dx[B * IN];
    for (int i = 0; i < B * IN; i++) x[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    const int64_t labels[B] = {0, 4, 8, 2};

    clh_heads *cil = NULL;
    CHECK_OK(clh_heads_create(&cil, CLH_CIL, IN, 3));
    CHECK_OK(clh_heads_setup_task(cil, 3, 2));
    CHECK_OK(clh_heads_setup_task(cil, 1, 3));
    CHECK_OK(clh_heads_setup_task(cil, 2, 4));
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 0.01);
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    for (int step = 0; step < 2; step++) {
        float loss = 0;
        clh_heads_zero_grad(cil);
        CHECK_OK(clh_heads_forward(cil, x, B, CLH_NO_TASK, logits));
        CHECK_OK(clh_heads_cross_entropy(cil, logits, B, CLH_NO_TASK, NULL, labels, &loss, dlogits));
        CHECK_OK(clh_heads_backward(cil, x, B, CLH_NO_TASK, dlogits, dx));
        CHECK_OK(clh_optim_step_heads(optim, cil));
    }
    unsigned char *heads_bytes = NULL, *optim_bytes = NULL;
    size_t heads_len = 0, optim_len = 0;
    CHECK_OK(clh_heads_save_mem(cil, &heads_bytes, &heads_len));
    CHECK_OK(clh_optim_save_mem(optim, &optim_bytes, &optim_len));
    clh_heads *loaded = NULL;
    CHECK_OK(clh_heads_load_mem(&loaded, heads_bytes, heads_len, NULL));
    clh_optim *optim2 = NULL;
    CHECK_OK(clh_optim_create(&optim2, &config));
    CHECK_OK(clh_optim_load_mem(optim2, optim_bytes, optim_len));
    CHECK_OK(clh_optim_step_heads(optim2, loaded));

    clh_heads *mtl = NULL;
    const int64_t ids[2] = {5, 1}, classes[2] = {2, 3}, sample_tasks[B] = {5, 1, 1, 5};
    const int64_t mtl_labels[B] = {1, 2, 0, 0};
    CHECK_OK(clh_heads_create(&mtl, CLH_MTL, IN, 4));
    CHECK_OK(clh_heads_setup_tasks(mtl, ids, classes, 2));
    CHECK_OK(clh_heads_forward_mixed(mtl, x, B, sample_tasks, logits, NULL, 0));
    float loss = 0;
    CHECK_OK(clh_heads_cross_entropy(mtl, logits, B, CLH_NO_TASK, sample_tasks, mtl_labels, &loss,
                                     dlogits));
    CHECK_OK(clh_heads_backward_mixed(mtl, x, B, sample_tasks, dlogits, dx, NULL, 0));

    clh_st_bytes_free(heads_bytes);
    clh_st_bytes_free(optim_bytes);
    clh_optim_free(optim);
    clh_optim_free(optim2);
    clh_heads_free(cil);
    clh_heads_free(loaded);
    clh_heads_free(mtl);
}

static void test_every_allocation_goes_through(void) {
    clh_allocator a = recording_allocator();
    CHECK(clh_allocator_live_blocks() == 0);
    CHECK_OK(clh_set_allocator(&a));
    clh_allocator got;
    clh_allocator_init(&got);
    CHECK_OK(clh_get_allocator(&got));
    CHECK(got.alloc == rec_alloc && got.realloc == rec_realloc && got.free == rec_free &&
          got.ctx == &rec);

    unsigned long library_before = clh_test_alloc_count();
    workload();
    unsigned long library_calls = clh_test_alloc_count() - library_before;
    printf("workload: %lu allocations, %lu reallocations, %lu frees through the allocator\n",
           rec.allocs, rec.reallocs, rec.frees);
    CHECK(rec.allocs > 20);
    CHECK(rec.allocs + rec.reallocs == library_calls);
    CHECK(rec.frees == rec.allocs); /* every block once; a realloc keeps the count */
    CHECK(rec.unknown_frees == 0);
    CHECK(rec.live == 0);
    CHECK(clh_allocator_live_blocks() == 0);
    CHECK(check_failures == 0);
}

static void test_replacing_rules(void) {
    /* A live block pins the allocator. */
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 3, 1));
    CHECK(clh_allocator_live_blocks() == 1 && rec.live == 1);
    CHECK_STATUS(clh_set_allocator(NULL), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "1 blocks") != NULL);
    clh_heads_free(heads);
    CHECK(rec.live == 0);

    /* The allocator's failures are the library's CLH_E_NOMEM, with nothing left behind. */
    rec.fail_after = 1;
    heads = NULL;
    CHECK_STATUS(clh_heads_create(&heads, CLH_TIL, 3, 1), CLH_E_NOMEM);
    CHECK(heads == NULL && rec.live == 0);
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 3, 1));
    rec.fail_after = 2; /* the set-up's second allocation */
    CHECK_STATUS(clh_heads_setup_task(heads, 0, 4), CLH_E_NOMEM);
    CHECK(clh_heads_num_tasks(heads) == 0);
    clh_heads_free(heads);
    CHECK(rec.live == 0);

    /* Back to malloc; then the argument checks. */
    CHECK_OK(clh_set_allocator(NULL));
    clh_allocator got;
    clh_allocator_init(&got);
    CHECK_OK(clh_get_allocator(&got));
    CHECK(got.alloc == NULL && got.free == NULL && got.ctx == NULL);
    clh_allocator a = recording_allocator();
    a.free = NULL;
    CHECK_STATUS(clh_set_allocator(&a), CLH_E_NULL);
    a = recording_allocator();
    a.struct_size = 0;
    CHECK_STATUS(clh_set_allocator(&a), CLH_E_INVALID_ARG);
    a.struct_size = sizeof a + 8; /* a newer header than this library */
    CHECK_STATUS(clh_set_allocator(&a), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "newer") != NULL);
}

/* Set-up after clh_heads_reserve allocates nothing. */
static void test_reserve(void) {
    rec = (recorder){0};
    clh_allocator a = recording_allocator();
    CHECK_OK(clh_set_allocator(&a));
    enum { IN = 8 };

    clh_heads *til = NULL, *plain = NULL;
    CHECK_OK(clh_heads_create(&til, CLH_TIL, IN, 9));
    CHECK_OK(clh_heads_reserve(til, 20, 5));
    CHECK(clh_heads_capacity_rows(til) == 20);
    unsigned long before = rec.allocs + rec.reallocs;
    for (int64_t t = 0; t < 5; t++) CHECK_OK(clh_heads_setup_task(til, 10 - t, 4));
    CHECK(rec.allocs + rec.reallocs == before); /* 5 tasks, 20 rows: no allocation */
    CHECK(clh_heads_total_classes(til) == 20 && clh_heads_capacity_rows(til) == 20);
    CHECK_OK(clh_heads_setup_task(til, 99, 1)); /* past both: allocates */
    CHECK(rec.allocs + rec.reallocs > before);

    /* The same weights as without reserving (initialisation depends on seed, id, shape). */
    CHECK_OK(clh_heads_create(&plain, CLH_TIL, IN, 9));
    for (int64_t t = 0; t < 5; t++) CHECK_OK(clh_heads_setup_task(plain, 10 - t, 4));
    CHECK_OK(clh_heads_setup_task(plain, 99, 1));
    const float *p1, *p2;
    size_t n1, n2;
    clh_heads_flat_const(til, &p1, NULL, &n1);
    clh_heads_flat_const(plain, &p2, NULL, &n2);
    CHECK(n1 == n2 && n1 == 21 * (IN + 1) && memcmp(p1, p2, n1 * sizeof(float)) == 0);

    /* Reserving later keeps every value and never shrinks. */
    CHECK_OK(clh_heads_reserve(plain, 1000, 64));
    CHECK(clh_heads_capacity_rows(plain) == 1000);
    clh_heads_flat_const(plain, &p2, NULL, &n2);
    CHECK(n2 == n1 && memcmp(p1, p2, n1 * sizeof(float)) == 0);
    CHECK_OK(clh_heads_reserve(plain, 5, 1));
    CHECK(clh_heads_capacity_rows(plain) == 1000);

    /* MTL's list set-up and DIL's one head, too. */
    clh_heads *mtl = NULL, *dil = NULL;
    const int64_t ids[3] = {4, 0, 7}, classes[3] = {3, 2, 5};
    CHECK_OK(clh_heads_create(&mtl, CLH_MTL, IN, 2));
    CHECK_OK(clh_heads_create(&dil, CLH_DIL, IN, 2));
    CHECK_OK(clh_heads_reserve(mtl, 10, 3));
    CHECK_OK(clh_heads_reserve(dil, 6, 1));
    before = rec.allocs + rec.reallocs;
    CHECK_OK(clh_heads_setup_tasks(mtl, ids, classes, 3));
    CHECK_OK(clh_heads_setup_single(dil, 6));
    CHECK(rec.allocs + rec.reallocs == before);

    CHECK_STATUS(clh_heads_reserve(NULL, 1, 1), CLH_E_NULL);
    CHECK_STATUS(clh_heads_reserve(dil, -1, 1), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_heads_reserve(dil, INT64_MAX, 1), CLH_E_OVERFLOW);
    CHECK(clh_heads_capacity_rows(dil) == 6);

    clh_heads_free(til);
    clh_heads_free(plain);
    clh_heads_free(mtl);
    clh_heads_free(dil);
    CHECK(rec.live == 0 && rec.unknown_frees == 0);
    CHECK_OK(clh_set_allocator(NULL));
}

int main(void) {
    test_every_allocation_goes_through();
    test_replacing_rules();
    test_reserve();
    return check_done("test_abi_allocator");
}
