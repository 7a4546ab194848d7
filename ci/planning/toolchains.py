"""Decide a run's toolchain (pure): the compiler (gcc or clang, or a version of either the image's
Debian suite has), the sanitizers and the build type, checked before any container; what the
container is told (CI_COMPILER, CI_SANITIZE, CI_BUILD_TYPE: runtime_functions.sh's _toolchain
turns them into each build system's own settings); and where a sanitizer can run at all."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from ci import buildsystems
from ci.errors import BuildTypeError, SanitizersError, SanitizerUnsupportedError, UnknownCompilerError
from ci.planning import ways

FAMILIES = ("gcc", "clang")
COMPILER = re.compile(r"^(gcc|clang)(?:-(\d+))?$")
SANITIZERS = ("address", "undefined", "thread", "leak", "memory")
# Pairs one build cannot have (the compilers refuse them: each wants the address space its way).
APART = (
    ("address", "thread"),
    ("address", "memory"),
    ("thread", "memory"),
    ("leak", "thread"),
    ("leak", "memory"),
)

# The versions of each compiler a Debian suite has, its default first (apt-cache policy in the
# suite's image: tests/integration/test_toolchains.py checks trixie's). A suite not here: any
# version is tried, and the image build names a missing one.
SUITE_COMPILERS: dict[str, dict[str, tuple[int, ...]]] = {
    "trixie": {"gcc": (14, 13, 12), "clang": (19, 18, 17)},
}

# Where each sanitizer catches what it should, by how a platform's tests run (ci.planning.ways),
# from tests that plant a bug and see it caught (tests/integration/test_sanitizers.py; the table
# in docs/toolchains.md is this one, tests/unit/test_variants_toolchain.py checks). Under QEMU
# user mode UBSan needs nothing of the kernel and works; ASan works for a 32-bit target (armv7:
# its shadow memory fits, with LeakSanitizer off) and dies of SEGV in every test of a 64-bit one
# (arm64, s390x, riscv64, ppc64le); LSan's and TSan's stop-the-world needs ptrace, which QEMU
# does not give. i386 on an x86-64 engine (cross, the kernel runs its tests): Debian's i386 gcc
# has ASan's and UBSan's runtimes, not TSan's or LSan's (64-bit only); MSan is x86-64's.
QEMU_ASAN_TARGETS = frozenset({"linux/arm/v7"})
ASAN_UNDER_QEMU = f"{ways.CROSS_QEMU}, armv7"
WORKS: dict[str, frozenset[str]] = {
    ways.NATIVE: frozenset(SANITIZERS),
    ways.CROSS: frozenset({"address", "undefined"}),
    ASAN_UNDER_QEMU: frozenset({"address", "undefined"}),
    ways.CROSS_QEMU: frozenset({"undefined"}),
    ways.EMULATED: frozenset({"undefined"}),
}


def works_row(way: str, target: str) -> str:
    """The row of WORKS for tests that run way, built for target."""
    return ASAN_UNDER_QEMU if way == ways.CROSS_QEMU and target in QEMU_ASAN_TARGETS else way


@dataclasses.dataclass(frozen=True, kw_only=True)
class Toolchain:
    family: str = "gcc"
    version: int | None = None  # None: the image's own compiler of that family
    sanitize: tuple[str, ...] = ()
    build_type: str = ""  # the build system's word; '': its default
    coverage: bool = False  # built with --coverage; gcovr's report after the tests

    @property
    def compiler(self) -> str:
        return f"{self.family}-{self.version}" if self.version else self.family

    @property
    def default(self) -> bool:
        """The image's own gcc, no sanitizer, the build system's build type: as before toolchains."""
        return self == DEFAULT

    @property
    def label(self) -> str:
        """A short name for the build dir and the run's line: clang-19.address+undefined.debug."""
        parts = [self.compiler] if self.compiler != "gcc" else []
        parts += ["+".join(self.sanitize)] if self.sanitize else []
        parts += [self.build_type.lower()] if self.build_type else []
        return ".".join(parts + (["coverage"] if self.coverage else []))

    def describe(self) -> str:
        """For the run's line and the report: clang-19, sanitizers address+undefined, build type Debug."""
        parts = [self.compiler] + (["sanitizers " + "+".join(self.sanitize)] if self.sanitize else [])
        parts += [f"build type {self.build_type}"] if self.build_type else []
        return ", ".join(parts + (["coverage"] if self.coverage else []))

    def env(self) -> dict[str, str]:
        env = {"CI_COMPILER": self.compiler} if self.compiler != "gcc" else {}
        if self.sanitize:
            env["CI_SANITIZE"] = ",".join(self.sanitize)
        if self.build_type:
            env["CI_BUILD_TYPE"] = self.build_type
        if self.coverage:
            env["CI_COVERAGE"] = "1"
        return env

    def image_lines(self) -> tuple[str, ...]:
        """What the project's image adds for it (docker/install/project_image.sh reads these
        lines): the compiler where it is not the image's own, the sanitizers (clang's runtimes),
        coverage's tools (gcovr; llvm-cov with clang)."""
        wanted = self.version is not None or self.family == "clang"
        lines = [f"compiler {self.family} {self.version or ''}".rstrip()] if wanted else []
        if self.sanitize and self.family == "clang":
            lines.append("sanitize " + ",".join(self.sanitize))
        if self.coverage:  # gcovr, and llvm-cov (clang's gcov) with clang
            lines.append(f"coverage {self.family} {self.version or ''}".rstrip())
        return tuple(lines)


