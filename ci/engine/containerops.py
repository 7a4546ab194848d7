"""Do: an engine's containers: created from the API's create body, started with their output
streamed, removed whatever happens; archives in and out; short root commands; listed by label."""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from ci.engine.api import STDERR, ApiError, TransportError, short
from ci.engine.session import Connected, Output, write_through
from ci.errors import ContainerError, SourceOverlayError

log = logging.getLogger(__name__)


class ContainerOps(Connected):
    def create(self, body: Mapping[str, Any], *, name: str, platform: str, tty: bool) -> str:
        """A container from the API's create body (ci.planning.createbody makes it from a run's
        spec): its id. tty: whether it has a terminal, which decides how its output streams."""
        try:
            container = self.http.post_json(
                "/containers/create", dict(body), params={"name": name or None, "platform": platform or None}
            )
        except ApiError as exc:
            raise ContainerError(f"cannot create the container: {short(exc.message)}") from exc
        except TransportError as exc:
            raise ContainerError(f"lost the engine creating the container: {short(str(exc))}") from exc
        self._tty[str(container["Id"])] = tty
        return str(container["Id"])

    def start_and_stream(self, container_id: str, output: Output = write_through) -> int:
        """Start the container, stream its output until it ends, return its exit status."""
        try:
            with self.http.attach(container_id, tty=self._tty.pop(container_id, False)) as attached:
                self._start(container_id)
                for stream, chunk in attached:
                    output(chunk, stream == STDERR)
            result = self.http.call("POST", f"/containers/{container_id}/wait")
        except ApiError as exc:
            raise ContainerError(f"the container failed: {short(exc.message)}") from exc
        except TransportError as exc:
            raise ContainerError(f"lost the engine while the container ran: {short(str(exc))}") from exc
        return int(result.get("StatusCode", 1))

    def _start(self, container_id: str) -> None:
        """Start it; a source overlay the engine cannot mount is told apart (the run is then
        made again with a read-only source: only ever a run that never started)."""
        try:
            self.http.call("POST", f"/containers/{container_id}/start")
        except ApiError as exc:
            reason = short(exc.message)
            if "overlay" in reason and "mount" in reason:
                raise SourceOverlayError(
                    f"the engine cannot mount the source copy-on-write here ({reason.rsplit(': ', 1)[-1]})"
                ) from exc
            raise

    def remove(self, container_id: str) -> None:
        """Force-remove; a container already gone (or going) is not an error."""
        try:
            # with its anonymous volumes (the copy-on-write source's overlay)
            self.http.call("DELETE", f"/containers/{container_id}", params={"force": True, "v": True})
        except ApiError as exc:
            if exc.status == 409:
                self._wait_gone(container_id)  # another thread's removal is under way
            elif exc.status != 404:
                raise ContainerError(f"cannot remove container {container_id[:12]}: {exc.message}") from exc
        except TransportError as exc:
            # The engine is gone (restarting?): the watchdog or the next run reaps it.
            log.warning("could not remove container %s: %s", container_id[:12], short(str(exc)))

    def _wait_gone(self, container_id: str, seconds: float = 15.0) -> None:
        """Until a removal under way has finished: a run returns only once its container is gone."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.http.call("GET", f"/containers/{container_id}/json")
            except ApiError as exc:
                if exc.status == 404:
                    return
            time.sleep(0.1)
        log.warning("container %s is still being removed by the engine", container_id[:12])

    def put_archive(self, container_id: str, path: str, data: bytes) -> None:
        try:
            self.http.call("PUT", f"/containers/{container_id}/archive", params={"path": path}, body=data)
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"cannot copy files into the container: {short(str(exc))}") from exc

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        try:
            conn, response = self.http.open(
                "GET", f"/containers/{container_id}/archive", params={"path": path}
            )
        except (ApiError, TransportError) as exc:
            if isinstance(exc, ApiError) and exc.status == 404:
                return iter(())
            raise ContainerError(f"cannot copy results out of the container: {short(str(exc))}") from exc
        return _chunks(conn, response)

    def export(self, image: str, *, platform: str, labels: dict[str, str]) -> Iterator[bytes]:
        """The image's whole filesystem as a tar stream: a container made from it (never started,
        labelled, so the orphan reaper knows it), exported, removed when the stream ends."""
        config = {"Image": image, "Cmd": ["true"], "Labels": labels}
        try:
            made = self.http.post_json("/containers/create", config, params={"platform": platform or None})
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"cannot make a container of {image}: {short(str(exc))}") from exc
        container_id = str(made["Id"])
        try:
            conn, response = self.http.open("GET", f"/containers/{container_id}/export")
            yield from _chunks(conn, response)
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"cannot export {image}: {short(str(exc))}") from exc
        finally:
            self.remove(container_id)

    def owned_volume(self, name: str, uid: int, gid: int, image: str) -> None:
        """A named volume the run's user can write (a new volume's root belongs to root)."""
        try:
            self.http.post_json(
                "/volumes/create", {"Name": name, "Labels": {"io.ciharness.volume": "ccache"}}
            )
            self._runshort(image, ["chown", f"{uid}:{gid}", "/volume"], binds=[f"{name}:/volume"])
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"cannot prepare the volume {name}: {short(str(exc))}") from exc

    def run_as_root(
        self, image: str, command: list[str], *, binds: list[str], platform: str, labels: dict[str, str]
    ) -> int:
        """A short housekeeping container as root (labelled, so the watchdog and the orphan
        reaper know it); its exit status."""
        return self.run_as_user(image, command, binds=binds, platform=platform, labels=labels, user="0:0")

    def run_as_user(
        self,
        image: str,
        command: list[str],
        *,
        binds: list[str],
        platform: str,
        labels: dict[str, str],
        user: str,
    ) -> int:
        """A short housekeeping container as user (uid:gid), labelled; its exit status."""
        try:
            return self._runshort(image, command, binds=binds, platform=platform, labels=labels, user=user)
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"a housekeeping container failed: {short(str(exc))}") from exc

    def _runshort(
        self,
        image: str,
        command: list[str],
        *,
        binds: list[str],
        platform: str = "",
        labels: dict[str, str] | None = None,
        user: str = "0:0",
    ) -> int:
        config = {
            "Image": image,
            "Cmd": command,
            "User": user,
            "Labels": labels or {},
            "HostConfig": {"Binds": binds, "NetworkMode": "default"},
        }
        container = self.http.post_json("/containers/create", config, params={"platform": platform or None})
        container_id = str(container["Id"])
        try:
            self.http.call("POST", f"/containers/{container_id}/start")
            return int(self.http.call("POST", f"/containers/{container_id}/wait").get("StatusCode", 1))
        finally:
            self.remove(container_id)

    def containers(self, label_filters: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.call(
            "GET", "/containers/json", params={"all": True, "filters": {"label": label_filters}}
        )
        return found


def _chunks(conn: Any, response: Any) -> Iterator[bytes]:
    try:
        while chunk := response.read(64 * 1024):
            yield chunk
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise ContainerError(
            f"lost the engine copying results out of the container: {short(str(exc))}"
        ) from exc
    finally:
        response.close()
        conn.close()
