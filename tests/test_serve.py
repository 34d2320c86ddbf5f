"""`dxlink serve` end to end: embedded PostgreSQL, migrations, seeds, and a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.embedded import _forget_dead_processes, start_embedded

QUERY = "{ municipalities(first: 1) { totalCount edges { node { code name } } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["DXLINK_DATA_DIR"] = str(data_dir)
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("dxlink serve did not become ready:\n" + log.read_text())


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


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


def test_serve_twice_keeps_data_and_does_not_duplicate_seeds(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", _free_port()
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
    finally:
        _stop(process)
    assert "migrated the database" in first_log.read_text()

    process = _serve(data_dir, port, second_log)
    try:
        _wait_ready(port, process, second_log)
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
