/* clheads — replacing the library's allocator.
 *
 * Every block of memory clheads allocates itself (handles, banks, optimizer
 * state, parsed files, encoded byte buffers, workspaces) comes from one
 * process-wide allocator: malloc, realloc and free unless replaced here.
 *
 * Why process-wide and not per object (as uv_replace_allocator and
 * sqlite3_config(SQLITE_CONFIG_MALLOC), not ZSTD_createCCtx_advanced): memory
 * moves between objects (clh_heads_load creates a handle from a parsed file,
 * clh_st_encode returns bytes that clh_st_bytes_free releases) and some calls
 * allocate with no object at hand (clh_st_parse, clh_st_encode, the workspace
 * of a mixed forward on a const handle), so one allocator for all keeps every
 * pairing of allocation and release right.
 *
 * Rules: replace the allocator before creating any clheads object, or after
 * all were freed: clh_set_allocator fails with CLH_E_INVALID_ARG while a
 * block from the current allocator is still live (a block must go back to the
 * allocator it came from). No other thread may be inside clheads during the
 * call. The functions may be called from any thread that calls clheads (the
 * multiply's helper threads never allocate), so they must be thread-safe if
 * the program uses clheads from several threads.
 *
 * Not covered: the JSON library behind the safetensors writer's header
 * (jansson, whose json_set_alloc_funcs belongs to the program: its blocks
 * are freed before each call returns; the reader's header parser uses this
 * allocator), stdio's FILE buffers and the helper threads' stacks.
 */
#ifndef CLHEADS_ALLOCATOR_H
#define CLHEADS_ALLOCATOR_H

#include <stddef.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ABI: grows by appending members; struct_size (set by clh_allocator_init)
 * tells the library which members the caller knows (see clh_optim_config). */
typedef struct clh_allocator {
    size_t struct_size;
    /* A block of `bytes` (> 0) bytes aligned for any type, or NULL. */
    void *(*alloc)(void *ctx, size_t bytes);
    /* Resizes ptr (never NULL) to bytes (> 0) like realloc; NULL on failure
     * leaves ptr valid. */
    void *(*realloc)(void *ctx, void *ptr, size_t bytes);
    /* Releases a block from alloc or realloc (never called with NULL). */
    void (*free)(void *ctx, void *ptr);
    void *ctx; /* passed to every call */
} clh_allocator;

/* Sets struct_size and NULL functions and context (fill in all three). */
CLH_API void clh_allocator_init(clh_allocator *allocator);

/* Replaces the allocator (copied; NULL restores malloc/realloc/free). All
 * three functions are required (CLH_E_NULL); CLH_E_INVALID_ARG while blocks
 * of the current allocator are live (see above). */
CLH_API clh_status clh_set_allocator(const clh_allocator *allocator);

/* The allocator in use (the default one has NULL functions); allocator
 * initialised by clh_allocator_init. */
CLH_API clh_status clh_get_allocator(clh_allocator *allocator);

/* Blocks allocated through the current allocator and not yet freed. */
CLH_API size_t clh_allocator_live_blocks(void);

#ifdef __cplusplus
}
#endif
#endif
