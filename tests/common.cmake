# The common layer's public helpers: clh_double_parse, the reader of decimal
# numbers whatever the locale (include/clheads/number.h).
clh_add_test(test_common_number common/test_common_number.c)
