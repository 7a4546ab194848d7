# CMake toolchain for s390x: Debian's s390x-linux-gnu cross compilers and libraries.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER s390x-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/s390x-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Target binaries run through qemu-s390x (docker/install/qemu-user, installed by the image's
# Dockerfile): try_run, ctest and test discovery at build time run them with it.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/local/bin/qemu-s390x)
