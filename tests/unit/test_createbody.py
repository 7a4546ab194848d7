"""The create request's body says what the printed `docker run` line says."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from ci.planning.createbody import container_config
from ci.planning.runline import docker_run_argv
from ci.planning.runspec import RunSpec, plan_run
from ci.settings import gpus
from tests.unit.helpers import inputs


def everything(program: str = "docker") -> RunSpec:
    spec = plan_run(inputs(source_mode="copy-on-write", user_env={"A": "1=2"}))
    return dataclasses.replace(
        spec,
        program=program,
        privileged=True,
        ulimits=(("nofile", 1024, 4096),),
        userns="keep-id" if program == "podman" else "",
        network="host",
        extra_hosts=(("cache", "host-gateway"),),
        gpus=gpus.Gpus(device_ids=("0", "1")),
    )


def flags(argv: list[str]) -> dict[str, list[str]]:
    """--flag value pairs of a run line, up to the image (all of its flags here take a value,
    except the listed switches)."""
    found: dict[str, list[str]] = {}
    switches = {"--rm", "--init", "--privileged", "-i", "-t"}
    i = argv.index("run") + 1
    while argv[i].startswith("-"):
        if argv[i] in switches:
            found.setdefault(argv[i], []).append("")
            i += 1
        else:
            found.setdefault(argv[i], []).append(argv[i + 1])
            i += 2
    found["image"] = [argv[i]]
    found["command"] = argv[i + 1 :]
    return found


@pytest.mark.parametrize("program", ["docker", "podman"])
def test_body_matches_the_printed_line(program: str) -> None:
    spec = everything(program)
    line = flags(docker_run_argv(spec))
    body = container_config(spec)
    host = body["HostConfig"]
    assert [body["Image"]] == line["image"]
    assert body["Cmd"] == line["command"]
    assert [body["User"]] == line["--user"] and [body["WorkingDir"]] == line["--workdir"]
    assert body["Env"] == line["--env"]
    assert [f"{k}={v}" for k, v in body["Labels"].items()] == line["--label"]
    assert host["Init"] is True and "--init" in line
    assert host["Privileged"] is True and "--privileged" in line
    assert [host["NetworkMode"]] == line["--network"]
    assert host["ExtraHosts"] == line["--add-host"]
    assert [f"{u['Name']}={u['Soft']}:{u['Hard']}" for u in host["Ulimits"]] == line["--ulimit"]
    assert host["DeviceRequests"] == [spec.gpus.device_request()]
    assert line["--gpus"] == [spec.gpus.cli_value()]
    assert host["Binds"] == line["--volume"]
    if program == "podman":
        assert [host["UsernsMode"]] == line["--userns"]
        assert "Mounts" not in host  # podman's overlay is a bind with :O
    else:
        assert "UsernsMode" not in host
        (mount,) = host["Mounts"]
        (printed,) = line["--mount"]
        words = next(csv.reader([printed]))
        fields = dict(w.split("=", 1) for w in words if not w.startswith("volume-opt="))
        options = dict(
            w.removeprefix("volume-opt=").split("=", 1) for w in words if w.startswith("volume-opt=")
        )
        assert mount["Target"] == fields["dst"] and mount["Type"] == fields["type"] == "volume"
        assert mount["VolumeOptions"]["DriverConfig"] == {"Name": fields["volume-driver"], "Options": options}


def test_plain_run_asks_for_no_extras() -> None:
    host = container_config(plan_run(inputs()))["HostConfig"]
    assert host["NetworkMode"] == "default" and host["Privileged"] is False
    assert not {"Mounts", "Ulimits", "ExtraHosts", "UsernsMode", "DeviceRequests"} & set(host)
