"""Decide GPUs: what a platform (`# ci.gpus:`) or `--gpus` asks for, how the engine API and the
`docker run` line say it, and whether an engine can provide it (from its info; no Docker here).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from ci.errors import GpuUnavailableError

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")  # an index (0) or a UUID (GPU-3f2c...)
SYNTAX = "all, none, a count (2) or device=ID[,ID...]"
# The runtime that `nvidia-ctk runtime configure --runtime=docker` registers with dockerd.
NVIDIA_RUNTIME = "nvidia"
# CDI device names of NVIDIA GPUs, as newer engines report them (info DiscoveredDevices).
CDI_GPU_PREFIX = "nvidia.com/gpu="

INSTALL_HINT = (
    "on the engine's host install the NVIDIA driver and nvidia-container-toolkit, run "
    "`sudo nvidia-ctk runtime configure --runtime=docker` and restart dockerd; "
    "elsewhere build only (-b) or run without GPUs (--gpus none)"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Gpus:
    """GPUs for a run: count -1 is all, 0 none (unless device_ids names them), N that many."""

    count: int = 0
    device_ids: tuple[str, ...] = ()

    @property
    def wanted(self) -> bool:
        return self.count != 0 or bool(self.device_ids)

    def env_value(self) -> str:
        """CI_GPUS inside the container: all, a count, the device ids (0,1), or none."""
        if self.device_ids:
            return ",".join(self.device_ids)
        return {-1: "all", 0: "none"}.get(self.count, str(self.count))

    def cli_value(self) -> str:
        """The value of `docker run --gpus`; several ids are quoted, as the docker CLI reads the
        value as CSV (`--gpus '"device=0,1"'`)."""
        if self.device_ids:
            value = "device=" + ",".join(self.device_ids)
            return f'"{value}"' if len(self.device_ids) > 1 else value
        return "all" if self.count == -1 else str(self.count)

    def device_request(self) -> dict[str, Any]:
        """HostConfig.DeviceRequests entry, exactly what `docker run --gpus` sends."""
        return {
            "Driver": "",
            "Count": 0 if self.device_ids else self.count,
            "DeviceIDs": list(self.device_ids),
            "Capabilities": [["gpu"]],
            "Options": {},
        }


NO_GPUS = Gpus()
ALL_GPUS = Gpus(count=-1)


def parse(value: str) -> Gpus:
    """`all`, `none`, `N` (N >= 1) or `device=ID[,ID...]`; ValueError saying what is wrong."""
    text = value.strip()
    if text == "all":
        return ALL_GPUS
    if text == "none":
        return NO_GPUS
    if text.isdigit():
        if int(text) < 1:
            raise ValueError(f"{value!r} asks for no GPUs: say none")
        return Gpus(count=int(text))
    if text.startswith("device="):
        ids = tuple(part.strip() for part in text[len("device=") :].split(","))
        if ids and all(DEVICE_ID_RE.match(i) for i in ids) and len(set(ids)) == len(ids):
            return Gpus(device_ids=ids)
    raise ValueError(f"{value!r} is not {SYNTAX}")


def engine_problem(info: Mapping[str, Any], engine_kind: str) -> str | None:
    """Why this engine cannot give containers GPUs, or None when it can.

    Docker: the engine must list the NVIDIA runtime (what `nvidia-ctk runtime configure` adds,
    after installing the toolkit whose hook `--gpus` relies on) or report NVIDIA CDI devices.
    Podman: its Docker-compatible API accepts device requests and ignores them (podman#22645),
    so a container would start without its GPUs: refused.
    """
    if engine_kind == "podman":
        return (
            "podman's Docker-compatible API ignores GPU device requests, so the container would "
            "start without its GPUs"
        )
    runtimes = info.get("Runtimes") or {}
    if NVIDIA_RUNTIME in runtimes:
        return None
    devices = info.get("DiscoveredDevices") or []
    if any(str(d.get("ID", "")).startswith(CDI_GPU_PREFIX) for d in devices if isinstance(d, Mapping)):
        return None
    names = ", ".join(sorted(runtimes)) or "none"
    return f"the engine has no NVIDIA container runtime (its runtimes: {names})"


def for_run(declared: Gpus, override: Gpus | None) -> Gpus:
    """`--gpus` wins over the platform's `# ci.gpus:`, for every platform of the run."""
    return declared if override is None else override


def require(wanted: Gpus, info: Mapping[str, Any], engine_kind: str, platform: str, where: str) -> None:
    """Raise GpuUnavailableError when a run wants GPUs that its engine cannot give."""
    if not wanted.wanted:
        return
    problem = engine_problem(info, engine_kind)
    if problem is not None:
        raise GpuUnavailableError(
            f"{platform} needs GPUs ({wanted.env_value()}) but {where} cannot provide them: {problem}",
            hint=INSTALL_HINT
            if engine_kind != "podman"
            else "run GPU platforms on Docker with the NVIDIA toolkit (--engine docker), "
            "build only (-b), or run without GPUs (--gpus none)",
        )
