"""The municipality list, one municipality, and their arguments' errors."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest

from tests.conftest import GraphQL, data_of, error_of

SEED = Path(__file__).resolve().parents[2] / "seeds" / "data" / "municipalities.csv"
with SEED.open(encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f))

LIST = """
query($first: Int, $after: String, $region: String, $kind: MunicipalityKind,
      $search: String, $orderBy: MunicipalityOrder) {
  municipalities(first: $first, after: $after, region: $region, kind: $kind,
                 search: $search, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id code name kana kind kindLabel population region { name } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def municipalities(gql: GraphQL, **variables: object) -> dict:
    return data_of(await gql(LIST, variables))["municipalities"]


async def test_default_page_is_ordered_by_code_with_total(gql: GraphQL) -> None:
    page = await municipalities(gql)
    codes = [e["node"]["code"] for e in page["edges"]]
    assert page["totalCount"] == 30
    assert codes == sorted(r["code"] for r in ROWS)[:20]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    first = page["edges"][0]["node"]
    assert first["name"] == "和歌山市"
    assert first["kana"] == "わかやまし"
    assert first["kind"] == "CITY"
    assert first["kindLabel"] == "市"
    assert first["population"] == 356729
    assert first["region"] == {"name": "海草振興局"}


async def test_walking_the_cursors_visits_every_municipality_once(gql: GraphQL) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = await municipalities(gql, first=7, after=after)
        seen += [e["node"]["code"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(r["code"] for r in ROWS)


async def test_population_order_puts_unknown_population_last(gql: GraphQL) -> None:
    order = {"field": "POPULATION", "direction": "DESC"}
    first = await municipalities(gql, first=25, orderBy=order)
    rest = await municipalities(gql, first=25, orderBy=order, after=first["pageInfo"]["endCursor"])
    populations = [e["node"]["population"] for e in first["edges"] + rest["edges"]]
    known = [p for p in populations if p is not None]
    assert known == sorted(known, reverse=True)
    assert populations[: len(known)] == known  # all nulls after the known ones
    assert len(populations) == 30
    assert populations[0] == 356729


async def test_kana_order(gql: GraphQL) -> None:
    page = await municipalities(gql, first=30, orderBy={"field": "KANA"})
    kana = [e["node"]["kana"] for e in page["edges"]]
    assert kana == sorted(r["kana"] for r in ROWS)


@pytest.mark.parametrize("region", ["東牟婁", "東牟婁振興局"])
async def test_filter_by_region_short_or_full_name(gql: GraphQL, region: str) -> None:
    page = await municipalities(gql, region=region, first=30)
    expected = sorted(r["code"] for r in ROWS if r["region"] == "東牟婁")
    assert [e["node"]["code"] for e in page["edges"]] == expected
    assert page["totalCount"] == 6


async def test_filter_by_kind(gql: GraphQL) -> None:
    assert (await municipalities(gql, kind="CITY"))["totalCount"] == 9
    assert (await municipalities(gql, kind="TOWN"))["totalCount"] == 20
    village = await municipalities(gql, kind="VILLAGE")
    assert [e["node"]["name"] for e in village["edges"]] == ["北山村"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("田辺", ["田辺市"]),
        ("たなべ", ["田辺市"]),
        ("タナベ", ["田辺市"]),  # katakana finds the hiragana reading
        ("tanabe", ["田辺市"]),
        ("日高", ["日高町", "日高川町"]),
        ("30201", ["和歌山市"]),  # a code prefix
        ("100%", []),  # LIKE wildcards are taken literally
    ],
)
async def test_search(gql: GraphQL, search: str, expected: list[str]) -> None:
    page = await municipalities(gql, search=search, first=30)
    assert sorted(e["node"]["name"] for e in page["edges"]) == sorted(expected)
    assert page["totalCount"] == len(expected)


async def test_filters_combine(gql: GraphQL) -> None:
    page = await municipalities(gql, region="日高", kind="CITY")
    assert [e["node"]["name"] for e in page["edges"]] == ["御坊市"]


async def test_first_zero_gives_only_the_count(gql: GraphQL) -> None:
    page = await municipalities(gql, first=0)
    assert page["edges"] == []
    assert page["totalCount"] == 30
    assert page["pageInfo"]["endCursor"] is None


@pytest.mark.parametrize(
    ("variables", "argument", "reason"),
    [
        ({"first": 101}, "first", "at most 100"),
        ({"first": -1}, "first", "negative"),
        ({"after": "not a cursor!"}, "after", "malformed cursor"),
        ({"after": "WyJtdW5pY2lwYWxpdHk6Y29kZTphc2MiXQ"}, "after", "malformed cursor"),  # no values
        ({"region": "紀北"}, "region", "no region"),
        ({"search": "x" * 101}, "search", "at most 100"),
    ],
)
async def test_bad_arguments_name_the_argument(
    gql: GraphQL, variables: dict, argument: str, reason: str
) -> None:
    body = await gql(LIST, variables)
    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert argument in error["message"]
    assert reason in error["message"]
    assert body["data"] is None


async def test_cursor_of_another_ordering_is_refused(gql: GraphQL) -> None:
    page = await municipalities(gql, first=2, orderBy={"field": "KANA"})
    body = await gql(LIST, {"after": page["pageInfo"]["endCursor"]})
    error = error_of(body)
    assert error["extensions"]["argument"] == "after"
    assert "ordering" in error["message"]


ONE = "query($code: String!) { municipality(code: $code) { code name region { name } } }"


async def test_municipality_by_code(gql: GraphQL) -> None:
    data = data_of(await gql(ONE, {"code": "304271"}))
    assert data["municipality"] == {
        "code": "304271",
        "name": "北山村",
        "region": {"name": "東牟婁振興局"},
    }


async def test_unknown_but_valid_code_is_null(gql: GraphQL) -> None:
    # 131016 is 千代田区: a valid code, not held by this prefecture's data.
    assert data_of(await gql(ONE, {"code": "131016"})) == {"municipality": None}


@pytest.mark.parametrize(
    ("code", "reason"),
    [("30201", "6-digit"), ("30201a", "6-digit"), ("302016", "check digit")],
)
async def test_malformed_code_is_an_error(gql: GraphQL, code: str, reason: str) -> None:
    error = error_of(await gql(ONE, {"code": code}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "code"}
    assert reason in error["message"]


async def test_nodes_shortcut_matches_edges(gql: GraphQL) -> None:
    data = data_of(
        await gql("{ municipalities(first: 3) { nodes { code } edges { node { code } } } }")
    )
    connection = data["municipalities"]
    assert connection["nodes"] == [e["node"] for e in connection["edges"]]


def _cursor(values: list[object]) -> str:
    raw = json.dumps(values, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("order", "values"),
    [
        (None, ["municipality:code:asc", 302015]),  # an integer where the code is text
        ({"field": "POPULATION"}, ["municipality:population:asc", "many", "302015"]),
        ({"field": "POPULATION"}, ["municipality:population:asc", 10**30, "302015"]),
        ({"field": "POPULATION"}, ["municipality:population:asc", 1.5, "302015"]),
        (None, ["municipality:code:asc", "30\u00002015"]),
        (None, ["municipality:code:asc", None]),
    ],
)
async def test_cursor_values_of_the_wrong_kind_are_refused(
    gql: GraphQL, order: dict | None, values: list[object]
) -> None:
    body = await gql(LIST, {"after": _cursor(values), "orderBy": order})
    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_first_zero_still_tells_whether_there_is_a_page(gql: GraphQL) -> None:
    page = await municipalities(gql, first=0)
    assert page["pageInfo"]["hasNextPage"] is True
    empty = await municipalities(gql, first=0, search="存在しない")
    assert empty["pageInfo"]["hasNextPage"] is False


async def test_full_width_digits_find_a_code(gql: GraphQL) -> None:
    page = await municipalities(gql, search="３０２０１５")
    assert [e["node"]["name"] for e in page["edges"]] == ["和歌山市"]
