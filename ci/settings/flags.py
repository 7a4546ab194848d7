"""Decide the command line's flags: the argparse parser, its groups and its help text (pure)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ci import REPO_ROOT
from ci.errors import UsageError

EXAMPLES = """\
examples:
  ./build.py -l                                   list the platforms
  ./build.py -a -j 3                              every platform, 3 at a time, then a summary
  ./build.py -p armv7,arm64,s390x                 cross-compile, test under qemu-user
  ./build.py -p amd64                             build the image if needed, then build + test
  ./build.py -p amd64 -- bash -c 'exit 7'         any command (build.py exits 7)
  ./build.py -p amd64 unittest_xsum               a function of runtime_functions.sh
  ./build.py -p amd64 -i                          a shell with the same mounts, env and user
  ./build.py -p amd64 --print-docker-run -- make  print the equivalent `docker run` line
  ./build.py -p amd64 --source ~/src/zlib         any CMake project, nothing added to it
  ./build.py -p amd64 -e CMAKE_ARGS=-DFOO=ON      pass environment (values may contain '=')
  ./build.py --release 1.2 --push R/xsum -p arm64 --no-manifest   push 1.2-arm64 from this machine
  ./build.py --manifest 1.2 --push R/xsum -p amd64,arm64          then join them into the list 1.2

exit codes: 0 success; a run's own exit status passes through; 2 bad command line;
  64 malformed -e; 65 invalid platform name; 66 unknown platform; 67 unknown runtime function;
  68 source dir missing; 69 engine unreachable; 70 base image unavailable; 71 image build
  failed; 72 image missing with --run-only; 73 build dir holds another platform's outputs;
  74 bad platform definition; 75 container could not be created or was lost; 76 build or
  ccache dir not writable; 77 emulation unavailable; 78 a mount would expose the Docker
  socket; 79 gave up waiting for a lock; 80 invalid release tag or image reference; 81 a
  registry refused a release push; 82 --manifest found images missing or of the wrong
  architecture (nothing pushed); 83 the engine cannot provide the GPUs a platform needs;
  84 a --ccache-remote URL ccache would refuse; 85 plain-TCP engine off loopback refused;
  124 --timeout expired; 99 internal error;
  128+N killed by signal N.
"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint="see ./build.py --help")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="build.py",
        description="Build and test a compiled project in per-platform containers.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for add in (_selection, _modes, _inputs, _caches, _engines, _release, _housekeeping):
        add(p)
    return p


def _selection(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("choose platforms and what runs")
    g.add_argument(
        "-p",
        "--platform",
        action="append",
        default=[],
        metavar="NAME[,NAME...]",
        help="platform(s) to run; repeatable or comma separated",
    )
    g.add_argument("-a", "--all", action="store_true", help="run every platform")
    g.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="platforms run at once (default: from cores and memory)"
    )
    g.add_argument("--fail-fast", action="store_true", help="when one platform fails, stop the others")
    g.add_argument(
        "--arch",
        metavar="ARCH",
        help="architecture the run executes on (e.g. arm64, linux/arm/v7); default: the platform's",
    )
    g.add_argument(
        "--progress",
        choices=["auto", "tty", "plain"],
        default="auto",
        help="several platforms: a live board (tty), or prefixed lines (plain); "
        "default auto: the board when stderr is a terminal",
    )
    g.add_argument("-l", "--list", action="store_true", help="list the platforms, one per line")
    g.add_argument(
        "--list-json",
        action="store_true",
        help="print the platforms (all, or those of -p) as a CI matrix: JSON include entries with "
        "platform, runner and release",
    )
    g.add_argument(
        "--list-gpus", action="store_true", help="list the platforms that declare GPUs (# ci.gpus:)"
    )
    g.add_argument(
        "words",
        nargs="*",
        metavar="FUNCTION [ARG...]",
        help="runtime function and its arguments; or `-- COMMAND...` for any command",
    )


def _modes(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("image and run modes")
    g.add_argument("-b", "--build-only", action="store_true", help="only make sure the image exists")
    g.add_argument(
        "-R",
        "--run-only",
        action="store_true",
        help="use the existing image; never build (fails if it is missing)",
    )
    g.add_argument("--no-cache", action="store_true", help="rebuild the image from scratch")
    g.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="open a shell (or run the command) interactively in the same container setup",
    )
    g.add_argument(
        "--print-docker-run",
        action="store_true",
        help="print the equivalent `docker run` line instead of running",
    )
    g.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="kill and remove a run's container after this long (exit 124)",
    )
    g.add_argument(
        "--lock-timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="how long to wait for another run's image build or build dir (default: 3600)",
    )


