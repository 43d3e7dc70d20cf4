/* clh_double_parse (include/clheads/number.h): what "%.17g" writes in the C
 * locale reads back bit for bit (subnormals, signed zero, the extremes,
 * inf, nan); the forms strtod would also take (blanks, hex, a decimal comma,
 * trailing text) and overflow are CLH_E_INVALID_ARG with *out unchanged and
 * the text in the detail; NULL is CLH_E_NULL; and under de_DE (decimal comma
 * in effect) "0.5" is still one half. The locale comes from Debian's
 * locales-all (scripts/deps.sh); when it is missing that part is reported
 * and skipped. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void round_trips(void) {
    const double values[] = {0.0,      -0.0,     0.1,      -1e-3,   1.0 / 3.0, 3.141592653589793,
                             1e300,    -1e-300,  DBL_MAX,  -DBL_MAX, DBL_MIN,  DBL_TRUE_MIN,
                             1e-310,   0.0125,   INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "%.17g", values[i]);
        double got = 42.0;
        CHECK_OK(clh_double_parse(text, &got));
        CHECK(same_bits(got, values[i]));
        if (!same_bits(got, values[i])) fprintf(stderr, "  \"%s\" read back as %.17g\n", text, got);
    }
    double got = 0;
    CHECK_OK(clh_double_parse("nan", &got));
    CHECK(isnan(got));
}

static void reads(void) {
    static const struct {
        const char *text;
        double want;
    } cases[] = {{"0.5", 0.5},   {"-1e-3", -0.001}, {"+2", 2.0},    {".5", 0.5},
                 {"5.", 5.0},    {"1E+2", 100.0},   {"-inf", -INFINITY},
                 {"1e-400", 0.0}, /* below the smallest subnormal: rounds to 0 */
                 {"2.2250738585072014e-308", DBL_MIN}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = 42.0;
        CHECK_OK(clh_double_parse(cases[i].text, &got));
        CHECK(same_bits(got, cases[i].want));
    }
}

static void rejects(void) {
    static const char *const bad[] = {"",     " 0.5", "0.5 ", "0,5",   "0x10", "-0x1p3", "1e400",
                                      "-1e400", "abc", "1.5x", "e5",   "--1",  "1e",     "\t1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double got = 42.0;
        clh_clear_error();
        CHECK_STATUS(clh_double_parse(bad[i], &got), CLH_E_INVALID_ARG);
        CHECK(got == 42.0); /* unchanged */
        CHECK(strstr(clh_last_error(), "clh_double_parse") != NULL);
        if (bad[i][0]) CHECK(strstr(clh_last_error(), bad[i]) != NULL);
    }
    CHECK(strstr(clh_last_error(), "not a decimal number") != NULL);
    double got = 42.0;
    CHECK_STATUS(clh_double_parse("1e400", &got), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "past the range of double") != NULL);
    CHECK_STATUS(clh_double_parse(NULL, &got), CLH_E_NULL);
    CHECK_STATUS(clh_double_parse("1", NULL), CLH_E_NULL);
    CHECK(got == 42.0);
}

static void under_decimal_comma(void) {
    if (!setlocale(LC_ALL, "de_DE.UTF-8")) {
        printf("  SKIPPED: locale de_DE.UTF-8 is not installed (Debian: locales-all)\n");
        return;
    }
    char text[16];
    snprintf(text, sizeof text, "%.3f", 0.5);
    CHECK(strcmp(text, "0,500") == 0); /* the locale is really in effect */
    double got = 42.0;
    CHECK_OK(clh_double_parse("0.5", &got));
    CHECK(got == 0.5);
    got = 42.0;
    CHECK_STATUS(clh_double_parse("0,5", &got), CLH_E_INVALID_ARG);
    CHECK(got == 42.0);
    snprintf(text, sizeof text, "%.3f", 0.25);
    CHECK(strcmp(text, "0,250") == 0); /* the caller's locale is back */
    setlocale(LC_ALL, "C");
}

int main(void) {
    round_trips();
    reads();
    rejects();
    under_decimal_comma();
    return check_done("test_common_number");
}
