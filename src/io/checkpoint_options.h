/* Internal: a caller's clh_load_options, checked and completed with defaults
 * (the struct grows by appending members; see versioned.h). */
#ifndef CLH_INTERNAL_CHECKPOINT_OPTIONS_H
#define CLH_INTERNAL_CHECKPOINT_OPTIONS_H

#include <stddef.h>

#include "clheads/checkpoint.h"

/* The end of the first released layout (its last member was ignore_unknown). */
#define CLH_LOAD_OPTIONS_FIRST_SIZE (offsetof(clh_load_options, ignore_unknown) + sizeof(int))

/* *full = the defaults overlaid with the caller's members; given may be NULL
 * (the defaults). CLH_E_INVALID_ARG for a bad struct_size. */
clh_status clh_load_options_read(const clh_load_options *given, clh_load_options *full);

#endif
