/* Internal: the versioned layout of clh_lwf_options (src/versioned.h). */
#ifndef CLH_INTERNAL_LWF_H
#define CLH_INTERNAL_LWF_H

#include <stddef.h>

#include "clheads/methods.h"

/* Where the first release's last member (t_squared) ends. */
#define CLH_LWF_OPTIONS_FIRST_SIZE (offsetof(clh_lwf_options, t_squared) + sizeof(int))

/* The caller's options over the defaults, struct_size checked. */
clh_status clh_lwf_options_read(const clh_lwf_options *given, clh_lwf_options *full);

#endif
