"""Decide one platform's container once its engine has answered: the invocation's RunSettings and
the PlatformRun's own facts -> its RunSpec (pure; ci.running.steps calls it)."""

from __future__ import annotations

from collections.abc import Mapping

from ci.planning import runspec
from ci.planning.platformrun import PlatformRun


def run_inputs(
    shared: runspec.RunSettings,
    run: PlatformRun,
    *,
    source_mode: runspec.SourceMode,
    emulated: bool,
    engine_limits: Mapping[str, int],
    qemu_cpu: str | None = None,
) -> runspec.RunInputs:
    """The container's inputs: source_mode as decided for its engine (the setting's, or
    read-only where the engine cannot make the overlay), whether it runs emulated and the CPU its
    QEMU is told, its limits."""
    return runspec.RunInputs(
        shared=shared,
        platform=run.platform,
        image=run.image,
        command=run.command,
        project=run.project,
        build_dir=run.build_dir,
        source_mode=source_mode,
        emulated=emulated,
        qemu_cpu=qemu_cpu,
        transfer=run.remote,
        engine_limits=engine_limits,
        gpus=run.gpus,
        variant=run.variant,
        job=run.job,
    )


def spec_for(
    shared: runspec.RunSettings,
    run: PlatformRun,
    *,
    source_mode: runspec.SourceMode,
    emulated: bool,
    engine_limits: Mapping[str, int],
    qemu_cpu: str | None = None,
) -> runspec.RunSpec:
    return runspec.plan_run(
        run_inputs(
            shared,
            run,
            source_mode=source_mode,
            emulated=emulated,
            engine_limits=engine_limits,
            qemu_cpu=qemu_cpu,
        )
    )
