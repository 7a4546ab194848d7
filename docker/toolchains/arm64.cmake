# CMake toolchain for arm64: Debian's aarch64-linux-gnu cross compilers and libraries.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Target binaries run through qemu-aarch64 (docker/install/qemu-user, installed by the image's
# Dockerfile): try_run, ctest and test discovery at build time run them with it.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/local/bin/qemu-aarch64)
