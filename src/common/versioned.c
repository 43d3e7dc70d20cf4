/* Size-checked copies of caller-allocated structs that grow (see versioned.h). */
#include <string.h>

#include "common/error.h"
#include "common/versioned.h"

static clh_status check_size(size_t given_size, size_t full_size, size_t first_size,
                             const char *what) {
    if (given_size < first_size)
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: struct_size is %zu, expected %zu: initialise the struct with its "
                        "init function first",
                        what, given_size, full_size);
    if (given_size > full_size)
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: struct_size is %zu but this clheads library knows %zu bytes: the "
                        "program was compiled against a newer clheads header",
                        what, given_size, full_size);
    return CLH_OK;
}

clh_status clh_versioned_read(void *full, size_t full_size, size_t first_size, const void *given,
                              const char *what) {
    size_t given_size;
    memcpy(&given_size, given, sizeof given_size);
    clh_status st = check_size(given_size, full_size, first_size, what);
    if (st) return st;
    memcpy(full, given, given_size);
    memcpy(full, &full_size, sizeof full_size);
    return CLH_OK;
}

clh_status clh_versioned_write(void *given, const void *full, size_t full_size, size_t first_size,
                               const char *what) {
    size_t given_size;
    memcpy(&given_size, given, sizeof given_size);
    clh_status st = check_size(given_size, full_size, first_size, what);
    if (st) return st;
    unsigned char *out = given;
    const unsigned char *in = full;
    memcpy(out + sizeof given_size, in + sizeof given_size, given_size - sizeof given_size);
    return CLH_OK;
}
