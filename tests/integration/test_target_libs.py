"""The target's libraries, found and used by every build system in the cross images, never the
build machine's, and loaded when the tests run under QEMU: a CMake (find_package and
pkg_check_modules), a Meson, an autotools (from git) and a plain Make project written here each
call zlib in a test, built on armv7 and s390x (big-endian) in images that hold both the build
machine's zlib and the target's. Without the target's zlib, the first failure names the Debian
package to list under `packages`.

The images are the shipped platforms' plus zlib, made as platforms dropped into a copy of docker/:
armv7z installs Debian's zlib1g-dev:armhf through multiarch; the Debian archive reached here does
not serve s390x's binary packages (zlib1g:s390x, libc6:s390x: 404), so s390xz builds Debian's
source of zlib with the image's cross compiler into the same multiarch dirs a package would use.
"""

from __future__ import annotations

import re
import shutil
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from ci.planning.runspec import source_layers
from tests.integration.helpers import REPO, Result, elf_identity, run_build_py, summary_rows

# platform -> (the image's multiarch dir, ELF class bits, byte order, e_machine)
TARGETS = {
    "armv7z": ("arm-linux-gnueabihf", 32, "little", 40),  # EM_ARM
    "s390xz": ("s390x-linux-gnu", 64, "big", 22),  # EM_S390
}
GROUP = pytest.mark.xdist_group("target-libs")  # one worker builds the images and runs them all

# The source of zlib for a target whose binary packages the archive lacks, installed as Debian's
# zlib1g-dev:<debian> would be: the library and zlib.pc in /usr/lib/<multiarch>, the headers in
# /usr/include/<multiarch> (the build machine's zlib.h stays in /usr/include).
ZLIB_FROM_SOURCE = """\
#!/usr/bin/env bash
set -euo pipefail
triplet=$1 multiarch=$2
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
else
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/deb-src.list
fi
apt-get -q update
cd "$(mktemp -d)"
# Only the upstream tarball is used: Debian's own files of it may be missing from the archive.
apt-get -q source --download-only zlib || true
mkdir src && tar xf zlib_*.orig.tar.* -C src --strip-components=1 && cd src
CHOST=$triplet ./configure --prefix=/usr --libdir="/usr/lib/$multiarch" --includedir="/usr/include/$multiarch"
make -j"$(nproc)" install
rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/deb-src.list
"""


def with_zlib(docker: Path, platform: str, lines: str) -> None:
    text = (docker / f"Dockerfile.build.{platform}").read_text(encoding="utf-8")
    text = re.sub(r"^# ci\.description: .*$", f"# ci.description: {platform} with zlib", text, flags=re.M)
    (docker / f"Dockerfile.build.{platform}z").write_text(text + lines, encoding="utf-8")


