# The architecture (docs/ARCHITECTURE.md): every library file includes only
# its own layer or lower, and cli/ and examples/ only the public headers.
find_program(CLH_BASH bash)
if(CLH_BASH)
  add_test(NAME test_arch_layers COMMAND ${CLH_BASH} ${PROJECT_SOURCE_DIR}/scripts/check_layers.sh)
endif()
