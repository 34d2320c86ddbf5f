"""Migrations build exactly the schema the models declare, and undo it completely."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from service import migrate
from service.database import create_engine
from service.models import Base
from service.settings import Settings
from tests.database import scratch_database


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_matches_models_and_downgrade_to_base(
    pg_server: str, settings: Settings
) -> None:
    async with scratch_database(pg_server, "migrations") as url:
        engine = create_engine(url, settings)
        try:
            assert await migrate.upgrade(engine) is True
            assert await migrate.current_revision(engine) == migrate.head_revision()
            async with engine.connect() as connection:
                assert await connection.run_sync(_diff) == []
                assert await connection.run_sync(_tables) >= set(Base.metadata.tables)

            # A second upgrade finds the database at head and does nothing.
            assert await migrate.upgrade(engine) is False

            await migrate.downgrade(engine, "base")
            assert await migrate.current_revision(engine) is None
            async with engine.connect() as connection:
                assert await connection.run_sync(_tables) == {"alembic_version"}

            # And it can be rebuilt after a full downgrade.
            assert await migrate.upgrade(engine) is True
            async with engine.connect() as connection:
                assert await connection.run_sync(_diff) == []
        finally:
            await engine.dispose()


def _checks(connection: Connection) -> dict[str, set[tuple[str, str]]]:
    inspector = inspect(connection)
    return {
        table: {(c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)}
        for table in Base.metadata.tables
    }


async def test_check_constraints_match_the_models(pg_server: str, settings: Settings) -> None:
    """Alembic's comparison ignores CHECK constraints (enum values, code check digits): compare
    a migrated database with one built straight from the models."""
    async with (
        scratch_database(pg_server, "migrated") as migrated_url,
        scratch_database(pg_server, "declared") as declared_url,
    ):
        migrated = create_engine(migrated_url, settings)
        declared = create_engine(declared_url, settings)
        try:
            await migrate.upgrade(migrated)
            async with declared.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            async with migrated.connect() as a, declared.connect() as b:
                assert await a.run_sync(_checks) == await b.run_sync(_checks)
        finally:
            await migrated.dispose()
            await declared.dispose()
