"""Do: an engine's images: found, inspected, listed, removed, pulled, tagged, pushed and built (builds,
pulls and pushes through the Docker SDK, ci.engine.sdk)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ci.engine.api import ApiError, short
from ci.engine.session import Connected, Output, write_through
from ci.errors import ContainerError

log = logging.getLogger(__name__)


class ImageOps(Connected):
    def image_exists(self, ref: str) -> bool:
        return self._inspect_image(ref) is not None

    def image_platform(self, ref: str) -> str | None:
        """linux/ARCH[/VARIANT] of the image ref, or None when there is none."""
        found = self._inspect_image(ref)
        if found is None:
            return None
        variant = found.get("Variant") or ""
        return "/".join(
            p for p in (found.get("Os") or "linux", found.get("Architecture") or "", variant) if p
        )

    def _inspect_image(self, ref: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.http.call("GET", f"/images/{ref}/json")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise ContainerError(f"cannot inspect the image {ref}: {short(exc.message)}") from exc
        return found

    def images(self, label_filters: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.call(
            "GET", "/images/json", params={"filters": {"label": label_filters}}
        )
        return found

    def remove_image(self, ref: str) -> None:
        """Untag ref; the image itself goes only when no other tag or container holds it."""
        try:
            self.http.call("DELETE", f"/images/{ref}", params={"force": False, "noprune": False})
        except ApiError as exc:
            if exc.status != 404:
                log.warning("kept %s: %s", ref, short(exc.message))

    def pull(self, ref: str, platform: str) -> str | None:
        """Pull ref; None on success, else the reason it failed (never raises for that)."""
        from ci.engine import sdk  # noqa: PLC0415

        return sdk.pull(lambda: self.client, ref, platform)

    def tag(self, source: str, target: str) -> None:
        repository, _, tag = target.rpartition(":")
        self.http.call("POST", f"/images/{source}/tag", params={"repo": repository, "tag": tag})

    def push(self, ref: str) -> str | None:
        """Push ref; None on success, else the reason it failed (never raises for that)."""
        from ci.engine import sdk  # noqa: PLC0415

        return sdk.push(lambda: self.client, ref)

    def build(
        self,
        *,
        context: Path,
        dockerfile: str,
        tag: str | None,
        platform: str,
        labels: dict[str, str],
        no_cache: bool,
        output: Output = write_through,
    ) -> str:
        """Build with every step streamed live (untagged where tag is None); the image's id.
        Raises ImageBuildError with the engine's words."""
        from ci.engine import sdk  # noqa: PLC0415

        return sdk.build(
            lambda: self.client,
            context=context,
            dockerfile=dockerfile,
            tag=tag,
            platform=platform,
            labels=labels,
            no_cache=no_cache,
            output=output,
        )
