"""Throwaway PostgreSQL databases for the suite: embedded, or on TEST_DATABASE_URL's server."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from service.embedded import detach, start_embedded


def server_url(tmp_dir: Path) -> str:
    """A maintenance URL of the server the suite uses (never a database it keeps)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        return external
    url = start_embedded(tmp_dir, database="postgres")
    asyncio.run(_require_passwords(url))
    return url


# The embedded server trusts every login; the suite's own server trusts its superuser only, so
# that the passwords of the other logins (the API's runtime login above all) are really checked.
_HBA = """\
local all postgres trust
host all postgres 127.0.0.1/32 trust
host all postgres ::1/128 trust
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


async def _require_passwords(url: str) -> None:
    connection = await asyncpg.connect(_libpq(url))
    try:
        Path(await connection.fetchval("SHOW hba_file")).write_text(_HBA, encoding="utf-8")
        assert await connection.fetchval("SELECT pg_reload_conf()")
        errors = await connection.fetch(
            "SELECT error FROM pg_hba_file_rules WHERE error IS NOT NULL"
        )
        assert not errors, errors
    finally:
        await connection.close()


def stop_embedded(tmp_dir: Path) -> None:
    """Stop the suite's embedded server in ``tmp_dir`` now (pgserver would at exit)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        detach(tmp_dir)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def scratch_database(server: str, purpose: str) -> AsyncIterator[str]:
    """Create an empty database on ``server`` for the block; drop it afterwards."""
    name = f"dxlink_test_{purpose}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_libpq(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
