"""The catalog search: Japanese partial words, width and kana folding, filters, facets, order,
pages, and only what the viewer may read (every query also runs on the other executor and must
answer byte for byte the same: the suite's `gql` helper)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.models import Dataset
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of, error_of

SEARCH = """
query($search: String, $publisher: String, $region: String, $theme: String,
      $standard: String, $format: String, $license: String, $since: Date,
      $order: DatasetOrder, $first: Int, $after: String) {
  datasets(search: $search, publisher: $publisher, region: $region, theme: $theme,
           standardDataset: $standard, format: $format, license: $license,
           modifiedSince: $since, orderBy: $order, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { identifier title status publishers { code name }
      distributions { accessUrl mediaType format } standardDataset { key name } } }
  }
}
"""

FACETS = """
query($search: String, $publisher: String, $theme: String) {
  datasets(search: $search, publisher: $publisher, theme: $theme, first: 1) {
    totalCount
    facets {
      publishers { value label count }
      themes { value label count }
      formats { value count }
      licenses { value label count }
    }
  }
}
"""

WAKAYAMA, KAINAN, HASHIMOTO = "302015", "302023", "302031"


async def _standard(connection: AsyncConnection, key: str) -> int:
    return int(
        (
            await connection.execute(
                text("SELECT id FROM standard_dataset WHERE key = :k"), {"k": key}
            )
        ).scalar_one()
    )


@pytest.fixture
async def catalog(connection: AsyncConnection) -> dict[str, int]:
    m = {c: await f.municipality_id(connection, c) for c in (WAKAYAMA, KAINAN, HASHIMOTO)}
    rows = [
        # identifier, title, description, keywords, publishers, status, themes, license,
        # standard, modified, format
        ("wakayama-evac", "指定緊急避難場所一覧", "Designated emergency evacuation sites.",
         ["防災"], [WAKAYAMA], "PUBLISHED", ["JUST"], "CC-BY-4.0", "A-03", date(2026, 5, 1),
         "CSV"),
        ("kainan-aed", "AED設置箇所一覧", "市内のAED設置場所", ["救命"], [KAINAN], "PUBLISHED",
         ["HEAL"], "PDL-1.0", "A-08", date(2026, 4, 1), "CSV"),
        ("joint-hazard", "ハザードマップ（海草地域）", "洪水・土砂災害の避難に", [],
         [WAKAYAMA, KAINAN], "PUBLISHED", ["JUST", "ENVI"], "CC-BY-4.0", None,
         date(2026, 3, 1), "GeoJSON"),
        ("hashimoto-facilities", "公共施設一覧", "市の公共施設", ["施設"], [HASHIMOTO],
         "PUBLISHED", ["GOVE"], "CC0-1.0", "A-01", date(2025, 12, 1), "XLSX"),
        ("wakayama-draft", "避難所の混雑状況（準備中）", None, [], [WAKAYAMA], "DRAFT", ["JUST"],
         "CC-BY-4.0", None, date(2026, 6, 1), "CSV"),
    ]  # fmt: skip
    ids: dict[str, int] = {}
    for (identifier, title, description, keywords, publishers, status, themes, license_,
         standard, modified, format_) in rows:  # fmt: skip
        dataset = await f.create_dataset(
            connection,
            identifier=identifier,
            title=title,
            description=description,
            keywords=keywords,
            publishers=[m[c] for c in publishers],
            status=status,
            themes=themes,
            license=license_,
            standard_dataset_id=None if standard is None else await _standard(connection, standard),
            modified_on=modified,
        )
        await f.create_distribution(connection, dataset_id=dataset, format=format_)
        ids[identifier] = dataset
    return ids


def identifiers(body: dict[str, Any]) -> list[str]:
    return [e["node"]["identifier"] for e in data_of(body)["datasets"]["edges"]]


def staff(settings: Settings, code: str) -> str:
    return mint_token(
        settings,
        subject=f"staff-{code}",
        role=Role.municipal_staff,
        scope={"municipality": code},
    )


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("避難所", ["wakayama-evac"]),  # 避難場所 holds 避難 and 所: a partial word
        ("避難場所", ["wakayama-evac"]),
        ("AED", ["kainan-aed"]),
        ("ＡＥＤ", ["kainan-aed"]),  # full width
        ("aed", ["kainan-aed"]),
        ("はざーど", ["joint-hazard"]),  # hiragana finds katakana
        ("ﾊｻﾞｰﾄﾞ", ["joint-hazard"]),  # half-width katakana
        ("evacuation", ["wakayama-evac"]),  # English description
        ("公共施設", ["hashimoto-facilities"]),
        ("救命", ["kainan-aed"]),  # a keyword
        ("一覧 施設", ["hashimoto-facilities"]),  # every word must match
        ("水道", []),
        ("aeds", []),  # a Latin word is found as written, or not at all
    ],
)
async def test_japanese_partial_words_widths_and_kana(
    gql: GraphQL, catalog: dict[str, int], search: str, found: list[str]
) -> None:
    assert sorted(identifiers(await gql(SEARCH, {"search": search}))) == sorted(found)


async def test_the_public_sees_published_datasets_and_publishers_their_drafts(
    gql: GraphQL, catalog: dict[str, int], settings: Settings
) -> None:
    assert identifiers(await gql(SEARCH, {"search": "避難"})) == ["wakayama-evac", "joint-hazard"]
    own = await gql(SEARCH, {"search": "避難"}, token=staff(settings, WAKAYAMA))
    assert "wakayama-draft" in identifiers(own)
    other = await gql(SEARCH, {"search": "避難"}, token=staff(settings, KAINAN))
    assert "wakayama-draft" not in identifiers(other)
    # Not through totals or facets either.
    public = data_of(await gql(FACETS, {"search": "避難"}))["datasets"]
    assert public["totalCount"] == 2
    assert {p["value"]: p["count"] for p in public["facets"]["publishers"]} == {
        WAKAYAMA: 2,
        KAINAN: 1,
    }


async def test_relevance_puts_title_matches_first_and_pages_follow_it(
    gql: GraphQL, catalog: dict[str, int]
) -> None:
    # 避難 is in two titles (the evacuation list, ranked on its title) and a description.
    first = data_of(await gql(SEARCH, {"search": "避難", "first": 1}))["datasets"]
    assert [e["node"]["identifier"] for e in first["edges"]] == ["wakayama-evac"]
    assert first["totalCount"] == 2
    assert first["pageInfo"]["hasNextPage"]
    after = first["pageInfo"]["endCursor"]
    rest = await gql(SEARCH, {"search": "避難", "first": 5, "after": after})
    assert identifiers(rest) == ["joint-hazard"]
    assert data_of(rest)["datasets"]["pageInfo"]["hasNextPage"] is False


async def test_without_search_newest_modified_first_and_other_orders(
    gql: GraphQL, catalog: dict[str, int]
) -> None:
    assert identifiers(await gql(SEARCH)) == [
        "wakayama-evac", "kainan-aed", "joint-hazard", "hashimoto-facilities",
    ]  # fmt: skip
    oldest = await gql(SEARCH, {"order": {"field": "MODIFIED", "direction": "ASC"}})
    assert identifiers(oldest)[0] == "hashimoto-facilities"
    by_title = await gql(SEARCH, {"order": {"field": "TITLE", "direction": "ASC"}, "first": 2})
    # By code point, the same on every server's collation: A, then katakana, then kanji.
    assert identifiers(by_title) == ["kainan-aed", "joint-hazard"]


@pytest.mark.parametrize(
    ("variables", "found"),
    [
        ({"publisher": KAINAN}, ["kainan-aed", "joint-hazard"]),
        ({"publisher": "300004"}, []),  # the prefecture publishes none of these
        ({"region": "海草"}, ["wakayama-evac", "kainan-aed", "joint-hazard"]),
        ({"region": "伊都振興局"}, ["hashimoto-facilities"]),
        ({"theme": "JUST"}, ["wakayama-evac", "joint-hazard"]),
        ({"standard": "A-08"}, ["kainan-aed"]),
        ({"format": "csv"}, ["wakayama-evac", "kainan-aed"]),
        ({"license": "CC0-1.0"}, ["hashimoto-facilities"]),
        ({"since": "2026-04-01"}, ["wakayama-evac", "kainan-aed"]),
        ({"search": "避難", "publisher": KAINAN}, ["joint-hazard"]),
        ({"theme": "NONE"}, []),
    ],
)
async def test_filters(
    gql: GraphQL, catalog: dict[str, int], variables: dict[str, Any], found: list[str]
) -> None:
    assert identifiers(await gql(SEARCH, variables)) == found


async def test_facets_count_the_current_filter(gql: GraphQL, catalog: dict[str, int]) -> None:
    everything = data_of(await gql(FACETS))["datasets"]["facets"]
    assert everything["publishers"][0] == {"value": WAKAYAMA, "label": "和歌山市", "count": 2}
    assert {t["value"]: t["count"] for t in everything["themes"]} == {
        "JUST": 2, "HEAL": 1, "ENVI": 1, "GOVE": 1,
    }  # fmt: skip
    assert {t["value"]: t["label"] for t in everything["themes"]}["HEAL"] == "健康・医療"
    assert everything["formats"] == [
        {"value": "CSV", "count": 2}, {"value": "GEOJSON", "count": 1},
        {"value": "XLSX", "count": 1},
    ]  # fmt: skip
    licenses = {x["value"]: (x["label"], x["count"]) for x in everything["licenses"]}
    assert licenses["CC-BY-4.0"][1] == 2
    assert licenses["PDL-1.0"][0].startswith("公共データ利用規約")
    just = data_of(await gql(FACETS, {"theme": "JUST"}))["datasets"]
    assert just["totalCount"] == 2
    assert {p["value"]: p["count"] for p in just["facets"]["publishers"]} == {
        WAKAYAMA: 2,
        KAINAN: 1,
    }


async def test_an_edit_reindexes_the_dataset(
    gql: GraphQL, catalog: dict[str, int], connection: AsyncConnection
) -> None:
    await connection.execute(
        update(Dataset)
        .where(Dataset.id == catalog["kainan-aed"])
        .values(title="自動体外式除細動器")
    )
    assert identifiers(await gql(SEARCH, {"search": "除細動"})) == ["kainan-aed"]
    assert identifiers(await gql(SEARCH, {"search": "設置箇所"})) == []


async def test_dataset_by_id_for_the_public_only_when_published(
    gql: GraphQL, catalog: dict[str, int], settings: Settings
) -> None:
    query = "query($id: ID!) { dataset(id: $id) { identifier title } }"
    published = encode_global_id("Dataset", catalog["kainan-aed"])
    draft = encode_global_id("Dataset", catalog["wakayama-draft"])
    assert data_of(await gql(query, {"id": published}))["dataset"]["identifier"] == "kainan-aed"
    assert data_of(await gql(query, {"id": draft}))["dataset"] is None
    own = data_of(await gql(query, {"id": draft}, token=staff(settings, WAKAYAMA)))
    assert own["dataset"]["identifier"] == "wakayama-draft"
    region = encode_global_id("Region", 1)
    assert data_of(await gql(query, {"id": region}))["dataset"] is None


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"search": "あ" * 201}, "search"),
        ({"search": " ".join(f"w{i}" for i in range(11))}, "search"),
        ({"publisher": "302016"}, "publisher"),  # check digit
        ({"region": "どこか"}, "region"),
        ({"first": 1000}, "first"),
        ({"after": "bm90LWEtY3Vyc29y"}, "after"),
    ],
)
async def test_bad_arguments_are_errors_naming_them(
    gql: GraphQL, catalog: dict[str, int], variables: dict[str, Any], argument: str
) -> None:
    error = error_of(await gql(SEARCH, variables))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
