"""GPU requests: parsing, the engine API's DeviceRequests, the `--gpus` value, CI_GPUS, and the
check that refuses an engine without the NVIDIA runtime."""

from __future__ import annotations

from pathlib import Path

import docker.types
import pytest

from ci.errors import ExitCode, GpuUnavailableError, PlatformDefinitionError, UsageError
from ci.planning.platforms import discover
from ci.planning.runline import docker_run_argv
from ci.planning.runspec import plan_run
from ci.settings import gpus
from ci.settings.options import parse_args
from tests.unit.helpers import inputs


@pytest.mark.parametrize(
    ("value", "env", "cli", "count", "ids"),
    [
        ("all", "all", "all", -1, []),
        ("2", "2", "2", 2, []),
        ("device=0", "0", "device=0", 0, ["0"]),
        ("device=0,1", "0,1", '"device=0,1"', 0, ["0", "1"]),
        ("device=GPU-3f2c9d1e", "GPU-3f2c9d1e", "device=GPU-3f2c9d1e", 0, ["GPU-3f2c9d1e"]),
        ("none", "none", "0", 0, []),
    ],
)
def test_parse(value: str, env: str, cli: str, count: int, ids: list[str]) -> None:
    wanted = gpus.parse(value)
    assert wanted.env_value() == env
    assert wanted.wanted is (value != "none")
    if wanted.wanted:
        assert wanted.cli_value() == cli
    # The same JSON as the SDK's DeviceRequest, which is what `docker run --gpus` sends.
    sdk = docker.types.DeviceRequest(driver="", count=count, device_ids=ids, capabilities=[["gpu"]])
    assert wanted.device_request() == dict(sdk)


@pytest.mark.parametrize(
    "value", ["0", "-1", "some", "device=", "device=0,,1", "device=0,0", "device=a b", ""]
)
def test_parse_refuses(value: str) -> None:
    with pytest.raises(ValueError, match=r"all, none, a count|say none"):
        gpus.parse(value)


def test_the_flag_overrides_the_platform() -> None:
    assert gpus.for_run(gpus.ALL_GPUS, None) == gpus.ALL_GPUS
    assert gpus.for_run(gpus.ALL_GPUS, gpus.NO_GPUS) == gpus.NO_GPUS
    assert gpus.for_run(gpus.NO_GPUS, gpus.parse("2")) == gpus.Gpus(count=2)
    assert parse_args(["-p", "cuda", "--gpus", "device=0,1"]).gpus == gpus.Gpus(device_ids=("0", "1"))
    assert parse_args(["-p", "cuda"]).gpus is None
    with pytest.raises(UsageError, match="--gpus 'many' is not"):
        parse_args(["-p", "cuda", "--gpus", "many"])


def test_a_dockerfile_declares_gpus(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.build.cuda").write_text("# ci.gpus: all\nFROM debian:trixie\n")
    (tmp_path / "Dockerfile.build.cpu").write_text("FROM debian:trixie\n")
    found = discover(tmp_path)
    assert found["cuda"].gpus == gpus.ALL_GPUS
    assert found["cpu"].gpus == gpus.NO_GPUS
    (tmp_path / "Dockerfile.build.bad").write_text("# ci.gpus: lots\nFROM debian:trixie\n")
    with pytest.raises(PlatformDefinitionError, match=r"Dockerfile\.build\.bad: ci\.gpus 'lots' is not"):
        discover(tmp_path)


def test_the_run_and_its_printed_line() -> None:
    plain = plan_run(inputs())
    assert dict(plain.env)["CI_GPUS"] == "none"
    assert "--gpus" not in docker_run_argv(plain)
    two = plan_run(inputs(gpus=gpus.parse("device=0,1")))
    assert dict(two.env)["CI_GPUS"] == "0,1"
    argv = docker_run_argv(two)
    assert argv[argv.index("--gpus") + 1] == '"device=0,1"'
    assert argv.index("--gpus") < argv.index(two.image)
    every = docker_run_argv(plan_run(inputs(gpus=gpus.ALL_GPUS)))
    assert every[every.index("--gpus") + 1] == "all"


RUNC_ONLY = {"Runtimes": {"runc": {"path": "runc"}, "io.containerd.runc.v2": {"path": "runc"}}}


@pytest.mark.parametrize(
    ("info", "kind", "problem"),
    [
        (RUNC_ONLY, "docker", "no NVIDIA container runtime (its runtimes: io.containerd.runc.v2, runc)"),
        ({}, "docker", "no NVIDIA container runtime (its runtimes: none)"),
        ({"Runtimes": {"runc": {}, "nvidia": {"path": "nvidia-container-runtime"}}}, "docker", None),
        ({**RUNC_ONLY, "DiscoveredDevices": [{"Source": "cdi", "ID": "nvidia.com/gpu=0"}]}, "docker", None),
        (
            {**RUNC_ONLY, "DiscoveredDevices": [{"Source": "cdi", "ID": "vendor.com/fpga=0"}]},
            "docker",
            "runtimes",
        ),
        ({"Runtimes": {"nvidia": {}}}, "podman", "ignores GPU device requests"),
    ],
)
def test_engine_problem(info: dict[str, object], kind: str, problem: str | None) -> None:
    found = gpus.engine_problem(info, kind)
    assert found == problem if problem is None else problem in (found or "")


def test_require_raises_83_with_how_to_set_up_the_engine() -> None:
    gpus.require(gpus.NO_GPUS, RUNC_ONLY, "docker", "cuda", "the engine")  # nothing asked: no check
    gpus.require(gpus.ALL_GPUS, {"Runtimes": {"nvidia": {}}}, "docker", "cuda", "the engine")
    with pytest.raises(GpuUnavailableError) as info:
        gpus.require(gpus.ALL_GPUS, RUNC_ONLY, "docker", "cuda", "the engine at unix:///x.sock")
    assert info.value.code == ExitCode.GPU_UNAVAILABLE
    assert int(ExitCode.GPU_UNAVAILABLE) == 83
    assert info.value.message.startswith("cuda needs GPUs (all) but the engine at unix:///x.sock cannot")
    assert "nvidia-ctk runtime configure --runtime=docker" in info.value.hint
    with pytest.raises(GpuUnavailableError) as info:
        gpus.require(gpus.parse("1"), {}, "podman", "cuda", "podman")
    assert "--engine docker" in info.value.hint
