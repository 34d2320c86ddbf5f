"""assessmentAggregate: per option counts of a round's submitted responses, anonymised and
withheld below the threshold for viewers outside the prefecture's staff, on both executors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import factories as f
from tests.assessments.test_answer_counts import answer_as_published
from tests.conftest import GraphQL, data_of, error_of

AGGREGATE = """
query($round: String!, $question: String!) {
  assessmentAggregate(round: $round, questionId: $question) { option count }
}
"""

DATA = Path(__file__).resolve().parents[2] / "seeds" / "data"
with (DATA / "published_results.csv").open(encoding="utf-8") as _f:
    PUBLISHED = list(csv.DictReader(_f))


def published(question: str) -> list[tuple[str, int]]:
    return [
        (r["option"], int(r["count"]))
        for r in PUBLISHED
        if r["survey"] == "2024-04 assessment" and r["question_id"] == question
    ]


async def aggregate(gql: GraphQL, question: str, token: str | None = None) -> list[dict] | None:
    body = await gql(AGGREGATE, {"round": "2024-04", "question": question}, token=token)
    return data_of(body)["assessmentAggregate"]


async def test_4_1_as_published_is_public(gql: GraphQL, connection: AsyncConnection) -> None:
    # 大いに期待する 22, 少し期待する 5, 現時点ではわからない 3, 全く期待しない 0.
    split = published("4-1")
    await answer_as_published(connection, "4-1", [(o, n) for o, n in split if n])
    assert await aggregate(gql, "4-1") == [{"option": o, "count": n} for o, n in split]


async def test_a_small_group_withholds_every_count_but_not_for_staff(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    # 3-9 as published: 実施している 23, 実施する予定がある 3, 時期は未定だが実施したい 3,
    # 実施する予定はない 1 (a group of one).
    split = published("3-9")
    await answer_as_published(connection, "3-9", split)
    public = await aggregate(gql, "3-9")
    assert [c["option"] for c in public] == [o for o, _ in split]
    assert {c["count"] for c in public} == {None}
    municipal = mint_token(
        settings, role=Role.municipal_staff, subject="m", scope={"municipality": "302015"}
    )
    assert {c["count"] for c in await aggregate(gql, "3-9", municipal)} == {None}
    for role in (Role.prefecture_admin, Role.regional_office):
        scope = {"region": "海草"} if role is Role.regional_office else None
        staff = mint_token(settings, role=role, subject="s", scope=scope)
        exact = await aggregate(gql, "3-9", staff)
        assert [(c["option"], c["count"]) for c in exact] == split


async def test_drafts_are_not_counted(gql: GraphQL, connection: AsyncConnection) -> None:
    response = await f.create_response(
        connection, municipality_id=await f.municipality_id(connection, "302015"), status="DRAFT"
    )
    await f.create_choice_answer(
        connection, response_id=response, question_key="0-1", labels=["定義している"]
    )
    assert await aggregate(gql, "0-1") == [
        {"option": "定義している", "count": 0},
        {"option": "定義していない", "count": 0},
    ]


async def test_agrees_with_assessment_answer_counts(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    await answer_as_published(connection, "3-4", published("3-4"))
    counts = data_of(
        await gql(
            '{ assessmentAnswerCounts(round: "2024-04", question: "3-4") '
            "{ counts { option { label } count } } }"
        )
    )["assessmentAnswerCounts"]["counts"]
    assert await aggregate(gql, "3-4") == [
        {"option": c["option"]["label"], "count": c["count"]} for c in counts
    ]


@pytest.mark.parametrize(("round_key", "question"), [("2019-04", "0-1"), ("2024-04", "9-9")])
async def test_unknown_round_or_question_is_null(
    gql: GraphQL, round_key: str, question: str
) -> None:
    body = data_of(await gql(AGGREGATE, {"round": round_key, "question": question}))
    assert body == {"assessmentAggregate": None}


async def test_blank_question_is_an_error_naming_it(gql: GraphQL) -> None:
    error = error_of(await gql(AGGREGATE, {"round": "2024-04", "question": " "}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "questionId"}
