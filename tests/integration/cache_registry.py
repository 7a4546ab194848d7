"""The run's image-transport registry: `python -m tests.integration.cache_registry DIR` starts a
registry (start_registry's, its storage in DIR) that outlives this command, prints its address
and writes its pid to DIR/pid. scripts/test.sh starts one for the engine tier and hands it to
every pytest run of it as CI_TEST_CACHE_REGISTRY (conftest's cache_registry), so that the
tests that only need a registry as the way a build image reaches another engine push the amd64
image once a run: a push to a new registry compresses it (33 CPU-seconds of dockerd here), one
to a registry that holds it sends nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.integration.helpers import start_registry


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.integration.cache_registry DIR", file=sys.stderr)
        return 2
    directory = Path(argv[0])
    address, proc = start_registry(directory)
    (directory / "pid").write_text(f"{proc.pid}\n", encoding="utf-8")
    print(address)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
