include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS resilience EXPORT resilience-targets)
install(DIRECTORY include/resilience DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT resilience-targets NAMESPACE resilience::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/resilience)
configure_package_config_file(cmake/resilience-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/resilience-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/resilience)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/resilience-config-version.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/resilience-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/resilience-config-version.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/resilience)
