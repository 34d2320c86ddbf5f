"""Scores of submitted responses under a small rubric built here: totals, sections and the
explanation as the rubric's data say, the computed tier from its thresholds, what counts as
the latest score, and who sees scores and rubrics (through the API, on both executors)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.settings import Settings
from tests import factories as f
from tests.auth.test_policy_matrix import token_for
from tests.auth.world import FAR, NEIGHBOUR, OWN, PRINCIPAL_NAMES, World, build_world
from tests.conftest import GraphQL, data_of

# Section weights, option points and tier minimums, chosen so that totals are easy to check.
WEIGHTS = {"step0": 2.0, "step1": 1.0, "step2": 0.5}
POINTS = {
    ("0-1", "定義している"): 3.0,
    ("0-1", "定義していない"): 0.0,
    ("1-1", "策定済み"): 4.0,
    ("1-1", "策定する予定がある"): 2.0,
    ("2-3", "設置済み"): 6.0,
    ("2-3", "設置する予定がある"): 2.0,
    # A section the rubric does not weigh: its points count nowhere.
    ("4-1", "大いに期待する"): 9.0,
}
THRESHOLDS = {1: 0.0, 2: 5.0, 3: 10.0, 4: 15.0}
SECTION_OF = {"0-1": "step0", "1-1": "step1", "2-3": "step2", "4-1": "prefecture_support"}

# What each municipality answered in 2024-04 (question -> option).
ANSWERS = {
    OWN: {
        "0-1": "定義している",
        "1-1": "策定済み",
        "2-3": "設置する予定がある",
        "4-1": "大いに期待する",
    },
    FAR: {"0-1": "定義していない", "1-1": "策定する予定がある", "2-3": "設置済み"},
    NEIGHBOUR: {"1-1": "策定する予定はない"},  # no points at all
}

SCORE = (
    "total maxTotal rubric { key version synthetic } computedTier { level } "
    "sections { key title weight points maxPoints score maxScore } "
    "explanation { question { key } option { label } points }"
)
LATEST = f"query($code: String!) {{ municipality(code: $code) {{ latestScore {{ {SCORE} }} }} }}"


def expected_sections(answers: dict[str, str]) -> list[dict[str, Any]]:
    """Each weighted section's points and maximum, from the rubric's data above."""
    best: dict[str, float] = {}
    for (question, _), value in POINTS.items():
        best[question] = max(best.get(question, 0.0), value)
    sections = []
    for key, weight in WEIGHTS.items():
        points = sum(
            POINTS.get((q, label), 0.0) for q, label in answers.items() if SECTION_OF[q] == key
        )
        maximum = sum(v for q, v in best.items() if SECTION_OF[q] == key)
        sections.append(
            {
                "key": key,
                "weight": weight,
                "points": points,
                "maxPoints": maximum,
                "score": weight * points,
                "maxScore": weight * maximum,
            }
        )
    return sections


def expected_level(total: float) -> int:
    return max(level for level, minimum in THRESHOLDS.items() if total >= minimum)


@pytest.fixture
async def world(connection: AsyncConnection) -> World:
    world = await build_world(connection)
    await f.create_rubric(connection, weights=WEIGHTS, points=POINTS, thresholds=THRESHOLDS)
    for code, answers in ANSWERS.items():
        response = await response_of(connection, world, code)
        for question, label in answers.items():
            await f.create_choice_answer(
                connection, response_id=response, question_key=question, labels=[label]
            )
    return world


async def response_of(connection: AsyncConnection, world: World, code: str) -> int:
    return int(
        await connection.scalar(
            text(
                "SELECT r.id FROM assessment_response r JOIN assessment_round d "
                "ON d.id = r.round_id WHERE d.key = '2024-04' AND r.municipality_id = :m"
            ),
            {"m": world.municipality[code]},
        )
    )


def admin(world: World, settings: Settings) -> str | None:
    return token_for(world.principals["prefecture_admin"], settings)


@pytest.mark.parametrize("code", [OWN, FAR, NEIGHBOUR])
async def test_a_score_is_the_weighted_points_of_the_chosen_options(
    gql: GraphQL, world: World, settings: Settings, code: str
) -> None:
    body = data_of(await gql(LATEST, {"code": code}, token=admin(world, settings)))
    score = body["municipality"]["latestScore"]
    sections = expected_sections(ANSWERS[code])
    assert [{k: v for k, v in s.items() if k != "title"} for s in score["sections"]] == sections
    assert score["sections"][0]["title"].startswith("Step0")
    total = sum(s["score"] for s in sections)
    assert score["total"] == total
    assert score["maxTotal"] == sum(s["maxScore"] for s in sections)
    assert score["computedTier"] == {"level": expected_level(total)}
    assert score["rubric"] == {"key": "test-v1", "version": "1", "synthetic": False}
    # The explanation: every chosen option the rubric gives points in a weighted section, in
    # questionnaire order (4-1's section is not weighted: not there).
    assert score["explanation"] == [
        {"question": {"key": q}, "option": {"label": label}, "points": POINTS[(q, label)]}
        for q, label in ANSWERS[code].items()
        if (q, label) in POINTS and SECTION_OF[q] in WEIGHTS
    ]


async def test_the_small_rubric_by_hand(gql: GraphQL, world: World, settings: Settings) -> None:
    """The same, written out: 2x3 + 1x4 + 0.5x2 = 11 (協働); 0 + 2 + 0.5x6 = 5 (支援, exactly
    at its minimum); nothing = 0 (関与)."""
    totals = {}
    for code in (OWN, FAR, NEIGHBOUR):
        body = data_of(await gql(LATEST, {"code": code}, token=admin(world, settings)))
        score = body["municipality"]["latestScore"]
        totals[code] = (score["total"], score["computedTier"]["level"], score["maxTotal"])
    assert totals == {OWN: (11, 3, 13), FAR: (5, 2, 13), NEIGHBOUR: (0, 1, 13)}


async def test_only_submitted_responses_in_a_scored_round_have_a_score(
    gql: GraphQL, world: World, settings: Settings, connection: AsyncConnection
) -> None:
    await connection.execute(
        text("UPDATE assessment_response SET status = 'REOPENED' WHERE id = :r"),
        {"r": await response_of(connection, world, FAR)},
    )
    round_id = await f.create_open_round(connection)  # no rubric
    draft = await f.create_response(
        connection, municipality_id=world.municipality[OWN], round_id=round_id
    )
    await f.create_choice_answer(
        connection, response_id=draft, question_key="0-1", labels=["定義している"]
    )
    query = (
        "query($code: String!) { municipality(code: $code) { latestScore { total } "
        "assessmentResponses { round { key rubric { key } } status score { total } } } }"
    )
    token = admin(world, settings)
    far = data_of(await gql(query, {"code": FAR}, token=token))["municipality"]
    assert far["latestScore"] is None
    assert far["assessmentResponses"] == [
        {"round": {"key": "2024-04", "rubric": {"key": "test-v1"}}, "status": "REOPENED",
         "score": None}
    ]  # fmt: skip
    own = data_of(await gql(query, {"code": OWN}, token=token))["municipality"]
    # The 2099-04 response is submitted but its round has no rubric: the latest score is still
    # 2024-04's.
    assert own["latestScore"] == {"total": 11}
    assert [(r["round"]["key"], r["score"]) for r in own["assessmentResponses"]] == [
        ("2099-04", None),
        ("2024-04", {"total": 11}),
    ]


async def test_the_latest_score_is_the_latest_submission_scored(
    gql: GraphQL, world: World, settings: Settings, connection: AsyncConnection
) -> None:
    rubric = await connection.scalar(text("SELECT id FROM assessment_rubric"))
    round_id = await f.create_open_round(connection, rubric_id=rubric)
    later = await f.create_response(
        connection,
        municipality_id=world.municipality[OWN],
        round_id=round_id,
        submitted_at=datetime(2099, 4, 30, tzinfo=UTC),
    )
    await f.create_choice_answer(
        connection, response_id=later, question_key="2-3", labels=["設置済み"]
    )
    body = data_of(await gql(LATEST, {"code": OWN}, token=admin(world, settings)))
    score = body["municipality"]["latestScore"]
    assert score["total"] == WEIGHTS["step2"] * POINTS[("2-3", "設置済み")]
    assert score["explanation"] == [
        {"question": {"key": "2-3"}, "option": {"label": "設置済み"}, "points": 6}
    ]


# Who reads 和歌山市's score: the prefecture and 和歌山市's staff. Scores need the rubric, which
# only the prefecture's and the municipalities' staff read; expert A reads 和歌山市's answers
# but not its score.
SCORE_READERS = {"prefecture_admin", "municipal_staff(302015)"}
RUBRIC_READERS = {"prefecture_admin", "municipal_staff(302015)", "municipal_staff(304271)"}
ANSWER_READERS = SCORE_READERS | {"expert(A, assigned now)"}


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
async def test_who_sees_a_score(gql: GraphQL, world: World, settings: Settings, who: str) -> None:
    query = (
        "query($code: String!) { municipality(code: $code) { latestScore { total "
        "sections { key score } } assessmentResponses { score { total computedTier { level } } "
        "round { rubric { key thresholds { minimumTotal tier { level } } } } } } }"
    )
    token = token_for(world.principals[who], settings)
    found = data_of(await gql(query, {"code": OWN}, token=token))["municipality"]
    if who in SCORE_READERS:
        assert found["latestScore"]["total"] == 11
        assert found["latestScore"]["sections"] == [
            {"key": "step0", "score": 6},
            {"key": "step1", "score": 4},
            {"key": "step2", "score": 1},
        ]
    else:
        assert found["latestScore"] is None
    responses = found["assessmentResponses"]
    if who not in ANSWER_READERS:
        assert responses == []
        return
    (response,) = responses
    expected_score = {"total": 11, "computedTier": {"level": 3}} if who in SCORE_READERS else None
    assert response["score"] == expected_score
    rubric = response["round"]["rubric"]
    if who in RUBRIC_READERS:
        assert rubric["thresholds"] == [
            {"minimumTotal": m, "tier": {"level": level}} for level, m in THRESHOLDS.items()
        ]
    else:
        assert rubric is None


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
async def test_who_reads_the_rubric_of_a_round(
    gql: GraphQL, world: World, settings: Settings, who: str
) -> None:
    query = "{ assessmentFramework { rounds { key rubric { key title } } } }"
    token = token_for(world.principals[who], settings)
    rounds = data_of(await gql(query, token=token))["assessmentFramework"]["rounds"]
    rubrics = {r["key"]: r["rubric"] for r in rounds}
    expected = {"key": "test-v1", "title": "採点 test-v1"} if who in RUBRIC_READERS else None
    assert rubrics["2024-04"] == expected


async def test_another_municipality_sees_no_score_even_with_rls_alone(
    gql: GraphQL, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth import policy

    monkeypatch.setattr(policy, "QUERY_LAYER", False)
    token = token_for(world.principals["municipal_staff(304271)"], settings)
    own = data_of(await gql(LATEST, {"code": OWN}, token=token))["municipality"]
    assert own["latestScore"] is None
    far = data_of(await gql(LATEST, {"code": FAR}, token=token))["municipality"]
    assert far["latestScore"]["total"] == 5
