/* clheads — saving and loading heads as safetensors checkpoints.
 *
 * A checkpoint holds exactly the tensors of the seed's heads module
 * state_dict(), as float32 with PyTorch's shapes:
 *   TIL, CIL, MTL:  heads.<task_id>.weight [C_t, in], heads.<task_id>.bias [C_t]
 *                   (tasks in set-up order)
 *   DIL, STL:       head.weight [C, in], head.bias [C]
 * and a "__metadata__" map so that a load rebuilds a grown model directly,
 * without replaying its set-up:
 *   clheads_format  "1"
 *   paradigm        "TIL" | "CIL" | "DIL" | "MTL" | "STL"
 *   in_features     e.g. "784"
 *   task_ids        the task ids in set-up order, e.g. "3,1,2" (empty for DIL/STL)
 *   num_classes     their class counts in the same order, e.g. "2,2,2"
 *   frozen_task_ids present only when a head is frozen, e.g. "3,1"
 *   masked_task_ids present only when a CIL task is masked
 *   grad_task_ids   present only when a head has had a gradient
 *                   (clh_heads_task_has_grad; "0" for DIL/STL's one head): the
 *                   heads an optimizer steps, so a resumed run steps the same
 *                   ones. Files without it load with no head marked.
 * PyTorch's load_state_dict(strict=True) accepts the file into the seed's
 * heads module once it is set up with the same tasks (TIL's head_t alias
 * aside, which the seed adds on its own).
 *
 * Loading goes through the strict reader (safetensors.h), then checks every
 * head tensor against the paradigm: rank, in_features shared by all heads,
 * weight and bias class counts, a bias for every weight. A tensor that does
 * not fit is CLH_E_MISMATCH naming it.
 *
 * Threads: saving takes the handle as const and may run alongside forward
 * calls on it; clh_heads_load_into changes the handle and needs it to itself.
 */
#ifndef CLHEADS_CHECKPOINT_H
#define CLHEADS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "heads.h"
#include "safetensors.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The "clheads_format" value this version writes and reads. */
#define CLH_CHECKPOINT_FORMAT "1"

/* Pass as clh_load_options.paradigm to take the paradigm from the file. */
#define CLH_PARADIGM_FROM_FILE (-1)

/* ABI: the struct grows by appending members. struct_size, set by
 * clh_load_options_init, tells the library which members the caller knows
 * (the others take their defaults); a loader given options with a
 * struct_size of 0 (not initialised) or larger than its own sizeof fails with
 * CLH_E_INVALID_ARG. Always start from clh_load_options_init. */
typedef struct clh_load_options {
    size_t struct_size; /* sizeof(clh_load_options) of the caller's header */
    /* CLH_PARADIGM_FROM_FILE (the default) or a clh_paradigm value. Needed for
     * a file without clheads metadata (written by PyTorch); then the task
     * order is ascending task id. For a file with metadata, a given paradigm
     * must agree with the file's (else CLH_E_MISMATCH). */
    int paradigm;
    /* NULL or "" (the default): the file holds a heads module's state dict.
     * Otherwise only keys beginning with exactly this string are read, with it
     * stripped; the rest (backbone, ...) is ignored. For a whole CLArena model
     * whose heads module is the attribute `heads`, the prefix is "heads.":
     * "heads.heads.3.weight" -> "heads.3.weight". (A plain TIL file with
     * prefix "heads." fails: "heads.3.weight" -> "3.weight" is no head key.) */
    const char *prefix;
    /* Seed of the new handle's initialisation generator; with the saved
     * model's seed, heads set up after loading get the same initial weights
     * as they would have without the save/load. Default 0. */
    uint64_t seed;
    /* 0 (the default): every key read (under the prefix) must be a head key,
     * or the load fails with CLH_E_MISMATCH naming it. 1: other keys are
     * ignored (e.g. optimizer state saved in the same file). */
    int ignore_unknown;
    /* 0 (the default): the weights are copied in. 1: only the structure is
     * loaded (tasks, class counts, frozen/masked/gradient flags) and the
     * heads keep their initial weights: for describing a file opened with
     * clh_st_open_header, whose tensors have no data (without this option
     * such a file fails to load with CLH_E_NULL naming the tensor). */
    int structure_only;
} clh_load_options;

/* Fills *options with the defaults above. */
CLH_API void clh_load_options_init(clh_load_options *options);

/* Saves the heads (see above) atomically to path. A failure at any step
 * before the final rename leaves a previous file at path intact. */
CLH_API clh_status clh_heads_save(const clh_heads *heads, const char *path);

/* The same, with extra tensors and metadata appended (e.g. optimizer state).
 * Their names must not collide with the heads' tensors or metadata keys
 * (CLH_E_INVALID_ARG). */
CLH_API clh_status clh_heads_save_ex(const clh_heads *heads, const char *path,
                                     const clh_st_tensor *extra, size_t n_extra,
                                     const clh_st_meta *extra_meta, size_t n_extra_meta);

/* The same checkpoint in memory: *bytes (free with clh_st_bytes_free) and
 * *len hold exactly the bytes clh_heads_save(_ex) writes to a file. On error
 * *bytes and *len are unchanged. */
CLH_API clh_status clh_heads_save_mem(const clh_heads *heads, unsigned char **bytes, size_t *len);
CLH_API clh_status clh_heads_save_mem_ex(const clh_heads *heads, unsigned char **bytes,
                                         size_t *len, const clh_st_tensor *extra, size_t n_extra,
                                         const clh_st_meta *extra_meta, size_t n_extra_meta);

/* Loads a checkpoint into a new handle. options may be NULL (defaults). On
 * error *out is unchanged. */
CLH_API clh_status clh_heads_load(clh_heads **out, const char *path,
                                  const clh_load_options *options);

/* The same from an already parsed file (e.g. one that also holds optimizer
 * state read with the safetensors API). */
CLH_API clh_status clh_heads_load_file(clh_heads **out, const clh_st_file *file,
                                       const clh_load_options *options);

/* Loads a checkpoint held in memory (len bytes, e.g. from clh_heads_save_mem;
 * the caller keeps its buffer), exactly as clh_heads_load loads a file. */
CLH_API clh_status clh_heads_load_mem(clh_heads **out, const void *bytes, size_t len,
                                      const clh_load_options *options);

/* Loads a checkpoint's weights into an existing handle, which must have the
 * same paradigm, in_features, tasks (in the same order) and class counts
 * (else CLH_E_MISMATCH naming the first difference). Frozen, masked and
 * has-gradient flags are taken from the file when it has clheads metadata.
 * Gradients are kept. On error the handle is unchanged.
 *
 * Every save and load function ties its failure detail to the handle it was
 * given, so clh_heads_last_error(heads) returns it as clh_last_error() does. */
CLH_API clh_status clh_heads_load_into(clh_heads *heads, const char *path,
                               const clh_load_options *options);

#ifdef __cplusplus
}
#endif
#endif
