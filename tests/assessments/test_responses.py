"""Responses to an assessment round: draft, save, submit, reopen; every rule with its code and
field; stale versions, closed rounds, another municipality's response; reads as every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.assessments.answers import TEXT_MAX
from service.settings import Settings
from tests import factories as f
from tests.auth.test_policy_matrix import token_for
from tests.auth.world import FAR, OWN, PRINCIPAL_NAMES, build_world
from tests.conftest import GraphQL, data_of

ROUND = "2099-04"
RESPONSE = (
    "status version submittedAt round { key } municipality { code } "
    "answers { question { key } options { label } textValue numberValue }"
)
INPUTS = {
    "saveAssessmentAnswers": "SaveAssessmentAnswersInput",
    "submitAssessmentResponse": "SubmitAssessmentResponseInput",
    "reopenAssessmentResponse": "ReopenAssessmentResponseInput",
}
READ = (
    "query($code: String!) { municipality(code: $code) { assessmentResponses { "
    f"{RESPONSE} }} }} }}"
)


@dataclass
class Respondents:
    settings: Settings
    gql: GraphQL
    connection: AsyncConnection

    def staff(self, code: str = OWN) -> str:
        return mint_token(
            self.settings,
            role=Role.municipal_staff,
            subject=f"staff-{code}",
            scope={"municipality": code},
        )

    @property
    def admin(self) -> str:
        return mint_token(self.settings, role=Role.prefecture_admin, subject="admin")

    async def call(self, name: str, token: str | None, **values: Any) -> dict[str, Any]:
        document = (
            f"mutation($input: {INPUTS[name]}!) {{ {name}(input: $input) "
            f"{{ response {{ {RESPONSE} }} userErrors {{ field code message }} }} }}"
        )
        return data_of(await self.gql(document, {"input": values}, token=token))[name]

    async def ok(self, name: str, token: str | None, **values: Any) -> dict[str, Any]:
        payload = await self.call(name, token, **values)
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload["response"]

    async def save(self, token: str | None, answers: list[dict[str, Any]], **values: Any) -> Any:
        return await self.call(
            "saveAssessmentAnswers", token, round=ROUND, answers=answers, **values
        )

    async def stored(self, code: str = OWN) -> list[tuple[str, str, Any]]:
        """The answers of ``code``'s response in the round, as the owner reads them."""
        rows = await self.connection.execute(
            text(
                "SELECT q.key, coalesce(string_agg(o.label, '|' ORDER BY o.position), ''), "
                "coalesce(a.text_value, a.number_value::text) "
                "FROM assessment_answer a JOIN assessment_question q ON q.id = a.question_id "
                "JOIN assessment_response r ON r.id = a.response_id "
                "JOIN assessment_round d ON d.id = r.round_id "
                "JOIN municipality m ON m.id = r.municipality_id "
                "LEFT JOIN assessment_answer_option ao ON ao.answer_id = a.id "
                "LEFT JOIN assessment_option o ON o.id = ao.option_id "
                "WHERE d.key = :round AND m.code = :code "
                "GROUP BY q.key, q.position, a.text_value, a.number_value ORDER BY q.position"
            ),
            {"round": ROUND, "code": code},
        )
        return [tuple(r) for r in rows]


@pytest.fixture
async def respondents(connection: AsyncConnection, settings: Settings, gql: GraphQL) -> Respondents:
    await f.create_open_round(connection, ROUND)
    return Respondents(settings, gql, connection)


def answers(response: dict[str, Any]) -> dict[str, Any]:
    """question -> options' labels, or the text, or the number."""
    return {
        a["question"]["key"]: [o["label"] for o in a["options"]]
        or a["textValue"]
        or a["numberValue"]
        for a in response["answers"]
    }


