"""Decide the `docker run` (or `podman run`) command line of a run spec: what --print-docker-run
prints and what -i runs, so the two cannot drift apart from what the engine executes."""

from __future__ import annotations

from ci.planning.runspec import LABEL_PREFIX, RunSpec, hidden

OWNER_LABELS = tuple(LABEL_PREFIX + name for name in ("owner-host", "owner-pid", "owner-start"))


def docker_run_argv(
    spec: RunSpec,
    program: str = "docker",
    mask_secrets: bool = False,
    engine_url: str = "",
    *,
    owned: bool = True,
) -> list[str]:
    """The `docker run` command line equivalent to executing spec through the engine.

    With mask_secrets, variables whose values are hidden (see hidden) are written as `--env NAME`
    (docker then takes the value from the caller's environment), so they are never printed.
    A line that no build.py process will own (printed, to be pasted) carries no owner labels:
    else any later build.py would take its container for an orphan of a dead run and remove it.
    """
    program = spec.program if program == "docker" else program
    # podman's CLI works on the same local storage as its service: no -H needed (or known).
    host = ["-H", engine_url] if engine_url and program == "docker" else []
    argv = [
        program,
        *host,
        "run",
        "--rm",
        "--init",
        "--name",
        spec.name,
    ]
    if spec.interactive:
        argv.append("-i")
    if spec.tty:
        argv.append("-t")
    if spec.privileged:
        argv.append("--privileged")
    if spec.gpus.wanted:
        argv += ["--gpus", spec.gpus.cli_value()]
    argv += ["--platform", spec.docker_platform]
    for name, soft, hard in spec.ulimits:
        argv += ["--ulimit", f"{name}={soft}:{hard}"]
    if spec.userns:
        argv += ["--userns", spec.userns]
    if spec.network:
        argv += ["--network", spec.network]
    for name, address in spec.extra_hosts:
        argv += ["--add-host", f"{name}:{address}"]
    for key, value in spec.labels:
        if owned or key not in OWNER_LABELS:
            argv += ["--label", f"{key}={value}"]
    argv += ["--user", spec.user, "--workdir", spec.workdir]
    for mount in spec.mounts:
        argv += mount.cli_args(program)
    for key, value in spec.env:
        argv += ["--env", key if mask_secrets and hidden(key, value) else f"{key}={value}"]
    argv.append(spec.image)
    argv += list(spec.command)
    return argv
