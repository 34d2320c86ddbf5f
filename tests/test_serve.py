"""`dxlink serve` end to end: embedded PostgreSQL, migrations, seeds, restarts and stops.

Whatever ends a command that started the embedded PostgreSQL (SIGTERM from a process manager,
Ctrl+C, a closed terminal, a failed start), the server must stop with it unless another process
still uses it; otherwise it runs on as an orphan that the next start attaches to.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from service.embedded import _forget_dead_processes, start_embedded

QUERY = "{ municipalities(first: 1) { totalCount edges { node { code name } } } }"
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dxlink(data_dir: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["DXLINK_DATA_DIR"] = str(data_dir)
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # As from a terminal: a suite run under nohup would hand its ignored SIGHUP down,
            # and `dxlink` rightly leaves an ignored SIGHUP ignored.
            preexec_fn=_default_hangup,
        )


def _default_hangup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return _dxlink(data_dir, log, "serve", "--port", str(port))


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("dxlink serve did not become ready:\n" + log.read_text())


def _wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{log.read_text()}"
        time.sleep(0.01)


def _stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> int:
    process.send_signal(signum)
    return process.wait(timeout=30)


def _postmaster_pid(data_dir: Path) -> int:
    """The embedded server's pid, from the first line of the postmaster.pid it writes."""
    return int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _assert_database_stopped(data_dir: Path, pid: int) -> None:
    """The server of ``data_dir`` (postmaster ``pid``) has shut down and its process is gone."""
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    deadline = time.monotonic() + 10
    while (pid_file.exists() or _running(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)  # pg_ctl -w stop returns once the file is gone; the process follows
    assert not pid_file.exists(), "postmaster.pid is still there: the server runs on"
    assert not _running(pid), f"the embedded PostgreSQL (pid {pid}) is still running"


def _count_rows(data_dir: Path, sql: str) -> int:
    async def run() -> int:
        connection = await asyncpg.connect(
            host=str(data_dir / "pgdata"), user="postgres", database="dxlink"
        )
        try:
            return int(await connection.fetchval(sql))
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory for data directories, outside pytest's basetemp: as root, pgserver runs
    PostgreSQL as its own user and opens the path for it, but every pytest that starts (other
    checkouts' suites too) makes /tmp/pytest-of-<user> private again, and pg_ctl start fails."""
    path = Path(tempfile.mkdtemp(prefix="dxlink-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def seeded_data_dir() -> Iterator[Path]:
    """A migrated and seeded data directory, made once by `dxlink seed`; copy it, never use it."""
    base = Path(tempfile.mkdtemp(prefix="dxlink-test-"))
    base.chmod(0o755)
    data_dir, log = base / "data", base / "seed.log"
    assert _dxlink(data_dir, log, "seed").wait(timeout=120) == 0, log.read_text()
    yield data_dir
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def data_dir(seeded_data_dir: Path, scratch: Path) -> Iterator[Path]:
    copy = scratch / "data"
    # cp -a keeps the owner, which must be the user PostgreSQL runs as.
    subprocess.run(["cp", "-a", str(seeded_data_dir), str(copy)], check=True)
    yield copy
    pid_file = copy / "pgdata" / "postmaster.pid"
    if pid_file.exists():  # a failed test must not leave its server behind
        os.kill(_postmaster_pid(copy), signal.SIGINT)


def test_serve_twice_keeps_data_and_does_not_duplicate_seeds(scratch: Path, tmp_path: Path) -> None:
    data_dir, port = scratch / "data", _free_port()
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    process = _serve(data_dir, port, first_log)
    try:
        _wait_ready(port, process, first_log)
        body = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}).json()
        assert body["data"]["municipalities"]["totalCount"] == 30
        # Data that is not seed data must survive the restart too.
        _count_rows(
            data_dir,
            "INSERT INTO expert (name, themes, monthly_capacity) "
            "VALUES ('継続 確認', '{}', 4) RETURNING 1",
        )
        first_postmaster = _postmaster_pid(data_dir)
    finally:
        _stop(process)
    assert "migrated the database" in first_log.read_text()

    process = _serve(data_dir, port, second_log)
    try:
        _wait_ready(port, process, second_log)
        # A server of its own, not the first run's left running.
        assert _postmaster_pid(data_dir) != first_postmaster
        assert not _running(first_postmaster)
        body = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}).json()
        assert body["data"]["municipalities"]["edges"][0]["node"]["name"] == "和歌山市"
        assert _count_rows(data_dir, "SELECT count(*) FROM municipality") == 30
        assert _count_rows(data_dir, "SELECT count(*) FROM assessment_question") == 66
        assert _count_rows(data_dir, "SELECT count(*) FROM expert WHERE name = '継続 確認'") == 1
    finally:
        _stop(process)
    second = second_log.read_text()
    assert "database schema is at head" in second
    assert "migrated the database" not in second
    assert "municipality 0" in second  # the seed upsert found nothing to write


@pytest.mark.parametrize(
    ("signum", "ends_by"),
    [
        pytest.param(signal.SIGTERM, signal.SIGTERM, id="SIGTERM"),  # docker stop, systemd
        pytest.param(signal.SIGINT, signal.SIGINT, id="SIGINT"),  # Ctrl+C
        pytest.param(signal.SIGHUP, signal.SIGTERM, id="SIGHUP"),  # the terminal was closed
    ],
)
def test_a_signal_stops_the_embedded_database(
    data_dir: Path, tmp_path: Path, signum: int, ends_by: int
) -> None:
    port, log = _free_port(), tmp_path / "serve.log"
    process = _serve(data_dir, port, log)
    try:
        _wait_ready(port, process, log)
        postmaster = _postmaster_pid(data_dir)
    finally:
        returncode = _stop(process, signum)
    # uvicorn's graceful shutdown ran, then the process ended by the signal, as a process
    # manager expects of a clean stop.
    assert "Application shutdown complete" in log.read_text()
    assert returncode == -ends_by, log.read_text()
    _assert_database_stopped(data_dir, postmaster)
    # Nothing left for the next start to attach to (test_serve_twice_... starts again).
    assert json.loads((data_dir / "pgdata" / ".handle_pids.json").read_text()) == []


