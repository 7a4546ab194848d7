"""Decide where an engine differs from Docker (podman's limits, uid mapping, network; what it
cannot mount), in this one place; ci.planning.runspec applies it to every run spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def overlay_refusal(kind: str, rootless: bool) -> str | None:
    """Why an engine cannot give a copy-on-write source, when that is known beforehand.

    Rootless podman 4.3 cannot mount an overlay over a host dir on this kind of machine: with an
    upper dir of ours it fails to chown it ("operation not permitted"), and its own `:O` fails
    with "permission denied" on its vfs storage.
    """
    if kind == "podman" and rootless:
        return "rootless podman cannot mount the source copy-on-write"
    return None


def engine_quirks(kind: str, limits: Mapping[str, int], rootless: bool) -> dict[str, Any]:
    """Where podman differs from Docker, decided in this one place.

    - Podman 4.3 cannot start containers here unless nofile and nproc are given explicitly and
      are no higher than the limits of the podman process ("error setting rlimit type 7").
    - Rootless podman maps container uids into the user's subuid range: keep-id maps the
      invoking user to itself, so files in the build dir stay the user's own.
    - Rootless podman 4.3's API gives containers Docker's default "bridge" network, which needs a
      rootless network namespace that fails here; its own CLI default, slirp4netns, works.
    """
    if kind != "podman":
        return {}
    ulimits = tuple((name, limits[name], limits[name]) for name in ("nofile", "nproc") if name in limits)
    return {
        "program": "podman",
        "ulimits": ulimits,
        "userns": "keep-id" if rootless else "",
        "network": "slirp4netns" if rootless else "",
    }
