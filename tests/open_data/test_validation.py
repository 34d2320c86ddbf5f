"""Each rule on a dataset's and a distribution's fields: the user error's code and field, and
nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import error_of
from tests.open_data.conftest import DATASET, KAINAN, WAKAYAMA, Catalog, mutation

SAPPORO = "011002"  # a valid code of no municipality in the database
BAD_DIGIT = "302016"  # 和歌山市 with a wrong check digit

CREATE_CASES = [
    ({"title": "   "}, ["title"], "REQUIRED"),
    ({"title": "\u200b\u3000\ufeff"}, ["title"], "REQUIRED"),  # invisible: no title
    ({"title": "あ" * 301}, ["title"], "TOO_LONG"),
    ({"description": "x" * 10_001}, ["description"], "TOO_LONG"),
    ({"identifier": "has space"}, ["identifier"], "INVALID"),
    ({"identifier": "-leading-dash"}, ["identifier"], "INVALID"),
    ({"identifier": "a" * 201}, ["identifier"], "TOO_LONG"),
    ({"keywords": ["AED", "k" * 101]}, ["keywords", "1"], "TOO_LONG"),
    ({"themes": ["HEAL", "SPACE"]}, ["themes", "1"], "NOT_IN_LIST"),
    ({"license": "MIT"}, ["license"], "NOT_IN_LIST"),
    ({"updateFrequency": "HOURLY"}, ["updateFrequency"], "NOT_IN_LIST"),
    ({"standardDataset": "Z-99"}, ["standardDataset"], "NOT_IN_LIST"),
    (
        {"issuedOn": "2026-05-01", "modifiedOn": "2026-04-30"},
        ["modifiedOn"],
        "MODIFIED_BEFORE_ISSUED",
    ),
    ({"issuedOn": "1868-01-01"}, ["issuedOn"], "INVALID"),
    ({"contactName": "窓" * 201}, ["contactName"], "TOO_LONG"),
    ({"contactEmail": "opendata.city.example.jp"}, ["contactEmail"], "INVALID_EMAIL"),
    ({"contactEmail": "a@b@example.jp"}, ["contactEmail"], "INVALID_EMAIL"),
    ({"contactUrl": "javascript:alert(1)"}, ["contactUrl"], "INVALID_URL"),
    ({"contactUrl": "ftp://example.jp/form"}, ["contactUrl"], "INVALID_URL"),
    ({"landingPage": "https:///no-host"}, ["landingPage"], "INVALID_URL"),
    ({"landingPage": "//example.jp/relative"}, ["landingPage"], "INVALID_URL"),
    ({"landingPage": "http://[::1/broken"}, ["landingPage"], "INVALID_URL"),
    ({"landingPage": "https://example.jp/a b"}, ["landingPage"], "INVALID_URL"),
    ({"landingPage": "https://example.jp:99999/"}, ["landingPage"], "INVALID_URL"),
    ({"landingPage": "https://example.jp/" + "x" * 2000}, ["landingPage"], "TOO_LONG"),
    ({"spatial": [WAKAYAMA, BAD_DIGIT]}, ["spatial", "1"], "INVALID"),
    ({"spatial": [SAPPORO]}, ["spatial", "0"], "NOT_FOUND"),
    ({"jointPublishers": [BAD_DIGIT]}, ["jointPublishers", "0"], "INVALID"),
    ({"jointPublishers": [SAPPORO]}, ["jointPublishers", "0"], "NOT_FOUND"),
    ({"jointPublishers": ["300004"]}, ["jointPublishers", "0"], "INVALID"),
]


async def datasets(connection: AsyncConnection) -> int:
    return int(await connection.scalar(text("SELECT count(*) FROM dataset")))


@pytest.mark.parametrize(("values", "field", "code"), CREATE_CASES)
async def test_create_refuses(
    catalog: Catalog,
    connection: AsyncConnection,
    values: dict[str, Any],
    field: list[str],
    code: str,
) -> None:
    before = await datasets(connection)
    payload = await catalog.call(
        "createDataset", catalog.staff(WAKAYAMA), **{"title": "一覧", **values}
    )
    assert payload["dataset"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", *field], code)]
    assert all(e["message"] for e in payload["userErrors"])
    assert await datasets(connection) == before, "nothing was written"


async def test_every_error_of_an_input_is_told_at_once(catalog: Catalog) -> None:
    payload = await catalog.call(
        "createDataset",
        catalog.staff(WAKAYAMA),
        title="",
        license="MIT",
        landingPage="javascript:void(0)",
        themes=["XYZ"],
    )
    assert sorted(e["code"] for e in payload["userErrors"]) == [
        "INVALID_URL",
        "NOT_IN_LIST",
        "NOT_IN_LIST",
        "REQUIRED",
    ]


async def test_values_are_stored_trimmed_and_normalised(catalog: Catalog) -> None:
    dataset = await catalog.ok(
        "createDataset",
        catalog.staff(WAKAYAMA),
        title="  避難所一覧  ",
        keywords=[" 防災 ", "", "防災", "避難"],
        themes=["heal", "GOVE"],
        updateFrequency="monthly",
        license="PDL-1.0",
        spatial=[WAKAYAMA, WAKAYAMA, "300004"],
        contactEmail="bosai@city.wakayama.example.jp",
        landingPage="HTTPS://example.jp/hinan",
        standardDataset="a-03",
    )
    assert dataset["title"] == "避難所一覧"
    assert dataset["keywords"] == ["防災", "避難"]
    assert dataset["themes"] == ["HEAL", "GOVE"]
    assert dataset["updateFrequency"] == "MONTHLY"
    assert dataset["spatial"] == [WAKAYAMA, "300004"]
    assert dataset["standardDataset"] == {"key": "A-03"}


async def test_an_identifier_is_the_lead_publisher_s_namespace(catalog: Catalog) -> None:
    # Another municipality's identifiers are refused whether or not they exist, so the answer
    # never tells a municipality of another's draft.
    await catalog.ok("createDataset", catalog.staff(WAKAYAMA), title="A", identifier="302015-aed")
    for taken in ("302015-aed", "302015-free"):
        payload = await catalog.call(
            "createDataset", catalog.staff(KAINAN), title="B", identifier=taken
        )
        errors = payload["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(["input", "identifier"], "INVALID")]
        assert f"{KAINAN}-" in errors[0]["message"]
        assert payload["dataset"] is None


async def test_a_duplicate_identifier_is_a_conflict(catalog: Catalog) -> None:
    await catalog.ok("createDataset", catalog.staff(WAKAYAMA), title="A", identifier="302015-aed")
    payload = await catalog.call(
        "createDataset", catalog.staff(WAKAYAMA), title="B", identifier="302015-aed"
    )
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "identifier"], "CONFLICT")
    ]


async def test_an_invalid_date_is_a_graphql_error(
    catalog: Catalog, connection: AsyncConnection
) -> None:
    """The schema cannot take 2026-02-30: an error naming the variable, nothing written."""
    before = await datasets(connection)
    body = await catalog.gql(
        mutation("createDataset", f"dataset {{ {DATASET} }}"),
        {"input": {"title": "一覧", "issuedOn": "2026-02-30"}},
        token=catalog.staff(WAKAYAMA),
    )
    assert "issuedOn" in error_of(body)["message"]
    assert await datasets(connection) == before


UPDATE_CASES = [
    ({"title": None}, ["title"], "REQUIRED"),
    ({"license": None}, ["license"], "REQUIRED"),
    ({"license": "GPL-3.0"}, ["license"], "NOT_IN_LIST"),
    # Against the stored issuedOn (2026-04-01).
    ({"modifiedOn": "2026-03-31"}, ["modifiedOn"], "MODIFIED_BEFORE_ISSUED"),
    ({"contactUrl": "data:text/html,hi"}, ["contactUrl"], "INVALID_URL"),
    ({"jointPublishers": [SAPPORO]}, ["jointPublishers", "0"], "NOT_FOUND"),
]


@pytest.mark.parametrize(("values", "field", "code"), UPDATE_CASES)
async def test_update_refuses(
    catalog: Catalog, values: dict[str, Any], field: list[str], code: str
) -> None:
    token = catalog.staff(WAKAYAMA)
    dataset = await catalog.ok("createDataset", token, title="一覧", issuedOn="2026-04-01")
    payload = await catalog.call("updateDataset", token, id=dataset["id"], version=1, **values)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", *field], code)]
    again = await catalog.ok("updateDataset", token, id=dataset["id"], version=1, title="一覧")
    assert again["version"] == 2, "the refused edit changed nothing"


CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # sha256("test")

DISTRIBUTION_CASES = [
    ({"accessUrl": " "}, ["accessUrl"], "REQUIRED"),
    ({"accessUrl": "javascript:alert(document.cookie)"}, ["accessUrl"], "INVALID_URL"),
    ({"accessUrl": "file:///etc/passwd"}, ["accessUrl"], "INVALID_URL"),
    ({"downloadUrl": "ftp://example.jp/aed.csv"}, ["downloadUrl"], "INVALID_URL"),
    ({"mediaType": "csv"}, ["mediaType"], "INVALID_MEDIA_TYPE"),
    ({"mediaType": "text/"}, ["mediaType"], "INVALID_MEDIA_TYPE"),
    ({"mediaType": "chemical/x-pdb"}, ["mediaType"], "INVALID_MEDIA_TYPE"),
    ({"format": "F" * 41}, ["format"], "TOO_LONG"),
    ({"title": "題" * 301}, ["title"], "TOO_LONG"),
    ({"byteSize": -1}, ["byteSize"], "INVALID"),
    ({"checksum": CHECKSUM}, ["checksumAlgorithm"], "REQUIRED"),
    ({"checksumAlgorithm": "sha256"}, ["checksum"], "REQUIRED"),
    ({"checksum": CHECKSUM, "checksumAlgorithm": "crc32"}, ["checksumAlgorithm"], "NOT_IN_LIST"),
    ({"checksum": CHECKSUM, "checksumAlgorithm": "sha1"}, ["checksum"], "INVALID_CHECKSUM"),
    ({"checksum": "z" * 32, "checksumAlgorithm": "md5"}, ["checksum"], "INVALID_CHECKSUM"),
    ({"columns": ["名称", "c" * 101]}, ["columns", "1"], "TOO_LONG"),
]


async def a_draft(catalog: Catalog, **values: Any) -> dict[str, Any]:
    return await catalog.ok("createDataset", catalog.staff(WAKAYAMA), title="AED一覧", **values)


@pytest.mark.parametrize(("values", "field", "code"), DISTRIBUTION_CASES)
async def test_add_distribution_refuses(
    catalog: Catalog,
    connection: AsyncConnection,
    values: dict[str, Any],
    field: list[str],
    code: str,
) -> None:
    dataset = await a_draft(catalog)
    payload = await catalog.call(
        "addDistribution",
        catalog.staff(WAKAYAMA),
        datasetId=dataset["id"],
        version=1,
        **{"accessUrl": "https://example.jp/aed.csv", **values},
    )
    assert (payload["distribution"], payload["dataset"]) == (None, None)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", *field], code)]
    assert await connection.scalar(text("SELECT count(*) FROM distribution")) == 0
    assert await connection.scalar(text("SELECT max(version) FROM dataset")) == 1


async def test_a_distribution_with_every_field(catalog: Catalog) -> None:
    dataset = await a_draft(catalog)
    payload = await catalog.call(
        "addDistribution",
        catalog.staff(WAKAYAMA),
        datasetId=dataset["id"],
        version=1,
        accessUrl="https://example.jp/opendata/",
        downloadUrl="https://example.jp/opendata/aed.csv",
        mediaType="text/csv; charset=utf-8",
        format="CSV",
        byteSize=0,
        checksum=CHECKSUM.upper(),
        checksumAlgorithm="SHA256",
        columns=["名称", "住所"],
    )
    assert payload["userErrors"] == []
    distribution = payload["dataset"]["distributions"][0]
    assert distribution["mediaType"] == "text/csv; charset=utf-8"
    assert distribution["byteSize"] == 0


async def test_the_standard_datasets_required_columns_are_named(catalog: Catalog) -> None:
    """A-08 (AED設置箇所一覧) requires 名称, 名称_カナ, 住所 and 設置位置."""
    dataset = await a_draft(catalog, standardDataset="A-08")
    token = catalog.staff(WAKAYAMA)
    payload = await catalog.call(
        "addDistribution",
        token,
        datasetId=dataset["id"],
        version=1,
        accessUrl="https://example.jp/aed.csv",
        columns=["NO", "名称", "住所", "緯度", "経度"],
    )
    assert payload["userErrors"] == [
        {
            "field": ["input", "columns"],
            "code": "MISSING_COLUMN",
            "message": f"the standard dataset requires the column {name}",
        }
        for name in ("名称_カナ", "設置位置")
    ]
    # Full-width forms of the names count (NFKC), and a distribution without a header is
    # not judged on columns.
    complete = await catalog.call(
        "addDistribution",
        token,
        datasetId=dataset["id"],
        version=1,
        accessUrl="https://example.jp/aed.csv",
        columns=["名称", "名称＿カナ", "住所", "設置位置"],
    )
    assert complete["userErrors"] == []
    headerless = await catalog.call(
        "addDistribution",
        token,
        datasetId=dataset["id"],
        version=2,
        accessUrl="https://example.jp/aed.pdf",
    )
    assert headerless["userErrors"] == []