def complete(**overrides: list[str]) -> list[dict[str, Any]]:
    return [
        {"question": key, "options": labels} for key, labels in {**f.COMPLETE, **overrides}.items()
    ]


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_the_lifecycle_of_a_response(respondents: Respondents) -> None:
    staff, admin = respondents.staff(), respondents.admin
    first = await respondents.ok(
        "saveAssessmentAnswers",
        staff,
        round=ROUND,
        answers=[
            {"question": "0-1", "options": ["定義している"]},
            {"question": "0-2", "text": " 業務改革とデジタル化の一体的推進 "},
        ],
    )
    assert (first["status"], first["version"], first["municipality"]["code"]) == (
        "DRAFT",
        1,
        OWN,
    )
    assert answers(first) == {"0-1": ["定義している"], "0-2": "業務改革とデジタル化の一体的推進"}

    # A save changes what it names and leaves the others.
    second = await respondents.ok(
        "saveAssessmentAnswers",
        staff,
        round=ROUND,
        version=1,
        answers=[
            {"question": "7-3", "number": 12},
            {"question": "4-2", "options": ["全てのシステムの共同調達"]},
        ],
    )
    assert second["version"] == 2
    assert answers(second) == {
        "0-1": ["定義している"],
        "0-2": "業務改革とデジタル化の一体的推進",
        "4-2": ["全てのシステムの共同調達"],
        "7-3": 12.0,
    }

    # Submission wants every required question that is asked.
    early = await respondents.call("submitAssessmentResponse", staff, round=ROUND, version=2)
    assert early["response"] is None
    assert codes(early) == [
        ("REQUIRED", ["answers", key]) for key in ("1-1", "3-4", "3-9", "3-12", "4-1")
    ]
    assert "1-1" in early["userErrors"][0]["message"]

    third = await respondents.ok(
        "saveAssessmentAnswers",
        staff,
        round=ROUND,
        version=2,
        answers=complete(**{"0-1": ["定義している"]}),
    )
    submitted = await respondents.ok("submitAssessmentResponse", staff, round=ROUND, version=3)
    assert third["version"] == 3
    assert (submitted["status"], submitted["version"]) == ("SUBMITTED", 4)
    assert submitted["submittedAt"] is not None

    # Refused after submission, for the municipality and the prefecture alike.
    for token in (staff, admin):
        refused = await respondents.save(
            token, [{"question": "7-3", "number": 13}], municipality=OWN, version=4
        )
        assert codes(refused) == [("RESPONSE_SUBMITTED", ["input", "round"])]
    again = await respondents.call("submitAssessmentResponse", staff, round=ROUND, version=4)
    assert codes(again) == [("RESPONSE_SUBMITTED", ["input", "round"])]

    # Only the prefecture reopens, with a reason.
    mine = await respondents.call(
        "reopenAssessmentResponse", staff, round=ROUND, municipality=OWN, version=4, reason="訂正"
    )
    assert codes(mine) == [("FORBIDDEN", ["input"])]
    blank = await respondents.call(
        "reopenAssessmentResponse", admin, round=ROUND, municipality=OWN, version=4, reason=" "
    )
    assert codes(blank) == [("REQUIRED", ["input", "reason"])]
    reopened = await respondents.ok(
        "reopenAssessmentResponse",
        admin,
        round=ROUND,
        municipality=OWN,
        version=4,
        reason="再確認: 推進体制の変更",
    )
    assert (reopened["status"], reopened["version"]) == ("REOPENED", 5)
    twice = await respondents.call(
        "reopenAssessmentResponse", admin, round=ROUND, municipality=OWN, version=5, reason="再"
    )
    assert codes(twice) == [("NOT_SUBMITTED", ["input", "round"])]

    # The municipality saves and submits again.
    changed = await respondents.ok(
        "saveAssessmentAnswers",
        staff,
        round=ROUND,
        version=5,
        answers=[
            {"question": "2-3", "options": ["設置する予定がある"]},
            {"question": "2-4", "options": ["部・課等"]},
        ],
    )
    assert (changed["status"], changed["version"]) == ("REOPENED", 6)
    final = await respondents.ok("submitAssessmentResponse", staff, round=ROUND, version=6)
    assert final["status"] == "SUBMITTED"
    assert answers(final)["2-4"] == ["部・課等"]


