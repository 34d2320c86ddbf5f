"""The re-check round 2024-11: a municipality's first save there starts its response as a copy
of its submission to 2024-04, the save's answers on top; without a submission it starts empty;
no other municipality's response is touched."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth import policy
from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import factories as f
from tests.auth.world import FAR, NEIGHBOUR, OWN
from tests.conftest import GraphQL, data_of

RECHECK, RECHECKED = "2024-11", "2024-04"

SAVE = """
mutation($input: SaveAssessmentAnswersInput!) {
  saveAssessmentAnswers(input: $input) {
    response { status version round { key } municipality { code }
      answers { question { key } options { label } textValue numberValue } }
    userErrors { field code message }
  }
}
"""

READ = """
query($code: String!) {
  municipality(code: $code) {
    assessmentResponses { status version round { key }
      answers { question { key } options { label } textValue numberValue } }
  }
}
"""

# 和歌山市's submission to 2024-04: every required answer, a follow-up's text, a number.
OWN_SUBMITTED = {
    **f.COMPLETE,
    "0-1": ["定義している"],
    "3-9": ["実施している"],
}
OWN_TEXTS = {"0-2": "住民サービスの変革", "3-10": "オンライン申請の拡充"}
OWN_NUMBER = 12.0  # 7-3, datasets published
NEIGHBOUR_SUBMITTED = {**f.COMPLETE, "4-1": ["全く期待しない"], "3-4": ["活用する予定はない"]}


def answers(response: dict[str, Any]) -> dict[str, Any]:
    """question -> options' labels, or the text, or the number."""
    return {
        a["question"]["key"]: [o["label"] for o in a["options"]]
        or a["textValue"]
        or a["numberValue"]
        for a in response["answers"]
    }


def own_submission() -> dict[str, Any]:
    return {**OWN_SUBMITTED, **OWN_TEXTS, "7-3": OWN_NUMBER}


async def submitted(
    connection: AsyncConnection,
    code: str,
    choices: dict[str, list[str]],
    texts: dict[str, str] | None = None,
    number: float | None = None,
    status: str = "SUBMITTED",
) -> None:
    """``code``'s response to 2024-04 (submitted unless told), with these answers."""
    response = await f.create_response(
        connection, municipality_id=await f.municipality_id(connection, code), status=status
    )
    for key, labels in choices.items():
        await f.create_choice_answer(
            connection, response_id=response, question_key=key, labels=labels
        )
    for key, value in (texts or {}).items():
        await f.create_answer(
            connection, response_id=response, question_key=key, number_value=None, text_value=value
        )
    if number is not None:
        await f.create_answer(connection, response_id=response, number_value=number)


@pytest.fixture
async def recheck_open(connection: AsyncConnection) -> None:
    """The seeded re-check round, open from yesterday to a month from today (in Japan); the
    test's transaction is rolled back."""
    today = f.jst_today()
    await connection.execute(
        text("UPDATE assessment_round SET opens_on = :o, closes_on = :c WHERE key = :k"),
        {"o": today - timedelta(days=1), "c": today + timedelta(days=30), "k": RECHECK},
    )


def staff(settings: Settings, code: str) -> str:
    return mint_token(
        settings, role=Role.municipal_staff, subject=f"staff-{code}", scope={"municipality": code}
    )


async def save(
    gql: GraphQL, token: str, answers_: list[dict[str, Any]], **values: Any
) -> dict[str, Any]:
    body = await gql(
        SAVE, {"input": {"round": RECHECK, "answers": answers_, **values}}, token=token
    )
    return data_of(body)["saveAssessmentAnswers"]


async def responses(gql: GraphQL, token: str, code: str) -> dict[str, dict[str, Any]]:
    """``code``'s responses by round, as ``token`` reads them."""
    body = data_of(await gql(READ, {"code": code}, token=token))
    return {r["round"]["key"]: r for r in body["municipality"]["assessmentResponses"]}


