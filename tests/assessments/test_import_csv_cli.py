"""`dxlink import-assessment` and `dxlink export-assessment`: exit codes, what they print, and
that a refused import commits nothing, on a database of their own (the commands commit)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from seeds.loader import load_seeds
from service import migrate
from service.cli import main as cli_main
from service.database import create_engine
from service.settings import REPO_ROOT, Settings, get_settings
from tests import factories as f
from tests.assessments.csv_helpers import SAMPLE, sample_rows, to_csv
from tests.auth.bearer import SECRET
from tests.database import scratch_database

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
async def cli_database(pg_server: str, settings: Settings) -> AsyncIterator[str]:
    async with scratch_database(pg_server, "csv_cli") as url:
        engine = create_engine(url, settings)
        try:
            await migrate.upgrade(engine)
            async with engine.begin() as connection:
                await load_seeds(connection)
                for key in ("2099-05", "2099-06", "2099-07", "2099-08"):
                    await f.create_open_round(connection, key, opens_on=None, closes_on=None)
        finally:
            await engine.dispose()
        yield url


@pytest.fixture
def run(
    cli_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Run:
    monkeypatch.setenv("DATABASE_URL", cli_database)
    monkeypatch.setenv("DXLINK_JWT_SECRET", SECRET)

    def invoke(*argv: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        try:
            code = cli_main(list(argv))
        finally:
            get_settings.cache_clear()
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    return invoke


def responses(url: str, settings: Settings, round_key: str) -> list[tuple[str, str]]:
    async def read() -> list[tuple[str, str]]:
        engine = create_engine(url, settings)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT m.code, r.status FROM assessment_response r "
                        "JOIN assessment_round rd ON rd.id = r.round_id "
                        "JOIN municipality m ON m.id = r.municipality_id "
                        "WHERE rd.key = :k ORDER BY m.code"
                    ),
                    {"k": round_key},
                )
                return [(r[0], r[1]) for r in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_import_then_export_gives_the_same_file(run: Run, tmp_path: Path) -> None:
    code, out, err = run("import-assessment", str(SAMPLE), "--round", "2099-05")
    assert code == 0, err
    assert out.startswith("imported 30 responses (")
    assert out.rstrip().endswith("answers) into round 2099-05")
    # Not a terminal: no progress bar.
    assert "row/s" not in err
    assert "%|" not in err
    exported = tmp_path / "out.csv"
    code, _, err = run("export-assessment", "--round", "2099-05", "-o", str(exported))
    assert code == 0, err
    assert exported.read_bytes() == SAMPLE.read_bytes()
    code, out, _ = run("export-assessment", "--round", "2099-05")
    assert out.encode() == SAMPLE.read_bytes()


def test_a_refused_import_prints_every_problem_and_commits_nothing(
    run: Run, tmp_path: Path, cli_database: str, settings: Settings
) -> None:
    rows = sample_rows()[:5]
    answer = next(i for i, h in enumerate(rows[0]) if h.startswith("4-1. "))
    rows[2][answer] = "とても期待する"
    rows[4][0] = "昨日"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv(rows))
    code, out, err = run("import-assessment", str(bad), "--round", "2099-06")
    assert (code, out) == (1, "")
    lines = err.strip().splitlines()
    assert lines[0].startswith(f'{bad}: NOT_AN_OPTION: row 3, column "{rows[0][answer]}": ')
    assert lines[1].startswith(f'{bad}: INVALID: row 5, column "タイムスタンプ": ')
    assert lines[-1] == "dxlink import-assessment: 2 problem(s); nothing was imported"
    assert responses(cli_database, settings, "2099-06") == []


def test_replace_is_explicit(
    run: Run, tmp_path: Path, cli_database: str, settings: Settings
) -> None:
    one = tmp_path / "one.csv"
    one.write_bytes(to_csv(sample_rows()[:2]))
    assert run("import-assessment", str(one), "--round", "2099-07")[0] == 0
    code, _, err = run("import-assessment", str(one), "--round", "2099-07")
    assert code == 1
    assert "RESPONSE_SUBMITTED: row 2" in err
    assert "--replace" in err
    code, out, err = run("import-assessment", str(one), "--round", "2099-07", "--replace")
    assert code == 0, err
    assert out.startswith("imported 1 responses")
    (only,) = responses(cli_database, settings, "2099-07")
    assert only[1] == "SUBMITTED"


def test_unknown_round_and_missing_file(run: Run, tmp_path: Path) -> None:
    code, _, err = run("import-assessment", str(SAMPLE), "--round", "1999-04")
    assert code == 1
    assert "NOT_FOUND: no round 1999-04" in err
    code, _, err = run("import-assessment", str(tmp_path / "none.csv"), "--round", "2099-05")
    assert code == 2
    assert "No such file" in err
    code, _, err = run("export-assessment", "--round", "1999-04")
    assert code == 1
    assert "no round 1999-04" in err


def test_a_progress_bar_on_a_terminal(cli_database: str, tmp_path: Path) -> None:
    """The command in a process of its own whose stderr is a terminal (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    # A terminal of 24 x 100 (a fresh pseudo-terminal has no size: tqdm would draw nothing).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {
        **os.environ,
        "DATABASE_URL": cli_database,
        "DXLINK_JWT_SECRET": SECRET,
        "DXLINK_DATA_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "import-assessment",
            str(SAMPLE),
            "--round",
            "2099-08",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    shown: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = process.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(leader)
    terminal = b"".join(shown).decode("utf-8", "replace")
    assert process.returncode == 0, terminal
    assert out.decode().startswith("imported 30 responses")
    assert "| 0/30 [" in terminal  # the bar, drawn as the import starts
    assert "row/s]" in terminal
