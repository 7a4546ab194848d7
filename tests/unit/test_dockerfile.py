"""Dockerfile text: logical lines, the context paths COPY and ADD read, and the first steps
images built from the same lines share."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.planning.dockerfile import copied_sources, logical_lines, shared_layer_steps, with_build_arg

DOCKER = Path(__file__).parents[2] / "docker"

# -- logical_lines ----------------------------------------------------------------------------


def test_logical_lines_drops_comments_and_blank_lines() -> None:
    text = "# syntax comment\n\nFROM debian:bookworm\n   # indented comment\n\n  RUN true  \n"
    assert logical_lines(text) == ["FROM debian:bookworm", "RUN true"]


def test_continuations_are_joined_into_one_instruction() -> None:
    text = "FROM x\nRUN apt-get update && \\\n    apt-get install -y \\\n        cmake\nENV A=1\n"
    lines = logical_lines(text)
    assert len(lines) == 3
    assert lines[1].split() == ["RUN", "apt-get", "update", "&&", "apt-get", "install", "-y", "cmake"]
    assert lines[2] == "ENV A=1"


def test_comment_lines_inside_a_continuation_are_dropped() -> None:
    text = "RUN a \\\n# explain b\n    b \\\n  # explain c\n    c\n"
    assert [line.split() for line in logical_lines(text)] == [["RUN", "a", "b", "c"]]


def test_a_continuation_at_the_end_of_the_file_is_kept() -> None:
    assert [line.split() for line in logical_lines("FROM x\nRUN a \\\n    b \\")] == [
        ["FROM", "x"],
        ["RUN", "a", "b"],
    ]


def test_hash_inside_an_instruction_is_not_a_comment() -> None:
    assert logical_lines("RUN echo '#not a comment'\n") == ["RUN echo '#not a comment'"]


def test_empty_line_inside_a_continuation_is_skipped() -> None:
    assert [line.split() for line in logical_lines("RUN a \\\n\n    b\n")] == [["RUN", "a", "b"]]


# -- copied_sources ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("COPY install/ /opt/ci/install/", ["install/"]),
        ("COPY a b c /dst/", ["a", "b", "c"]),
        ("ADD tools.tar.gz /opt/", ["tools.tar.gz"]),
        ("copy lower /dst", ["lower"]),  # instructions are case-insensitive
        ("COPY --chown=1000:1000 src /dst", ["src"]),
        ("COPY --chown=ci:ci --chmod=0755 run.sh /usr/local/bin/", ["run.sh"]),
        ("ADD --link --chmod=644 a b /dst/", ["a", "b"]),
        ('COPY ["with space", "b", "/dst/"]', ["with space", "b"]),
        ('ADD ["x.tar", "/dst"]', ["x.tar"]),
        ("COPY 'quoted name' /dst", ["quoted name"]),
        ("COPY toolchains/*.cmake /opt/", ["toolchains/*.cmake"]),
        ("ADD https://example.org/x.tar.gz /opt/", ["https://example.org/x.tar.gz"]),
        ("COPY --from=build /out/bin /usr/bin/", []),
        ("COPY --from=0 /a /b", []),
        ("COPY --from=debian:bookworm /etc/os-release /x", []),
        ("COPY only-destination", []),
        ("COPY a \\\n  # the second\n  b /dst/", ["a", "b"]),
    ],
)
def test_copied_sources(text: str, want: list[str]) -> None:
    assert copied_sources("FROM debian:bookworm\n" + text + "\n") == want


def test_only_copy_and_add_are_read() -> None:
    text = (
        "FROM debian:bookworm AS build\n"
        "RUN cp not-a-source /dst\n"
        "COPY first /a/\n"
        "ENV COPY=ignored\n"
        "WORKDIR /src\n"
        "# COPY commented /out\n"
        "FROM build\n"
        "COPY --from=build /a /b\n"
        "ADD second /c/\n"
    )
    assert copied_sources(text) == ["first", "second"]


def test_json_form_after_flags() -> None:
    assert copied_sources('COPY --chown=1000:1000 ["a", "/dst/"]\n') == ["a"]


def test_tab_after_the_keyword() -> None:
    assert copied_sources("COPY\ta /dst/\n") == ["a"]


# -- shared_layer_steps -------------------------------------------------------------------------


def test_every_cross_image_shares_its_build_tools_and_build_systems_steps() -> None:
    """The engine platforms' images start with the same two RUN layers, then the same COPY
    layers (cut before their own RUN, so one build makes them), then their own RUN, cut too as
    images dropped in on top of the platform's (a RUN after the ENV) share it."""
    shared = None
    for name in ("amd64", "arm64", "armv7", "s390x", "riscv64"):
        text = (DOCKER / f"Dockerfile.build.{name}").read_text()
        steps = shared_layer_steps(text)
        assert [step.splitlines()[-1] for step in steps] == [
            "COPY install/debian_build_tools.sh install/debian_packages.sh /opt/ci/install/",
            "RUN /opt/ci/install/debian_build_tools.sh",
            "COPY install/debian_build_systems.sh /opt/ci/install/",
            "RUN /opt/ci/install/debian_build_systems.sh",
            "COPY install/cross_toolchain.sh install/target_runtime.sh install/qemu-user"
            " install/emulator_commands.sh /opt/ci/install/",
            f"RUN /opt/ci/install/cross_toolchain.sh {name}",
        ]
        assert all(text.startswith(step) for step in steps)
        lines = [logical_lines(step) for step in steps[:-1]]
        assert shared is None or lines == shared  # all but their own RUN: the same steps
        shared = lines


