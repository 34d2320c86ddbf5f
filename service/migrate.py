"""Schema migrations through Alembic's API, on the service's own async engine; and the runtime
login the API connects with.

Alembic's commands are synchronous; they run inside ``AsyncConnection.run_sync`` on a connection
this module hands over (see migrations/env.py), under an advisory lock so that two processes
starting at once do not migrate twice.

The runtime login is provisioned after the migrations by every `dxlink migrate`, `seed` and
`serve` rather than by one revision: roles belong to the cluster, not to the database (a dump
restored elsewhere has none), and its name and password are settings that may change.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.database import API_ROLE, RuntimeLogin
from service.settings import SettingsError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_KEY = 7_306_440_041  # arbitrary, fixed: "dxlink migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def _run(engine: AsyncEngine, action: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> bool:
    """Upgrade to ``revision``; returns False when the database was already there."""
    if revision == "head" and await current_revision(engine) == head_revision():
        return False
    await _run(engine, "upgrade", revision)
    return True


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, "downgrade", revision)


# What the runtime login must be (and, apart from LOGIN, what it must not): see RuntimeLogin.
_ATTRIBUTES = "LOGIN NOSUPERUSER NOBYPASSRLS NOREPLICATION NOINHERIT NOCREATEDB NOCREATEROLE"
# Lost races with another database of the same cluster provisioning the same role at once.
_RACES = {"23505", "42710", "40001", "40P01", "XX000"}  # XX000: "tuple concurrently updated"


async def provision_runtime_login(engine: AsyncEngine, login: RuntimeLogin) -> None:
    """Create the runtime login, or bring an existing one in line: attributes, membership of
    the API role (its only one), password, CONNECT, and SELECT on the revision (/readyz).

    Idempotent: statements run only for what differs. Refuses (`SettingsError`) a login that is
    privileged, owns anything or may become another role; run after the migrations.
    """
    for attempt in range(3):
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                )
                await _provision(connection, login)
            return
        except DBAPIError as exc:
            if attempt == 2 or getattr(exc.orig, "sqlstate", None) not in _RACES:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))


async def _provision(connection: AsyncConnection, login: RuntimeLogin) -> None:
    user = login.user
    quoted = f'"{user}"'  # Settings allows lower-case letters, digits and underscores only

    async def value(sql: str) -> object:
        return await connection.scalar(text(sql), {"u": user, "api": API_ROLE})

    role = (
        await connection.execute(
            text(
                "SELECT rolsuper OR rolbypassrls OR rolreplication AS privileged, "
                "rolcanlogin, rolinherit, rolcreatedb, rolcreaterole "
                "FROM pg_roles WHERE rolname = :u"
            ),
            {"u": user},
        )
    ).first()
    if role is None:
        await _create(connection, quoted)
    else:
        # An existing role is refused before anything about it changes.
        if role.privileged:
            raise SettingsError(
                f"DXLINK_DB_RUNTIME_USER={user} is a superuser or may bypass row-level "
                "security (BYPASSRLS, REPLICATION): the API must not connect as it"
            )
        await _refuse_entangled(connection, user)
        wrong = [
            attribute
            for attribute, now, wanted in (
                ("LOGIN", role.rolcanlogin, True),
                ("NOINHERIT", role.rolinherit, False),
                ("NOCREATEDB", role.rolcreatedb, False),
                ("NOCREATEROLE", role.rolcreaterole, False),
            )
            if now != wanted
        ]
        if wrong:
            await _ddl(connection, f"ALTER ROLE {quoted} {' '.join(wrong)}")
    if not await value("SELECT pg_has_role(:u, :api, 'MEMBER')"):
        await _ddl(connection, f"GRANT {API_ROLE} TO {quoted}")
    if not await _password_is(connection, user, login.password):
        verifier = scram_verifier(login.password)
        # Sent as a SCRAM verifier, never as the password: statement logs may keep DDL.
        await _ddl(connection, f"ALTER ROLE {quoted} PASSWORD '{verifier}'")
    if not await value("SELECT has_database_privilege(:u, current_database(), 'CONNECT')"):
        database = await value("SELECT quote_ident(current_database())")
        await _ddl(connection, f"GRANT CONNECT ON DATABASE {database} TO {quoted}")
    if not await value("SELECT has_table_privilege(:u, 'alembic_version', 'SELECT')"):
        await _ddl(connection, f"GRANT SELECT ON alembic_version TO {quoted}")
    # Again, now that it holds its grants (PUBLIC's, or an inheriting membership, would show).
    await _refuse_entangled(connection, user)


async def _create(connection: AsyncConnection, quoted: str) -> None:
    creator = (
        await connection.execute(
            text(
                "SELECT current_user AS name, rolsuper OR rolcreaterole AS can FROM pg_roles "
                "WHERE rolname = current_user"
            )
        )
    ).one()
    if not creator.can:
        user = quoted.strip('"')
        raise SettingsError(
            f"the runtime login {user} (DXLINK_DB_RUNTIME_USER) does not exist, and the owner "
            f"login {creator.name} may not create roles: create it (CREATE ROLE {user} "
            f"{_ATTRIBUTES} PASSWORD '...'; GRANT {API_ROLE} TO {user}) or give "
            f"{creator.name} CREATEROLE"
        )
    await _ddl(connection, f"CREATE ROLE {quoted} {_ATTRIBUTES}")


async def _ddl(connection: AsyncConnection, statement: str) -> None:
    """Run a statement about the runtime login; a refusal names what the owner lacks."""
    try:
        async with connection.begin_nested():  # so that the owner's name can be asked after
            await connection.exec_driver_sql(statement)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        owner = await connection.scalar(text("SELECT current_user"))
        shown = statement.split(" PASSWORD ")[0]  # never the verifier
        raise SettingsError(
            f"the owner login {owner} may not prepare the runtime login ({shown}: "
            f"{exc.orig}); run that as a superuser, or give {owner} CREATEROLE and the ADMIN "
            "OPTION on the role"
        ) from None


async def _refuse_entangled(connection: AsyncConnection, user: str) -> None:
    problems = await connection.scalar(text(_LOGIN_PROBLEMS), {"u": user, "api": API_ROLE})
    if problems:
        raise SettingsError(
            f"the runtime login {user} (DXLINK_DB_RUNTIME_USER) {problems}: the API must "
            f"connect as a login that owns nothing and may become {API_ROLE} only; revoke "
            "that or choose another name"
        )


# Whatever would let the login reach data without the API role's policies, as one sentence.
_LOGIN_PROBLEMS = """
WITH login AS (SELECT oid FROM pg_roles WHERE rolname = :u)
SELECT string_agg(problem, '; ') FROM (
  SELECT 'may become ' || string_agg(m.roleid::regrole::text, ', ') AS problem
  FROM pg_auth_members m, login WHERE m.member = login.oid AND m.roleid <> CAST(:api AS regrole)
  HAVING count(*) > 0
  UNION ALL
  SELECT 'owns ' || string_agg(c.oid::regclass::text, ', ')
  FROM pg_class c, login WHERE c.relowner = login.oid HAVING count(*) > 0
  UNION ALL
  SELECT 'owns functions ' || string_agg(p.oid::regprocedure::text, ', ')
  FROM pg_proc p, login WHERE p.proowner = login.oid HAVING count(*) > 0
  UNION ALL
  SELECT 'owns this database' FROM pg_database d, login
  WHERE d.datname = current_database() AND d.datdba = login.oid
  UNION ALL
  SELECT 'may use tables itself: ' || string_agg(c.oid::regclass::text, ', ')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> 'alembic_version'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND has_table_privilege(:u, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
  HAVING count(*) > 0
) found
"""


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password`` (RFC 5802, as ``\\password`` makes
    it); ``password`` is printable ASCII (Settings), which SASLprep leaves as it is."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


_VERIFIER = re.compile(r"SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+")


async def _password_is(connection: AsyncConnection, user: str, password: str) -> bool:
    """Whether ``user`` has ``password`` already; False when this login may not tell."""
    if not await connection.scalar(text("SELECT has_table_privilege('pg_authid', 'SELECT')")):
        return False
    stored = await connection.scalar(
        text("SELECT rolpassword FROM pg_authid WHERE rolname = :u"), {"u": user}
    )
    found = _VERIFIER.fullmatch(stored or "")
    if found is None:
        return False
    again = scram_verifier(password, salt=base64.b64decode(found[2]), iterations=int(found[1]))
    return hmac.compare_digest(again, stored)
