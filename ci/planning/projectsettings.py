"""Decide what the project asks of one platform (pure): its settings with the project file's
[platform.<name>] table over its top level, under what the environment and the command line set,
and what its image adds (packages for the target, packages for the build machine, pre-build
commands)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from pathlib import Path

from ci import buildsystems
from ci.errors import UnknownVariantError
from ci.planning import toolchains
from ci.settings import table
from ci.settings.options import Options


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImageNeeds:
    """What the project adds to a platform's image (nothing: the platform's image as it is)."""

    packages: tuple[str, ...] = ()  # Debian packages for the target architecture
    build_packages: tuple[str, ...] = ()  # Debian packages for the build machine
    pre_build: tuple[str, ...] = ()  # shell commands, run as root while the image is made
    toolchain: tuple[str, ...] = ()  # what the toolchain adds (ci.planning.toolchains.Toolchain.image_lines)

    def __bool__(self) -> bool:
        return bool(self.packages or self.build_packages or self.pre_build or self.toolchain)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlatformProject:
    """One platform's project settings, as its container and image need them."""

    build: buildsystems.Choice | None  # the default step's build system; None for any other command
    tests: bool
    test_jobs: int | None
    retries: int = 0  # failed tests run again up to this many more times
    quarantine: tuple[str, ...] = ()  # tests whose failures do not fail the run
    configure_args: tuple[str, ...] = ()
    test_args: tuple[str, ...] = ()
    bootstrap: str = ""  # autotools: the command that writes configure ('': the step's own choice)
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    needs: ImageNeeds = ImageNeeds()
    toolchain: toolchains.Toolchain = toolchains.DEFAULT

    def env(self) -> dict[str, str]:
        """The project's variables, then what runtime_functions.sh reads of it: the build system,
        its arguments one a line (CI_CONFIGURE_ARGS, CI_TEST_ARGS), and the autotools bootstrap
        command (CI_BOOTSTRAP)."""
        env = dict(self.environment)
        env.update(self.toolchain.env())
        if self.build is not None:
            env["CI_BUILD_SYSTEM"] = self.build.system
        if self.configure_args:
            env["CI_CONFIGURE_ARGS"] = "\n".join(self.configure_args)
        if self.test_args:
            env["CI_TEST_ARGS"] = "\n".join(self.test_args)
        if self.bootstrap:
            env["CI_BOOTSTRAP"] = self.bootstrap
        if self.retries:
            env["CI_RETRIES"] = str(self.retries)
        return env


def setting_for(opts: Options, platform: str, name: str, variant: str = "") -> object:
    """A setting's value for one platform (and variant): its [variant.<name>] table's, else its
    [platform.<name>] table's, unless the environment or the command line set it; else the value
    the settings layer resolved."""
    for own in (opts.project.variants.get(variant, {}), opts.project.platforms.get(platform, {})):
        if name in own and name not in opts.pinned:
            return own[name]
    return getattr(opts, table.by_name(name).attr)


def variants_of(opts: Options) -> tuple[str, ...]:
    """The variants a run runs: --variant's (or the project file's `variants`; `all`: every
    [variant.<name>] in the file's order), each defined; ("",): the project as it is."""
    defined = list(opts.project.variants)
    asked = [word.strip() for item in opts.variants for word in item.split(",") if word.strip()]
    if "all" in asked:
        asked = defined
    for name in asked:
        if name not in defined:
            close = difflib.get_close_matches(name, defined, n=1)
            where = f"in {opts.project.path}" if opts.project.path else "(the project has no ciharness.toml)"
            raise UnknownVariantError(
                f"no variant {name!r} {where}",
                hint=(f"did you mean '{close[0]}'? " if close else "")
                + (
                    f"its variants: {', '.join(defined)}"
                    if defined
                    else "define it as a [variant.<name>] table"
                ),
            )
    return tuple(dict.fromkeys(asked)) or ("",)


def source_of(opts: Options, platform: str, name: str) -> str:
    """Where a setting's value came from, as a user would name it."""
    if name in opts.pinned:
        return f"--{name}"
    if name in opts.project.platforms.get(platform, {}):
        return f"[platform.{platform}] of {opts.project.path}"
    if name in opts.project.top:
        return str(opts.project.path)
    return "the default"


def for_platform(
    opts: Options, platform: str, source: Path, *, default_step: bool, suite: str = "", variant: str = ""
) -> PlatformProject:
    """default_step: the run builds with the default step (no function named, no command), so
    its build system is chosen (and checked) now; suite: the Debian suite of the platform's image
    (the compiler versions it has)."""

    def words(name: str) -> tuple[str, ...]:
        return tuple(str(v) for v in setting_for(opts, platform, name, variant))  # type: ignore[attr-defined]

    build = None
    if default_step:
        system = str(setting_for(opts, platform, "build-system"))
        build = buildsystems.choose(source, system, reason=source_of(opts, platform, "build-system"))
    environment = setting_for(opts, platform, "environment", variant)
    test_jobs = setting_for(opts, platform, "test-jobs")
    toolchain = toolchain_for(opts, platform, variant, suite=suite, system=build.system if build else None)
    return PlatformProject(
        build=build,
        tests=bool(setting_for(opts, platform, "tests")),
        test_jobs=int(str(test_jobs)) if test_jobs is not None else None,
        retries=int(str(setting_for(opts, platform, "retries") or 0)),
        quarantine=words("quarantine"),
        configure_args=words("configure-args"),
        test_args=words("test-args"),
        bootstrap=str(setting_for(opts, platform, "bootstrap") or ""),
        environment=dict(environment) if isinstance(environment, dict) else {},
        needs=ImageNeeds(  # packages as a set: the same set, in any order, is the same image
            packages=tuple(sorted(set(words("packages")))),
            build_packages=tuple(sorted(set(words("build-packages")))),
            pre_build=words("pre-build"),
            toolchain=toolchain.image_lines(),
        ),
        toolchain=toolchain,
    )


def toolchain_for(
    opts: Options, platform: str, variant: str, *, suite: str, system: str | None
) -> toolchains.Toolchain:
    """The compiler, sanitizers and build type asked of a platform (and variant), checked (the
    build type against system, the build system; None: any, the run's own command builds)."""
    family, version = toolchains.parse_compiler(str(setting_for(opts, platform, "compiler", variant)), suite)
    sanitize = toolchains.parse_sanitizers(
        [str(item) for item in setting_for(opts, platform, "sanitize", variant)],  # type: ignore[attr-defined]
        family,
    )
    build_type = toolchains.parse_build_type(
        str(setting_for(opts, platform, "build-type", variant) or ""), system
    )
    coverage = bool(setting_for(opts, platform, "coverage", variant))
    return toolchains.Toolchain(
        family=family, version=version, sanitize=sanitize, build_type=build_type, coverage=coverage
    )
