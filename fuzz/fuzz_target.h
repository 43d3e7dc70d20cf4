/* The fuzz target's entry point, shared by the libFuzzer build and the
 * corpus replay driver. */
#ifndef CLH_FUZZ_TARGET_H
#define CLH_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "clheads.h"

/* The target's name (its libFuzzer binary), for the replay driver's report. */
extern const char clh_fuzz_target_name[];
int clh_fuzz_one_input(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Feeds a parsed file to the checkpoint loader in every paradigm. */
void clh_fuzz_load_heads(const clh_st_file *file);

#endif
