# Install rules: headers, both libraries, a pkg-config file (clheads.pc) and a
# CMake package config (find_package(clheads) -> clheads::clheads, the shared
# library, and clheads::clheads_static).
include(CMakePackageConfigHelpers)

set(CLH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/clheads)
set_target_properties(clheads_static PROPERTIES EXPORT_NAME clheads_static)
set(CLH_INSTALL_TARGETS clheads_static)
if(TARGET clheads_shared)
  set_target_properties(clheads_shared PROPERTIES EXPORT_NAME clheads)
  list(APPEND CLH_INSTALL_TARGETS clheads_shared)
endif()

install(FILES ${PROJECT_SOURCE_DIR}/include/clheads.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/clheads DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(TARGETS ${CLH_INSTALL_TARGETS} EXPORT clheadsTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT clheadsTargets NAMESPACE clheads:: FILE clheadsTargets.cmake DESTINATION ${CLH_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/clheadsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/clheadsConfig.cmake INSTALL_DESTINATION ${CLH_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/clheadsConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/clheadsConfig.cmake ${PROJECT_BINARY_DIR}/clheadsConfigVersion.cmake
        DESTINATION ${CLH_CMAKE_DIR})

# pkg-config: paths relative to the .pc file's own directory, so the file stays
# right when the prefix is chosen at install time (cmake --install --prefix).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CLH_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CLH_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(CLH_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  # One ".." for each component of <libdir>/pkgconfig below the prefix.
  string(REPLACE "/" ";" CLH_PC_PARTS "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  set(CLH_PC_PREFIX "\${pcfiledir}")
  foreach(part ${CLH_PC_PARTS})
    string(APPEND CLH_PC_PREFIX "/..")
  endforeach()
  set(CLH_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(CLH_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(CLH_PC_REQUIRES_PRIVATE "")
set(CLH_PC_LIBS_PRIVATE "-lm")
if(CLH_WITH_THREADS)
  string(APPEND CLH_PC_LIBS_PRIVATE " -pthread")
endif()
if(CLH_HAVE_CBLAS)
  string(APPEND CLH_PC_REQUIRES_PRIVATE " openblas")
endif()
if(CLH_HAVE_LAPACKE)
  string(APPEND CLH_PC_REQUIRES_PRIVATE " lapacke")
endif()
string(STRIP "${CLH_PC_REQUIRES_PRIVATE}" CLH_PC_REQUIRES_PRIVATE)
configure_file(${PROJECT_SOURCE_DIR}/cmake/clheads.pc.in ${PROJECT_BINARY_DIR}/clheads.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/clheads.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
