/* The load options a loader works with (see checkpoint_options.h). */
#include "io/checkpoint_options.h"
#include "common/versioned.h"

clh_status clh_load_options_read(const clh_load_options *given, clh_load_options *full) {
    clh_load_options_init(full);
    if (!given) return CLH_OK;
    return clh_versioned_read(full, sizeof *full, CLH_LOAD_OPTIONS_FIRST_SIZE, given,
                              "clh_load_options");
}
