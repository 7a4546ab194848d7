"""Do: install Debian packages into a foreign root filesystem with this machine's own apt and dpkg
(dpkg --force-script-chrootless: maintainer scripts run here, natively, with DPKG_ROOT), in a
mount namespace where the rest of this machine is read-only; then say what changed, as a tar.

Unpacking (xz, thousands of files) and apt's solving are most of an install's work; under QEMU
they are ten times slower. A maintainer script that does not honour DPKG_ROOT fails in the
sandbox instead of touching this machine: its package is left for `dpkg --configure -a` in the
image (ci.images.nativepackages), where the target's own programs finish it, and apt goes on
with the rest (DPKG, below). In the sandbox /var is the root's own: what a script writes there
without DPKG_ROOT (python3.13-minimal's preinst marks its new runtime in /var/lib/python) is the
root's, as it would be in a chroot.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

# What this machine needs: apt-get and dpkg (with --force-script-chrootless), unshare, GNU tar.
PROGRAMS = ("apt-get", "dpkg", "unshare", "tar")
# What an install leaves that the image's RUN (debian_packages.sh) would have cleaned away.
APT_LEFTOVERS = ("var/lib/apt/lists", "var/cache/apt/archives")

# apt's dpkg here (Dir::Bin::dpkg). This machine's dpkg takes its own architecture for native, so
# an Architecture: all package of the root (perl-modules, autoconf, ca-certificates) would need
# its dependencies of this machine's architecture: --force-depends, as dpkg in the image would
# find them. A package whose maintainer script failed here is left for the image's
# `dpkg --configure -a` and apt goes on (it would stop at the first).
DPKG = """#!/bin/sh
case " $* " in
*" --configure "* | *" --triggers-only "*)
    dpkg --force-depends "$@" || echo "chrootless: left for the image: dpkg $*" >&2
    exit 0 ;;
