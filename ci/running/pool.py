"""Do: one connection per engine URL, made when a platform first needs it (so an unreachable
engine fails only the platforms mapped to it); orphans are reaped on each at first use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from ci.engine.client import Engine
from ci.planning import endpoints, runspec
from ci.planning.platforms import host_docker_platform
from ci.running import cleanup

log = logging.getLogger(__name__)


class EnginePool:
    def __init__(
        self, *, reap: bool, host_name: str, endpoints: Mapping[str, endpoints.Endpoint] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._endpoints = dict(endpoints or {})  # URL -> how to reach it (TLS, ssh config)
        self._engines: dict[str, Engine] = {}
        self._infos: dict[str, dict[str, Any]] = {}
        self._volumes: set[str] = set()
        self.reap = reap
        self.host_name = host_name

    def get(self, url: str) -> Engine:
        with self._lock:
            if url not in self._engines:
                engine = Engine.connect(self._endpoints.get(url) or url or None)
                if self.reap:
                    reaped = cleanup.reap_orphans(engine, self.host_name)
                    if reaped:
                        log.warning(
                            "removed %d container(s) left by dead runs: %s", len(reaped), ", ".join(reaped)
                        )
                self._engines[url] = engine
            return self._engines[url]

    def docker_platform(self, url: str, local_platform: str) -> str:
        """The platform of the machine an engine runs on (asked once per remote engine)."""
        if not endpoints.is_remote(url):
            return local_platform
        return host_docker_platform(str(self.info(url).get("Architecture", "x86_64")))

    def info(self, url: str) -> dict[str, Any]:
        """The engine's `docker info` (asked once per engine)."""
        engine = self.get(url)
        with self._lock:
            if url not in self._infos:
                self._infos[url] = engine.info()
            return self._infos[url]

    def ccache_volume(self, url: str, uid: int, gid: int, image: str) -> None:
        engine = self.get(url)
        with self._lock:
            if url not in self._volumes:
                engine.owned_volume(runspec.CCACHE_VOLUME, uid, gid, image)
                self._volumes.add(url)
