"""Image tags from content hashes, -e parsing, and the RunSpec / `docker run` line of a run."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from ci import buildsystems
from ci.errors import BadEnvError, PlatformDefinitionError
from ci.planning.platforms import Platform
from ci.planning.runline import docker_run_argv
from ci.planning.runspec import (
    ImageRef,
    RunSpec,
    content_hash,
    image_labels,
    image_ref,
    parse_env,
    plan_run,
)
from tests.unit.helpers import inputs

DOCKERFILE = """\
# ci.docker-platform: linux/amd64
FROM debian:bookworm
COPY install/ /opt/ci/install/
COPY toolchains/*.cmake /opt/ci/
ADD tool.sh /usr/local/bin/
RUN /opt/ci/install/setup.sh
"""


@dataclasses.dataclass
class Context:
    root: Path
    platform: Platform

    def hash(self) -> str:
        return content_hash(self.platform, self.root)

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    context = Context(
        root=tmp_path / "docker",
        platform=Platform(name="amd64", dockerfile=tmp_path / "docker" / "Dockerfile.build.amd64"),
    )
    context.write("Dockerfile.build.amd64", DOCKERFILE)
    context.write("install/setup.sh", "#!/bin/sh\napt-get install cmake\n")
    context.write("install/lib/helpers.sh", "helpers\n")
    context.write("toolchains/arm64.cmake", "set(CMAKE_SYSTEM_PROCESSOR aarch64)\n")
    context.write("toolchains/README.txt", "not copied\n")
    context.write("tool.sh", "echo tool\n")
    context.write("unrelated.txt", "not copied\n")
    return context


# -- content_hash -----------------------------------------------------------------------------


def test_content_hash_is_a_stable_sha256(ctx: Context) -> None:
    first = ctx.hash()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert ctx.hash() == first


def test_dockerfile_change_changes_the_hash(ctx: Context) -> None:
    before = ctx.hash()
    ctx.write("Dockerfile.build.amd64", DOCKERFILE + "ENV A=1\n")
    assert ctx.hash() != before


def test_copied_file_bytes_change_the_hash(ctx: Context) -> None:
    before = ctx.hash()
    ctx.write("tool.sh", "echo tool 2\n")
    assert ctx.hash() != before


def test_same_size_content_change_changes_the_hash(ctx: Context) -> None:
    before = ctx.hash()
    ctx.write("tool.sh", "echo toox\n")
    assert ctx.hash() != before


def test_exec_bit_of_a_copied_file_changes_the_hash(ctx: Context) -> None:
    before = ctx.hash()
    tool = ctx.root / "tool.sh"
    tool.chmod(tool.stat().st_mode | 0o111)
    executable = ctx.hash()
    assert executable != before
    tool.chmod(tool.stat().st_mode & ~0o111)
    assert ctx.hash() == before


def test_platform_changes_the_hash(ctx: Context) -> None:
    arm = dataclasses.replace(ctx.platform, docker_platform="linux/arm64")
    assert content_hash(arm, ctx.root) != ctx.hash()


@pytest.mark.parametrize(
    "rel",
    ["unrelated.txt", "toolchains/README.txt", "new-file.txt", "Dockerfile.build.other"],
)
def test_files_not_copied_do_not_change_the_hash(ctx: Context, rel: str) -> None:
    before = ctx.hash()
    ctx.write(rel, "changed\n")
    assert ctx.hash() == before


@pytest.mark.parametrize("rel", ["install/lib/helpers.sh", "install/lib/deeper/new.sh", "install/new.sh"])
def test_directory_sources_are_hashed_recursively(ctx: Context, rel: str) -> None:
    before = ctx.hash()
    ctx.write(rel, "changed\n")
    assert ctx.hash() != before


def test_renaming_a_file_in_a_copied_directory_changes_the_hash(ctx: Context) -> None:
    before = ctx.hash()
    (ctx.root / "install/lib/helpers.sh").rename(ctx.root / "install/lib/other.sh")
    assert ctx.hash() != before


def test_glob_sources_hash_every_match(ctx: Context) -> None:
    before = ctx.hash()
    ctx.write("toolchains/armv7.cmake", "set(CMAKE_SYSTEM_PROCESSOR arm)\n")
    added = ctx.hash()
    assert added != before
    ctx.write("toolchains/arm64.cmake", "changed\n")
    assert ctx.hash() != added


def test_absolute_sources_are_relative_to_the_context(ctx: Context) -> None:
    ctx.write("Dockerfile.build.amd64", "FROM x\nCOPY /tool.sh /x\n")
    before = ctx.hash()
    ctx.write("tool.sh", "changed\n")
    assert ctx.hash() != before


def test_urls_and_stage_copies_are_not_read_from_the_context(ctx: Context) -> None:
    ctx.write(
        "Dockerfile.build.amd64",
        "FROM x AS build\nADD https://example.org/x.tar.gz /opt/\nFROM y\nCOPY --from=build /missing /x\n",
    )
    assert re.fullmatch(r"[0-9a-f]{64}", ctx.hash())


@pytest.mark.parametrize("source", ["missing.sh", "install/missing/", "install/setup.sh/x"])
def test_missing_source_is_a_platform_definition_error(ctx: Context, source: str) -> None:
    ctx.write("Dockerfile.build.amd64", f"FROM x\nCOPY {source} /x\n")
    with pytest.raises(PlatformDefinitionError, match="does not exist") as info:
        ctx.hash()
    assert source in info.value.message
    assert "Dockerfile.build.amd64" in info.value.message


@pytest.mark.parametrize("source", ["../outside.txt", "install/../../outside.txt", "link-out"])
def test_sources_outside_the_context_are_refused(ctx: Context, source: str) -> None:
    (ctx.root.parent / "outside.txt").write_text("secret\n", encoding="utf-8")
    (ctx.root / "link-out").symlink_to(ctx.root.parent / "outside.txt")
    ctx.write("Dockerfile.build.amd64", f"FROM x\nCOPY {source} /x\n")
    with pytest.raises(PlatformDefinitionError, match="is outside"):
        ctx.hash()


def test_json_form_after_flags_is_hashed(ctx: Context) -> None:
    ctx.write("Dockerfile.build.amd64", 'FROM x\nCOPY --chmod=755 ["tool.sh", "/x"]\n')
    before = ctx.hash()
    ctx.write("tool.sh", "changed\n")
    assert ctx.hash() != before


# -- image_ref --------------------------------------------------------------------------------


def test_image_ref_is_repository_16_hex_of_the_content_hash_and_the_image_kind(ctx: Context) -> None:
    ref = image_ref(ctx.platform, ctx.root)
    assert re.fullmatch(r"ciharness/amd64:[0-9a-f]{16}-native", str(ref))
    assert ref == ImageRef(repository="ciharness/amd64", tag=ctx.hash()[:16] + "-native")
    cross = dataclasses.replace(ctx.platform, target="linux/arm64")
    assert image_ref(cross, ctx.root).tag == ctx.hash()[:16] + "-cross"  # named for what it holds


def test_image_ref_follows_the_content(ctx: Context) -> None:
    before = image_ref(ctx.platform, ctx.root)
    ctx.write("tool.sh", "echo new\n")
    assert image_ref(ctx.platform, ctx.root).tag != before.tag


def test_image_labels(ctx: Context) -> None:
    ref = image_ref(ctx.platform, ctx.root)
    assert image_labels(ctx.platform, ref) == {
        "io.ciharness.platform": "amd64",
        "io.ciharness.content-hash": ref.tag,
        "io.ciharness.docker-platform": "linux/amd64",
    }


# -- parse_env --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "want"),
    [
        ([], {}),
        (["A=1"], {"A": "1"}),
        (["CMAKE_ARGS=-DFOO=ON -DBAR=OFF"], {"CMAKE_ARGS": "-DFOO=ON -DBAR=OFF"}),
        (["EMPTY="], {"EMPTY": ""}),
        (["_x9=a b"], {"_x9": "a b"}),
        (["A=1", "A=2"], {"A": "2"}),  # the last one wins
        (["A==", "B=="], {"A": "=", "B": "="}),
    ],
)
def test_parse_env(pairs: list[str], want: dict[str, str]) -> None:
    assert parse_env(pairs) == want


@pytest.mark.parametrize("pair", ["NOEQUALS", "=value", "1ABC=x", "MY-VAR=x", "A B=x", "A.B=x", ""])
def test_malformed_env(pair: str) -> None:
    with pytest.raises(BadEnvError) as info:
        parse_env(["GOOD=1", pair])
    assert repr(pair) in info.value.message
    assert "NAME=VALUE" in info.value.message
    assert info.value.hint


# -- plan_run ---------------------------------------------------------------------------------


def mounts(spec: RunSpec) -> dict[str, tuple[Path | str, bool]]:
    return {m.target: (m.source, m.read_only) for m in spec.mounts}


def test_mounts_source_read_only_by_default() -> None:
    assert mounts(plan_run(inputs())) == {
        "/work/src": (Path("/home/u/src"), True),
        "/work/build": (Path("/home/u/build"), False),
        "/work/ccache": (Path("/home/u/.cache/ccache"), False),
        "/work/runtime_functions.sh": (Path("/repo/runtime_functions.sh"), True),
        # The build systems' step files it sources, from beside it in the container.
        "/work/ci/buildsystems": (buildsystems.STEPS_DIR, True),
    }


def test_writable_source_mounts_it_read_write() -> None:
    assert mounts(plan_run(inputs(source_mode="writable")))["/work/src"] == (Path("/home/u/src"), False)


def test_run_identity() -> None:
    spec = plan_run(inputs())
    assert spec.user == "1234:5678"
    assert spec.image == "ciharness/armv7:0123456789abcdef"
    assert spec.name == "ciharness-armv7-abc123def456"
    assert spec.workdir == "/work/build"
    assert spec.command == ("/work/runtime_functions.sh", "build_generic")
    assert spec.platform == "armv7"
    assert spec.docker_platform == "linux/amd64"


def test_labels_identify_the_owner() -> None:
    labels = dict(plan_run(inputs()).labels)
    assert labels == {
        "io.ciharness.run-id": "abc123def456",
        "io.ciharness.owner-pid": "4242",
        "io.ciharness.owner-start": "1700000000.12",
        "io.ciharness.owner-host": "host1",
        "io.ciharness.platform": "armv7",
    }
    assert all(key.startswith("io.ciharness.") for key in labels)


def test_default_env() -> None:
    env = dict(plan_run(inputs()).env)
    assert env["CCACHE_DIR"] == "/work/ccache"
    assert env["CI_PLATFORM"] == "armv7"
    assert env["CI_TARGET_PLATFORM"] == "linux/arm/v7"
    assert env["CI_JOBS"] == "6"
    assert env["CI_RUN_ID"] == "abc123def456"
    assert env["CI_SOURCE_DIR"] == "/work/src"
    assert env["CI_BUILD_DIR"] == "/work/build"
    assert env["CI_EMULATED"] == "0"
    assert dict(plan_run(inputs(emulated=True)).env)["CI_EMULATED"] == "1"


def test_qemu_cpu_is_set_only_when_decided_and_an_e_flag_decides_over_it() -> None:
    assert "QEMU_CPU" not in dict(plan_run(inputs()).env)
    assert dict(plan_run(inputs(qemu_cpu="max,pauth-impdef=on")).env)["QEMU_CPU"] == "max,pauth-impdef=on"
    mine = plan_run(inputs(qemu_cpu="max,pauth-impdef=on", user_env={"QEMU_CPU": "cortex-a72"}))
    assert dict(mine.env)["QEMU_CPU"] == "cortex-a72"


def test_user_env_overrides_defaults_and_passthrough() -> None:
    spec = plan_run(
        inputs(
            user_env={"CCACHE_DIR": "/elsewhere", "CI_JOBS": "1", "BUILD_NUMBER": "mine", "EXTRA": "a=b"},
            passthrough_env={"BUILD_NUMBER": "17", "JOB_NAME": "nightly", "CI_PLATFORM": "jenkins"},
        )
    )
    env = dict(spec.env)
    assert env["CCACHE_DIR"] == "/elsewhere"
    assert env["CI_JOBS"] == "1"
    assert env["BUILD_NUMBER"] == "mine"
    assert env["EXTRA"] == "a=b"
    assert env["JOB_NAME"] == "nightly"
    assert env["CI_PLATFORM"] == "jenkins"  # passthrough also overrides the defaults
    assert len(spec.env) == len(env)  # each name once


def test_privileged_comes_from_the_platform_only() -> None:
    assert plan_run(inputs()).privileged is False
    privileged = Platform(name="p", dockerfile=Path("/d/x"), privileged=True)
    assert plan_run(inputs(platform=privileged)).privileged is True


# -- docker_run_argv --------------------------------------------------------------------------


def pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == flag]


def test_docker_run_argv() -> None:
    spec = plan_run(inputs(user_env={"CMAKE_ARGS": "-DFOO=ON"}))
    argv = docker_run_argv(spec)
    assert argv[:4] == ["docker", "run", "--rm", "--init"]
    assert pairs(argv, "--user") == ["1234:5678"]
    assert pairs(argv, "--workdir") == ["/work/build"]
    assert pairs(argv, "--platform") == ["linux/amd64"]
    assert pairs(argv, "--name") == ["ciharness-armv7-abc123def456"]
    assert pairs(argv, "--volume") == [
        "/home/u/src:/work/src:ro",
        "/home/u/build:/work/build",
        "/home/u/.cache/ccache:/work/ccache",
        "/repo/runtime_functions.sh:/work/runtime_functions.sh:ro",
        f"{buildsystems.STEPS_DIR}:/work/ci/buildsystems:ro",
    ]
    assert pairs(argv, "--env") == [f"{k}={v}" for k, v in spec.env]
    assert "CMAKE_ARGS=-DFOO=ON" in pairs(argv, "--env")
    assert "io.ciharness.run-id=abc123def456" in pairs(argv, "--label")
    assert argv[-3:] == ["ciharness/armv7:0123456789abcdef", "/work/runtime_functions.sh", "build_generic"]
    for flag in ("-i", "-t", "--privileged"):
        assert flag not in argv


def test_writable_source_volume_has_no_ro() -> None:
    assert "/home/u/src:/work/src" in pairs(
        docker_run_argv(plan_run(inputs(source_mode="writable"))), "--volume"
    )


def test_command_words_follow_the_image_verbatim() -> None:
    command = ("bash", "-c", "exit 7", "--rm", "-i")
    argv = docker_run_argv(plan_run(inputs(command=command)))
    image_at = argv.index("ciharness/armv7:0123456789abcdef")
    assert argv[image_at + 1 :] == list(command)
    assert "-i" not in argv[:image_at]


@pytest.mark.parametrize(
    ("interactive", "tty", "present", "absent"),
    [
        (True, True, ["-i", "-t"], []),
        (True, False, ["-i"], ["-t"]),
        (False, False, [], ["-i", "-t"]),
    ],
)
def test_interactive_and_tty_flags(
    interactive: bool, tty: bool, present: list[str], absent: list[str]
) -> None:
    argv = docker_run_argv(plan_run(inputs(interactive=interactive, tty=tty)))
    image_at = argv.index("ciharness/armv7:0123456789abcdef")
    for flag in present:
        assert flag in argv[:image_at]
    for flag in absent:
        assert flag not in argv


def test_privileged_flag_only_when_the_platform_asks() -> None:
    privileged = Platform(name="p", dockerfile=Path("/d/x"), privileged=True)
    assert "--privileged" in docker_run_argv(plan_run(inputs(platform=privileged)))
    assert "--privileged" not in docker_run_argv(plan_run(inputs()))


def test_masked_secrets_are_passed_by_name_only() -> None:
    spec = plan_run(inputs(user_env={"API_TOKEN": "s3cret", "DB_PASSWORD": "pw", "PLAIN": "visible"}))
    masked = docker_run_argv(spec, mask_secrets=True)
    assert "s3cret" not in " ".join(masked) and "pw" not in pairs(masked, "--env")
    assert {"API_TOKEN", "DB_PASSWORD", "PLAIN=visible"} <= set(pairs(masked, "--env"))
    unmasked = docker_run_argv(spec)
    assert {"API_TOKEN=s3cret", "DB_PASSWORD=pw"} <= set(pairs(unmasked, "--env"))


def test_ccache_remote_reaches_the_container_and_its_password_is_never_printed() -> None:
    remote = "redis://u:hunter2@cache:6379|connect-timeout=200"
    spec = plan_run(inputs(ccache_remote=remote))
    assert dict(spec.env)["CCACHE_REMOTE_STORAGE"] == remote
    masked = docker_run_argv(spec, mask_secrets=True)
    assert "hunter2" not in " ".join(masked) and "CCACHE_REMOTE_STORAGE" in pairs(masked, "--env")
    plain = plan_run(inputs(ccache_remote="redis://cache:6379"))
    assert "CCACHE_REMOTE_STORAGE=redis://cache:6379" in pairs(
        docker_run_argv(plain, mask_secrets=True), "--env"
    )
    assert "CCACHE_REMOTE_STORAGE" not in dict(plan_run(inputs()).env)


def test_ccaches_log_goes_to_the_build_dir_only_when_a_remote_storage_is_set() -> None:
    log = "/work/build/.ciharness-ccache.log"
    assert dict(plan_run(inputs(ccache_remote="redis://cache:6379")).env)["CCACHE_LOGFILE"] == log
    via_env = plan_run(inputs(user_env={"CCACHE_REMOTE_STORAGE": "redis://cache:6379"}))
    assert dict(via_env.env)["CCACHE_LOGFILE"] == log
    assert "CCACHE_LOGFILE" not in dict(plan_run(inputs()).env)
    off = plan_run(inputs(ccache_remote="redis://cache:6379", user_env={"CCACHE_REMOTE_STORAGE": ""}))
    assert "CCACHE_LOGFILE" not in dict(off.env)
    own = plan_run(inputs(ccache_remote="redis://cache:6379", user_env={"CCACHE_LOGFILE": "/tmp/mine.log"}))
    assert dict(own.env)["CCACHE_LOGFILE"] == "/tmp/mine.log"


def test_host_docker_internal_is_mapped_to_the_gateway_on_docker_only() -> None:
    remote = "redis://host.docker.internal:6379"
    spec = plan_run(inputs(ccache_remote=remote))
    assert spec.extra_hosts == (("host.docker.internal", "host-gateway"),)
    assert pairs(docker_run_argv(spec), "--add-host") == ["host.docker.internal:host-gateway"]
    assert plan_run(inputs(ccache_remote="redis://10.0.0.5:6379")).extra_hosts == ()
    assert plan_run(inputs(ccache_remote=remote, engine_kind="podman")).extra_hosts == ()
    # set with -e instead: the same mapping
    via_env = plan_run(inputs(user_env={"CCACHE_REMOTE_STORAGE": remote}))
    assert via_env.extra_hosts == (("host.docker.internal", "host-gateway"),)


def test_program_name() -> None:
    assert docker_run_argv(plan_run(inputs()), program="podman")[:2] == ["podman", "run"]


def test_environment_is_not_read_from_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCACHE_DIR", "/host/ccache")
    monkeypatch.setenv("HOME", "/host/home")
    env = dict(plan_run(inputs()).env)
    assert env["CCACHE_DIR"] == "/work/ccache"
    assert env["HOME"] == "/tmp"


def test_a_line_to_paste_carries_no_owner_so_no_run_reaps_it() -> None:
    spec = plan_run(inputs())
    owned = pairs(docker_run_argv(spec), "--label")
    pasted = pairs(docker_run_argv(spec, owned=False), "--label")
    assert "io.ciharness.owner-pid=4242" in owned
    assert [label for label in pasted if "owner" in label] == []
    assert "io.ciharness.run-id=abc123def456" in pasted
