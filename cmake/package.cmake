# npipe as a package (included by the top CMakeLists.txt when NPIPE_INSTALL is ON):
#   - install(): the library, its headers, `npipe` and `npipe-agent` (when built);
#   - the exported target npipe::npipe, with npipeConfig.cmake and npipeConfigVersion.cmake, for
#     find_package(npipe);
#   - npipe.pc, for pkg-config;
#   - cpack: a Debian package of all of it (`cpack -G DEB` in the build tree).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NPIPE_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/npipe"
    CACHE STRING "Where npipeConfig.cmake is installed, relative to the prefix")

install(TARGETS npipe EXPORT npipeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/reference/include/npipe
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
foreach(tool npipe-cli npipe-agent)
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

install(EXPORT npipeTargets NAMESPACE npipe:: FILE npipeTargets.cmake
        DESTINATION ${NPIPE_CMAKE_INSTALL_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/npipeConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/package/npipeConfig.cmake
                              INSTALL_DESTINATION ${NPIPE_CMAKE_INSTALL_DIR})
# 0.x: a new minor version may change the API (SameMinorVersion); from 1.0 on, SameMajorVersion.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_npipe_compat SameMinorVersion)
else()
  set(_npipe_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/npipeConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY ${_npipe_compat})
install(FILES ${PROJECT_BINARY_DIR}/package/npipeConfig.cmake
              ${PROJECT_BINARY_DIR}/package/npipeConfigVersion.cmake
        DESTINATION ${NPIPE_CMAKE_INSTALL_DIR})

# pkg-config. The library is static, so what it links with goes in Libs/Requires, not *.private.
if(WIN32)
  set(NPIPE_PC_REQUIRES "")
  set(NPIPE_PC_LIBS_EXTRA "-lbcrypt -ladvapi32")
else()
  set(NPIPE_PC_REQUIRES "libcrypto")
  set(NPIPE_PC_LIBS_EXTRA "-pthread")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(NPIPE_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(NPIPE_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(NPIPE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(NPIPE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# The prefix as seen from the installed .pc file, so the package can be moved (a temporary
# prefix, a Debian package) without rewriting it.
file(RELATIVE_PATH NPIPE_PC_PREFIX_FROM_PCDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" NPIPE_PC_PREFIX_FROM_PCDIR "${NPIPE_PC_PREFIX_FROM_PCDIR}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/npipe.pc.in ${PROJECT_BINARY_DIR}/package/npipe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/npipe.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# cpack -G DEB: one package with the library, headers, package files and tools. The tools link
# libcrypto dynamically (dpkg-shlibdeps finds that dependency); a program built against the
# static library links libcrypto too, hence libssl-dev.
set(CPACK_PACKAGE_NAME npipe)
set(CPACK_PACKAGE_VENDOR "npipe")
set(CPACK_PACKAGE_CONTACT "npipe maintainers <npipe@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libssl-dev")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR}/package)
include(CPack)
