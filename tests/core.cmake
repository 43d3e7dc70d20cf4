# Core tests (issue 2): PyTorch references, finite differences, error cases,
# the seed's bugs, growth/freeze/mask, allocation-free steady state, threads,
# sizes past a 32-bit size_t,
# and a consumer built against the installed library.
# Reference data: tests/data/core/ (regenerate with scripts/gen_core_reference.py).
set(CLH_CORE_TESTS reference init gradcheck dispatch errors seedbugs growth noalloc threads sizes)
foreach(t ${CLH_CORE_TESTS})
  clh_add_test(test_core_${t} test_core_${t}.c refdata.c)
endforeach()
# The PyTorch reference again with each multiply kernel forced (the default
# policy mixes them by shape).
if(TARGET test_core_reference)
  add_test(NAME test_core_reference_blas COMMAND test_core_reference blas)
  add_test(NAME test_core_reference_portable COMMAND test_core_reference portable)
endif()
if(TARGET test_core_threads AND NOT CLH_THREAD_LOCAL_DETAIL)
  target_compile_definitions(test_core_threads PRIVATE CLH_NO_THREAD_LOCAL=1)
endif()

# The shared library unloaded (dlclose) after a threaded multiply: its helper
# threads are joined first, and it really goes (no -z nodelete).
if(TARGET clheads_shared AND CLH_WITH_THREADS)
  add_executable(test_core_unload kernels/test_core_unload.c)
  target_link_libraries(test_core_unload PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
  target_include_directories(test_core_unload PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(test_core_unload PRIVATE CLH_SHARED_LIBRARY="$<TARGET_FILE:clheads_shared>")
  add_dependencies(test_core_unload clheads_shared)
  clh_enable_warnings(test_core_unload)
  add_test(NAME test_core_unload COMMAND test_core_unload)
  set_tests_properties(test_core_unload PROPERTIES SKIP_RETURN_CODE 77)
endif()

# Installs this build into a temporary prefix and builds two consumers against
# it: one with pkg-config, one with find_package(clheads). Not when
# cross-compiling (the consumers would be built for the target by the host's
# tools), and only with the shared library it checks.
if(CMAKE_CROSSCOMPILING OR NOT TARGET clheads_shared)
  return()
endif()
set(CLH_INSTALL_TEST_CFLAGS "")
if(CLH_SANITIZE)
  set(CLH_INSTALL_TEST_CFLAGS "-fsanitize=address,undefined -fno-omit-frame-pointer")
endif()
add_test(NAME test_core_install
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install/install_test.sh
          ${PROJECT_BINARY_DIR} ${CMAKE_C_COMPILER} "${CLH_INSTALL_TEST_CFLAGS}")
set_tests_properties(test_core_install PROPERTIES TIMEOUT 300)
