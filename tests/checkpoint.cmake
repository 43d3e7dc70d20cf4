# Checkpoint tests (issue 3 item 6): the strict safetensors reader (one test
# per rejection rule), the writer, half-precision conversion, heads save/load
# in every paradigm, atomic saves under injected failures, PyTorch-written
# files (tests/data/checkpoint/, from scripts/gen_checkpoint_reference.py),
# the fuzz corpus replay, and the round trip into PyTorch (when torch exists).
# All of them are file I/O: none in a build without it (CLH_WITH_IO=OFF).
if(NOT CLH_WITH_IO)
  return()
endif()
foreach(t safetensors_reject safetensors_format checkpoint_roundtrip checkpoint_atomic
          checkpoint_torch_files)
  clh_add_test(test_${t} io/test_${t}.c refdata.c)
endforeach()
# The writer's bytes against a Python-written file and against jansson's dump.
clh_add_test(test_safetensors_header_bytes io/test_safetensors_header_bytes.c)
target_link_libraries(test_safetensors_header_bytes PRIVATE PkgConfig::JANSSON)
# Its helpers: int64 text as snprintf wrote it, the set that finds repeated names.
clh_add_test(test_common_strings common/test_common_strings.c)

# The fuzz target run over the committed corpus (fuzz/corpus/), built always so
# that CI replays it under the sanitizers (CLH_SANITIZE=ON).
add_executable(fuzz_replay ${PROJECT_SOURCE_DIR}/fuzz/replay.c
  ${PROJECT_SOURCE_DIR}/fuzz/fuzz_safetensors.c ${PROJECT_SOURCE_DIR}/fuzz/fuzz_load_heads.c)
target_link_libraries(fuzz_replay PRIVATE clheads_static m)
target_include_directories(fuzz_replay PRIVATE ${PROJECT_SOURCE_DIR}/fuzz)
clh_enable_warnings(fuzz_replay)
add_test(NAME test_checkpoint_fuzz_replay COMMAND fuzz_replay ${PROJECT_SOURCE_DIR}/fuzz/corpus)
# The optimizer-state loader's fuzz target over its corpus (fuzz/corpus_optim/).
add_executable(fuzz_replay_optim ${PROJECT_SOURCE_DIR}/fuzz/replay.c
  ${PROJECT_SOURCE_DIR}/fuzz/fuzz_optim_state.c)
target_link_libraries(fuzz_replay_optim PRIVATE clheads_static m)
target_include_directories(fuzz_replay_optim PRIVATE ${PROJECT_SOURCE_DIR}/fuzz)
clh_enable_warnings(fuzz_replay_optim)
add_test(NAME test_fix_fuzz_optim_replay COMMAND fuzz_replay_optim ${PROJECT_SOURCE_DIR}/fuzz/corpus_optim)

# Round trip into PyTorch: the C side writes checkpoints, the script loads them
# with load_state_dict into the seed's heads and compares logits. Registered
# only when Debian's torch imports (scripts/deps.sh installs python3-torch).
add_executable(checkpoint_export io/checkpoint_export.c)
target_link_libraries(checkpoint_export PRIVATE clheads_static m)
target_include_directories(checkpoint_export PRIVATE ${PROJECT_SOURCE_DIR}/src)
clh_enable_warnings(checkpoint_export)
execute_process(COMMAND /usr/bin/python3 -c "import torch, numpy"
  RESULT_VARIABLE CLH_TORCH_IMPORT OUTPUT_QUIET ERROR_QUIET)
# Not when cross-compiling: the script runs the exporter itself, without the
# emulator.
if(CLH_TORCH_IMPORT EQUAL 0 AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME test_checkpoint_torch_roundtrip
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/scripts/torch_roundtrip.py
            --exporter $<TARGET_FILE:checkpoint_export>
            --workdir ${CMAKE_CURRENT_BINARY_DIR}/checkpoint_roundtrip)
else()
  message(STATUS "python3-torch not importable or cross-compiling: test_checkpoint_torch_roundtrip is skipped")
endif()
