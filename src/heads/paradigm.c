/* Paradigm names: "TIL", "CIL", "DIL", "MTL", "STL" (parsed case-insensitively). */
#include "common/ascii.h"
#include "common/error.h"
#include "clheads/heads.h"

static const char *const paradigm_names[] = {"TIL", "CIL", "DIL", "MTL", "STL"};
enum { PARADIGM_COUNT = sizeof paradigm_names / sizeof paradigm_names[0] };

const char *clh_paradigm_name(clh_paradigm paradigm) {
    if ((unsigned)paradigm >= PARADIGM_COUNT) return NULL;
    return paradigm_names[paradigm];
}

clh_status clh_paradigm_parse(const char *name, clh_paradigm *out) {
    if (!name) return clh_fail(CLH_E_NULL, "clh_paradigm_parse: name is NULL");
    if (!out) return clh_fail(CLH_E_NULL, "clh_paradigm_parse: out is NULL");
    for (unsigned i = 0; i < PARADIGM_COUNT; i++) {
        if (clh_equal_ignoring_case(name, paradigm_names[i])) {
            *out = (clh_paradigm)i;
            return CLH_OK;
        }
    }
    return clh_fail(CLH_E_INVALID_ARG, "unknown paradigm \"%.40s\" (expected TIL, CIL, DIL, MTL or STL)",
                    name);
}