def _inputs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inputs and dirs")
    g.add_argument(
        "-e",
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an environment variable in the container; repeatable",
    )
    g.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help="CMake source tree to build (default: xsum/ next to build.py)",
    )
    g.add_argument(
        "--source-mode",
        choices=["copy-on-write", "writable", "read-only"],
        help="how runs see the source tree: writable with the writes kept in the build dir "
        "(copy-on-write, the default), writable in place, or read-only",
    )
    g.add_argument(
        "--writable-source",
        action="store_true",
        help="same as --source-mode writable: writes land in the tree",
    )
    g.add_argument(
        "--build-dir",
        type=Path,
        metavar="DIR",
        help="build output dir (default: ./build.<platform>; DIR.<platform> for several)",
    )
    g.add_argument(
        "--build-jobs",
        type=int,
        metavar="N",
        help="parallel compile jobs in the container (default: from cores and memory)",
    )
    g.add_argument(
        "--docker-dir",
        type=Path,
        metavar="DIR",
        default=REPO_ROOT / "docker",
        help="where Dockerfile.build.<platform> files live (default: docker/)",
    )
    g.add_argument(
        "--runtime-functions",
        type=Path,
        metavar="FILE",
        default=REPO_ROOT / "runtime_functions.sh",
        help="the script whose functions runs call (default: runtime_functions.sh)",
    )


def _engines(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engines and registries")
    g.add_argument(
        "--engine",
        choices=["auto", "docker", "podman"],
        default="auto",
        help="container engine (default auto: Docker when it is there, else podman)",
    )
    g.add_argument(
        "--gpus",
        metavar="all|N|device=ID[,ID...]|none",
        help="GPUs for the run's containers, overriding the platforms' `# ci.gpus:`",
    )
    g.add_argument(
        "--docker-host",
        action="append",
        default=[],
        metavar="PLATFORM=URL",
        help="run PLATFORM on this engine (unix://, tcp://, ssh:// or context:NAME); repeatable",
    )
    g.add_argument(
        "--engines",
        type=Path,
        metavar="FILE",
        help="TOML file with an [engines] table of platform = URL ('*' for the rest)",
    )
    g.add_argument(
        "--docker-registry",
        metavar="HOST[:PORT]",
        help="image cache: pull the content-hash tag from this registry before building",
    )
    g.add_argument(
        "--push-cache",
        action="store_true",
        help="push images built here to --docker-registry, for other machines",
    )


def _release(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("release")
    g.add_argument(
        "--release",
        metavar="TAG",
        help="after building and testing, build each platform's runtime image and push TAG-<arch>, "
        "then a manifest list TAG (needs --push)",
    )
    g.add_argument(
        "--no-manifest",
        action="store_true",
        help="with --release: push only these platforms' TAG-<arch>, no list (join later with --manifest)",
    )
    g.add_argument(
        "--manifest",
        metavar="TAG",
        help="join the TAG-<arch> images of the platforms given into the manifest list TAG in every "
        "--push registry, over the registry API (no engine, no build)",
    )
    g.add_argument(
        "--push",
        metavar="REGISTRY/IMAGE[,...]",
        help="where --release and --manifest push: one or more image references without a tag",
    )


def _housekeeping(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("housekeeping")
    g.add_argument(
        "--prune",
        action="store_true",
        help="remove this project's images whose content hash is no longer current, then exit",
    )
    g.add_argument(
        "--cleanup",
        action="store_true",
        help="remove containers of runs whose build.py is gone (on every named engine), then exit",
    )
    g.add_argument("--debug", action="store_true", help="verbose logs and tracebacks")


def _caches(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("compiler cache")
    g.add_argument(
        "--ccache-dir",
        type=Path,
        metavar="DIR",
        help="ccache dir (default: $CCACHE_DIR, else ~/.cache/ciharness/ccache)",
    )
    g.add_argument(
        "--ccache-remote",
        metavar="URL",
        help="ccache remote storage shared by every machine, e.g. redis://HOST:PORT; several "
        "separated by spaces (default: $CI_CCACHE_REMOTE; '' for none)",
    )
    g.add_argument(
        "--ccache-max-size",
        default="10G",
        metavar="SIZE",
        help="cap of the ccache dir, e.g. 500M or 10G (default: 10G)",
    )
