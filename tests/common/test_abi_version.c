/* The runtime version and the invalid paradigm, through the shared library:
 * clh_version_number()/clh_version_string() agree with the CLH_VERSION_*
 * macros and with CMake's project(VERSION) (passed in as CLH_PROJECT_VERSION),
 * and clh_heads_paradigm(NULL) is CLH_PARADIGM_INVALID, which no call takes. */
#include <stdio.h>
#include <string.h>

#include "check.h"

int main(void) {
    CHECK(clh_version_number() == CLH_VERSION_NUMBER);
    CHECK(CLH_VERSION_NUMBER == CLH_VERSION_MAJOR * 10000 + CLH_VERSION_MINOR * 100 + CLH_VERSION_PATCH);
    CHECK(strcmp(clh_version_string(), CLH_VERSION_STRING) == 0);
    CHECK(strcmp(clh_version_string(), CLH_PROJECT_VERSION) == 0);
    char parts[32];
    snprintf(parts, sizeof parts, "%d.%d.%d", CLH_VERSION_MAJOR, CLH_VERSION_MINOR, CLH_VERSION_PATCH);
    CHECK(strcmp(parts, CLH_VERSION_STRING) == 0);
    unsigned n = clh_version_number();
    snprintf(parts, sizeof parts, "%u.%u.%u", n / 10000, n / 100 % 100, n % 100);
    CHECK(strcmp(parts, clh_version_string()) == 0);

    CHECK(clh_heads_paradigm(NULL) == CLH_PARADIGM_INVALID);
    CHECK(clh_paradigm_name(CLH_PARADIGM_INVALID) == NULL);
    clh_heads *heads = NULL;
    CHECK_STATUS(clh_heads_create(&heads, CLH_PARADIGM_INVALID, 4, 1), CLH_E_INVALID_ARG);
    CHECK(heads == NULL);
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 4, 1));
    CHECK(clh_heads_paradigm(heads) == CLH_TIL);
    clh_heads_free(heads);
    return check_done("test_abi_version");
}