async def test_every_change_is_audited_as_the_principal(respondents: Respondents) -> None:
    await respondents.ok(
        "saveAssessmentAnswers",
        respondents.staff(),
        round=ROUND,
        answers=[{"question": "4-2", "options": ["DXの取り組みの進捗管理"]}],
    )
    rows = await respondents.connection.execute(
        text(
            "SELECT entity, action, actor_subject FROM audit_log "
            "WHERE entity LIKE 'assessment_%' ORDER BY id"
        )
    )
    assert [tuple(r) for r in rows] == [
        ("assessment_response", "insert", f"staff-{OWN}"),
        ("assessment_answer", "insert", f"staff-{OWN}"),
        ("assessment_answer_option", "insert", f"staff-{OWN}"),
    ]


@pytest.fixture
async def unpublished_options(connection: AsyncConnection) -> None:
    """Options of 0-3, 0-4, 2-1 and 2-2, which the report did not publish (their follow-ups
    open with any answer)."""
    for key, labels in {
        "0-3": ["実施したことがある", "実施したことはない"],
        "0-4": ["管理職", "一般職員"],
        "2-1": ["配置している", "配置していない"],
        "2-2": ["常勤職員", "外部人材"],
    }.items():
        for position, label in enumerate(labels, start=1):
            await connection.execute(
                text(
                    "INSERT INTO assessment_option (question_id, label, position) "
                    "SELECT id, :label, :position FROM assessment_question WHERE key = :key"
                ),
                {"key": key, "label": label, "position": position},
            )


TOO_LONG = "あ" * (TEXT_MAX + 1)
OPEN_0_2 = {"question": "0-1", "options": ["定義している"]}

