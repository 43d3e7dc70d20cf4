# The speed area (issue 5).
# test_gemm_portable: the portable multiply against a double reference, with
# the kernel the CPU selects and again with the plain-C kernel forced.
clh_add_test(test_gemm_portable test_gemm_portable.c)
add_test(NAME test_gemm_portable_plain_c COMMAND test_gemm_portable)
set_tests_properties(test_gemm_portable_plain_c PROPERTIES ENVIRONMENT CLH_PORTABLE_KERNEL=c)

# Smoke test: the benchmark's quick mode still builds, runs and prints its rows
# (it checks no times; scripts/bench.sh --quick also runs the PyTorch side).
if(TARGET clheads_bench)
  add_test(NAME bench_quick COMMAND clheads_bench --quick --budget-ms 2)
  set_tests_properties(bench_quick PROPERTIES TIMEOUT 120)
endif()
