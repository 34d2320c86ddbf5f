"""The package as the container image installs and runs it: non-editable, by a user who cannot
write the installed code, against a database given by DATABASE_URL.

Docker need not run where the suite does, so this does what the Dockerfile does: copy what it
COPYs, `pip install .` into a fresh virtual environment, and start `dxlink serve` as an
unprivileged user (``nobody`` when the suite runs as root, the suite's own user otherwise, with
the environment made read-only). The database is a scratch database of the suite's server; its
superuser is the owner that migrates, and the app must serve as the runtime login.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from auth.principal import Role
from auth.tokens import mint_token
from service.database import libpq_url
from service.settings import REPO_ROOT, Settings
from tests.database import scratch_database

JWT_SECRET = "a-secret-from-the-environment-of-48-characters!!"


def copied_sources() -> list[str]:
    """What the Dockerfile copies into the image before `pip install .`."""
    sources: list[str] = []
    for line in (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--") for w in words):
            sources += words[1:-1]
    assert "pyproject.toml" in sources, sources
    return sources


@dataclass
class Installation:
    root: Path  # world-readable: an unprivileged user must reach the environment
    app: Path  # the image's /app: the sources pip installed from
    dxlink: Path  # the installed console script
    run_as: dict[str, Any]  # subprocess arguments that drop privileges (empty: own user)
    home: Path  # the user's home, which the user cannot write (nobody's is /nonexistent)
    uid: int


def _privileges() -> tuple[dict[str, Any], Path, int]:
    """How to start the unprivileged child, its home and its uid."""
    if os.geteuid() != 0:
        return {}, Path(), os.getuid()
    nobody = pwd.getpwnam("nobody")
    run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}  # no root groups
    return run_as, Path(nobody.pw_dir), nobody.pw_uid


def _interpreter(run_as: dict[str, Any]) -> str:
    """A Python 3.11+ the child may run: the suite's own, unless it lives where the child
    cannot go (a root-only pyenv), then the system's, as the image has in /usr/local/bin."""
    candidates = [os.path.realpath(getattr(sys, "_base_executable", sys.executable))]
    for directory in ("/usr/local/bin", "/usr/bin"):
        for name in ("python3", "python3.13", "python3.12", "python3.11"):
            found = shutil.which(name, path=directory)
            if found:
                candidates.append(found)
    check = "import sys, venv; assert sys.version_info >= (3, 11)"
    for candidate in candidates:
        with contextlib.suppress(OSError):
            probe = subprocess.run([candidate, "-c", check], capture_output=True, **run_as)
            if probe.returncode == 0:
                return candidate
    raise AssertionError(f"no Python 3.11+ this user can run among {candidates}")


@pytest.fixture(scope="module")
def installation() -> Iterator[Installation]:
    root = Path(tempfile.mkdtemp(prefix="dxlink-install-"))
    root.chmod(0o755)
    run_as, home, uid = _privileges()
    try:
        app = root / "app"
        app.mkdir()
        for source in copied_sources():
            path = REPO_ROOT / source.rstrip("/")
            if path.is_dir():
                shutil.copytree(path, app / path.name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, app / path.name)
        venv = root / "venv"
        python = _interpreter(run_as)
        subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
        installed = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "."],
            cwd=app,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
        if not run_as:
            home = root / "home"
            home.mkdir()
            for path in (venv, app, home):  # what root owns in the image
                _read_only(path)
        yield Installation(root, app, venv / "bin" / "dxlink", run_as, home, uid)
    finally:
        for path in root.rglob("*"):
            with contextlib.suppress(OSError):
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(root, ignore_errors=True)


