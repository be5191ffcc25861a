include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS resilience EXPORT resilience-targets)
install(DIRECTORY include/resilience DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT resilience-targets NAMESPACE resilience::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/resilience)
configure_package_config_file(cmake/resilience-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/resilience-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/resilience)
# Header-only unless a compiled component is built: then the package is tied to the architecture.
if(RESILIENCE_BUILD_REDIS AND EXISTS ${PROJECT_SOURCE_DIR}/redis/CMakeLists.txt)
  set(resilience_arch_independent)
else()
  set(resilience_arch_independent ARCH_INDEPENDENT)
endif()
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/resilience-config-version.cmake
  COMPATIBILITY SameMinorVersion ${resilience_arch_independent})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/resilience-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/resilience-config-version.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/resilience)

# resilience_install_component(<target> <component> <header directory>): installs a compiled
# component (library and headers) into an export set of its own, resilience-<component>-targets,
# which the package config includes only when `find_package(resilience COMPONENTS <component>)`
# asks for it. Called by the component's own CMakeLists.txt, once its target exists.
function(resilience_install_component target component header_dir)
  install(TARGETS ${target} EXPORT resilience-${component}-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${header_dir} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT resilience-${component}-targets NAMESPACE resilience::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/resilience)
endfunction()
