"""The missing-library hint: each build system's own report of a library it did not find (real
output, captured in the armv7 build image with no zlib, OpenSSL, libpng or fmt for the target)
names the Debian -dev package to list under `packages` in the project's ciharness.toml; a
library the build goes on without gives no hint."""

from __future__ import annotations

import pytest

from ci.output import libraries
from ci.output.hints import hints_for
from ci.output.programs import programs

CMAKE_FIND_MODULE = """\
-- Detecting C compile features - done
CMake Error at /usr/share/cmake-3.31/Modules/FindPackageHandleStandardArgs.cmake:233 (message):
  Could NOT find ZLIB (missing: ZLIB_LIBRARY ZLIB_INCLUDE_DIR)
Call Stack (most recent call first):
  /usr/share/cmake-3.31/Modules/FindPackageHandleStandardArgs.cmake:603 (_FPHSA_FAILURE_MESSAGE)
  /usr/share/cmake-3.31/Modules/FindZLIB.cmake:202 (FIND_PACKAGE_HANDLE_STANDARD_ARGS)
  CMakeLists.txt:4 (find_package)


-- Configuring incomplete, errors occurred!"""

CMAKE_OPENSSL = """\
CMake Error at /usr/share/cmake-3.31/Modules/FindPackageHandleStandardArgs.cmake:233 (message):
  Could NOT find OpenSSL, try to set the path to OpenSSL root folder in the
  system variable OPENSSL_ROOT_DIR (missing: OPENSSL_CRYPTO_LIBRARY
  OPENSSL_INCLUDE_DIR)
Call Stack (most recent call first):
  CMakeLists.txt:3 (find_package)
-- Configuring incomplete, errors occurred!"""

CMAKE_PKG_CHECK_MODULES = """\
-- Checking for modules 'zlib>=1.2;libpng'
--   Package 'zlib', required by 'virtual:world', not found
--   Package 'libpng', required by 'virtual:world', not found
CMake Error at /usr/share/cmake-3.31/Modules/FindPkgConfig.cmake:645 (message):
  The following required packages were not found:

   - zlib>=1.2
   - libpng

Call Stack (most recent call first):
  /usr/share/cmake-3.31/Modules/FindPkgConfig.cmake:873 (_pkg_check_modules_internal)
  CMakeLists.txt:4 (pkg_check_modules)


-- Configuring incomplete, errors occurred!"""

CMAKE_CONFIG_PACKAGE = """\
CMake Error at CMakeLists.txt:3 (find_package):
  By not providing "Findfmt.cmake" in CMAKE_MODULE_PATH this project has
  asked CMake to find a package configuration file provided by "fmt", but
  CMake did not find one.

  Could not find a package configuration file provided by "fmt" with any of
  the following names:

    fmtConfig.cmake
    fmt-config.cmake

-- Configuring incomplete, errors occurred!"""

MESON = """\
Found pkg-config: YES (/usr/bin/arm-linux-gnueabihf-pkg-config) 1.8.1
Run-time dependency zlib found: NO (tried pkgconfig and system)

ms/meson.build:2:7: ERROR: Dependency "zlib" not found, tried pkgconfig and system

A full log can be found at /tmp/bm/meson-logs/meson-log.txt"""

CONFIGURE = """\
checking for arm-linux-gnueabihf-pkg-config... /usr/bin/arm-linux-gnueabihf-pkg-config
checking pkg-config is at least version 0.9.0... yes
checking for zlib... no
configure: error: Package requirements (zlib) were not met:

Package 'zlib', required by 'virtual:world', not found

Consider adjusting the PKG_CONFIG_PATH environment variable if you
installed software in a non-standard prefix.

Alternatively, you may set the environment variables ZLIB_CFLAGS
and ZLIB_LIBS to avoid the need to call pkg-config.
See the pkg-config man page for more details."""

# A Makefile running `pkg-config --cflags zlib` and then the compiler.
MAKEFILE = """\
Package zlib was not found in the pkg-config search path.
Perhaps you should add the directory containing `zlib.pc'
to the PKG_CONFIG_PATH environment variable
Package 'zlib', required by 'virtual:world', not found
squeeze.c:4:10: fatal error: zlib.h: No such file or directory
    4 | #include <zlib.h>
      |          ^~~~~~~~
compilation terminated.
make: *** [Makefile:3: squeeze] Error 1"""

# Optional packages (find_package without REQUIRED) the build went on without, then a failure of
# another kind.
CMAKE_OPTIONAL_THEN_A_TOOL = """\
CMake Warning at CMakeLists.txt:3 (find_package):
  By not providing "Findfmt.cmake" in CMAKE_MODULE_PATH this project has
  asked CMake to find a package configuration file provided by "fmt", but
  CMake did not find one.

-- Could NOT find ZLIB (missing: ZLIB_LIBRARY ZLIB_INCLUDE_DIR)
--   Package 'libpng', required by 'virtual:world', not found
CMake Error at /usr/share/cmake-3.31/Modules/FindPackageHandleStandardArgs.cmake:233 (message):
  Could NOT find BISON (missing: BISON_EXECUTABLE)
Call Stack (most recent call first):
  CMakeLists.txt:5 (find_package)"""


