# Tests of the `clheads` command-line tool (cli/). They link the tool's code
# (clheads_cli) and drive the subcommands in-process; one script runs the real
# binary. Skipped when the CLI is not built.
if(TARGET clheads_cli)
  function(clh_add_cli_test name)
    clh_test_sources(sources ${name} ${ARGN})
    add_executable(${name} ${sources})
    target_link_libraries(${name} PRIVATE clheads_cli clheads_static PkgConfig::JANSSON m)
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src
                               ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/cli)
    target_compile_definitions(${name} PRIVATE
      CLH_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
      CLH_TEST_WORK_DIR="${CMAKE_CURRENT_BINARY_DIR}/cli_work/${name}")
    clh_enable_warnings(${name})
    add_test(NAME ${name} COMMAND ${name})
  endfunction()

  clh_add_cli_test(test_cli_metrics cli/test_cli_metrics.c)
  clh_add_cli_test(test_cli_run cli/test_cli_run.c)
  clh_add_cli_test(test_cli_resume cli/test_cli_resume.c)
  clh_add_cli_test(test_cli_predict cli/test_cli_predict.c)
  clh_add_cli_test(test_cli_errors cli/test_cli_errors.c)
  clh_add_cli_test(test_cli_features cli/test_cli_features.c refdata.c)
  clh_add_cli_test(test_cli_methods cli/test_cli_methods.c)
  # Issue 8 (hostile input): each test names the findings it covers.
  clh_add_cli_test(test_cli_fix_f02_f17_data cli/test_cli_fix_data.c)
  clh_add_cli_test(test_cli_fix_f03_f06_f10_f17_outputs cli/test_cli_fix_outputs.c)
  clh_add_cli_test(test_cli_fix_f04_f05_resume cli/test_cli_fix_resume.c)
  clh_add_cli_test(test_cli_fix_locale cli/test_cli_fix_locale.c)
  # The resume fuzz target over its committed corpus (fuzz/corpus_resume/),
  # without libFuzzer, so CI replays it under the sanitizers.
  add_executable(fuzz_resume_replay ${PROJECT_SOURCE_DIR}/fuzz/replay.c
    ${PROJECT_SOURCE_DIR}/fuzz/fuzz_resume.c)
  target_link_libraries(fuzz_resume_replay PRIVATE clheads_cli clheads_static PkgConfig::JANSSON m)
  target_include_directories(fuzz_resume_replay PRIVATE ${PROJECT_SOURCE_DIR}/fuzz
    ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/cli)
  clh_enable_warnings(fuzz_resume_replay)
  add_test(NAME test_cli_fuzz_resume_replay
           COMMAND fuzz_resume_replay ${PROJECT_SOURCE_DIR}/fuzz/corpus_resume)
  add_test(NAME test_cli_exit_codes
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli_exit_codes.sh
                   $<TARGET_FILE:clheads> ${CMAKE_CURRENT_BINARY_DIR}/cli_work/test_cli_exit_codes)
endif()
