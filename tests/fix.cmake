# Regression tests of issue 8 (hostile input and the outside review), one per
# finding: test_fix_f<NN>_<what> fails on the code before the fix. The fuzz
# corpus replay of the optimizer-state loader is in checkpoint.cmake
# (test_fix_fuzz_optim_replay).
set(CLH_FIX_TESTS f01_optim_dtype f07_locale f08_sparse_header f11_last_error f12_task_ids
    f13_optim_paradigm f14_dirsync f15_optim_sizes f16_has_grad f18_optim_restore)
foreach(t ${CLH_FIX_TESTS})
  clh_add_test(test_fix_${t} fix/test_fix_${t}.c)
endforeach()

# Finding 9 is measured, not timed in a test: loading 100,000 heads.
# Run: build/tests/bench_fix_f09_many_heads [heads]
add_executable(bench_fix_f09_many_heads fix/bench_fix_f09_many_heads.c)
target_link_libraries(bench_fix_f09_many_heads PRIVATE clheads_static m)
clh_enable_warnings(bench_fix_f09_many_heads)

# Finding 1 through the CLI's resume (the tool's test helper, tests/cli.cmake).
if(TARGET clheads_cli)
  clh_add_cli_test(test_fix_f01_cli_resume fix/test_fix_f01_cli_resume.c)
endif()
