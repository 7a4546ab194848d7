"""Decide what a run's test attempts tell: where its failed tests ran again (--retries), each
attempt's results (the tars runtime_functions.sh kept in .ciharness-attempts/, read by the build
system's own readers) merged into the JUnit file of each test runner, a test that passed on a
rerun flaky (ci.buildsystems.junit.merged); and the project's quarantine marked on those files: a
quarantined test's failure is reported, not failed."""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ci import buildsystems
from ci.buildsystems import junit
from ci.buildsystems.junit import Case

log = logging.getLogger(__name__)

ATTEMPTS = ".ciharness-attempts"  # in the build dir: <n>.tar per attempt (runtime_functions.sh)
TEST_STATUS = ".ciharness-test-status"  # in the build dir: the test phase's own exit status


def test_phase_status(build_dir: Path, fresh: float) -> int | None:
    """The exit status this run's test phase ended with (None: it did not end, or ran none)."""
    path = build_dir / TEST_STATUS
    said = junit.text_of(path).strip() if junit.is_fresh(path, fresh) else ""
    return int(said) if said.isdigit() else None


def attempt_tars(build_dir: Path, fresh: float) -> list[Path]:
    """This run's attempts' tars, first attempt first (none where nothing ran again)."""
    found = [p for p in (build_dir / ATTEMPTS).glob("*.tar") if p.stem.isdigit() and junit.is_fresh(p, fresh)]
    return sorted(found, key=lambda p: int(p.stem))


def read_attempt(tar: Path, into: Path, platform: str, system: str, fresh: float) -> dict[str, list[Case]]:
    """One attempt's cases per tool: its build system's readers over the tar's files (those this
    run wrote: tar keeps their times); ctest's own JUnit (junit/<tool>-<platform>.xml) where the
    build system has no reader."""
    into.mkdir()
    with tarfile.open(tar) as archive:
        for member in archive.getmembers():  # files and dirs under `into` only (the container wrote it)
            inside = (into / member.name).resolve().is_relative_to(into.resolve())
            if inside and (member.isfile() or member.isdir()):
                archive.extract(member, into)
    readers = buildsystems.by_name(system).results if system else ()
    found = {r.tool: cases for r in readers if (cases := r.read(into, fresh)) is not None}
    if not readers:
        for xml in sorted((into / "junit").glob(f"*-{platform}.xml")):
            tool = xml.name.removesuffix(f"-{platform}.xml")
            found[tool] = junit.from_junit(junit.text_of(xml), platform)
    return found


def merge(build_dir: Path, platform: str, system: str, fresh: float) -> bool:
    """junit/<tool>-<platform>.xml of each tool, from every attempt of this run, where its failed
    tests ran again; whether they did."""
    tars = attempt_tars(build_dir, fresh)
    if len(tars) < 2:
        return False
    try:
        with tempfile.TemporaryDirectory(prefix="ciharness-attempts-") as tmp:
            attempts = [read_attempt(tar, Path(tmp) / tar.stem, platform, system, fresh) for tar in tars]
    except (tarfile.TarError, OSError) as exc:  # a run killed while it kept an attempt
        log.warning("%s: cannot read the test attempts (%s): the last attempt's results stand", platform, exc)
        return False
    said = junit.text_of(build_dir / ATTEMPTS / "alone").strip()
    alone = int(said) if said.isdigit() else 0
    for tool in attempts[0]:
        cases = junit.merged([attempt.get(tool, []) for attempt in attempts], alone)
        write(build_dir, tool, platform, cases)
    return True


def write(build_dir: Path, tool: str, platform: str, cases: Sequence[Case]) -> None:
    (build_dir / "junit").mkdir(exist_ok=True)
    (build_dir / "junit" / f"{tool}-{platform}.xml").write_text(
        junit.to_junit(tool, platform, cases), encoding="utf-8"
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Quarantine:
    """What the quarantine made of a run's tests: failed (their failures kept from the run's
    status), passed (ready to leave it), and the names in it that matched no test."""

    failed: tuple[str, ...] = ()
    passed: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()


def matches(name: str, patterns: Sequence[str]) -> bool:
    """A test's name against the quarantine's entries: each a name, or a shell pattern (`net.*`)."""
    return any(name == p or fnmatch.fnmatchcase(name, p) for p in patterns)


def quarantine(build_dir: Path, platform: str, patterns: Sequence[str], fresh: float) -> Quarantine:
    """Each of this run's junit/*-<platform>.xml with its quarantined failures marked (a skip
    that says `quarantined: <failure>`, which fails no Jenkins build)."""
    if not patterns:
        return Quarantine()
    failed: list[str] = []
    passed: list[str] = []
    seen: set[str] = set()
    ran = False
    for xml in sorted((build_dir / "junit").glob(f"*-{platform}.xml")):
        if not junit.is_fresh(xml, fresh):
            continue
        ran = True
        cases = junit.from_junit(junit.text_of(xml), platform)
        marked = [
            dataclasses.replace(c, quarantined=c.status == "failed" and matches(c.name, patterns))
            for c in cases
        ]
        for case in marked:
            if matches(case.name, patterns):
                seen.update(p for p in patterns if matches(case.name, (p,)))
                ready = case.status == "passed" and not case.reruns  # a flaky one stays in
                (failed if case.quarantined else passed if ready else []).append(case.name)
        if any(c.quarantined for c in marked):
            write(build_dir, xml.name.removesuffix(f"-{platform}.xml"), platform, marked)
    unmatched = tuple(p for p in patterns if p not in seen) if ran else ()  # no test ran: none to match
    return Quarantine(failed=tuple(failed), passed=tuple(passed), unmatched=unmatched)
