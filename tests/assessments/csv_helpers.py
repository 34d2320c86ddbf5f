"""Helpers of the web-form CSV tests: the committed sample, CSV text, and the import and export
run as a principal on the test's transaction."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.principal import Principal, Role
from service.assessments.csv_import import AssessmentCsvService, Imported
from service.database import RequestSession

T = TypeVar("T")
# `dxlink seed --demo`, then `dxlink export-assessment --round 2024-04 -o <this file>`
# (README, "Commands"); test_the_demo_round_exports_as_the_committed_sample keeps it current.
SAMPLE = Path(__file__).resolve().parent / "data" / "demo_2024-04.csv"
PREFECTURE = Principal(Role.prefecture_admin, subject="csv-admin")


def sample_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"), newline="")))


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


async def as_principal(
    connection: AsyncConnection,
    principal: Principal,
    work: Callable[[RequestSession], Awaitable[T]],
) -> T:
    """``work`` in a request's session as ``principal``, committed into the test's transaction
    when it returns, undone when it raises."""
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    db = RequestSession(sessionmaker, principal, "csv-test")
    try:
        result = await work(db)
    except BaseException:
        await db.finish(commit=False)
        await connection.execute(text("RESET ROLE"))
        raise
    await db.finish(commit=True)
    await connection.execute(text("RESET ROLE"))
    return result


async def import_csv(
    connection: AsyncConnection,
    round_key: str,
    data: bytes,
    *,
    replace: bool = False,
    principal: Principal = PREFECTURE,
) -> Imported:
    return await as_principal(
        connection,
        principal,
        lambda db: AssessmentCsvService(db).import_csv(round_key, data, replace=replace),
    )


async def export_csv(connection: AsyncConnection, round_key: str) -> str | None:
    return await as_principal(
        connection, PREFECTURE, lambda db: AssessmentCsvService(db).export_csv(round_key)
    )


async def stored(connection: AsyncConnection, round_key: str) -> list[tuple[Any, ...]]:
    """Every answer of the round as the owner reads it: (municipality, question, options,
    text, number, status, submitted_at)."""
    rows = await connection.execute(
        text(
            "SELECT m.code, q.key, coalesce(string_agg(o.label, '|' ORDER BY o.position), ''), "
            "a.text_value, a.number_value, r.status, r.submitted_at "
            "FROM assessment_response r JOIN assessment_round rd ON rd.id = r.round_id "
            "JOIN municipality m ON m.id = r.municipality_id "
            "LEFT JOIN assessment_answer a ON a.response_id = r.id "
            "LEFT JOIN assessment_question q ON q.id = a.question_id "
            "LEFT JOIN assessment_answer_option ao ON ao.answer_id = a.id "
            "LEFT JOIN assessment_option o ON o.id = ao.option_id "
            "WHERE rd.key = :round GROUP BY m.code, q.key, a.text_value, a.number_value, "
            "r.status, r.submitted_at ORDER BY m.code, q.key"
        ),
        {"round": round_key},
    )
    return [tuple(r) for r in rows]