def only(text: str, status: int = 1) -> str:
    found = hints_for(status, text.splitlines())
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("output", "name", "package"),
    [
        (CMAKE_FIND_MODULE, "ZLIB", "zlib1g-dev"),
        (CMAKE_OPENSSL, "OpenSSL", "libssl-dev"),
        (CMAKE_CONFIG_PACKAGE, "fmt", "libfmt-dev"),
        (MESON, "zlib", "zlib1g-dev"),
        (CONFIGURE, "zlib", "zlib1g-dev"),
        (MAKEFILE, "zlib", "zlib1g-dev"),
        ("No package 'libxml-2.0' found", "libxml-2.0", "libxml2-dev"),
        ("foo.c:1:10: fatal error: 'openssl/ssl.h' file not found", "openssl", "libssl-dev"),
        ("foo.c:2:10: fatal error: curl/curl.h: No such file or directory", "curl", "libcurl4-openssl-dev"),
    ],
    ids=["cmake", "cmake-openssl", "cmake-config", "meson", "configure", "make", "pkg-config", "clang",
         "gcc-subdir"],
)  # fmt: skip
def test_each_build_systems_report_names_the_debian_package_to_list(
    output: str, name: str, package: str
) -> None:
    hint = only(output)
    assert hint.startswith(f"the build needs {name} (Debian's {package}) for the target"), hint
    assert f'add it to `packages` in the project\'s ciharness.toml (packages = ["{package}"])' in hint
    assert "for each platform's architecture" in hint


def test_every_library_pkg_check_modules_lists_is_named_once_in_its_order() -> None:
    hint = only(CMAKE_PKG_CHECK_MODULES)
    assert "zlib (Debian's zlib1g-dev), libpng (Debian's libpng-dev)" in hint
    assert '(packages = ["zlib1g-dev", "libpng-dev"])' in hint and "add them to" in hint


def test_a_library_named_twice_by_its_report_is_one_package() -> None:
    # The Makefile's output names zlib three ways (two pkg-config lines and the header).
    assert only(MAKEFILE).count("zlib1g-dev") == 2  # in the sentence and in the example


def test_libraries_the_build_goes_on_without_give_no_hint() -> None:
    # Only the required BISON failed: a build tool, for `build-packages`.
    hint = only(CMAKE_OPTIONAL_THEN_A_TOOL)
    assert hint == (
        "the build needs the build tool BISON (Debian's bison): add it to `build-packages` in the "
        "project's ciharness.toml"
    )


def test_an_unknown_library_gets_a_way_to_find_its_package() -> None:
    hint = only('meson.build:3:0: ERROR: Dependency "frobz-1.0" not found, tried pkgconfig')
    assert hint.startswith("the build needs frobz-1.0 for the target and the image has none")
    assert "apt-cache search frobz-1.0" in hint and "`packages` in the project's ciharness.toml" in hint


def test_a_projects_own_missing_header_is_no_library() -> None:
    assert hints_for(1, ["src/a.c:1:10: fatal error: config.h: No such file or directory"]) == []


def test_a_passing_run_that_printed_such_lines_gets_no_hint() -> None:
    assert hints_for(0, CONFIGURE.splitlines()) == []


def test_the_tables_agree() -> None:
    assert all(name == name.lower() for name in libraries.PACKAGE_OF_LIBRARY)
    for header, library in libraries.LIBRARY_OF_HEADER.items():
        assert libraries.package_of(library), header
        assert libraries.library_of_header(header if not header.endswith("/") else header + "x.h") == library
    # The table, by CMake's and pkg-config's names.
    for name, package in {
        "ZLIB": "zlib1g-dev", "OpenSSL": "libssl-dev", "LibXml2": "libxml2-dev",
        "CURL": "libcurl4-openssl-dev", "PNG": "libpng-dev", "BZip2": "libbz2-dev",
        "LibLZMA": "liblzma-dev", "zstd": "libzstd-dev", "SQLite3": "libsqlite3-dev",
        "EXPAT": "libexpat1-dev", "libcrypto": "libssl-dev",
    }.items():  # fmt: skip
        assert libraries.package_of(name) == package, name
    # A name that is both a library and a command (curl, openssl, bzip2) is the library.
    assert {"curl", "openssl", "bzip2"} <= set(programs()) & set(libraries.PACKAGE_OF_LIBRARY)
    assert "libcurl4-openssl-dev" in only("No package 'curl' found")
