"""ensure_image with a registry cache, against a small fake engine: pull instead of building,
build and push when the registry lacks it, and warnings (never failures) when it is down."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest

from ci.base import locks
from ci.images import provide
from ci.planning import runspec
from ci.planning.endpoints import Endpoint
from ci.planning.imagerequest import ImageRequest
from ci.planning.platforms import parse_dockerfile


class FakeEngine:
    def __init__(self, *, have: set[str], registry_has: set[str], registry_up: bool = True) -> None:
        self.have = set(have)
        self.registry_has = set(registry_has)
        self.registry_up = registry_up
        self.calls: list[tuple[str, str]] = []

    def image_exists(self, ref: str) -> bool:
        return ref in self.have

    def pull(self, ref: str, platform: str) -> str | None:
        self.calls.append(("pull", ref))
        if not self.registry_up:
            return "connection refused"
        if ref not in self.registry_has:
            return "manifest unknown"
        self.have.add(ref)
        return None

    def tag(self, source: str, target: str) -> None:
        self.calls.append(("tag", target))
        self.have.add(target)

    def push(self, ref: str) -> str | None:
        self.calls.append(("push", ref))
        if not self.registry_up:
            return "connection refused"
        self.registry_has.add(ref)
        return None

    def build(self, **kwargs: object) -> None:
        dockerfile = Path(str(kwargs["dockerfile"])).read_text()
        self.calls.append(("build", str(kwargs["tag"]) if kwargs["tag"] else dockerfile.splitlines()[-1]))
        if kwargs["tag"]:
            assert kwargs["labels"] and dockerfile == self.dockerfile
            self.have.add(str(kwargs["tag"]))
        else:
            assert kwargs["labels"] == {} and self.dockerfile.startswith(dockerfile)

    endpoint = Endpoint("")
    dockerfile = "FROM scratch\n"


@pytest.fixture
def platform(tmp_path: Path) -> object:
    dockerfile = tmp_path / "Dockerfile.build.p"
    dockerfile.write_text(FakeEngine.dockerfile)
    return parse_dockerfile("p", dockerfile, dockerfile.read_text())


def ensure(engine: FakeEngine, platform: object, tmp_path: Path, push: bool) -> str:
    ref = runspec.image_ref(platform, tmp_path)  # type: ignore[arg-type]
    provide.ensure_image(
        engine,  # type: ignore[arg-type]
        platform,  # type: ignore[arg-type]
        ref,
        tmp_path,
        ImageRequest(
            lock_timeout=5, debian_mirror="http://unused", registry="127.0.0.1:5000", push_cache=push
        ),
        host_platform="linux/amd64",
    )
    return str(ref)


@pytest.fixture(autouse=True)
def private_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locks, "MACHINE_DIR", tmp_path)


def test_pulls_instead_of_building(platform: object, tmp_path: Path) -> None:
    probe = FakeEngine(have=set(), registry_has=set())
    ref = ensure(probe, platform, tmp_path, push=False)
    engine = FakeEngine(have=set(), registry_has={f"127.0.0.1:5000/{ref}"})
    assert ensure(engine, platform, tmp_path, push=False) == ref
    assert ("build", ref) not in engine.calls and ("tag", ref) in engine.calls


def test_builds_and_pushes_when_the_registry_lacks_it(platform: object, tmp_path: Path) -> None:
    engine = FakeEngine(have=set(), registry_has=set())
    ref = ensure(engine, platform, tmp_path, push=True)
    assert [c[0] for c in engine.calls] == ["pull", "build", "tag", "push"]
    assert f"127.0.0.1:5000/{ref}" in engine.registry_has


def test_registry_down_is_a_warning_and_a_local_build(
    platform: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = FakeEngine(have=set(), registry_has=set(), registry_up=False)
    with caplog.at_level(logging.WARNING, logger="ci"):
        ref = ensure(engine, platform, tmp_path, push=True)
    assert ("build", ref) in engine.calls
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "cannot pull" in messages and "cannot push" in messages


def test_present_image_is_still_pushed_with_push_cache(platform: object, tmp_path: Path) -> None:
    probe = FakeEngine(have=set(), registry_has=set())
    ref = ensure(probe, platform, tmp_path, push=False)
    engine = FakeEngine(have={ref}, registry_has=set())
    ensure(engine, platform, tmp_path, push=True)
    assert [c[0] for c in engine.calls] == ["tag", "push"]


@pytest.mark.parametrize("no_cache", [False, True])
def test_shared_first_steps_are_built_each_under_a_lock_before_the_image(
    tmp_path: Path, no_cache: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "FROM scratch\nRUN one\nRUN two\nRUN own\n"
    monkeypatch.setattr(FakeEngine, "dockerfile", text)
    dockerfile = tmp_path / "Dockerfile.build.p"
    dockerfile.write_text(text)
    platform = parse_dockerfile("p", dockerfile, text)
    held: list[str] = []

    def recording(name: str, what: str, timeout: float) -> contextlib.AbstractContextManager[None]:
        held.append(name)
        return locks.locked(name, what, timeout)

    monkeypatch.setattr(provide, "locked", recording)
    engine = FakeEngine(have={"scratch"}, registry_has=set())
    ref = runspec.image_ref(platform, tmp_path)
    request = ImageRequest(lock_timeout=5, debian_mirror="http://unused", no_cache=no_cache)
    provide.build_image(
        engine, platform, ref, context=tmp_path, request=request,  # type: ignore[arg-type]
        host_platform="linux/amd64", output=lambda data, err: None,
    )  # fmt: skip
    if no_cache:  # every step is built anew anyway: no steps first
        assert engine.calls == [("build", str(ref))] and held == []
    else:
        assert engine.calls == [("build", "RUN one"), ("build", "RUN two"), ("build", str(ref))]
        assert len(held) == 2 and all(name.startswith("layers-") for name in held)
