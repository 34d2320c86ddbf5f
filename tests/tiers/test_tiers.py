"""The four support tiers and the figures the prefecture published."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import GraphQL, data_of

DATA = Path(__file__).resolve().parents[2] / "seeds" / "data"
with (DATA / "published_results.csv").open(encoding="utf-8") as _f:
    STATISTICS = list(csv.DictReader(_f))
with (DATA / "municipalities.csv").open(encoding="utf-8") as _f:
    MUNICIPALITY_COUNT = len(list(csv.DictReader(_f)))

TIERS = "{ tiers { level name label description kpiTarget } }"

STATISTICS_QUERY = """
query($survey: String, $subject: String) {
  publishedStatistics(survey: $survey, subject: $subject) {
    survey subject category value note
  }
}
"""


async def statistics(gql: GraphQL, **variables: object) -> list[dict]:
    return data_of(await gql(STATISTICS_QUERY, variables))["publishedStatistics"]


def expected(row: dict[str, str]) -> dict:
    return {
        "survey": row["survey"],
        "subject": row["question_id"],
        "category": row["option"],
        "value": int(row["count"]),
        "note": row["note"] or None,
    }


async def test_four_tiers_in_order(gql: GraphQL) -> None:
    tiers = data_of(await gql(TIERS))["tiers"]
    assert [t["level"] for t in tiers] == [1, 2, 3, 4]
    assert [t["name"] for t in tiers] == ["関与", "支援", "協働", "共創"]
    assert [t["label"] for t in tiers] == ["involvement", "support", "collaboration", "co-creation"]
    assert all(t["description"] for t in tiers)


async def test_only_collaboration_and_co_creation_are_kpi_targets(gql: GraphQL) -> None:
    tiers = data_of(await gql(TIERS))["tiers"]
    assert {t["level"]: t["kpiTarget"] for t in tiers} == {1: False, 2: False, 3: True, 4: True}


async def test_tier_distribution_of_november_2024(gql: GraphQL) -> None:
    figures = await statistics(gql, survey="tiers 2024-11")
    assert figures == [expected(r) for r in STATISTICS if r["survey"] == "tiers 2024-11"]
    by_name = {f["category"].split(" ", 1)[1]: f["value"] for f in figures}
    assert by_name == {"共創": 6, "協働": 22, "支援": 2, "関与": 0}
    assert {f["subject"] for f in figures} == {"tier"}


async def test_tier_categories_name_the_tiers(gql: GraphQL) -> None:
    tiers = data_of(await gql(TIERS))["tiers"]
    names = {f"{t['level']} {t['name']}" for t in tiers}
    for survey in ("tiers 2023-11", "tiers 2024-11"):
        assert {f["category"] for f in await statistics(gql, survey=survey)} == names


async def test_each_tier_survey_covers_every_municipality(gql: GraphQL) -> None:
    for survey in ("tiers 2023-11", "tiers 2024-11"):
        figures = await statistics(gql, survey=survey)
        assert len(figures) == 4
        assert sum(f["value"] for f in figures) == MUNICIPALITY_COUNT == 30


async def test_statistics_of_one_question(gql: GraphQL) -> None:
    figures = await statistics(gql, subject="0-1")
    assert [(f["category"], f["value"]) for f in figures] == [
        ("定義している", 10),
        ("定義していない", 20),
    ]
    assert figures == [expected(r) for r in STATISTICS if r["question_id"] == "0-1"]
    assert {f["survey"] for f in figures} == {"2024-04 assessment"}


async def test_survey_and_subject_filters_combine(gql: GraphQL) -> None:
    figures = await statistics(gql, survey="2024-04 assessment", subject="2-4")
    assert figures == [
        expected(r)
        for r in STATISTICS
        if r["survey"] == "2024-04 assessment" and r["question_id"] == "2-4"
    ]
    assert figures[0]["note"] == "asked only of those who set up or plan a department"
    assert await statistics(gql, survey="tiers 2024-11", subject="0-1") == []


async def test_unknown_survey_has_no_statistics(gql: GraphQL) -> None:
    assert await statistics(gql, survey="tiers 1999-11") == []


async def test_all_statistics_in_published_order(gql: GraphQL) -> None:
    figures = await statistics(gql)
    assert len(figures) == len(STATISTICS)
    assert figures == [expected(r) for r in STATISTICS]
