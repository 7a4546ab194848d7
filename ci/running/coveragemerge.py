"""After a --coverage run of several jobs: one report of them all, gcovr's own merge of each job's
tracefile (coverage/coverage.json), so code that runs only on a big-endian or a 32-bit target
counts. gcovr runs in a short container of one job's image (it has gcovr), as the user, on an
engine of this machine (it mounts the build dirs); the result goes to build.coverage beside the
build dirs (ci.output.coverage.merged_dir)."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

from ci.errors import ContainerError
from ci.output import coverage
from ci.output.outcomes import Outcome
from ci.planning import ways
from ci.planning.platformrun import PlatformRun
from ci.planning.runspec import SOURCE_IN_CONTAINER, owner_labels
from ci.running.cleanup import RUN_LABEL
from ci.running.steps import Session

log = logging.getLogger(__name__)

SOURCE = SOURCE_IN_CONTAINER  # where the jobs' gcovr saw the root: their tracefiles' paths are under it
OUT = "/work/out"
JOBS = "/work/jobs"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Merge:
    """What the merge reads and where it runs (pure: planned from the outcomes)."""

    image: str  # a measured job's image, which has gcovr
    engine_url: str
    tracefiles: tuple[tuple[str, Path], ...]  # (job, its coverage/ dir)
    out: Path

    def binds(self, source: Path) -> list[str]:
        jobs = [f"{directory}:{JOBS}/{index}:ro" for index, (_, directory) in enumerate(self.tracefiles)]
        return [f"{source}:{SOURCE}:ro", f"{self.out}:{OUT}", *jobs]

    def command(self) -> list[str]:
        adds = [
            arg
            for index in range(len(self.tracefiles))
            for arg in ("--json-add-tracefile", f"{JOBS}/{index}/{coverage.TRACEFILE}")
        ]
        gcovr = [
            "gcovr",
            "--root",
            SOURCE,
            *adds,
            "--cobertura",
            f"{OUT}/{coverage.COBERTURA}",
            "--cobertura-pretty",
            "--html-details",
            f"{OUT}/{coverage.HTML}",
            "--html-title",
            "Coverage: " + ", ".join(job for job, _ in self.tracefiles),
            "--json",
            f"{OUT}/{coverage.TRACEFILE}",
            "--json-summary",
            f"{OUT}/{coverage.SUMMARY}",
            "--json-summary-pretty",
        ]
        # from the root, as each job's: the Cobertura XML's <source> is then `.`
        return ["sh", "-c", f'cd {SOURCE} && exec "$@"', "gcovr", *gcovr]


def plan(done: Sequence[Outcome], runs: Sequence[PlatformRun], out: Path) -> Merge | None:
    """The merge of the jobs that measured coverage, where two or more did and one of them ran
    on an engine of this machine (one whose image is the engine's own architecture first: gcovr
    then runs without QEMU)."""
    measured = [o for o in done if o.coverage is not None and o.coverage.tracefile.is_file() and o.image]
    if len(measured) < 2:
        return None
    by_job = {r.job: r for r in runs}
    local = [o for o in measured if o.platform in by_job and not by_job[o.platform].remote]
    if not local:
        log.warning("coverage: not merged (every job ran on a remote engine; a merge mounts the build dirs)")
        return None
    chosen = min(local, key=lambda o: o.way == ways.EMULATED)
    return Merge(
        image=chosen.image,
        engine_url=by_job[chosen.platform].engine_url,
        tracefiles=tuple((o.platform, o.coverage.directory) for o in measured if o.coverage is not None),
        out=out,
    )


def merge(session: Session, done: Sequence[Outcome]) -> None:
    """Merge the jobs' coverage (plan), and say where it is; a merge that fails is one warning
    (the report reads what it made: ci.output.report)."""
    inv = session.inv
    planned = plan(done, inv.platforms, coverage.merged_dir(inv.settings.build_dir, inv.host.cwd))
    if planned is None:
        return
    shutil.rmtree(planned.out, ignore_errors=True)
    planned.out.mkdir(parents=True)
    host = session.run.host
    labels = {**owner_labels(host.name, host.pid, host.start_time), RUN_LABEL: session.run.run_id}
    try:
        status = session.pool.get(planned.engine_url).run_as_user(
            planned.image,
            planned.command(),
            binds=planned.binds(session.run.source_dir),
            platform="",
            labels=labels,
            user="0:0" if session.run.rootless else f"{host.uid}:{host.gid}",  # rootless: root is the user
        )
    except ContainerError as exc:
        status, why = 1, exc.message
    else:
        why = f"gcovr exited with status {status}"
    merged = coverage.read_dir(planned.out) if status == 0 else None
    if merged is None:
        log.warning("coverage: the jobs' reports could not be merged (%s)", why)
        return
    log.info("coverage of %d jobs together: %s: %s", len(planned.tracefiles), merged.describe(), merged.html)