async def test_the_seeded_recheck_round_rechecks_2024_04(connection: AsyncConnection) -> None:
    rows = (
        await connection.execute(
            text(
                "SELECT r.key, r.opens_on, r.closes_on, c.key AS rechecks, "
                "r.framework_id = c.framework_id AS same_framework FROM assessment_round r "
                "LEFT JOIN assessment_round c ON c.id = r.rechecks_round_id ORDER BY r.key"
            )
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("2024-04", date(2024, 4, 22), date(2024, 5, 7), None, None),
        ("2024-11", date(2024, 11, 1), date(2024, 12, 31), "2024-04", True),
    ]


async def test_the_first_save_copies_the_submission_and_applies_on_top(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    token = staff(settings, OWN)
    payload = await save(
        gql,
        token,
        [
            {"question": "3-4", "options": ["活用する予定はない"]},  # changed since April
            {"question": "3-10", "text": "窓口のキャッシュレス化"},  # the follow-up's new text
            {"question": "8-2", "text": "デジタル推進課"},  # not answered in April
        ],
    )
    assert payload["userErrors"] == []
    response = payload["response"]
    assert (response["status"], response["version"], response["round"]["key"]) == (
        "DRAFT",
        1,
        RECHECK,
    )
    expected = {
        **own_submission(),
        "3-4": ["活用する予定はない"],
        "3-10": "窓口のキャッシュレス化",
        "8-2": "デジタル推進課",
    }
    assert answers(response) == expected
    # Read back from the database through the API, and April's submission as it was.
    both = await responses(gql, token, OWN)
    assert answers(both[RECHECK]) == expected
    assert both[RECHECKED]["status"] == "SUBMITTED"
    assert answers(both[RECHECKED]) == own_submission()


async def test_the_copy_alone_and_a_second_save_on_it(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    token = staff(settings, OWN)
    first = await save(gql, token, [])
    assert first["userErrors"] == []
    assert answers(first["response"]) == own_submission()
    # The copy is the re-check's own: clearing an answer there copies nothing again.
    second = await save(gql, token, [{"question": "7-3"}], version=1)
    assert second["userErrors"] == []
    assert second["response"]["version"] == 2
    without = {k: v for k, v in own_submission().items() if k != "7-3"}
    assert answers(second["response"]) == without
    both = await responses(gql, token, OWN)
    assert answers(both[RECHECK]) == without
    assert answers(both[RECHECKED]) == own_submission()


async def test_the_prefecture_starting_a_response_copies_it_too(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    admin = mint_token(settings, role=Role.prefecture_admin, subject="admin")
    payload = await save(
        gql, admin, [{"question": "4-1", "options": ["少し期待する"]}], municipality=OWN
    )
    assert payload["userErrors"] == []
    assert answers(payload["response"]) == {**own_submission(), "4-1": ["少し期待する"]}


async def test_another_municipality_is_copied_from_its_own_and_left_alone(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    await submitted(connection, NEIGHBOUR, NEIGHBOUR_SUBMITTED)
    admin = mint_token(settings, role=Role.prefecture_admin, subject="admin")
    assert (await save(gql, staff(settings, OWN), []))["userErrors"] == []
    # 海南市's responses: April's as submitted, none in the re-check yet.
    neighbour = await responses(gql, admin, NEIGHBOUR)
    assert set(neighbour) == {RECHECKED}
    assert answers(neighbour[RECHECKED]) == NEIGHBOUR_SUBMITTED
    # Its own first save starts from its own submission, not 和歌山市's.
    payload = await save(
        gql, staff(settings, NEIGHBOUR), [{"question": "1-1", "options": ["策定する予定がある"]}]
    )
    assert payload["userErrors"] == []
    assert answers(payload["response"]) == {**NEIGHBOUR_SUBMITTED, "1-1": ["策定する予定がある"]}
    assert answers((await responses(gql, admin, OWN))[RECHECK]) == own_submission()


async def test_without_a_submission_the_response_starts_empty(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    # 海南市 never submitted (a draft in April); 北山村 has no April response at all.
    await submitted(connection, NEIGHBOUR, NEIGHBOUR_SUBMITTED, status="DRAFT")
    given = [{"question": "0-1", "options": ["定義していない"]}]
    for code in (NEIGHBOUR, FAR):
        payload = await save(gql, staff(settings, code), given)
        assert payload["userErrors"] == []
        assert answers(payload["response"]) == {"0-1": ["定義していない"]}


async def test_a_refused_save_copies_nothing(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    token = staff(settings, OWN)
    payload = await save(gql, token, [{"question": "3-4", "options": ["たぶん"]}])
    assert payload["response"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("NOT_AN_OPTION", ["input", "answers", "0", "options"])
    ]
    assert set(await responses(gql, token, OWN)) == {RECHECKED}


async def test_the_copy_is_written_under_the_save_s_database_rules(
    gql: GraphQL,
    connection: AsyncConnection,
    settings: Settings,
    recheck_open: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the service's checks, PostgreSQL's rules for saveAssessmentAnswers alone admit
    # the copied answers and chosen options of the own municipality, and refuse another's.
    monkeypatch.setattr(policy, "QUERY_LAYER", False)
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    payload = await save(gql, staff(settings, OWN), [])
    assert payload["userErrors"] == []
    assert answers(payload["response"]) == own_submission()
    refused = await save(gql, staff(settings, FAR), [], municipality=OWN)
    assert refused["response"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    admin = mint_token(settings, role=Role.prefecture_admin, subject="admin")
    assert answers((await responses(gql, admin, OWN))[RECHECK]) == own_submission()


async def test_a_round_says_which_round_it_rechecks(gql: GraphQL) -> None:
    body = data_of(await gql("{ assessmentFramework { rounds { key rechecks { key } } } }"))
    rounds = {r["key"]: r["rechecks"] for r in body["assessmentFramework"]["rounds"]}
    assert rounds == {"2024-04": None, "2024-11": {"key": "2024-04"}}


async def test_a_copy_of_a_demo_submission_is_flagged_synthetic(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    """A re-check that starts from an invented (demo) submission says so: the response and the
    answers copied are synthetic, the answer the municipality typed on top is not."""
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    for table in ("assessment_response", "assessment_answer", "assessment_answer_option"):
        await connection.execute(text(f"UPDATE {table} SET synthetic = true"))
    token = staff(settings, OWN)
    payload = await save(gql, token, [{"question": "3-10", "text": "窓口のキャッシュレス化"}])
    assert payload["userErrors"] == []
    query = """query($code: String!) { municipality(code: $code) { assessmentResponses {
      round { key } synthetic answers { question { key } synthetic } } } }"""
    body = data_of(await gql(query, {"code": OWN}, token=token))
    recheck = next(
        r for r in body["municipality"]["assessmentResponses"] if r["round"]["key"] == RECHECK
    )
    assert recheck["synthetic"] is True
    flags = {a["question"]["key"]: a["synthetic"] for a in recheck["answers"]}
    assert flags["0-1"] is True  # copied from the demo submission
    assert flags["3-10"] is False  # typed on top of the copy: the municipality's own answer
    assert {k for k, synthetic in flags.items() if not synthetic} == {"3-10"}


async def test_a_copy_of_a_real_submission_is_not_synthetic(
    gql: GraphQL, connection: AsyncConnection, settings: Settings, recheck_open: None
) -> None:
    await submitted(connection, OWN, OWN_SUBMITTED, OWN_TEXTS, OWN_NUMBER)
    token = staff(settings, OWN)
    payload = await save(gql, token, [{"question": "3-4", "options": ["活用する予定はない"]}])
    assert payload["userErrors"] == []
    query = """query($code: String!) { municipality(code: $code) { assessmentResponses {
      round { key } synthetic answers { synthetic } } } }"""
    body = data_of(await gql(query, {"code": OWN}, token=token))
    recheck = next(
        r for r in body["municipality"]["assessmentResponses"] if r["round"]["key"] == RECHECK
    )
    assert recheck["synthetic"] is False
    assert {a["synthetic"] for a in recheck["answers"]} == {False}
