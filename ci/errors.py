"""Every fatal error the harness can report, each with its own exit code and a hint.

Only ci.cli.main() turns these into exit codes; everything else raises them.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of build.py. A run's own exit status (0-255) passes through unchanged."""

    OK = 0
    USAGE = 2
    BAD_ENV = 64
    BAD_PLATFORM_NAME = 65
    UNKNOWN_PLATFORM = 66
    UNKNOWN_FUNCTION = 67
    SOURCE_MISSING = 68
    ENGINE_UNREACHABLE = 69
    BASE_IMAGE_UNAVAILABLE = 70
    IMAGE_BUILD_FAILED = 71
    IMAGE_MISSING = 72
    BUILD_DIR_CONFLICT = 73
    PLATFORM_DEFINITION = 74
    CONTAINER_FAILED = 75
    DIR_NOT_WRITABLE = 76
    EMULATION_UNAVAILABLE = 77
    DOCKER_SOCKET_MOUNT = 78
    LOCK_TIMEOUT = 79
    BAD_RELEASE_REFERENCE = 80
    RELEASE_PUSH_FAILED = 81
    RELEASE_IMAGES_MISSING = 82
    GPU_UNAVAILABLE = 83
    BAD_CCACHE_REMOTE = 84
    INSECURE_ENGINE = 85
    RUN_TIMEOUT = 124
    INTERNAL = 99


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