def test_a_single_run_shares_what_leads_up_to_it() -> None:
    steps = shared_layer_steps((DOCKER / "Dockerfile.build.test.arm64").read_text())
    assert [logical_lines(step)[1:] for step in steps] == [
        ["COPY install/debian_build_tools.sh install/debian_packages.sh /opt/ci/install/"]
    ]


def test_nothing_to_share_in_one_run_on_its_base() -> None:
    assert shared_layer_steps("FROM a\nRUN x\n") == []
    assert shared_layer_steps("FROM a\nRUN x\nRUN y\n") == ["FROM a\nRUN x\n"]


def test_steps_are_cut_from_the_text_as_written() -> None:
    head = "# a comment\nFROM x\nRUN apt-get install \\\n    gcc   \\\n# inside\n    g++\n"
    text = head + "ENV A=1\nRUN two\nRUN three\n"
    assert shared_layer_steps(text) == [head, head + "ENV A=1\n", head + "ENV A=1\nRUN two\n"]


@pytest.mark.parametrize(
    "text",
    [
        "FROM a AS b\nRUN x\nFROM b\nRUN y\nRUN z\n",  # stages: left to the builder
        "# escape=`\nFROM a\nRUN x\nRUN y\n",  # another continuation character
        "# syntax=docker/dockerfile:1\n# Escape = `\nFROM a\nRUN x\nRUN y\n",
        "FROM a\nCOPY . /src\nRUN x\nRUN y\n",  # reads the context's top, where the SDK puts
        "FROM a\nCOPY *.sh /src/\nRUN x\nRUN y\n",  # a Dockerfile from elsewhere, randomly named
    ],
)
def test_no_steps_where_cutting_could_change_the_cache(text: str) -> None:
    assert shared_layer_steps(text) == []


def test_steps_stop_before_a_copy_of_the_context_top() -> None:
    text = "FROM a\nRUN x\nCOPY . /src\nRUN y\nRUN z\n"
    assert shared_layer_steps(text) == ["FROM a\nRUN x\n"]


# -- with_build_arg ---------------------------------------------------------------------------


def test_a_build_arg_follows_every_from_and_what_follows_is_kept_as_written() -> None:
    text = "# c\nFROM a AS b\nRUN x \\\n  y\nFROM b\nRUN z"
    assert with_build_arg(text, "QEMU_CPU", "max,pauth-impdef=on") == (
        "# c\nFROM a AS b\nARG QEMU_CPU=max,pauth-impdef=on\nRUN x \\\n  y\n"
        "FROM b\nARG QEMU_CPU=max,pauth-impdef=on\nRUN z\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nARG QEMU_CPU\nRUN x\n",
        "FROM a\nENV QEMU_CPU=cortex-a53\n",
        "FROM a\nENV A=1 QEMU_CPU cortex-a53\n",
    ],
)
def test_a_dockerfile_that_sets_the_variable_itself_decides(text: str) -> None:
    assert with_build_arg(text, "QEMU_CPU", "max") == text


def test_shared_steps_of_platforms_given_the_same_arg_stay_shared() -> None:
    arm64 = with_build_arg((DOCKER / "Dockerfile.build.arm64").read_text(), "QEMU_CPU", "v")
    userland = with_build_arg((DOCKER / "Dockerfile.build.test.arm64").read_text(), "QEMU_CPU", "v")
    step = shared_layer_steps(userland)[0]
    assert logical_lines(step)[1] == "ARG QEMU_CPU=v"
    assert logical_lines(shared_layer_steps(arm64)[0]) == logical_lines(step)
