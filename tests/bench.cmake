# The speed area (issue 5).
# test_gemm_portable: the portable multiply against a double reference, with
# the kernels the CPU selects (AVX-512 where present), then capped at AVX2 and
# at plain C (CLH_PORTABLE_KERNEL), so each path is tested on one machine.
# Other processors have the plain C kernel only: one run.
clh_add_test(test_gemm_portable kernels/test_gemm_portable.c)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|i[3-6]86)$")
  foreach(kernel avx2 c)
    add_test(NAME test_gemm_portable_${kernel} COMMAND test_gemm_portable)
    set_tests_properties(test_gemm_portable_${kernel} PROPERTIES ENVIRONMENT CLH_PORTABLE_KERNEL=${kernel})
  endforeach()
endif()

# Smoke test: the benchmark's quick mode still builds, runs and prints its rows
# (it checks no times; scripts/bench.sh --quick also runs the PyTorch side).
if(TARGET clheads_bench)
  add_test(NAME bench_quick COMMAND clheads_bench --quick --budget-ms 2)
  set_tests_properties(bench_quick PROPERTIES TIMEOUT 120)
endif()
# The same for bench_save (saving and loading many heads): a few heads, once.
if(TARGET bench_save)
  add_test(NAME bench_save_quick COMMAND bench_save --heads 20,200 --reps 1
           --path ${CMAKE_CURRENT_BINARY_DIR}/bench_save_quick.safetensors)
endif()
