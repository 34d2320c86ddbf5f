"""The assessment framework: its versions, sections, questions, options, follow-ups and rounds."""

from __future__ import annotations

import csv
from itertools import groupby
from pathlib import Path

import pytest

from tests.conftest import GraphQL, data_of, error_of

SEED = Path(__file__).resolve().parents[2] / "seeds" / "data" / "assessment_questions.csv"
with SEED.open(encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f))

KINDS = {"single": "SINGLE", "multi": "MULTIPLE", "text": "TEXT", "number": "NUMBER"}


def published_options(row: dict[str, str]) -> list[str]:
    return row["published_options"].split("|") if row["published_options"] else []


FRAMEWORK = """
query($version: String) {
  assessmentFramework(version: $version) {
    version title publishedOn
    sections { key label position questions { key } }
    questions {
      key kind text position
      section { key }
      followUpOf { key }
      options { label position }
    }
    rounds { key title opensOn closesOn framework { version } }
  }
}
"""


async def framework(gql: GraphQL, **variables: object) -> dict:
    return data_of(await gql(FRAMEWORK, variables))["assessmentFramework"]


def by_key(framework: dict) -> dict[str, dict]:
    return {q["key"]: q for q in framework["questions"]}


async def test_default_is_the_newest_version(gql: GraphQL) -> None:
    versions = data_of(await gql("{ assessmentFrameworks { version } }"))["assessmentFrameworks"]
    newest = max(v["version"] for v in versions)
    default = await framework(gql)
    assert default["version"] == newest == "2024"
    assert default == await framework(gql, version="2024")


async def test_frameworks_list_the_2024_version_oldest_first(gql: GraphQL) -> None:
    data = data_of(await gql("{ assessmentFrameworks { version title } }"))
    versions = [f["version"] for f in data["assessmentFrameworks"]]
    assert "2024" in versions
    assert versions == sorted(versions)


async def test_unknown_version_is_null(gql: GraphQL) -> None:
    body = await gql(FRAMEWORK, {"version": "1999"})
    assert data_of(body) == {"assessmentFramework": None}


@pytest.mark.parametrize("version", ["", "   "])
async def test_blank_version_is_an_error(gql: GraphQL, version: str) -> None:
    body = await gql(FRAMEWORK, {"version": version})
    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "version"}
    assert "version" in error["message"]
    assert error["path"] == ["assessmentFramework"]
    assert body["data"] == {"assessmentFramework": None}


async def test_all_questions_in_questionnaire_order(gql: GraphQL) -> None:
    questions = (await framework(gql, version="2024"))["questions"]
    assert len(questions) == len(ROWS) == 66
    assert [q["key"] for q in questions] == [r["question_id"] for r in ROWS]
    assert [q["text"] for q in questions] == [r["text"] for r in ROWS]
    assert [q["section"]["key"] for q in questions] == [r["section"] for r in ROWS]
    assert [q["position"] for q in questions] == list(range(1, len(ROWS) + 1))


async def test_sections_in_order_with_their_questions(gql: GraphQL) -> None:
    sections = (await framework(gql))["sections"]
    expected = [
        (key, [r["question_id"] for r in rows])
        for key, rows in groupby(ROWS, lambda r: r["section"])
    ]
    assert len(sections) == len(expected) == 11
    assert [s["key"] for s in sections] == [key for key, _ in expected]
    assert [[q["key"] for q in s["questions"]] for s in sections] == [keys for _, keys in expected]
    assert [len(s["questions"]) for s in sections] == [len(keys) for _, keys in expected]
    assert [s["position"] for s in sections] == list(range(1, 12))
    labels = {r["section"]: r["section_label"] for r in ROWS}
    assert [s["label"] for s in sections] == [labels[key] for key, _ in expected]
    assert sections[0]["label"] == "Step0：DXの認識共有・機運醸成"


async def test_question_kinds(gql: GraphQL) -> None:
    questions = (await framework(gql))["questions"]
    assert [q["kind"] for q in questions] == [KINDS[r["kind"]] for r in ROWS]
    # Every kind occurs, so the mapping is exercised for each of them.
    assert {q["kind"] for q in questions} == set(KINDS.values())
    assert by_key(await framework(gql))["7-3"]["kind"] == "NUMBER"


async def test_published_options_in_order(gql: GraphQL) -> None:
    questions = by_key(await framework(gql))
    row = next(r for r in ROWS if r["question_id"] == "1-1")
    options = questions["1-1"]["options"]
    assert [o["label"] for o in options] == published_options(row)
    assert [o["label"] for o in options] == [
        "策定済み",
        "策定する予定がある",
        "時期は未定だが策定を検討中",
        "策定する予定はない",
    ]
    assert [o["position"] for o in options] == [1, 2, 3, 4]


async def test_options_of_every_question_match_the_report(gql: GraphQL) -> None:
    questions = (await framework(gql))["questions"]
    assert [[o["label"] for o in q["options"]] for q in questions] == [
        published_options(r) for r in ROWS
    ]


async def test_question_without_published_options_has_none(gql: GraphQL) -> None:
    questions = by_key(await framework(gql))
    row = next(r for r in ROWS if r["question_id"] == "0-3")
    assert row["published_options"] == ""
    assert questions["0-3"]["options"] == []
    assert questions["0-3"]["kind"] == "SINGLE"  # a choice question, options just not published


async def test_follow_ups(gql: GraphQL) -> None:
    questions = by_key(await framework(gql))
    assert questions["0-2"]["followUpOf"] == {"key": "0-1"}
    assert questions["2-4"]["followUpOf"] == {"key": "2-3"}
    assert questions["1-1"]["followUpOf"] is None


async def test_follow_ups_are_the_questions_that_refer_to_the_previous_one(gql: GraphQL) -> None:
    # A follow-up's text opens with 直前の質問で ("about the previous question").
    questions = (await framework(gql))["questions"]
    expected = [
        ROWS[i - 1]["question_id"] if r["text"].startswith("直前の質問で") else None
        for i, r in enumerate(ROWS)
    ]
    assert [(q["followUpOf"] or {}).get("key") for q in questions] == expected
    assert sum(key is not None for key in expected) == 5


async def test_rounds_of_the_framework(gql: GraphQL) -> None:
    rounds = (await framework(gql))["rounds"]
    round_2024 = next(r for r in rounds if r["key"] == "2024-04")
    assert round_2024["opensOn"] == "2024-04-22"
    assert round_2024["closesOn"] == "2024-05-07"
    assert round_2024["framework"] == {"version": "2024"}
    assert round_2024["title"]