*" --unpack "*) exec dpkg --force-depends "$@" ;;
*) exec dpkg "$@" ;;
esac
"""
# This machine's own programs that a maintainer script would run on the root's files and that
# would act on this machine's instead (its Python byte-compilers: the root's Python is another
# version; binfmt_misc is the kernel's): in the sandbox they fail, so the script runs in the image.
REFUSED = ("/usr/bin/py3compile", "/usr/bin/py3clean", "/usr/sbin/update-binfmts")
REFUSE = '#!/bin/sh\necho "chrootless: $0 is not the root\'s own; left for the image" >&2\nexit 1\n'
# Where the workdir is in the sandbox: a mount namespace with this machine's root read-only but
# for the workdir ($1) at INSIDE, the root's /var at /var (the workdir may be under /var), and
# REFUSED bound to a script that fails.
INSIDE = Path("/tmp")
SANDBOX = f"""set -e
mount --make-rprivate /
mount --bind "$1" {INSIDE}
mount --bind "{INSIDE}/$2/var" /var
for program in {" ".join(REFUSED)}; do [ ! -e "$program" ] || mount --bind {INSIDE}/refuse "$program"; done
mount -o remount,bind,ro /
shift 2
exec "$@"
"""


class InstallFailed(Exception):
    """apt could not install the packages here (the image's own RUN does it instead)."""


def capable() -> str | None:
    """Why this machine cannot install chrootless (not root, a program missing), or None."""
    if os.geteuid() != 0:
        return "not root"
    missing = [name for name in PROGRAMS if shutil.which(name) is None]
    return f"no {', '.join(missing)} here" if missing else None


@dataclasses.dataclass(frozen=True)
class Entry:
    mode: int  # with the file's type
    uid: int
    gid: int
    size: int
    mtime_ns: int
    inode: int


def snapshot(root: Path) -> dict[str, Entry]:
    """Every path under root (relative), with what tells a changed file from an unchanged one."""
    found: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            found[os.path.relpath(path, root)] = Entry(
                st.st_mode,
                st.st_uid,
                st.st_gid,
                st.st_size,
                st.st_mtime_ns,
                st.st_ino,
            )
    return found


def changes(before: dict[str, Entry], after: dict[str, Entry]) -> tuple[list[str], list[str]]:
    """(new or changed paths, removed paths), each sorted."""
    changed = sorted(path for path, entry in after.items() if before.get(path) != entry)
    removed = sorted(path for path in before if path not in after)
    return changed, removed


def apt_config(root: Path, architectures: list[str]) -> str:
    """apt's configuration for installing into root as its own architecture(s): its sources, its
    keyrings, its dpkg status (Dir), no recommends, as debian_packages.sh installs."""
    listed = " ".join(f'"{arch}";' for arch in architectures)
    return "\n".join(
        [
            f'Apt::Architecture "{architectures[0]}";',
            f"Apt::Architectures {{ {listed} }};",
            f'Dir "{root}";',
            f'Dir::State::Status "{root}/var/lib/dpkg/status";',
            'pkgCacheGen::ForceEssential ",";',
            'APT::Install-Recommends "false";',
            'Acquire::Retries "5";',
            # the root's _apt is not this machine's (its partial/ dirs belong to another uid): apt
            # downloads as root, inside the sandbox that leaves the rest of this machine read-only
            'APT::Sandbox::User "root";',
            "",
        ]
    )


def add_architectures(root: Path, native: str, foreign: Iterable[str]) -> None:
    """What `dpkg --add-architecture` does in root for each of foreign: dpkg's list of them
    (var/lib/dpkg/arch, native first, as dpkg writes it), unchanged where they are in it. Not this
    machine's dpkg with --root: it would write this machine's architecture as root's native one."""
    have = root_architectures(root, native)
    wanted = list(dict.fromkeys([*have, *foreign]))
    listed = root / "var/lib/dpkg/arch"
    if wanted != have:
        listed.write_text("".join(arch + "\n" for arch in wanted), encoding="utf-8")


def root_architectures(root: Path, native: str) -> list[str]:
    """native (the root's dpkg architecture) first, then those added with dpkg --add-architecture."""
    listed = root / "var/lib/dpkg/arch"
    added = listed.read_text(encoding="utf-8").split() if listed.is_file() else []
    return list(dict.fromkeys([native, *added]))


def sandboxed(argv: list[str], workdir: Path, root: str) -> list[str]:
    """argv in SANDBOX (workdir at INSIDE, root a dir of workdir's), its scripts written there."""
    for name, text in (("dpkg", DPKG), ("refuse", REFUSE)):
        (workdir / name).write_text(text, encoding="utf-8")
        (workdir / name).chmod(0o755)
    return ["unshare", "--mount", "--", "sh", "-c", SANDBOX, "sh", str(workdir), root, *argv]


def install(root: Path, workdir: Path, packages: Iterable[str], debian_arch: str) -> str:
    """apt-get update and install packages into root (a dir of workdir's), sandboxed; apt's lists
    and downloaded .debs removed after. Returns dpkg's and apt's output. A package whose
    maintainer script failed here is left half-configured (see unconfigured); raises
    InstallFailed where apt could not unpack them all."""
    tmp = workdir / "tmp"
    tmp.mkdir(mode=0o1777, exist_ok=True)
    tmp.chmod(0o1777)  # apt hands downloads and gpgv's files to its _apt user
    name = str(root.relative_to(workdir))
    inside = INSIDE / name  # the root, in the sandbox
    config = apt_config(inside, root_architectures(root, debian_arch))
    (workdir / "apt.conf").write_text(config + f'Dir::Bin::dpkg "{INSIDE}/dpkg";\n', encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "APT_CONFIG": f"{INSIDE}/apt.conf",
        "TMPDIR": f"{INSIDE}/tmp",
        "DEBIAN_FRONTEND": "noninteractive",
        "LC_ALL": "C.UTF-8",
    }
    dpkg = [
        f"--root={inside}",
        f"--log={inside}/var/log/dpkg.log",
        "--force-not-root",
        "--force-script-chrootless",
    ]
    install_argv = ["apt-get", "-q", "-y", *(f"-oDPkg::Options::={o}" for o in dpkg), "install", *packages]
    log: list[str] = []
    try:
        for argv in (["apt-get", "-q", "update"], install_argv):
            result = subprocess.run(
                sandboxed(argv, workdir, name),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
            )
            log.append(result.stdout.decode(errors="replace"))
            if result.returncode != 0 and (argv[2] == "update" or not unpacked_all(root, packages)):
                raise InstallFailed(" / ".join(log[-1].strip().splitlines()[-3:]))
    finally:
        clean_apt(root)
    return "".join(log)


def clean_apt(root: Path) -> None:
    """What debian_packages.sh removes after an install: apt's package lists, downloaded .debs
    and caches (their dirs' lock and partial/ stay, as the base images have them)."""
    for leftover in APT_LEFTOVERS:
        for path in (root / leftover).glob("*"):
            if path.name in ("lock", "partial"):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for cache in (root / "var/cache/apt").glob("*.bin"):
        cache.unlink()


def package_states(root: Path) -> list[tuple[str, str, str]]:
    """dpkg's status file: (package, its architecture or '' where unsaid, its state: `installed`,
    `half-configured`, `unpacked`, ...) per entry, a package of two architectures twice."""
    states: list[tuple[str, str, str]] = []
    status = root / "var/lib/dpkg/status"
    for stanza in status.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" ")
        )
        if "Package" in fields and "Status" in fields:
            states.append((fields["Package"], fields.get("Architecture", ""), fields["Status"].split()[-1]))
    return states


def unpacked_all(root: Path, packages: Iterable[str]) -> bool:
    """Whether every package asked for (of its :arch, where it names one and the status says
    one) is in dpkg's status past unpacking."""
    done = {
        (name, arch)
        for name, arch, state in package_states(root)
        if state not in ("not-installed", "config-files")
    }
    names = {name for name, _ in done}
    wanted = [p.split("=", 1)[0].partition(":") for p in packages]
    return all(
        (name, arch) in done or (name, "") in done if arch else name in names for name, _, arch in wanted
    )


def unconfigured(root: Path) -> list[str]:
    """The packages dpkg has not finished configuring (their maintainer scripts failed here), with
    their :arch where the status says one other than all."""
    return sorted(
        f"{name}:{arch}" if arch not in ("", "all") else name
        for name, arch, state in package_states(root)
        if state not in ("installed", "config-files", "not-installed")
    )


def layer_tar(root: Path, paths: list[str], tar: Path) -> None:
    """paths (relative to root) as a tar, numeric owners, hard links kept among them."""
    listing = tar.with_suffix(".list")
    listing.write_bytes(b"".join(os.fsencode(p) + b"\0" for p in paths))
    subprocess.run(
        [
            "tar",
            "--create",
            f"--file={tar}",
            f"--directory={root}",
            "--numeric-owner",
            "--no-recursion",
            "--null",
            f"--files-from={listing}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    listing.unlink()