DEFAULT = Toolchain()


def parse_compiler(name: str, suite: str | None) -> tuple[str, int | None]:
    """(family, version): clang -> the suite's default clang's version (the image gets it); gcc
    -> the image's own (None); a version the suite has not -> UnknownCompilerError."""
    found = COMPILER.match(name.strip().lower())
    if found is None:
        raise UnknownCompilerError(
            f"unknown compiler {name!r}", hint="use gcc, clang, or a version of either: gcc-13, clang-19"
        )
    family, version = found.group(1), int(found.group(2)) if found.group(2) else None
    known = SUITE_COMPILERS.get(suite or "", {}).get(family)
    if family == "clang" and version is None:
        version = known[0] if known else None
    if version is not None and known and version not in known:
        have = ", ".join(f"{family}-{v}" for v in sorted(known))
        raise UnknownCompilerError(
            f"{family}-{version} is not in Debian {suite}, the platform's image's suite",
            hint=f"Debian {suite} has {have}",
        )
    if family == "gcc" and known and version == known[0]:
        version = None  # the image's own
    return family, version


def parse_sanitizers(items: Iterable[str], family: str) -> tuple[str, ...]:
    """The sanitizers asked for (comma-separated items split), in the order known, checked."""
    asked = {word.strip().lower() for item in items for word in item.split(",") if word.strip()}
    unknown = sorted(asked - set(SANITIZERS))
    if unknown:
        raise SanitizersError(f"unknown sanitizer {unknown[0]!r}", hint="use " + ", ".join(SANITIZERS))
    if "memory" in asked and family != "clang":
        raise SanitizersError("the memory sanitizer is clang's only", hint="add --compiler clang")
    for one, other in APART:
        if one in asked and other in asked:
            raise SanitizersError(
                f"sanitizers {one} and {other} cannot be in one build",
                hint="build them as two runs (or two variants)",
            )
    return tuple(s for s in SANITIZERS if s in asked)


def parse_build_type(name: str, system: str | None) -> str:
    """The build system's own word for name (any case); '' for none. Unchecked where the run
    does not build with a known build system (a command of its own)."""
    if not name:
        return ""
    if system is None:
        return name
    known = buildsystems.by_name(system).build_types
    word = next((word for word in known if word.lower() == name.lower()), None)
    if word is None:
        raise BuildTypeError(f"{system} has no build type {name!r}", hint=f"use one of {', '.join(known)}")
    return word


# ASLR entropy (vm.mmap_rnd_bits) above which these fail every test, on x86-64: at 32 (Ubuntu
# 24.04's) gcc's TSan stops with "unexpected memory mapping" and clang's MSan cannot turn
# randomisation off in a container (Docker's seccomp profile refuses personality(ADDR_NO_RANDOMIZE));
# at 28 (Debian's) both work; ASan and UBSan work at both (checked here).
ASLR_SENSITIVE = ("thread", "memory")
ASLR_BITS_CHECKED = 28


def check_aslr(toolchain: Toolchain, platform: str, bits: int | None) -> None:
    """Refuse what this kernel's ASLR entropy breaks, on an engine of this machine."""
    hit = [s for s in toolchain.sanitize if s in ASLR_SENSITIVE]
    if hit and bits is not None and bits > ASLR_BITS_CHECKED:
        raise SanitizerUnsupportedError(
            f"the {hit[0]} sanitizer fails every test on {platform} at this machine's ASLR entropy "
            f"(vm.mmap_rnd_bits {bits}; works at {ASLR_BITS_CHECKED}, fails at 32)",
            hint=f"lower it first: sudo sysctl vm.mmap_rnd_bits={ASLR_BITS_CHECKED}",
        )


def check_where(toolchain: Toolchain, platform: str, way: str, target: str) -> None:
    """Refuse a sanitizer that does not work the way the platform's tests run (never a green run
    that checked nothing)."""
    works = WORKS.get(works_row(way, target), frozenset(SANITIZERS))
    for sanitizer in toolchain.sanitize:
        if sanitizer not in works:
            raise SanitizerUnsupportedError(
                f"the {sanitizer} sanitizer does not work on {platform}, whose tests run {way} here "
                "(QEMU user mode)",
                hint=f"run {platform} on an engine of its own architecture (--docker-host), or use "
                + ", ".join(sorted(works))
                + " there",
            )
