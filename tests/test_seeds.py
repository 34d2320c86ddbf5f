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


async def test_a_publisher_is_listed_once_per_dataset(connection: AsyncConnection) -> None:
    dataset = (
        await connection.execute(
            text(
                "INSERT INTO dataset (identifier, title, keywords, status, license) "
                "VALUES ('302015-aed', 'AED設置箇所一覧', '{}', 'DRAFT', 'PDL-1.0') RETURNING id"
            )
        )
    ).scalar_one()
    add = text(
        "INSERT INTO dataset_publisher (dataset_id, prefecture_id) "
        "VALUES (:d, (SELECT id FROM prefecture WHERE code = '300004'))"
    )
    await connection.execute(add, {"d": dataset})
    with pytest.raises(IntegrityError, match="uq_dataset_publisher"):
        async with connection.begin_nested():
            await connection.execute(add, {"d": dataset})


async def test_seed_removes_what_the_source_no_longer_has(connection: AsyncConnection) -> None:
    """An option renamed in the CSV must not survive under its old label beside the new one."""
    await connection.execute(
        text(
            "INSERT INTO assessment_option (question_id, label, position) "
            "SELECT id, '古い選択肢', 9 FROM assessment_question WHERE key = '1-1'"
        )
    )
    await connection.execute(
        text(
            "UPDATE assessment_question SET follow_up_of_id = "
            "(SELECT id FROM assessment_question WHERE key = '0-1') WHERE key = '1-1'"
        )
    )
    report = await load_seeds(connection)
    assert report.written["assessment_option (removed)"] == 1
    labels = await connection.scalars(
        text(
            "SELECT o.label FROM assessment_option o JOIN assessment_question q "
            "ON q.id = o.question_id WHERE q.key = '1-1' ORDER BY o.position"
        )
    )
    assert list(labels) == [
        "策定済み",
        "策定する予定がある",
        "時期は未定だが策定を検討中",
        "策定する予定はない",
    ]
    follow_up = await connection.scalar(
        text("SELECT follow_up_of_id FROM assessment_question WHERE key = '1-1'")
    )
    assert follow_up is None
