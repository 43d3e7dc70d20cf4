/* Locale-independent decimal numbers (common/number.h; the reader is public,
 * clheads/number.h): printf and strtod run under a thread-local "C" numeric
 * locale (POSIX uselocale), so a caller's setlocale never reaches them and
 * other threads are not affected. */
#define _POSIX_C_SOURCE 200809L

#include "common/number.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"

/* Switches this thread to the C numeric locale; 0 when it cannot. */
static int enter_c_locale(locale_t *c_locale, locale_t *previous) {
    *c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (*c_locale == (locale_t)0) return 0;
    *previous = uselocale(*c_locale);
    return 1;
}

static void leave_c_locale(locale_t c_locale, locale_t previous) {
    uselocale(previous);
    freelocale(c_locale);
}

int clh_format_double(double value, char text[CLH_DOUBLE_TEXT_CAP]) {
    locale_t c_locale, previous;
    if (!enter_c_locale(&c_locale, &previous)) return 0;
    int n = snprintf(text, CLH_DOUBLE_TEXT_CAP, "%.17g", value);
    leave_c_locale(c_locale, previous);
    return n > 0 && n < CLH_DOUBLE_TEXT_CAP;
}

/* The characters a decimal number may start with (strtod would also skip
 * blanks and take "0x..." hex, which no file of ours holds). */
static int starts_like_decimal(const char *text) {
    const char *p = text;
    if (*p == '-' || *p == '+') p++;
    if (*p == '0' && (p[1] == 'x' || p[1] == 'X')) return 0;
    return (*p >= '0' && *p <= '9') || *p == '.' || *p == 'i' || *p == 'I' || *p == 'n' ||
           *p == 'N';
}

static clh_status not_decimal(const char *text) {
    return clh_fail(CLH_E_INVALID_ARG, "clh_double_parse: \"%.40s\" is not a decimal number",
                    text);
}

clh_status clh_double_parse(const char *text, double *out) {
    if (!text) return clh_fail(CLH_E_NULL, "clh_double_parse: text is NULL");
    if (!out) return clh_fail(CLH_E_NULL, "clh_double_parse: out is NULL");
    if (!starts_like_decimal(text)) return not_decimal(text);
    locale_t c_locale, previous;
    if (!enter_c_locale(&c_locale, &previous))
        return clh_fail(CLH_E_NOMEM, "clh_double_parse: cannot create the C locale");
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    int range_error = errno == ERANGE;
    leave_c_locale(c_locale, previous);
    if (end == text || *end != '\0') return not_decimal(text);
    /* ERANGE also flags subnormal results, which round-trip exactly. */
    if (range_error && fabs(value) > DBL_MIN)
        return clh_fail(CLH_E_INVALID_ARG, "clh_double_parse: \"%.40s\" is past the range of "
                        "double", text);
    *out = value;
    return CLH_OK;
}

size_t clh_digits_before(char *end, uint64_t value) {
    char *p = end;
    do {
        *--p = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    return (size_t)(end - p);
}