def test_signals_during_start_and_shutdown_still_stop_the_database(
    data_dir: Path, tmp_path: Path
) -> None:
    """SIGTERM while migrating and seeding, before uvicorn listens; and a second and third signal
    while the first one's shutdown runs (Ctrl+C pressed again, `kill` after `docker stop`)."""
    port, log = _free_port(), tmp_path / "serve.log"
    process = _serve(data_dir, port, log)
    _wait_for_line(log, "embedded PostgreSQL ready", process)
    postmaster = _postmaster_pid(data_dir)
    assert _stop(process) == -signal.SIGTERM, log.read_text()
    assert "GraphQL API at" not in log.read_text()  # it did stop before listening
    _assert_database_stopped(data_dir, postmaster)

    process = _serve(data_dir, port, log)
    _wait_ready(port, process, log)
    postmaster = _postmaster_pid(data_dir)
    process.send_signal(signal.SIGTERM)
    while process.poll() is None:  # keep signalling through every phase of the shutdown
        process.send_signal(signal.SIGINT)
        time.sleep(0.005)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.005)
    # uvicorn raises the signals it caught again, the last first; either ends the process.
    assert process.returncode in (-signal.SIGTERM, -signal.SIGINT), log.read_text()
    _assert_database_stopped(data_dir, postmaster)


def test_seed_stopped_by_sigterm_stops_the_database_it_started(
    data_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "seed.log"
    process = _dxlink(data_dir, log, "seed")
    _wait_for_line(log, "embedded PostgreSQL ready", process)
    postmaster = _postmaster_pid(data_dir)
    assert _stop(process) == -signal.SIGTERM, log.read_text()
    _assert_database_stopped(data_dir, postmaster)


def test_a_failed_start_stops_the_database(data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = _serve(data_dir, taken.getsockname()[1], log)
        _wait_for_line(log, "embedded PostgreSQL ready", process)
        postmaster = _postmaster_pid(data_dir)
        assert process.wait(timeout=60) != 0, log.read_text()
    assert "address already in use" in log.read_text()
    _assert_database_stopped(data_dir, postmaster)


HOLDER = """
import sys
from pathlib import Path
from service.embedded import start_embedded
start_embedded(Path(sys.argv[1]))
print("attached", flush=True)
sys.stdin.read()  # until the test closes our stdin; pgserver detaches at exit
"""


def test_the_last_process_to_detach_stops_the_database(data_dir: Path, tmp_path: Path) -> None:
    """pgserver counts the processes attached to a server: `dxlink seed` while `dxlink serve`
    runs must not stop the server under it, nor `serve` stopping under another user."""
    port, log = _free_port(), tmp_path / "serve.log"
    server = _serve(data_dir, port, log)
    holder = None
    try:
        _wait_ready(port, server, log)
        postmaster = _postmaster_pid(data_dir)

        seed_log = tmp_path / "seed.log"
        assert _dxlink(data_dir, seed_log, "seed").wait(timeout=60) == 0, seed_log.read_text()
        assert _running(postmaster)
        body = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}).json()
        assert body["data"]["municipalities"]["totalCount"] == 30

        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"attached\n"
        assert _stop(server) == -signal.SIGTERM, log.read_text()
        assert _running(postmaster)
        assert _count_rows(data_dir, "SELECT count(*) FROM municipality") == 30
    finally:
        if server.poll() is None:
            _stop(server)
        if holder is not None:
            holder.communicate(timeout=30)
    assert holder.returncode == 0
    _assert_database_stopped(data_dir, postmaster)


UNLUCKY = """
import os, signal, sys
from pathlib import Path
import pgserver
from service import embedded, shutdown

start = pgserver.get_server

def get_server(*args, **kwargs):
    server = start(*args, **kwargs)
    print(server.get_pid(), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # the server runs, this process has not noted it yet
    stop = server.cleanup

    def cleanup():
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C again while the server stops
        stop()

    server.cleanup = cleanup
    return server

pgserver.get_server = get_server
with shutdown.termination_signals():
    with embedded.detaching():
        embedded.start_embedded(Path(sys.argv[1]))
        print("not reached")
"""


def test_signals_at_the_worst_moments_still_stop_the_database(data_dir: Path) -> None:
    """A SIGTERM right after PostgreSQL started, and a SIGINT while it stops, are held until the
    start or stop is complete; the database is stopped all the same."""
    done = subprocess.run(
        [sys.executable, "-c", UNLUCKY, str(data_dir)], cwd=ROOT, capture_output=True, timeout=60
    )
    assert done.returncode == -signal.SIGTERM, done.stderr.decode()
    assert b"not reached" not in done.stdout
    _assert_database_stopped(data_dir, int(done.stdout.split()[0]))


def test_processes_killed_without_detaching_are_forgotten(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([os.getpid(), dead.pid]))
    _forget_dead_processes(tmp_path)
    assert json.loads(handles.read_text()) == [os.getpid()]


def test_a_data_directory_with_spaces_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="without spaces"):
        start_embedded(tmp_path / "my data")
