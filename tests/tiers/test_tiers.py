"""The four support tiers and the figures the prefecture published."""

from __future__ import annotations

import csv
from pathlib import Path

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
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
    survey subject category value note derived
  }
}
"""


async def statistics(gql: GraphQL, token: str | None = None, **variables: object) -> list[dict]:
    return data_of(await gql(STATISTICS_QUERY, variables, token=token))["publishedStatistics"]


def expected(row: dict[str, str]) -> dict:
    return {
        "survey": row["survey"],
        "subject": row["question_id"],
        "category": row["option"],
        "value": int(row["count"]),
        "note": row["note"] or None,
        "derived": row["derived"] == "yes",
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


async def test_published_figures_are_never_suppressed(gql: GraphQL, settings: Settings) -> None:
    # 支援 holds 2 municipalities in 2024-11, under the threshold that withholds counts computed
    # from records; the prefecture published it, so the public sees it exactly as staff do.
    assert settings.aggregate_threshold > 2
    staff = mint_token(settings, role=Role.prefecture_admin, subject="admin")
    municipal = mint_token(
        settings, role=Role.municipal_staff, subject="m", scope={"municipality": "302015"}
    )
    seen = [
        await statistics(gql, token=token, survey="tiers 2024-11")
        for token in (None, municipal, staff)
    ]
    assert seen[0] == seen[1] == seen[2]
    assert {f["category"]: f["value"] for f in seen[0]} == {
        "4 共創": 6,
        "3 協働": 22,
        "2 支援": 2,
        "1 関与": 0,
    }
    small = await statistics(gql, subject="2-4")
    assert [f["value"] for f in small if f["category"] == "その他"] == [1]


async def test_the_two_free_text_answers_to_4_2_are_two_entries(gql: GraphQL) -> None:
    figures = await statistics(gql, survey="2024-04 assessment", subject="4-2")
    free = [f for f in figures if f["category"].startswith("(other: free text")]
    assert [f["value"] for f in free] == [1, 1]
    assert len({f["category"] for f in free}) == 2
    assert "data-linkage platform" in free[0]["note"]


async def test_only_the_blank_cell_of_the_report_is_derived(gql: GraphQL) -> None:
    derived = [f for f in await statistics(gql) if f["derived"]]
    assert [(f["survey"], f["category"], f["value"]) for f in derived] == [
        ("tiers 2024-11", "1 関与", 0)
    ]
    assert "blank in the report" in derived[0]["note"]
