"""Figures of emulation: cross-compiling against emulating (B3, the native way), bootstrapping a
foreign base chrootless (B10), QEMU's arm64 CPU (B11)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    BUILD_PY,
    GENERATED_UNITS,
    REPO,
    Figure,
    build_py,
    cold_total,
    generate_tree,
    median_of,
    stamped_run,
)


def cross_vs_native(repeat: int, work: Path) -> list[Figure]:
    """B3a on the generated C++ tree, whose cost is compiling (what cross-compiling decides);
    B3b on xsum, as compiling it under full emulation is already several times slower."""
    for plat in ("amd64", "armv7", "test.armv7"):
        build_py("-p", plat, "-b")  # images first: only builds and tests are timed
    tree = generate_tree(work / "b3")
    # Interleaved, so a machine whose load changes meanwhile weighs on both sides alike.
    pairs = [(cold_total("amd64", work, tree), cold_total("armv7", work, tree)) for _ in range(repeat)]
    amd64 = statistics.median(a for a, _ in pairs)
    armv7 = statistics.median(b for _, b in pairs)
    armv7_xsum = median_of(repeat, lambda: cold_total("armv7", work))
    full = median_of(max(1, repeat // 2), lambda: cold_total("test.armv7", work))
    return [
        Figure(
            name="B3a",
            what=f"armv7 / amd64, cold, ccache off, the generated tree ({GENERATED_UNITS} C++ units): "
            "cross-compile + ctest under qemu-user vs native",
            value=armv7 / amd64,
            unit="x",
            target="<= 1.15",
            met=armv7 / amd64 <= 1.15,
            detail={"armv7_s": armv7, "amd64_s": amd64},
        ),
        Figure(
            name="B3b",
            what="test.armv7 (compile under full emulation) / armv7 (cross), xsum, cold",
            value=full / armv7_xsum,
            unit="x",
            target=">= 5",
            met=full / armv7_xsum >= 5,
            detail={"test.armv7_s": full, "armv7_s": armv7_xsum},
        ),
    ]


QEMU_X86_64 = Path("/usr/bin/qemu-x86_64-static")  # Debian's qemu-user-static


def native_vs_emulated_cross(repeat: int, work: Path) -> list[Figure]:
    """B9: what the native way saves an arm64 engine, on xsum, cold, ccache off. (a) The arm64
    platform's native image on this machine's dockerd shown as an arm64 engine (archshim, from
    tests/integration), so under qemu-user as a whole here, where arm64 hardware runs it as it
    is. (b) Its x86-64 cross image, which is what an arm64 engine would have to emulate without
    the native way, approximated by running gcc's cc1, as and collect2 under qemu-x86_64 (gcc
    -wrapper); cmake, ninja, ld and the step's shell stay native (QEMU 7.2's qemu-x86_64 crashes
    running cmake), so (b) is an underestimate. (c) That cross image natively, for scale."""
    if not QEMU_X86_64.is_file():
        raise SystemExit(f"bench: B9 needs {QEMU_X86_64} (Debian's qemu-user-static)")
    sys.path.insert(0, str(REPO))
    from tests.integration import archshim  # noqa: PLC0415

    def cold(*args: str, wrapped: bool = False) -> tuple[float, float]:
        """The whole run's seconds and its compile phase's (the step's `build with` to its tests)."""
        build = Path(tempfile.mkdtemp(prefix="b9-", dir=work))
        wrapper: list[str] = []
        if wrapped:  # in the build dir, which the container sees at /work/build
            shutil.copy2(QEMU_X86_64, build / QEMU_X86_64.name)
            wrapper = ["-e", f"CFLAGS=-wrapper /work/build/{QEMU_X86_64.name}"]
        try:
            seconds, _, stamps = stamped_run([BUILD_PY, "-p", "arm64", *args, "--build-dir", str(build),
                                              "-e", "CCACHE_DISABLE=1", *wrapper])  # fmt: skip
            if wrapped and "-wrapper" not in (build / "CMakeCache.txt").read_text(encoding="utf-8"):
                raise SystemExit("bench: B9's compilers were not run under qemu-x86_64 (no -wrapper)")
            return seconds, stamps["phase"] - stamps["build with"]
        finally:
            shutil.rmtree(build, ignore_errors=True)

    with archshim.serving() as url:
        on_arm64 = ("--docker-host", f"arm64={url}")
        build_py("-p", "arm64", *on_arm64, "-b")  # images first (the native one under QEMU: minutes)
        build_py("-p", "arm64", "-b")
        # Interleaved, so a machine whose load changes meanwhile weighs on all three alike.
        runs = [(cold(*on_arm64), cold(wrapped=True), cold()) for _ in range(repeat)]
    (native, native_c), (emulated, emulated_c), (cross, cross_c) = (
        (statistics.median(run[i][0] for run in runs), statistics.median(run[i][1] for run in runs))
        for i in range(3)
    )
    detail = {
        "emulated_cross_s": emulated,
        "native_under_qemu_s": native,
        "cross_native_s": cross,
        "emulated_cross_compile_s": emulated_c,
        "native_under_qemu_compile_s": native_c,
        "cross_native_compile_s": cross_c,
    }
    return [
        Figure(name="B9a", what="arm64 on an arm64 engine, xsum, cold, ccache off: (b) the x86-64 cross "
               "image, its compilers under qemu-x86_64 (cmake, ninja, ld native: an underestimate) / (a) "
               "the native arm64 image, here under qemu-user as a whole (on arm64 hardware: native)",
               value=emulated / native, unit="x", target="-", met=True, detail=detail),
        Figure(name="B9b", what="what an arm64 engine saves by the native way: (b) the x86-64 cross image "
               "under x86-64 emulation / (c) the same image at native speed, as the native image runs on "
               "arm64 hardware", value=emulated / cross, unit="x", target=">= 2", met=emulated / cross >= 2,
               detail=detail),
    ]  # fmt: skip


def bootstrap_modes(repeat: int, work: Path) -> list[Figure]:
    """B10: a foreign base as build.py bootstraps it (armhf Debian trixie, minbase, to a tar),
    in a chroot with its maintainer scripts under QEMU / chrootless in the read-only sandbox
    (this machine's dpkg, no QEMU); interleaved, medians."""
    sys.path.insert(0, str(REPO))
    from ci.images import bootstrap  # noqa: PLC0415
    from ci.images.baseimage import BootstrapRecipe  # noqa: PLC0415

    mirror = os.environ.get("CI_DEBIAN_MIRROR") or "http://deb.debian.org/debian"
    recipe = BootstrapRecipe(image="bench/debian:trixie", docker_platform="linux/arm/v7", suite="trixie",
                             debian_arch="armhf", mirror=mirror)  # fmt: skip

    def timed(chrootless: bool) -> float:
        scratch = bootstrap.scratch_dir()
        try:
            argv = (
                bootstrap.chrootless_argv(recipe, scratch)
                if chrootless
                else bootstrap.mmdebstrap_argv(recipe, scratch / "rootfs.tar")
            )
            started = time.monotonic()
            subprocess.run(argv, capture_output=True, check=True)
            return time.monotonic() - started
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    runs = [(timed(chrootless=False), timed(chrootless=True)) for _ in range(repeat)]
    chroot, chrootless = (statistics.median(run[i] for run in runs) for i in range(2))
    return [
        Figure(name="B10", what="a foreign base bootstrapped (armhf trixie): in a chroot, maintainer scripts "
               "under QEMU / chrootless, this machine's dpkg in a read-only sandbox",
               value=chroot / chrootless, unit="x", target=">= 3", met=chroot / chrootless >= 3,
               detail={"chroot_s": chroot, "chrootless_s": chrootless}),
    ]  # fmt: skip


def qemu_cpu(repeat: int, work: Path) -> list[Figure]:
    """B11: arm64 code under QEMU with QEMU's default CPU / with docker/arches' arm64 qemu_cpu
    (max,pauth-impdef=on), which build.py tells QEMU by itself; interleaved, medians. (a) xsum on
    the arm64 userland (test.arm64: configured, compiled with ccache off, tested, cold), the
    default asked for with `-e QEMU_CPU=max` (the run's -e decides); (b) a layer of an emulated
    image: the build systems (python3, Meson, autotools) installed on that userland with
    `docker build --no-cache`, without and with the build argument build.py adds."""
    sys.path.insert(0, str(REPO))
    from ci.planning import arches, dockerfile, emulation  # noqa: PLC0415

    told = arches.by_name("arm64").qemu_cpu  # type: ignore[union-attr]
    made = subprocess.run([BUILD_PY, "-p", "test.arm64", "-b"], capture_output=True, text=True, check=True)
    userland = made.stdout.split()[-1]

    def cold(*extra: str) -> float:
        build = Path(tempfile.mkdtemp(prefix="b11-", dir=work))
        try:
            return build_py("-p", "test.arm64", "--build-dir", str(build), "-e", "CCACHE_DISABLE=1", *extra)
        finally:
            shutil.rmtree(build, ignore_errors=True)

    def layer(with_cpu: bool) -> float:
        context = Path(tempfile.mkdtemp(prefix="b11-layer-", dir=work))
        (context / "install").mkdir()
        for script in ("debian_build_systems.sh", "debian_packages.sh"):
            shutil.copy2(REPO / "docker" / "install" / script, context / "install" / script)
        text = (
            f"FROM {userland}\nCOPY install/ /opt/ci/install/\nRUN /opt/ci/install/debian_build_systems.sh\n"
        )
        (context / "Dockerfile").write_text(
            dockerfile.with_build_arg(text, emulation.QEMU_CPU, told) if with_cpu else text
        )
        tag = f"ciharness-bench/b11:{context.name.lower()}"
        try:
            started = time.monotonic()
            subprocess.run(["docker", "build", "-q", "--no-cache", "--platform", "linux/arm64", "-t", tag,
                            str(context)], capture_output=True, check=True)  # fmt: skip
            return time.monotonic() - started
        finally:
            subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
            shutil.rmtree(context, ignore_errors=True)

    runs = [(cold("-e", "QEMU_CPU=max"), cold(), layer(False), layer(True)) for _ in range(repeat)]
    xsum_default, xsum_told, layer_default, layer_told = (
        statistics.median(r[i] for r in runs) for i in range(4)
    )
    detail = {"xsum_default_s": xsum_default, "xsum_told_s": xsum_told,
              "layer_default_s": layer_default, "layer_told_s": layer_told}  # fmt: skip
    return [
        Figure(name="B11a", what="xsum on the arm64 userland under QEMU, cold, ccache off: QEMU's default "
               f"CPU (max: pointer authentication by QARMA5) / {told} (docker/arches)",
               value=xsum_default / xsum_told, unit="x", target=">= 1.25",
               met=xsum_default / xsum_told >= 1.25, detail=detail),
        Figure(name="B11b", what="an emulated arm64 image's layer (python3, Meson, autotools installed on "
               f"the arm64 userland, --no-cache): QEMU's default CPU / {told}, the build argument "
               "build.py adds", value=layer_default / layer_told, unit="x", target=">= 2",
               met=layer_default / layer_told >= 2, detail=detail),
    ]  # fmt: skip
