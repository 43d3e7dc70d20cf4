# Core tests (issue 2): PyTorch references, finite differences, error cases,
# the seed's bugs, growth/freeze/mask, allocation-free steady state, threads,
# and a consumer built against the installed library.
# Reference data: tests/data/core/ (regenerate with scripts/gen_core_reference.py).
set(CLH_CORE_TESTS reference init gradcheck dispatch errors seedbugs growth noalloc threads)
foreach(t ${CLH_CORE_TESTS})
  clh_add_test(test_core_${t} test_core_${t}.c refdata.c)
endforeach()
# The PyTorch reference again with each multiply kernel forced (the default
# policy mixes them by shape).
if(TARGET test_core_reference)
  add_test(NAME test_core_reference_blas COMMAND test_core_reference blas)
  add_test(NAME test_core_reference_portable COMMAND test_core_reference portable)
endif()
if(TARGET test_core_threads)
  target_link_libraries(test_core_threads PRIVATE Threads::Threads)
endif()

# Installs this build into a temporary prefix and builds two consumers against
# it: one with pkg-config, one with find_package(clheads).
set(CLH_INSTALL_TEST_CFLAGS "")
if(CLH_SANITIZE)
  set(CLH_INSTALL_TEST_CFLAGS "-fsanitize=address,undefined -fno-omit-frame-pointer")
endif()
add_test(NAME test_core_install
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install/install_test.sh
          ${PROJECT_BINARY_DIR} ${CMAKE_C_COMPILER} "${CLH_INSTALL_TEST_CFLAGS}")
set_tests_properties(test_core_install PROPERTIES TIMEOUT 300)