def _read_only(path: Path) -> None:
    for item in [path, *path.rglob("*")]:
        if not item.is_symlink():
            item.chmod(item.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


class SocketForwarder:
    """127.0.0.1:<port> to the embedded server's Unix socket, which lies in the suite's
    temporary directory (mode 0700 when it is root's): the unprivileged child connects over TCP
    like the container does."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.socket_path)
            threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()

    def close(self) -> None:
        self.listener.close()


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    with client, upstream:
        while True:
            readable, _, _ = select.select([client, upstream], [], [])
            for source in readable:
                target = upstream if source is client else client
                try:
                    data = source.recv(65536)
                    if not data:
                        return
                    target.sendall(data)
                except OSError:
                    return


@dataclass
class Target:
    url: str  # the owner's DATABASE_URL as the child reaches it
    database: str
    runtime_user: str


@pytest.fixture(scope="module")
async def target(pg_server: str) -> AsyncIterator[Target]:
    """A scratch database, and a runtime login name of its own (roles are the cluster's)."""
    runtime_user = f"dxlink_test_install_{uuid.uuid4().hex[:8]}"
    forwarder = None
    try:
        async with scratch_database(pg_server, "install") as url:
            parsed = make_url(url)
            socket_dir = parsed.query.get("host")
            if isinstance(socket_dir, str) and socket_dir.startswith("/"):
                forwarder = SocketForwarder(f"{socket_dir}/.s.PGSQL.{parsed.port or 5432}")
                reachable = f"postgresql://{parsed.username}@127.0.0.1:{forwarder.port}"
            else:
                reachable = libpq_url(url).rsplit("/", 1)[0]
            yield Target(f"{reachable}/{parsed.database}", str(parsed.database), runtime_user)
    finally:
        if forwarder is not None:
            forwarder.close()
        admin = await asyncpg.connect(libpq_url(pg_server))
        try:
            await admin.execute(f"DROP ROLE IF EXISTS {runtime_user}")
        finally:
            await admin.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(
    installation: Installation, target: Target, port: int, log: Path, **env: str
) -> subprocess.Popen[bytes]:
    environment = {
        "PATH": f"{installation.dxlink.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(installation.home),
        "LANG": "C.UTF-8",
        "DATABASE_URL": target.url,
        "DXLINK_DB_RUNTIME_USER": target.runtime_user,
        **env,
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(installation.dxlink), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=installation.app,  # the image's WORKDIR: the sources sit next to the process
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            **installation.run_as,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # what `docker stop` sends
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_without_a_writable_data_directory_serve_says_which_setting_to_set(
    installation: Installation, target: Target, tmp_path: Path
) -> None:
    """The image's crash: HS256 with no secret given, and nowhere to keep a generated one (the
    default was the installed package's own directory). Now a message, not a traceback."""
    log = tmp_path / "serve.log"
    process = _serve(
        installation,
        target,
        _free_port(),
        log,
        DXLINK_DB_RUNTIME_PASSWORD="a-runtime-password-from-the-environment",
    )
    try:
        process.wait(timeout=120)
    finally:
        _stop(process)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert process.returncode not in (0, None), output
    assert "DXLINK_DATA_DIR" in output, output
    assert "Traceback" not in output, output
    assert "site-packages" not in output, output


async def test_the_image_serves_as_the_runtime_login(
    installation: Installation, target: Target, settings: Settings, tmp_path: Path
) -> None:
    data = installation.root / "data"  # the image's /data volume, the user's own
    data.mkdir()
    os.chown(data, installation.uid, -1)
    data.chmod(0o700)
    port, log = _free_port(), tmp_path / "serve.log"
    process = _serve(
        installation,
        target,
        port,
        log,
        DXLINK_DATA_DIR=str(data),
        DXLINK_JWT_ALGORITHMS="HS256",
        DXLINK_JWT_SECRET=JWT_SECRET,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            await _wait_ready(client, process, log)
            public = await client.post(
                "/graphql", json={"query": "{ municipalities(first: 1) { totalCount } }"}
            )
            assert public.json() == {"data": {"municipalities": {"totalCount": 30}}}
            token = mint_token(
                settings.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)}),
                role=Role.municipal_staff,
                subject="staff",
                scope={"municipality": "302015"},
            )
            staff = await client.post(
                "/graphql",
                json={"query": "{ viewer { role municipality { name } } }"},
                headers={"authorization": f"Bearer {token}"},
            )
            assert staff.json() == {
                "data": {
                    "viewer": {"role": "municipal_staff", "municipality": {"name": "和歌山市"}}
                }
            }, staff.text
            assert await _logins(target) == {target.runtime_user}
    finally:
        _stop(process)
    password = data / "db-runtime-password"  # generated: DXLINK_DB_RUNTIME_PASSWORD was unset
    assert stat.S_IMODE(password.stat().st_mode) == 0o600
    assert password.stat().st_uid == installation.uid
    assert not (data / "jwt-secret").exists()  # the secret came from the environment


async def _wait_ready(
    client: httpx.AsyncClient, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        with contextlib.suppress(httpx.TransportError):
            ready = await client.get("/readyz")
            if ready.status_code == 200:
                return
        await asyncio.sleep(0.3)
    raise AssertionError("dxlink serve did not become ready:\n" + log.read_text())


async def _logins(target: Target) -> set[str]:
    """The logins of the app's connections to the database, once the migrating ones closed."""
    connection = await asyncpg.connect(re.sub(r"/[^/]*$", "/postgres", target.url))
    try:
        deadline = time.monotonic() + 10
        while True:
            rows = await connection.fetch(
                "SELECT DISTINCT usename FROM pg_stat_activity "
                "WHERE datname = $1 AND application_name = 'dxlink'",
                target.database,
            )
            users = {row["usename"] for row in rows}
            if users == {target.runtime_user} or time.monotonic() > deadline:
                return users
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
