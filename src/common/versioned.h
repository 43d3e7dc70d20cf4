/* Internal: caller-allocated structs that can grow without breaking the ABI
 * (clh_optim_config, clh_load_options, clh_allocator).
 *
 * Each begins with `size_t struct_size`, which its init function (or the
 * caller) sets to the sizeof the caller was compiled with. New members are
 * only ever appended, starting at the previous release's sizeof (add an
 * explicit padding member when the old struct had tail padding), so an old
 * caller's struct_size never covers a member it does not know: the library
 * copies that prefix over its defaults. first_size is where the first
 * release's last member ends. A larger struct_size (a caller compiled
 * against a newer header) or one below the first size (not initialised) is
 * CLH_E_INVALID_ARG naming the struct.
 */
#ifndef CLH_INTERNAL_VERSIONED_H
#define CLH_INTERNAL_VERSIONED_H

#include <stddef.h>

#include "clheads/status.h"

/* Reads the caller's struct `given` into `full` (full_size bytes, already
 * holding the defaults): checks given's struct_size and copies that prefix.
 * full's struct_size ends up full_size. On error full is unchanged. */
clh_status clh_versioned_read(void *full, size_t full_size, size_t first_size, const void *given,
                              const char *what);

/* Writes the library's `full` struct into the caller's `given`, only the
 * prefix given's struct_size announces (struct_size itself is kept). On error
 * given is unchanged. */
clh_status clh_versioned_write(void *given, const void *full, size_t full_size, size_t first_size,
                               const char *what);

#endif
