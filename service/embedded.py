"""The embedded PostgreSQL used when no DATABASE_URL is configured.

`pgserver` ships PostgreSQL 16 binaries in its wheel and runs the server on a Unix socket inside
the data directory, so nothing listens on a TCP port and the data survives restarts.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service import shutdown

logger = logging.getLogger(__name__)

DATABASE_NAME = "dxlink"

# pgserver servers this process attached to and must detach from (keyed by their pgdata).
_attached: dict[Path, Any] = {}


def start_embedded(
    data_dir: Path, *, database: str = DATABASE_NAME, stop_on_exit: bool = True
) -> str:
    """Start (or attach to) the embedded server in ``data_dir``; return a libpq URL to ``database``.

    The database is created on first use. With ``stop_on_exit`` the server stops when the last
    process that attached to it detaches (`detaching()`, or at interpreter exit); otherwise it keeps
    running for the next start.
    """
    pgdata = data_dir.resolve() / "pgdata"
    if any(c.isspace() for c in str(pgdata)):
        # pg_ctl passes the socket directory unquoted to postgres.
        raise SystemExit(
            f"the embedded PostgreSQL cannot use a path with spaces ({pgdata}); "
            "set DXLINK_DATA_DIR to a path without spaces"
        )
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver then falls back to /tmp.
        warnings.simplefilter("ignore")
        import pgserver
    # Signals wait until the server is in `_attached`: one arriving between pg_ctl starting the
    # server and this process noting it would leave a server that nobody stops.
    with shutdown.held():
        # Under pgserver's own lock, the one it holds while it changes the list of users: a
        # `dxlink` command starting at the same moment would otherwise lose its entry, and have
        # the server stopped under it by the next process that detaches.
        with pgserver.PostgresServer._lock:
            _forget_dead_processes(pgdata)
        server = pgserver.get_server(pgdata, cleanup_mode="stop" if stop_on_exit else None)
        if stop_on_exit:
            _attached[pgdata] = server
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        logger.info("creating database %s in %s", database, pgdata)
        server.psql(f'CREATE DATABASE "{database}";')
    return str(server.get_uri(database))


@contextmanager
def detaching() -> Iterator[None]:
    """Detach, when the block ends however it ends, from the servers it started or attached to.

    Each server stops unless another process is still attached: pgserver keeps the pids of its
    users in ``pgdata/.handle_pids.json``, so `dxlink seed` run while `dxlink serve` is up leaves
    the server to `serve`, and whichever of the two ends last stops it. pgserver would detach at
    interpreter exit, which a process ended by a signal never reaches (see `service.shutdown`).
    Servers attached to before the block (the test suite's, when a test runs `dxlink`'s main)
    are left alone.
    """
    before = set(_attached)
    try:
        yield
    finally:
        with shutdown.held():
            for pgdata in [p for p in _attached if p not in before]:
                _attached.pop(pgdata).cleanup()


def detach(data_dir: Path) -> None:
    """Detach now from the server in ``data_dir`` (it stops unless others are attached)."""
    with shutdown.held():
        server = _attached.pop(data_dir.resolve() / "pgdata", None)
        if server is not None:
            server.cleanup()


def _forget_dead_processes(pgdata: Path) -> None:
    """Drop processes that died without detaching (kill -9) from pgserver's list of users.

    pgserver stops the server when the last process in that list exits; a dead entry would keep
    it running for ever.
    """
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
