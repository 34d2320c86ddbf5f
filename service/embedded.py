"""The embedded PostgreSQL used when no DATABASE_URL is configured.

`pgserver` ships PostgreSQL 16 binaries in its wheel and runs the server on a Unix socket inside
the data directory, so nothing listens on a TCP port and the data survives restarts.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "dxlink"


def start_embedded(
    data_dir: Path, *, database: str = DATABASE_NAME, stop_on_exit: bool = True
) -> str:
    """Start (or attach to) the embedded server in ``data_dir``; return a libpq URL to ``database``.

    The database is created on first use. With ``stop_on_exit`` the server stops when the last
    process that attached to it exits; otherwise it keeps running for the next start.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver then falls back to /tmp.
        warnings.simplefilter("ignore")
        import pgserver

        pgdata = data_dir / "pgdata"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(pgdata, cleanup_mode="stop" if stop_on_exit else None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        logger.info("creating database %s in %s", database, pgdata)
        server.psql(f'CREATE DATABASE "{database}";')
    return str(server.get_uri(database))
