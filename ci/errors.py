"""Every fatal error the harness can report, each with its own exit code and a hint.

Only ci.cli.main() turns these into exit codes; everything else raises them.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of build.py, each with its one-line meaning (--help and docs/usage.md show it).
    A run's own exit status (0-255) passes through unchanged."""

    meaning: str

    def __new__(cls, code: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member

    OK = 0, "success"
    USAGE = 2, "bad command line"
    BAD_ENV = 64, "malformed -e"
    BAD_PLATFORM_NAME = 65, "invalid platform name"
    UNKNOWN_PLATFORM = 66, "unknown platform"
    UNKNOWN_FUNCTION = 67, "unknown runtime function"
    SOURCE_MISSING = 68, "source dir missing or not a directory"
    ENGINE_UNREACHABLE = 69, "engine unreachable"
    BASE_IMAGE_UNAVAILABLE = 70, "base image neither found, pulled nor bootstrapped"
    IMAGE_BUILD_FAILED = 71, "image build failed"
    IMAGE_MISSING = 72, "image missing with --run-only"
    BUILD_DIR_CONFLICT = 73, "build dir holds another platform's or source tree's outputs"
    PLATFORM_DEFINITION = 74, "bad platform definition"
    CONTAINER_FAILED = 75, "container could not be created, or the engine was lost while it ran"
    DIR_NOT_WRITABLE = 76, "build or ccache dir cannot be created or written"
    EMULATION_UNAVAILABLE = 77, "a platform needs emulation that this host cannot provide"
    DOCKER_SOCKET_MOUNT = 78, "a mount (source, build or ccache dir) would expose the Docker socket"
    LOCK_TIMEOUT = 79, "gave up waiting for a lock"
    BAD_RELEASE_REFERENCE = 80, "invalid --release tag or --push image reference"
    RELEASE_PUSH_FAILED = 81, "a registry refused a release push or the manifest list"
    RELEASE_IMAGES_MISSING = (
        82,
        "--manifest (or --release's join) found TAG-<arch> images missing, or not of their architecture",
    )
    GPU_UNAVAILABLE = 83, "a platform needs GPUs that its engine cannot provide"
    BAD_CCACHE_REMOTE = 84, "a --ccache-remote URL ccache would refuse"
    INSECURE_ENGINE = 85, "a tcp:// engine off loopback without TLS, refused"
    NO_BUILD_SYSTEM = 86, "no build system recognised in the source tree"
    NO_TESTS = 87, "the build passed but ran no test (none defined, or every one skipped)"
    PROJECT_FILE_INVALID = 88, "the project file is missing, unreadable or not valid TOML"
    PROJECT_KEY_UNKNOWN = 89, "the project file has a key it does not know"
    PROJECT_VALUE_INVALID = 90, "a value of the project file has the wrong type or is not allowed"
    PACKAGE_UNAVAILABLE = 91, "a package of the project file does not exist for a platform's architecture"
    PRE_BUILD_FAILED = 92, "a pre-build command of the project file failed"
    NO_CONFIGURE = 93, "an autotools project's bootstrap and autoreconf -fi left no configure"
    UNKNOWN_COMPILER = 94, "an unknown compiler, or a version the image's Debian suite does not have"
    BAD_SANITIZERS = (
        95,
        "an unknown sanitizer, or sanitizers that cannot go together (memory with gcc, thread with address)",
    )
    BAD_BUILD_TYPE = 96, "a build type the project's build system does not know"
    SANITIZER_UNSUPPORTED = 97, "a sanitizer that does not work where the platform's tests run (under QEMU)"
    UNKNOWN_VARIANT = 98, "a variant the project file does not define"
    COVERAGE_MISSING = 103, "a --coverage run whose tests ran but that made no coverage report"
    RUN_TIMEOUT = 124, "the run exceeded --timeout"
    INTERNAL = 99, "internal error"


class HarnessError(Exception):
    """A fatal error: one line saying what is wrong, and a hint saying how to fix it."""

    code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(HarnessError):
    code = ExitCode.USAGE


class BadEnvError(HarnessError):
    code = ExitCode.BAD_ENV


class BadPlatformNameError(HarnessError):
    code = ExitCode.BAD_PLATFORM_NAME


class UnknownPlatformError(HarnessError):
    code = ExitCode.UNKNOWN_PLATFORM


class UnknownFunctionError(HarnessError):
    code = ExitCode.UNKNOWN_FUNCTION


class SourceMissingError(HarnessError):
    code = ExitCode.SOURCE_MISSING


class EngineUnreachableError(HarnessError):
    code = ExitCode.ENGINE_UNREACHABLE


class BaseImageUnavailableError(HarnessError):
    code = ExitCode.BASE_IMAGE_UNAVAILABLE


class ImageBuildError(HarnessError):
    code = ExitCode.IMAGE_BUILD_FAILED


class ImageMissingError(HarnessError):
    code = ExitCode.IMAGE_MISSING


class BuildDirConflictError(HarnessError):
    code = ExitCode.BUILD_DIR_CONFLICT


class PlatformDefinitionError(HarnessError):
    code = ExitCode.PLATFORM_DEFINITION


class ContainerError(HarnessError):
    code = ExitCode.CONTAINER_FAILED


class SourceOverlayError(ContainerError):
    """The engine could not mount the copy-on-write source (no overlay support there)."""


class DirNotWritableError(HarnessError):
    code = ExitCode.DIR_NOT_WRITABLE


class EmulationUnavailableError(HarnessError):
    code = ExitCode.EMULATION_UNAVAILABLE


class DockerSocketMountError(HarnessError):
    code = ExitCode.DOCKER_SOCKET_MOUNT


class LockTimeoutError(HarnessError):
    code = ExitCode.LOCK_TIMEOUT


class RunTimeoutError(HarnessError):
    code = ExitCode.RUN_TIMEOUT


class BadReleaseReferenceError(HarnessError):
    code = ExitCode.BAD_RELEASE_REFERENCE


class ReleasePushError(HarnessError):
    code = ExitCode.RELEASE_PUSH_FAILED


class BadCcacheRemoteError(HarnessError):
    code = ExitCode.BAD_CCACHE_REMOTE


class ReleaseImagesMissingError(HarnessError):
    """A join found per-architecture images missing, or not of their architecture."""

    code = ExitCode.RELEASE_IMAGES_MISSING


class GpuUnavailableError(HarnessError):
    code = ExitCode.GPU_UNAVAILABLE


class InsecureEngineError(HarnessError):
    code = ExitCode.INSECURE_ENGINE


class NoBuildSystemError(HarnessError):
    code = ExitCode.NO_BUILD_SYSTEM


class ProjectFileError(HarnessError):
    code = ExitCode.PROJECT_FILE_INVALID


class ProjectKeyError(HarnessError):
    code = ExitCode.PROJECT_KEY_UNKNOWN


class ProjectValueError(HarnessError):
    code = ExitCode.PROJECT_VALUE_INVALID


class PackageUnavailableError(ImageBuildError):
    code = ExitCode.PACKAGE_UNAVAILABLE


class PreBuildError(ImageBuildError):
    code = ExitCode.PRE_BUILD_FAILED


class UnknownCompilerError(HarnessError):
    code = ExitCode.UNKNOWN_COMPILER


class SanitizersError(HarnessError):
    code = ExitCode.BAD_SANITIZERS


class BuildTypeError(HarnessError):
    code = ExitCode.BAD_BUILD_TYPE


class SanitizerUnsupportedError(HarnessError):
    code = ExitCode.SANITIZER_UNSUPPORTED


class UnknownVariantError(HarnessError):
    code = ExitCode.UNKNOWN_VARIANT
