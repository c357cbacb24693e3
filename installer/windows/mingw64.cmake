# mingw64.cmake - CMake toolchain file for cross-building static libraries (libuv) for 64-bit
# Windows with Debian's mingw-w64 (win32 thread model). Used only by installer/windows/build_deps.sh;
# it says which compilers to use, not what to build.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(DS_MINGW_TRIPLE x86_64-w64-mingw32)

set(CMAKE_C_COMPILER ${DS_MINGW_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${DS_MINGW_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${DS_MINGW_TRIPLE}-windres)
set(CMAKE_AR ${DS_MINGW_TRIPLE}-ar CACHE FILEPATH "archiver")
set(CMAKE_RANLIB ${DS_MINGW_TRIPLE}-ranlib CACHE FILEPATH "ranlib")

# Look for headers and libraries only in the cross environment, programs only on the build host.
set(CMAKE_FIND_ROOT_PATH /usr/${DS_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
