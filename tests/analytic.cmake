# Analytic heads (issue 11): ridge, NCM and streaming LDA against numpy,
# incremental = one-shot, bad inputs change nothing, statistics save/load,
# the syrk / Cholesky / random-feature kernels.
# Reference data: tests/data/analytic/ (regenerate with /usr/bin/python3
# scripts/gen_analytic_reference.py).
set(CLH_ANALYTIC_TESTS kernels reference stream)
if(CLH_WITH_IO) # file round trips; the errors test compares encoded snapshots
  list(APPEND CLH_ANALYTIC_TESTS errors io)
endif()
foreach(t ${CLH_ANALYTIC_TESTS})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/analytic/test_analytic_${t}.c)
    clh_add_test(test_analytic_${t} analytic/test_analytic_${t}.c refdata.c)
  endif()
endforeach()
# The kernels and the reference again with the portable code forced.
if(TARGET test_analytic_reference)
  add_test(NAME test_analytic_reference_portable COMMAND test_analytic_reference portable)
endif()
# Smoke test: the analytic benchmark's quick mode runs (it checks no times).
if(TARGET bench_analytic)
  add_test(NAME bench_analytic_quick COMMAND bench_analytic --quick)
  set_tests_properties(bench_analytic_quick PROPERTIES TIMEOUT 120)
endif()
