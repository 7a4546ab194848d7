"""Real secure engines on loopback for the tests: certificates made with openssl, a second dockerd
that demands mutual TLS, and an sshd (with a key and known_hosts made here) in front of the
local engine. Nothing in the user's ~/.ssh or ~/.docker is read or written."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.helpers import free_port, stop_dockerd, wait_for_dockerd


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(where: Path, name: str) -> None:
    """where/ca.pem and where/ca-key.pem: a self-signed CA."""
    where.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
            "-days", "2", "-subj", f"/CN={name}", cwd=where)  # fmt: skip


def sign(ca_dir: Path, where: Path, stem: str, *, server: bool) -> None:
    """where/<stem>.pem and where/<stem>-key.pem, signed by ca_dir's CA (a server cert for the
    IP 127.0.0.1, or a client cert)."""
    where.mkdir(parents=True, exist_ok=True)
    ext = where / f"{stem}.ext"
    ext.write_text(
        "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n"
        if server
        else "extendedKeyUsage = clientAuth\n"
    )
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{stem}-key.pem", "-out", f"{stem}.csr",
            "-subj", f"/CN={stem}", cwd=where)  # fmt: skip
    openssl("x509", "-req", "-in", f"{stem}.csr", "-CA", str(ca_dir / "ca.pem"), "-CAkey",
            str(ca_dir / "ca-key.pem"), "-CAcreateserial", "-out", f"{stem}.pem", "-days", "2",
            "-extfile", str(ext), cwd=where)  # fmt: skip


@dataclass
class TlsEngine:
    url: str
    good: Path  # a DOCKER_CERT_PATH-style dir: ca.pem, cert.pem, key.pem that the engine accepts
    wrong: Path  # the same three files from another CA: the engine refuses them


def cert_dir(ca_dir: Path, where: Path) -> Path:
    sign(ca_dir, where, "client", server=False)
    shutil.copy(ca_dir / "ca.pem", where / "ca.pem")
    (where / "client.pem").rename(where / "cert.pem")
    (where / "client-key.pem").rename(where / "key.pem")
    return where


@contextlib.contextmanager
def tls_dockerd(root: Path, net: int) -> Iterator[TlsEngine]:
    """A second dockerd on a loopback TCP port with --tlsverify (own data root and bridge: in
    10.<net>.0.0/16, named and numbered after this process, so concurrent sessions do not collide)."""
    bridge, bridge_address = f"cih{net}-{os.getpid()}", f"10.{net}.{1 + os.getpid() % 250}.1/24"
    if shutil.which("dockerd") is None or os.geteuid() != 0:
        pytest.skip("NO dockerd OR NOT ROOT: cannot start a second engine here")
    make_ca(root / "ca", "ciharness-test-ca")
    sign(root / "ca", root / "server", "server", server=True)
    good = cert_dir(root / "ca", root / "good")
    make_ca(root / "other-ca", "ciharness-other-ca")
    wrong = cert_dir(root / "other-ca", root / "wrong")
    subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", bridge_address, "dev", bridge], check=True)
    subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = (root / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        ["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "x"),
         "--pidfile", str(root / "pid"), "-H", url, "--iptables=false", "--ip-masq=false",
         "--bridge", bridge, "--storage-driver", "overlay2", "--tlsverify",
         "--tlscacert", str(root / "ca" / "ca.pem"), "--tlscert", str(root / "server" / "server.pem"),
         "--tlskey", str(root / "server" / "server-key.pem")],
        stdout=log, stderr=log,
    )  # fmt: skip
    check = ["docker", "-H", url, "--tlsverify", "--tlscacert", str(good / "ca.pem"),
             "--tlscert", str(good / "cert.pem"), "--tlskey", str(good / "key.pem"), "version"]  # fmt: skip
    try:
        wait_for_dockerd(check, proc, root, "the TLS dockerd")
        yield TlsEngine(url, good, wrong)
    finally:
        stop_dockerd(proc, bridge)


@dataclass
class SshEngine:
    url: str  # ssh://root@127.0.0.1:PORT, reaching the local engine
    config: Path  # an ssh config naming the key and known_hosts made here (ssh -F)


@contextlib.contextmanager
def sshd(root: Path) -> Iterator[SshEngine]:
    """A real sshd on a loopback port, accepting one key made here, in front of this machine's
    engine (its remote command is `docker system dial-stdio`)."""
    binary = "/usr/sbin/sshd"
    if not Path(binary).exists() or os.geteuid() != 0:
        pytest.fail("NO sshd (or not root): scripts/provision.sh installs Debian's openssh-server")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "id")], check=True)
    shutil.copy(root / "id.pub", root / "authorized_keys")
    port = free_port()
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nPidFile {root / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UsePAM no\nStrictModes no\nMaxSessions 100\nMaxStartups 100\n"
    )
    host_key = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    config = root / "ssh_config"
    config.write_text(
        f"Host 127.0.0.1\n  IdentityFile {root / 'id'}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {root / 'known_hosts'}\n  StrictHostKeyChecking yes\n"
        "  GlobalKnownHostsFile /dev/null\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege-separation dir
    log = (root / "sshd.log").open("wb")
    proc = subprocess.Popen([binary, "-D", "-e", "-f", str(root / "sshd_config")], stdout=log, stderr=log)
    url = f"ssh://root@127.0.0.1:{port}"
    probe = ["ssh", "-F", str(config), "-p", str(port), "-o", "BatchMode=yes", "root@127.0.0.1", "true"]
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(probe, capture_output=True, check=False).returncode:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("sshd did not start: " + (root / "sshd.log").read_text()[-2000:])
            time.sleep(0.2)
        yield SshEngine(url, config)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
