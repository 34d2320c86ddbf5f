"""Anonymised answer counts per option: exact for staff, withheld for others when small."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of, error_of

COUNTS = """
query($round: String!, $question: String!) {
  assessmentAnswerCounts(round: $round, question: $question) {
    round suppressed question { key } counts { option { label } count }
  }
}
"""


async def answer_as_published(
    connection: AsyncConnection, question: str, split: list[tuple[str, int]]
) -> None:
    """One submitted response per municipality, choosing options as in ``split``."""
    codes = [
        r.code
        for r in await connection.execute(text("SELECT code FROM municipality ORDER BY code"))
    ]
    labels = [label for label, n in split for _ in range(n)]
    for code, label in zip(codes, labels, strict=False):
        response = await f.create_response(
            connection, municipality_id=await f.municipality_id(connection, code)
        )
        await f.create_choice_answer(
            connection, response_id=response, question_key=question, labels=[label]
        )


def counts(body: dict[str, Any]) -> dict[str, int | None]:
    return {c["option"]["label"]: c["count"] for c in body["assessmentAnswerCounts"]["counts"]}


async def test_large_groups_are_public(gql: GraphQL, connection: AsyncConnection) -> None:
    # 0-1 as published: 定義している 10, 定義していない 20.
    await answer_as_published(connection, "0-1", [("定義している", 10), ("定義していない", 20)])
    body = data_of(await gql(COUNTS, {"round": "2024-04", "question": "0-1"}))
    assert body["assessmentAnswerCounts"]["suppressed"] is False
    assert counts(body) == {"定義している": 10, "定義していない": 20}


async def test_a_group_of_one_withholds_every_count_but_not_for_staff(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    # 2-4 as published: 部局横断組織 3, 部・課等 6, 係・担当等 7, その他 1.
    await answer_as_published(
        connection, "2-4", [("部局横断組織", 3), ("部・課等", 6), ("係・担当等", 7), ("その他", 1)]
    )
    public = data_of(await gql(COUNTS, {"round": "2024-04", "question": "2-4"}))
    assert public["assessmentAnswerCounts"]["suppressed"] is True
    assert set(counts(public).values()) == {None}
    staff = mint_token(settings, role=Role.dispatch_coordinator, subject="c")
    exact = data_of(await gql(COUNTS, {"round": "2024-04", "question": "2-4"}, token=staff))
    assert counts(exact) == {"部局横断組織": 3, "部・課等": 6, "係・担当等": 7, "その他": 1}


async def test_drafts_are_not_counted(gql: GraphQL, connection: AsyncConnection) -> None:
    response = await f.create_response(
        connection, municipality_id=await f.municipality_id(connection, "302015"), status="DRAFT"
    )
    await f.create_choice_answer(
        connection, response_id=response, question_key="0-1", labels=["定義している"]
    )
    body = data_of(await gql(COUNTS, {"round": "2024-04", "question": "0-1"}))
    assert counts(body) == {"定義している": 0, "定義していない": 0}


@pytest.mark.parametrize(("round_key", "question"), [("2019-04", "0-1"), ("2024-04", "9-9")])
async def test_unknown_round_or_question_is_null(
    gql: GraphQL, round_key: str, question: str
) -> None:
    body = data_of(await gql(COUNTS, {"round": round_key, "question": question}))
    assert body == {"assessmentAnswerCounts": None}


async def test_blank_key_is_an_error(gql: GraphQL) -> None:
    error = error_of(await gql(COUNTS, {"round": " ", "question": "0-1"}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "round"}
