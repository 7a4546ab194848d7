"""Decide: the container-create request's body for a RunSpec, in the Engine API's words.

It says what ci.planning.runline's printed `docker run` line says (the same mounts, env, labels, limits,
devices), so the printed line and the run cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from ci.planning.runspec import RunSpec


def container_config(spec: RunSpec) -> dict[str, Any]:
    """The create request's body for spec: what `docker run` sends for the same flags."""
    return {
        "Image": spec.image,
        "Cmd": list(spec.command),
        "User": spec.user,
        "WorkingDir": spec.workdir,
        "Env": [f"{k}={v}" for k, v in spec.env],
        "Labels": dict(spec.labels),
        "Tty": spec.tty,
        "OpenStdin": spec.interactive,
        "StdinOnce": spec.interactive,
        "AttachStdin": spec.interactive,
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": host_config(spec),
    }


def host_config(spec: RunSpec) -> dict[str, Any]:
    # Docker makes a copy-on-write source as an anonymous overlay volume; podman (and every
    # other mount) as a bind.
    volumes = [m for m in spec.mounts if m.upper is not None and spec.program == "docker"]
    config: dict[str, Any] = {
        "Binds": [m.cli_args(spec.program)[1] for m in spec.mounts if m not in volumes],
        "Init": True,
        "Privileged": spec.privileged,
        "NetworkMode": spec.network or "default",
    }
    if volumes:
        config["Mounts"] = [
            {
                "Target": m.target,
                "Type": "volume",
                "ReadOnly": False,
                "VolumeOptions": {
                    "DriverConfig": {
                        "Name": "local",
                        "Options": {"type": "overlay", "device": "overlay", "o": m.overlay_options()},
                    }
                },
            }
            for m in volumes
        ]
    if spec.ulimits:
        config["Ulimits"] = [{"Name": n, "Soft": s, "Hard": h} for n, s, h in spec.ulimits]
    if spec.extra_hosts:
        config["ExtraHosts"] = [f"{name}:{address}" for name, address in spec.extra_hosts]
    if spec.userns:
        config["UsernsMode"] = spec.userns  # podman's API takes keep-id
    if spec.gpus.wanted:  # what `docker run --gpus` sends
        config["DeviceRequests"] = [spec.gpus.device_request()]
    return config
