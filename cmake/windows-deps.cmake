# Dependencies of the Windows builds, included by the top CMakeLists.txt when WIN32: the mingw-w64
# cross build (below), or a native one (vcpkg's packages).
#  - No OpenSSL: src/win32/crypto_bcrypt.cpp uses BCrypt (-lbcrypt).
#  - GoogleTest: Debian ships the sources in /usr/src/googletest; built here with the cross compiler.
#  - nlohmann/json is header-only: the host's headers are used, through a directory that holds only
#    a link to /usr/include/nlohmann (adding /usr/include itself would put glibc's headers in front
#    of mingw's).
# A native Windows build (MSVC, preset windows-msvc): the packages vcpkg installed (the CI's
# Windows job runs `vcpkg install gtest nlohmann-json` for the x64-windows-static triplet).
if(NOT CMAKE_CROSSCOMPILING)
  find_package(nlohmann_json 3 CONFIG REQUIRED)
  if(NPIPE_BUILD_TESTS OR NPIPE_BUILD_CONFORMANCE)
    find_package(GTest CONFIG REQUIRED)
  endif()
endif()

set(NPIPE_GOOGLETEST_SOURCE_DIR /usr/src/googletest CACHE PATH "GoogleTest sources for the cross build")
set(NPIPE_NLOHMANN_INCLUDE_DIR /usr/include/nlohmann CACHE PATH "nlohmann/json headers (host)")

if(NOT TARGET nlohmann_json::nlohmann_json)
  if(NOT EXISTS "${NPIPE_NLOHMANN_INCLUDE_DIR}/json.hpp")
    message(FATAL_ERROR "nlohmann/json.hpp not found in ${NPIPE_NLOHMANN_INCLUDE_DIR}: "
                        "install nlohmann-json3-dev (scripts/install-deps windows)")
  endif()
  set(_npipe_json_dir "${CMAKE_BINARY_DIR}/host-headers")
  file(MAKE_DIRECTORY "${_npipe_json_dir}")
  file(CREATE_LINK "${NPIPE_NLOHMANN_INCLUDE_DIR}" "${_npipe_json_dir}/nlohmann" SYMBOLIC)
  add_library(nlohmann_json INTERFACE)
  target_include_directories(nlohmann_json SYSTEM INTERFACE "${_npipe_json_dir}")
  add_library(nlohmann_json::nlohmann_json ALIAS nlohmann_json)
endif()

if((NPIPE_BUILD_TESTS OR NPIPE_BUILD_CONFORMANCE) AND NOT TARGET GTest::gtest)
  if(NOT EXISTS "${NPIPE_GOOGLETEST_SOURCE_DIR}/CMakeLists.txt")
    message(FATAL_ERROR "GoogleTest sources not found in ${NPIPE_GOOGLETEST_SOURCE_DIR}: "
                        "install googletest (scripts/install-deps windows)")
  endif()
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK ON CACHE BOOL "" FORCE)
  set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
  # GoogleTest's own sources are built with -w: they are not held to npipe's -Werror.
  add_subdirectory("${NPIPE_GOOGLETEST_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/googletest" EXCLUDE_FROM_ALL)
  foreach(t gtest gtest_main gmock gmock_main)
    if(TARGET ${t})
      set_property(TARGET ${t} PROPERTY COMPILE_OPTIONS -w)
    endif()
  endforeach()
  foreach(t gtest gtest_main gmock gmock_main)
    if(TARGET ${t} AND NOT TARGET GTest::${t})
      add_library(GTest::${t} ALIAS ${t})
    endif()
  endforeach()
endif()
