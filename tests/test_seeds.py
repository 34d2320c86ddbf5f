"""Seeding is idempotent: a second run writes nothing and duplicates nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from seeds.loader import load_seeds
from service.models import Base, Municipality


async def _counts(connection: AsyncConnection) -> dict[str, int]:
    counts = {}
    for name, table in Base.metadata.tables.items():
        counts[name] = await connection.scalar(select(func.count()).select_from(table))
    return counts


async def test_second_seed_writes_nothing(connection: AsyncConnection) -> None:
    before = await _counts(connection)
    stamps_query = select(Municipality.code, Municipality.updated_at)
    stamps = dict((await connection.execute(stamps_query)).all())
    report = await load_seeds(connection)
    assert set(report.written.values()) == {0}, report
    assert await _counts(connection) == before
    after = dict((await connection.execute(stamps_query)).all())
    assert after == stamps  # unchanged rows are not even touched


async def test_reference_data_is_complete(connection: AsyncConnection) -> None:
    counts = await _counts(connection)
    assert counts["prefecture"] == 1
    assert counts["region"] == 7
    assert counts["municipality"] == 30
    assert counts["assessment_question"] == 66
    assert counts["support_tier"] == 4
    assert counts["standard_dataset"] == 27


async def test_seed_repairs_a_changed_row(connection: AsyncConnection) -> None:
    await connection.execute(text("UPDATE municipality SET name = 'x' WHERE code = '302015'"))
    report = await load_seeds(connection)
    assert report.written["municipality"] == 1
    name = await connection.scalar(select(Municipality.name).where(Municipality.code == "302015"))
    assert name == "和歌山市"


async def test_database_refuses_a_code_with_a_wrong_check_digit(
    connection: AsyncConnection,
) -> None:
    with pytest.raises(IntegrityError, match="ck_municipality_code_valid"):
        async with connection.begin_nested():
            await connection.execute(
                text("UPDATE municipality SET code = '302016' WHERE code = '302015'")
            )
