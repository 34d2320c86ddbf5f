"""Alembic environment: runs on a connection handed over by `service.migrate`, or on its own."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from service.database import async_url
from service.models import Base

config = context.config
target_metadata = Base.metadata


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        # Row-level security holds the tables' owner outside maintenance (migration
        # e6f7a8b9c0d1): a migration that moves rows of a scoped table must see them all.
        connection.execute(text("SELECT set_config('dxlink.maintenance', 'on', true)"))
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_async_engine(async_url(url), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"],
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    shared = config.attributes.get("connection")
    if shared is not None:
        do_run_migrations(shared)
    else:
        url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
        if not url:
            raise SystemExit(
                "Set DATABASE_URL, or use `dxlink migrate` (it knows the embedded database)."
            )
        asyncio.run(run_async_migrations(url))