# answers -> the one error expected (code, field), its message naming the question.
INVALID = {
    "unknown question": ([{"question": "9-9", "number": 1}], "UNKNOWN_QUESTION", "0", "question"),
    "single choice, two options": (
        [{"question": "0-1", "options": ["定義している", "定義していない"]}],
        "ONE_OPTION",
        "0",
        "options",
    ),
    "single choice, another question's option": (
        [{"question": "0-1", "options": ["策定済み"]}],
        "NOT_AN_OPTION",
        "0",
        "options",
    ),
    "multiple choice, an option twice": (
        [{"question": "4-2", "options": ["全てのシステムの共同調達"] * 2}],
        "DUPLICATE_OPTION",
        "0",
        "options",
    ),
    "multiple choice, another question's option": (
        [{"question": "4-2", "options": ["全てのシステムの共同調達", "活用している"]}],
        "NOT_AN_OPTION",
        "0",
        "options",
    ),
    "choice answered with text": (
        [{"question": "3-4", "text": "活用している"}],
        "WRONG_ANSWER_KIND",
        "0",
        "text",
    ),
    "text too long": ([OPEN_0_2, {"question": "0-2", "text": TOO_LONG}], "TOO_LONG", "1", "text"),
    "text blank": ([OPEN_0_2, {"question": "0-2", "text": "  "}], "REQUIRED", "1", "text"),
    "text answered with a number": (
        [OPEN_0_2, {"question": "0-2", "number": 3}],
        "WRONG_ANSWER_KIND",
        "1",
        "number",
    ),
    "number below its minimum": (
        [{"question": "7-3", "number": -1}],
        "OUT_OF_RANGE",
        "0",
        "number",
    ),
    "number answered with options": (
        [{"question": "7-3", "options": ["12"]}],
        "WRONG_ANSWER_KIND",
        "0",
        "options",
    ),
    "a question twice": (
        [{"question": "7-3", "number": 1}, {"question": "7-3", "number": 2}],
        "DUPLICATE_ANSWER",
        "1",
        "question",
    ),
    "0-2 when 0-1 is 定義していない": (
        [{"question": "0-1", "options": ["定義していない"]}, {"question": "0-2", "text": "定義"}],
        "CONDITION_NOT_MET",
        "1",
        "question",
    ),
    "0-2 without 0-1": (
        [{"question": "0-2", "text": "定義"}],
        "CONDITION_NOT_MET",
        "0",
        "question",
    ),
    "0-4 without 0-3": (
        [{"question": "0-4", "options": ["管理職"]}],
        "CONDITION_NOT_MET",
        "0",
        "question",
    ),
    "2-2 without 2-1": (
        [{"question": "2-2", "options": ["外部人材"]}],
        "CONDITION_NOT_MET",
        "0",
        "question",
    ),
    "2-4 when 2-3 is 設置する予定はない": (
        [
            {"question": "2-3", "options": ["設置する予定はない"]},
            {"question": "2-4", "options": ["その他"]},
        ],
        "CONDITION_NOT_MET",
        "1",
        "question",
    ),
    "3-10 when 3-9 is 時期は未定だが実施したい": (
        [
            {"question": "3-9", "options": ["時期は未定だが実施したい"]},
            {"question": "3-10", "text": "x"},
        ],
        "CONDITION_NOT_MET",
        "1",
        "question",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
async def test_an_invalid_answer_is_refused_and_nothing_is_saved(
    respondents: Respondents, unpublished_options: None, case: str
) -> None:
    given, code, index, part = INVALID[case]
    payload = await respondents.save(respondents.staff(), given)
    assert payload["response"] is None
    assert codes(payload) == [(code, ["input", "answers", index, part])]
    question = given[int(index)]["question"]
    assert question in payload["userErrors"][0]["message"]
    assert await respondents.stored() == []  # not even the response


async def test_every_problem_of_a_save_is_reported_and_the_stored_answers_stay(
    respondents: Respondents,
) -> None:
    staff = respondents.staff()
    await respondents.ok(
        "saveAssessmentAnswers", staff, round=ROUND, answers=[{"question": "7-3", "number": 5}]
    )
    payload = await respondents.save(
        staff,
        [
            {"question": "7-3", "number": 6},
            {"question": "1-1", "options": ["策定済み", "策定する予定がある"]},
            {"question": "8-8", "text": "x"},
        ],
        version=1,
    )
    assert codes(payload) == [
        ("ONE_OPTION", ["input", "answers", "1", "options"]),
        ("UNKNOWN_QUESTION", ["input", "answers", "2", "question"]),
    ]
    assert await respondents.stored() == [("7-3", "", "5")]


async def test_follow_ups_that_open(respondents: Respondents, unpublished_options: None) -> None:
    response = await respondents.ok(
        "saveAssessmentAnswers",
        respondents.staff(),
        round=ROUND,
        answers=[
            {"question": "0-3", "options": ["実施したことがある"]},
            {"question": "0-4", "options": ["管理職", "一般職員"]},
            {"question": "2-1", "options": ["配置していない"]},  # any answer opens 2-2
            {"question": "2-2", "options": ["外部人材"]},
            {"question": "2-3", "options": ["設置済み"]},
            {"question": "2-4", "options": ["部局横断組織"]},
            {"question": "3-9", "options": ["実施する予定がある"]},
            {"question": "3-10", "text": "地域のデジタル実装"},
        ],
    )
    assert answers(response)["0-4"] == ["管理職", "一般職員"]
    # A follow-up saved later is judged against the stored answer it follows up.
    later = await respondents.ok(
        "saveAssessmentAnswers",
        respondents.staff(),
        round=ROUND,
        version=1,
        answers=[{"question": "0-1", "options": ["定義している"]}],
    )
    assert later["version"] == 2
    ok = await respondents.ok(
        "saveAssessmentAnswers",
        respondents.staff(),
        round=ROUND,
        version=2,
        answers=[{"question": "0-2", "text": "定義"}],
    )
    assert answers(ok)["0-2"] == "定義"


async def test_submission_checks_the_conditions_again(respondents: Respondents) -> None:
    staff = respondents.staff()
    given = [*complete(**{"0-1": ["定義している"]}), {"question": "0-2", "text": "定義"}]
    await respondents.ok("saveAssessmentAnswers", staff, round=ROUND, answers=given)
    # 0-1 changes afterwards: the stored 0-2 no longer follows from it.
    await respondents.ok(
        "saveAssessmentAnswers",
        staff,
        round=ROUND,
        version=1,
        answers=[{"question": "0-1", "options": ["定義していない"]}],
    )
    refused = await respondents.call("submitAssessmentResponse", staff, round=ROUND, version=2)
    assert codes(refused) == [("CONDITION_NOT_MET", ["answers", "0-2"])]
    assert "定義している" in refused["userErrors"][0]["message"]
    # An empty answer clears it.
    cleared = await respondents.ok(
        "saveAssessmentAnswers", staff, round=ROUND, version=2, answers=[{"question": "0-2"}]
    )
    assert "0-2" not in answers(cleared)
    submitted = await respondents.ok("submitAssessmentResponse", staff, round=ROUND, version=3)
    assert submitted["status"] == "SUBMITTED"
    assert "2-4" not in answers(submitted)  # not asked: 2-3 is 設置する予定はない


async def test_2_4_may_stay_unanswered_once_asked_as_in_the_2024_form(
    respondents: Respondents,
) -> None:
    # The report counts a municipality without an answer to 2-3 and 17 answers to 2-4 of the
    # 21 it was asked of: the web form left both optional (seeds/reference.py, REQUIRED).
    staff = respondents.staff()
    await respondents.ok(
        "saveAssessmentAnswers", staff, round=ROUND, answers=complete(**{"2-3": ["設置済み"]})
    )
    submitted = await respondents.ok("submitAssessmentResponse", staff, round=ROUND, version=1)
    assert submitted["status"] == "SUBMITTED"
    assert "2-4" not in answers(submitted)


async def test_a_required_follow_up_is_required_once_it_is_asked(
    respondents: Respondents,
) -> None:
    # No follow-up of the 2024 framework is required; a framework that requires 2-4 is.
    await respondents.connection.execute(
        text("UPDATE assessment_question SET required = true WHERE key = '2-4'")
    )
    staff = respondents.staff()
    await respondents.ok(
        "saveAssessmentAnswers", staff, round=ROUND, answers=complete(**{"2-3": ["設置済み"]})
    )
    refused = await respondents.call("submitAssessmentResponse", staff, round=ROUND, version=1)
    assert codes(refused) == [("REQUIRED", ["answers", "2-4"])]


async def test_a_stale_version_is_refused(respondents: Respondents) -> None:
    staff, admin = respondents.staff(), respondents.admin
    await respondents.ok("saveAssessmentAnswers", staff, round=ROUND, answers=complete())
    await respondents.ok(
        "saveAssessmentAnswers",
        admin,
        round=ROUND,
        municipality=OWN,
        version=1,
        answers=[{"question": "7-3", "number": 3}],
    )
    for version in (1, None):  # read before the prefecture's save; or never read
        stale = await respondents.save(staff, [{"question": "7-3", "number": 4}], version=version)
        assert codes(stale) == [("STALE", ["input", "version"])]
        assert "version 2" in stale["userErrors"][0]["message"]
    submit = await respondents.call("submitAssessmentResponse", staff, round=ROUND, version=1)
    assert codes(submit) == [("STALE", ["input", "version"])]
    assert ("7-3", "", "3") in await respondents.stored()


async def test_a_closed_round_refuses_saves_and_submissions(
    respondents: Respondents, connection: AsyncConnection
) -> None:
    staff = respondents.staff()
    await respondents.ok("saveAssessmentAnswers", staff, round=ROUND, answers=complete())
    # 2024-04 closed on 2024-05-07 (Japan's calendar).
    closed = await respondents.call(
        "saveAssessmentAnswers", staff, round="2024-04", answers=complete()
    )
    assert codes(closed) == [("ROUND_CLOSED", ["input", "round"])]
    assert "2024-05-07" in closed["userErrors"][0]["message"]
    # The round closes (yesterday in Japan), and one that opens tomorrow is not open yet.
    today = f.jst_today()
    await connection.execute(
        text("UPDATE assessment_round SET closes_on = :d WHERE key = :k"),
        {"d": today - timedelta(days=1), "k": ROUND},
    )
    submit = await respondents.call("submitAssessmentResponse", staff, round=ROUND, version=1)
    assert codes(submit) == [("ROUND_CLOSED", ["input", "round"])]
    await f.create_open_round(connection, "2025-04", opens_on=today + timedelta(days=1))
    early = await respondents.call(
        "saveAssessmentAnswers", staff, round="2025-04", answers=complete()
    )
    assert codes(early) == [("ROUND_CLOSED", ["input", "round"])]
    unknown = await respondents.call("saveAssessmentAnswers", staff, round="1999-01", answers=[])
    assert codes(unknown) == [("NOT_FOUND", ["input", "round"])]


async def test_another_municipalitys_response_is_neither_writable_nor_visible(
    respondents: Respondents,
) -> None:
    await respondents.ok(
        "saveAssessmentAnswers", respondents.staff(), round=ROUND, answers=complete()
    )
    other = respondents.staff(FAR)
    save = await respondents.save(other, complete(), municipality=OWN, version=1)
    assert codes(save) == [("FORBIDDEN", ["input"])]
    submit = await respondents.call(
        "submitAssessmentResponse", other, round=ROUND, municipality=OWN, version=1
    )
    assert codes(submit) == [("NOT_FOUND", ["input", "round"])]
    body = data_of(await respondents.gql(READ, {"code": OWN}, token=other))
    assert body["municipality"]["assessmentResponses"] == []
    # Its own response is its own: a first save in the same round.
    own = await respondents.ok("saveAssessmentAnswers", other, round=ROUND, answers=complete())
    assert (own["municipality"]["code"], own["version"]) == (FAR, 1)


async def test_the_prefecture_names_the_municipality(respondents: Respondents) -> None:
    admin = respondents.admin
    missing = await respondents.save(admin, complete())
    assert codes(missing) == [("REQUIRED", ["input", "municipality"])]
    unknown = await respondents.save(admin, complete(), municipality="999999")
    assert codes(unknown) == [("NOT_FOUND", ["input", "municipality"])]
    saved = await respondents.ok(
        "saveAssessmentAnswers", admin, round=ROUND, municipality=FAR, answers=complete()
    )
    assert (saved["municipality"]["code"], saved["status"]) == (FAR, "DRAFT")


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
async def test_answers_are_read_as_the_policy_allows(
    connection: AsyncConnection, settings: Settings, gql: GraphQL, who: str
) -> None:
    world = await build_world(connection)
    await f.create_open_round(connection, ROUND)
    principal = world.principals[who]
    staff = mint_token(
        settings, role=Role.municipal_staff, subject="s", scope={"municipality": OWN}
    )
    document = (
        "mutation($input: SaveAssessmentAnswersInput!) { saveAssessmentAnswers(input: $input) "
        "{ userErrors { code } } }"
    )
    given = [OPEN_0_2, {"question": "0-2", "text": "業務改革"}, {"question": "7-3", "number": 4}]
    saved = await gql(document, {"input": {"round": ROUND, "answers": given}}, token=staff)
    assert data_of(saved)["saveAssessmentAnswers"]["userErrors"] == []
    body = data_of(await gql(READ, {"code": OWN}, token=token_for(principal, settings)))
    responses = {r["round"]["key"]: r for r in body["municipality"]["assessmentResponses"]}
    # The municipality, the prefecture, and the expert assigned to it now.
    readers = {"prefecture_admin", "municipal_staff(302015)", "expert(A, assigned now)"}
    if who not in readers:
        assert responses == {}
        return
    assert answers(responses[ROUND]) == {"0-1": ["定義している"], "0-2": "業務改革", "7-3": 4.0}
    # The world's submitted 2024-04 response: a number and a multiple choice.
    assert answers(responses["2024-04"]) == {"4-2": f.COMPLETE["4-2"], "7-3": 12.0}
