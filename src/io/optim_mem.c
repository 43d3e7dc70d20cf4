/* Optimizer state to and from memory: the same tensors and metadata as a
 * file (optim_io.c), encoded or parsed by the safetensors layer. */
#include "clheads/optim.h"
#include "common/error.h"

clh_status clh_optim_save_mem(const clh_optim *optim, unsigned char **bytes, size_t *len) {
    if (!optim || !bytes || !len)
        return clh_fail(CLH_E_NULL, "clh_optim_save_mem: optim, bytes and len are required");
    clh_optim_export *exported = NULL;
    clh_status st = clh_optim_export_create(optim, &exported);
    if (st) return st;
    size_t n_tensors = 0, n_meta = 0;
    const clh_st_tensor *tensors = clh_optim_export_tensors(exported, &n_tensors);
    const clh_st_meta *meta = clh_optim_export_meta(exported, &n_meta);
    st = clh_st_encode(tensors, n_tensors, meta, n_meta, bytes, len);
    clh_optim_export_free(exported);
    return st;
}

clh_status clh_optim_load_mem(clh_optim *optim, const void *bytes, size_t len) {
    if (!optim || !bytes)
        return clh_fail(CLH_E_NULL, "clh_optim_load_mem: optim and bytes are required");
    clh_st_file *file = NULL;
    clh_status st = clh_st_parse(&file, bytes, len);
    if (st) return st;
    st = clh_optim_load_file(optim, file);
    clh_st_free(file);
    return st;
}
