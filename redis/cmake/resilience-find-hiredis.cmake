# Finds hiredis for the Redis component and makes sure the imported target hiredis::hiredis
# exists (the name hiredis 1.x's own CMake package gives it). Tried in order: a target already
# there, hiredis's own CMake package, pkg-config, then the header and the library by name (so
# that a machine without pkg-config still builds). Sets resilience_hiredis_FOUND.
# Used by the build (redis/CMakeLists.txt) and by the installed package config.
if(NOT TARGET hiredis::hiredis)
  find_package(hiredis CONFIG QUIET)
endif()
if(NOT TARGET hiredis::hiredis)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(resilience_hiredis QUIET IMPORTED_TARGET hiredis)
  endif()
  if(TARGET PkgConfig::resilience_hiredis)
    add_library(hiredis::hiredis INTERFACE IMPORTED)
    target_link_libraries(hiredis::hiredis INTERFACE PkgConfig::resilience_hiredis)
  endif()
endif()
if(NOT TARGET hiredis::hiredis)
  find_path(RESILIENCE_HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
  find_library(RESILIENCE_HIREDIS_LIBRARY hiredis)
  if(RESILIENCE_HIREDIS_INCLUDE_DIR AND RESILIENCE_HIREDIS_LIBRARY)
    add_library(hiredis::hiredis UNKNOWN IMPORTED)
    set_target_properties(hiredis::hiredis PROPERTIES
      IMPORTED_LOCATION "${RESILIENCE_HIREDIS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${RESILIENCE_HIREDIS_INCLUDE_DIR}")
  endif()
endif()
if(TARGET hiredis::hiredis)
  set(resilience_hiredis_FOUND TRUE)
else()
  set(resilience_hiredis_FOUND FALSE)
endif()