@pytest.fixture(scope="module")
def docker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docker/ with armv7z and s390xz, their images built (the build machine's zlib1g-dev in both)."""
    docker = tmp_path_factory.mktemp("target-libs") / "docker"
    shutil.copytree(REPO / "docker", docker)
    (docker / "install" / "zlib_from_source.sh").write_text(ZLIB_FROM_SOURCE, encoding="utf-8")
    (docker / "install" / "zlib_from_source.sh").chmod(0o755)
    with_zlib(docker, "armv7", "RUN /opt/ci/install/debian_packages.sh zlib1g-dev zlib1g-dev:armhf\n")
    with_zlib(
        docker,
        "s390x",
        "COPY install/zlib_from_source.sh /opt/ci/install/\n"
        "RUN /opt/ci/install/debian_packages.sh zlib1g-dev"
        " && /opt/ci/install/zlib_from_source.sh s390x-linux-gnu s390x-linux-gnu\n",
    )
    built = run_build_py("--docker-dir", str(docker), "-p", ",".join(TARGETS), "-b", timeout=3600)
    assert built.returncode == 0, built.stderr[-4000:]
    return docker


# The test every project runs: a compress/uncompress round trip and zlib's CRC-32 of the check
# string, through the target's libz.so.1, saying what it ran on.
SQUEEZE_C = """\
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
int main(void) {
    static const char text[] = "squeeze squeeze squeeze squeeze squeeze squeeze squeeze squeeze";
    unsigned char packed[256], unpacked[256];
    uLongf packed_len = sizeof packed, unpacked_len = sizeof unpacked;
    uint16_t one = 1;
    if (compress(packed, &packed_len, (const Bytef *)text, sizeof text) != Z_OK) return 1;
    if (uncompress(unpacked, &unpacked_len, packed, packed_len) != Z_OK) return 1;
    if (unpacked_len != sizeof text || memcmp(unpacked, text, sizeof text) != 0) return 1;
    unsigned long crc = crc32(0L, (const Bytef *)"123456789", 9);
    printf("zlib %s on a %d-bit %s-endian target: %lu -> %lu -> %lu bytes, crc32 %08lx\\n",
           zlibVersion(), (int)(8 * sizeof(void *)), *(unsigned char *)&one ? "little" : "big",
           (unsigned long)sizeof text, (unsigned long)packed_len, (unsigned long)unpacked_len, crc);
    return crc != 0xcbf43926UL || strcmp(zlibVersion(), ZLIB_VERSION) != 0;
}
"""

CMAKE = {
    "CMakeLists.txt": """\
cmake_minimum_required(VERSION 3.16)
project(squeeze C)
enable_testing()
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(zlib REQUIRED IMPORTED_TARGET zlib)
pkg_get_variable(ZLIB_PC_DIR zlib pcfiledir)
message(STATUS "find_package(ZLIB): ${ZLIB_LIBRARIES}")
message(STATUS "pkg_check_modules(zlib): ${zlib_LINK_LIBRARIES} from ${ZLIB_PC_DIR}")
add_executable(squeeze squeeze.c)
target_link_libraries(squeeze ZLIB::ZLIB)
add_executable(squeeze_pc squeeze.c)
target_link_libraries(squeeze_pc PkgConfig::zlib)
add_test(NAME squeeze COMMAND squeeze)
add_test(NAME squeeze_pc COMMAND squeeze_pc)
""",
    "squeeze.c": SQUEEZE_C,
}

MESON = {
    "meson.build": """\
project('squeeze', 'c')
zlib = dependency('zlib')
message('dependency(zlib) from ' + zlib.get_variable(pkgconfig: 'pcfiledir'))
test('squeeze', executable('squeeze', 'squeeze.c', dependencies: zlib))
""",
    "squeeze.c": SQUEEZE_C,
}

AUTOTOOLS = {
    "configure.ac": """\
AC_INIT([squeeze], [1.0])
AM_INIT_AUTOMAKE([foreign])
AC_PROG_CC
PKG_CHECK_MODULES([ZLIB], [zlib])
PKG_CHECK_VAR([ZLIB_PC_DIR], [zlib], [pcfiledir])
AC_MSG_NOTICE([zlib for the host from $ZLIB_PC_DIR])
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
""",
    "Makefile.am": """\
check_PROGRAMS = squeeze
squeeze_CFLAGS = $(ZLIB_CFLAGS)
squeeze_LDADD = $(ZLIB_LIBS)
TESTS = squeeze
""",
    "squeeze.c": SQUEEZE_C,
}

# A Makefile as many are: plain `pkg-config`, not $(PKG_CONFIG).
MAKE = {
    "Makefile": """\
all: squeeze
squeeze: squeeze.c
\t$(CC) $(CFLAGS) $$(pkg-config --cflags zlib) -o $@ squeeze.c $$(pkg-config --libs zlib)
check: squeeze
\t@echo "pkg-config zlib from $$(pkg-config --variable=pcfiledir zlib)"
\t./squeeze
.PHONY: all check
""",
    "squeeze.c": SQUEEZE_C,
}

# build system -> (project, JUnit tool, tests, what its configure step printed about zlib's .pc)
PROJECTS = {
    "cmake": (CMAKE, "ctest", 2, "pkg_check_modules(zlib): /usr/lib/{m}/libz.so from /usr/lib/{m}/pkgconfig"),
    "meson": (MESON, "meson", 1, "dependency(zlib) from /usr/lib/{m}/pkgconfig"),
    "autotools": (AUTOTOOLS, "automake", 1, "configure: zlib for the host from /usr/lib/{m}/pkgconfig"),
    "make": (MAKE, "make", 1, "pkg-config zlib from /usr/lib/{m}/pkgconfig"),
}


@dataclass
class Built:
    base: Path
    result: Result

    def build(self, platform: str) -> Path:
        return self.base / f"b.{platform}"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def run(docker: Path, platforms: str, src: Path, base: Path) -> Result:
    return run_build_py(
        "--docker-dir", str(docker), "-p", platforms, "--source", str(src),
        "--build-dir", str(base / "b"), "--ccache-dir", str(base / "ccache"), "--progress", "plain",
        timeout=1800,
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(docker_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Each project built and tested on armv7z and s390xz, one run per project."""
    runs = {}
    for system, (files, *_) in PROJECTS.items():
        base = tmp_path_factory.mktemp(system)
        runs[system] = Built(base, run(docker_dir, ",".join(TARGETS), write(base / "src", files), base))
    return runs


# ELF layouts by class: where e_phoff is and its format, where e_phentsize and e_phnum are, a
# program header's format and the places of p_type, p_offset, p_vaddr, p_filesz in it, and a
# dynamic entry's format (d_tag, d_val).
ELF_LAYOUT = {
    64: (32, "Q", 54, "IIQQQQQQ", (0, 2, 3, 5), "qQ"),
    32: (28, "I", 42, "IIIIIIII", (0, 1, 2, 4), "iI"),
}
PT_LOAD, PT_DYNAMIC, DT_NEEDED, DT_STRTAB = 1, 2, 1, 5


def elf_needed(path: Path) -> list[str]:
    """The DT_NEEDED entries of an ELF file: the shared libraries its loader loads for it."""
    data = path.read_bytes()
    bits, order, _ = elf_identity(path)
    end = "<" if order == "little" else ">"
    at, offset_format, counts_at, header_format, picks, entry_format = ELF_LAYOUT[bits]
    (phoff,) = struct.unpack_from(end + offset_format, data, at)
    phentsize, phnum = struct.unpack_from(end + "HH", data, counts_at)
    segments = []  # (p_type, p_offset, p_vaddr, p_filesz)
    for i in range(phnum):
        fields = struct.unpack_from(end + header_format, data, phoff + i * phentsize)
        segments.append(tuple(fields[k] for k in picks))
    dynamic = next((offset, size) for kind, offset, _, size in segments if kind == PT_DYNAMIC)
    entry = struct.Struct(end + entry_format)
    tags = [entry.unpack_from(data, dynamic[0] + i * entry.size) for i in range(dynamic[1] // entry.size)]
    address = next(value for tag, value in tags if tag == DT_STRTAB)
    strtab = next(
        offset + address - vaddr
        for kind, offset, vaddr, size in segments
        if kind == PT_LOAD and vaddr <= address < vaddr + size
    )
    return [data[strtab + v : data.index(b"\0", strtab + v)].decode() for tag, v in tags if tag == DT_NEEDED]


def binary(system: str, build: Path) -> Path:
    """Where the project's test program is: in the build dir, or for Make in the source's view."""
    return source_layers(build)[0] / "squeeze" if system == "make" else build / "squeeze"


@GROUP
@pytest.mark.early  # builds two images, then four projects on two cross platforms
@pytest.mark.parametrize("system", list(PROJECTS))
def test_each_build_system_links_the_targets_zlib_and_its_tests_load_it_under_qemu(
    built: dict[str, Built], system: str
) -> None:
    run_ = built[system]
    assert run_.result.returncode == 0, run_.result.stderr[-4000:]
    _, tool, tests, said = PROJECTS[system]
    rows = summary_rows(run_.result.stderr)
    for platform, (multiarch, bits, order, machine) in TARGETS.items():
        assert rows[platform][1] == "ok" and rows[platform][4] == system, rows[platform]
        assert rows[platform][5] == f"{tests}/0", rows[platform]
        # Its configure step found the target's zlib, not the build machine's (also installed).
        assert said.format(m=multiarch) in run_.result.stdout, run_.result.stdout[-3000:]
        assert "x86_64-linux-gnu/pkgconfig" not in run_.result.stdout
        # The test program is the target's and loads libz.so.1...
        program = binary(system, run_.build(platform))
        assert elf_identity(program) == (bits, order, machine)
        assert "libz.so.1" in elf_needed(program)
        # ... and ran under QEMU with it: zlib's round trip and CRC-32 on that target.
        suite = ET.parse(run_.build(platform) / "junit" / f"{tool}-{platform}.xml").getroot()
        shown = "\n".join(out.text or "" for out in suite.iter("system-out"))
        assert f"on a {bits}-bit {order}-endian target: 64 -> " in shown, shown
        assert "-> 64 bytes, crc32 cbf43926" in shown


@GROUP
def test_cmake_find_package_took_the_targets_library(built: dict[str, Built]) -> None:
    stdout = built["cmake"].result.stdout
    for multiarch, *_ in TARGETS.values():
        assert f"find_package(ZLIB): /usr/lib/{multiarch}/libz.so" in stdout, stdout[-3000:]


# Without the target's zlib (the shipped armv7 image), the first failure says what to list.
@GROUP
@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.parametrize(
    ("system", "said"),
    [
        ("autotools", "Package 'zlib', required by 'virtual:world', not found"),
        ("cmake", "Could NOT find ZLIB"),
    ],
)
def test_without_the_targets_zlib_the_failure_names_the_package_to_list(
    docker_dir: Path, tmp_path: Path, system: str, said: str
) -> None:
    result = run(docker_dir, "armv7", write(tmp_path / "src", PROJECTS[system][0]), tmp_path)
    assert result.returncode != 0, result.stderr[-3000:]
    assert said in result.stdout + result.stderr
    name = "ZLIB" if system == "cmake" else "zlib"  # as the build named it
    assert (
        f"hint: the build needs {name} (Debian's zlib1g-dev) for the target and the image has none: "
        """add it to `packages` in the project's ciharness.toml (packages = ["zlib1g-dev"])"""
    ) in result.stderr
