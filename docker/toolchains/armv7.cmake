# CMake toolchain for armv7: Debian's arm-linux-gnueabihf cross compilers and libraries.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Target binaries run through qemu-arm (docker/install/qemu-user, installed by the image's
# Dockerfile): try_run, ctest and test discovery at build time run them with it.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/local/bin/qemu-arm)
