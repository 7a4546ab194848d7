"""Do: reach an ssh:// engine through the system ssh client, as the docker CLI does.

A private unix socket stands in for the engine; each connection to it runs
`ssh ... -- HOST docker system dial-stdio` and pumps bytes both ways. The user's ssh setup
(config, agent, known_hosts, ProxyJump) applies; an engine's own config file is given with -F.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.parse
from pathlib import Path
from typing import IO

CONNECT_TIMEOUT = 5
_open: list[SshBridge] = []  # closed by close_all(): build.py ends with os._exit, not atexit


def ssh_argv(url: str, config: str | None, control: str | None = None) -> list[str]:
    """ssh://[USER@]HOST[:PORT] -> the ssh command line that opens the engine's API. With a
    control path, connections after the first share its session (one handshake, not one per
    HTTP connection); the first one's ssh ends when all of them have."""
    parts = urllib.parse.urlsplit(url)
    argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
    if control:
        argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}", "-o", "ControlPersist=no"]
    if config:
        argv += ["-F", config]
    if parts.port:
        argv += ["-p", str(parts.port)]
    if parts.username:
        argv += ["-l", parts.username]
    return [*argv, "--", parts.hostname or "", "docker", "system", "dial-stdio"]


class SshBridge:
    """A unix socket whose every connection is a `docker system dial-stdio` over ssh."""

    def __init__(self, url: str, config: str | None) -> None:
        self.last_error = ""
        self._ssh_ended = threading.Event()
        self._dir = tempfile.mkdtemp(prefix="ciharness-ssh-")
        self.argv = ssh_argv(url, config, str(Path(self._dir) / "control"))
        self.path = str(Path(self._dir) / "engine.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(16)
        threading.Thread(target=self._accept, daemon=True, name="ssh-bridge").start()
        _open.append(self)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name="ssh-pipe").start()

    def _serve(self, conn: socket.socket) -> None:
        # Its own session: a Ctrl-C on the terminal must not cut the line build.py needs to
        # remove its containers. It ends when its stdin closes, which is when we do.
        proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        if not (proc.stdin and proc.stdout and proc.stderr):
            raise OSError("ssh started without its pipes")
        threading.Thread(target=self._errors, args=(proc.stderr,), daemon=True).start()
        threading.Thread(target=_to_ssh, args=(conn, proc.stdin), daemon=True).start()
        try:
            while chunk := os.read(proc.stdout.fileno(), 65536):
                conn.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            proc.stdout.close()
            with contextlib.suppress(OSError):
                proc.stdin.close()
            proc.wait()

    def _errors(self, stream: IO[bytes]) -> None:
        for line in stream:
            text = line.decode(errors="replace").strip()
            if text:
                self.last_error = text
        self._ssh_ended.set()

    def error(self, wait: float = 2.0) -> str:
        """What ssh said last, once an ssh that failed has ended (or after `wait` seconds)."""
        self._ssh_ended.wait(wait)
        return self.last_error


def close_all() -> None:
    """Remove every bridge's socket dir (the ssh processes end with our pipes)."""
    while _open:
        _open.pop().close()


def _to_ssh(conn: socket.socket, stdin: IO[bytes]) -> None:
    try:
        while chunk := conn.recv(65536):
            stdin.write(chunk)
            stdin.flush()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            stdin.close()
