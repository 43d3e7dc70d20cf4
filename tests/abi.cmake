# ABI tests (issue 9): the shared library exports exactly the CLH_API
# declarations of include/clheads/, and the runtime version matches the
# headers and project(VERSION).
# The full library only: the device core (CLH_WITH_IO=OFF) leaves out the
# declared file functions.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CLH_WITH_IO)
  add_test(NAME test_abi_exports
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/abi/exports_test.sh ${PROJECT_SOURCE_DIR}/include
            $<TARGET_FILE:clheads_shared>)
endif()

add_test(NAME test_abi_alloc_scan
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/abi/alloc_scan.sh ${PROJECT_SOURCE_DIR}/src)

# Linked against the shared library: the version query must be exported.
add_executable(test_abi_version common/test_abi_version.c)
target_link_libraries(test_abi_version PRIVATE clheads_shared m)
target_include_directories(test_abi_version PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(test_abi_version PRIVATE CLH_PROJECT_VERSION="${PROJECT_VERSION}")
clh_enable_warnings(test_abi_version)
add_test(NAME test_abi_version COMMAND test_abi_version)

# The custom allocator and reserve; memory-buffer I/O; growable structs.
if(CLH_WITH_IO) # both save and load through memory buffers
  clh_add_test(test_abi_allocator common/test_abi_allocator.c)
  clh_add_test(test_abi_memio io/test_abi_memio.c)
endif()
clh_add_test(test_abi_structs common/test_abi_structs.c)
