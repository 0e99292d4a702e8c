# Cross-building npipe for Windows x86-64 with Debian's mingw-w64 (the POSIX-threads flavour, so
# std::thread and std::mutex work) and running its tests under Wine.
#
#   cmake --preset windows-mingw          (or: cmake -S . -B build/windows
#                                              -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake)
#
# Executables are linked statically (no libstdc++/libgcc/winpthread DLLs to ship or to find under
# Wine). Tests and other build-time runs go through scripts/wine-run, the CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_SYSTEM_VERSION 10.0)

set(NPIPE_MINGW_TRIPLE x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${NPIPE_MINGW_TRIPLE}-gcc-posix ${NPIPE_MINGW_TRIPLE}-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${NPIPE_MINGW_TRIPLE}-g++-posix ${NPIPE_MINGW_TRIPLE}-g++ REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${NPIPE_MINGW_TRIPLE}-windres)

# Headers and libraries come from the mingw sysroot only; programs (cmake helpers) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${NPIPE_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Windows 10 API level (CancelIoEx, GetNamedPipeClientProcessId, ...); no min/max macros. The
# sources call the ...W functions explicitly, so UNICODE is left undefined.
set(NPIPE_WIN_DEFINES "-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 -DWIN32_LEAN_AND_MEAN -DNOMINMAX")
set(CMAKE_C_FLAGS_INIT "${NPIPE_WIN_DEFINES}")
set(CMAKE_CXX_FLAGS_INIT "${NPIPE_WIN_DEFINES}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

get_filename_component(NPIPE_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR "${NPIPE_SOURCE_ROOT}/scripts/wine-run")

# gtest_discover_tests: list the tests when CTest runs (under Wine), not as a post-build step, so a
# build does not need a running wineserver.
set(CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE PRE_TEST)
