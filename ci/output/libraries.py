"""Know: the Debian (trixie) -dev package that provides a library a build looks for, by the names
builds use for it (the build systems' and pkg-config's names for it) and by the
headers that C and C++ code includes. Pure tables, for the missing-library hint."""

from __future__ import annotations

# Debian's -dev package, and the names builds ask for it by: CMake's (lowercased: ZLIB, OpenSSL,
# LibXml2, ...), pkg-config's (the .pc file's name) and the other build systems'.
_PROVIDES: dict[str, tuple[str, ...]] = {
    "zlib1g-dev": ("zlib",),
    "libssl-dev": ("openssl", "libssl", "libcrypto"),
    "libxml2-dev": ("libxml2", "libxml-2.0"),
    "libcurl4-openssl-dev": ("curl", "libcurl"),
    "libpng-dev": ("png", "libpng", "libpng16"),
    "libbz2-dev": ("bzip2", "bz2", "libbz2"),
    "liblzma-dev": ("lzma", "liblzma"),
    "libzstd-dev": ("zstd", "libzstd"),
    "libsqlite3-dev": ("sqlite3", "sqlite"),
    "libexpat1-dev": ("expat",),
    "libffi-dev": ("ffi", "libffi"),
    "libjpeg-dev": ("jpeg", "libjpeg"),
    "libtiff-dev": ("tiff", "libtiff-4"),
    "libfreetype-dev": ("freetype", "freetype2"),
    "libfontconfig-dev": ("fontconfig",),
    "libgnutls28-dev": ("gnutls",),
    "libarchive-dev": ("libarchive",),
    "uuid-dev": ("uuid",),
    "libuv1-dev": ("libuv",),
    "libevent-dev": ("libevent",),
    "libyaml-dev": ("yaml-0.1", "libyaml"),
    "libjansson-dev": ("jansson",),
    "libpcre2-dev": ("pcre2", "libpcre2-8"),
    "libglib2.0-dev": ("glib-2.0", "gio-2.0", "gobject-2.0"),
    "libncurses-dev": ("curses", "ncurses", "ncursesw"),
    "libreadline-dev": ("readline",),
    "libgtest-dev": ("gtest",),
    "libgmock-dev": ("gmock",),
    "libboost-dev": ("boost",),
    "libsystemd-dev": ("libsystemd",),
    "libicu-dev": ("icu", "icu-uc", "icu-i18n"),
    "libfmt-dev": ("fmt",),
    "libspdlog-dev": ("spdlog",),
    "nlohmann-json3-dev": ("nlohmann_json",),
    "libeigen3-dev": ("eigen3",),
    "libbenchmark-dev": ("benchmark",),
    "libgmp-dev": ("gmp",),
    "libunwind-dev": ("libunwind",),
    "libsodium-dev": ("sodium", "libsodium"),
    "libcjson-dev": ("cjson", "libcjson"),
    "libprotobuf-dev": ("protobuf",),
    "libcap-dev": ("libcap",),
    "libseccomp-dev": ("libseccomp",),
    "libx11-dev": ("x11",),
    "libsdl2-dev": ("sdl2",),
    "liblz4-dev": ("lz4", "liblz4"),
    "libxslt1-dev": ("libxslt",),
    "libcmocka-dev": ("cmocka",),
    "libgit2-dev": ("libgit2",),
    "libssh2-1-dev": ("libssh2",),
    "libelf-dev": ("libelf",),
    "liburing-dev": ("liburing",),
    "libpcap-dev": ("pcap", "libpcap"),
}

PACKAGE_OF_LIBRARY: dict[str, str] = {name: pkg for pkg, names in _PROVIDES.items() for name in names}

# What a missing header says: `#include <zlib.h>` failing means zlib. A name ending in / stands
# for every header under that directory. Only libraries' headers: a project's own missing
# header says nothing of a package.
LIBRARY_OF_HEADER: dict[str, str] = {
    "zlib.h": "zlib",
    "openssl/": "openssl",
    "libxml/": "libxml2",
    "curl/": "curl",
    "png.h": "png",
    "bzlib.h": "bzip2",
    "lzma.h": "lzma",
    "zstd.h": "zstd",
    "sqlite3.h": "sqlite3",
    "expat.h": "expat",
    "ffi.h": "ffi",
    "jpeglib.h": "jpeg",
    "tiffio.h": "tiff",
    "ft2build.h": "freetype",
    "uuid/uuid.h": "uuid",
    "uv.h": "libuv",
    "event2/": "libevent",
    "yaml.h": "libyaml",
    "jansson.h": "jansson",
    "pcre2.h": "pcre2",
    "ncurses.h": "ncurses",
    "curses.h": "curses",
    "readline/": "readline",
    "gtest/": "gtest",
    "gmock/": "gmock",
    "boost/": "boost",
    "systemd/": "libsystemd",
    "fmt/": "fmt",
    "gmp.h": "gmp",
    "sodium.h": "sodium",
    "lz4.h": "lz4",
    "archive.h": "libarchive",
    "gnutls/": "gnutls",
    "glib.h": "glib-2.0",
    "pcap.h": "pcap",
    "seccomp.h": "libseccomp",
    "X11/": "x11",
    "SDL2/": "sdl2",
    "libelf.h": "libelf",
    "gelf.h": "libelf",
}


def package_of(name: str) -> str | None:
    """The Debian -dev package providing the library a build named (any case), if known."""
    return PACKAGE_OF_LIBRARY.get(name.lower())


def library_of_header(header: str) -> str | None:
    """The library whose header this is (`openssl/ssl.h` -> openssl), if known."""
    for key, library in LIBRARY_OF_HEADER.items():
        if header == key or (key.endswith("/") and header.startswith(key)):
            return library
    return None
