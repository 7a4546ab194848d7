# CMake toolchain for i386: Debian's i686-linux-gnu cross compilers and libraries.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER i686-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Target binaries run through qemu-i386 (docker/install/qemu-user, installed by the image's
# Dockerfile): try_run, ctest and test discovery at build time run them with it.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/local/bin/qemu-i386)
