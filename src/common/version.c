/* The runtime version query (include/clheads/version.h). */
#include "clheads/version.h"

unsigned clh_version_number(void) { return CLH_VERSION_NUMBER; }

const char *clh_version_string(void) { return CLH_VERSION_STRING; }
