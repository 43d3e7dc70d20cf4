/* Loading a heads checkpoint from memory: the strict parser, then the same
 * loader as for a file (saving to memory is in checkpoint_save.c). */
#include "clheads/checkpoint.h"
#include "common/error.h"

clh_status clh_heads_load_mem(clh_heads **out, const void *bytes, size_t len,
                              const clh_load_options *options) {
    if (!out || !bytes) return clh_fail(CLH_E_NULL, "clh_heads_load_mem: out and bytes are required");
    clh_st_file *file = NULL;
    clh_status status = clh_st_parse(&file, bytes, len);
    if (status == CLH_OK) status = clh_heads_load_file(out, file, options);
    clh_st_free(file);
    return status;
}
