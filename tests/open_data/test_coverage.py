"""The prefecture's view of the catalog: the municipality x standard-dataset matrix, the
publishing municipalities per fiscal year (the KPI), and datasets overdue for an update. Every
query also runs on the other executor (the suite's `gql` helper)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQL, data_of, error_of

MATRIX = """
query($prefecture: String!) {
  openDataCoverage(prefecture: $prefecture) {
    datasets lastModifiedOn municipality { code } standardDataset { key }
  }
}
"""
PER_YEAR = """
{ openDataPublishersByYear { fiscalYear municipalities newMunicipalities } }
"""
OVERDUE = """
query($after: String) {
  overdueDatasets(first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { identifier updateFrequency modifiedOn nextUpdateDue overdue } }
  }
}
"""
CODES = [
    "302015", "302023", "302031", "302040", "302058", "302066", "302074", "302082",
    "302091", "303046", "303411", "303437", "303445",
]  # fmt: skip


async def _standard(connection: AsyncConnection, key: str) -> int:
    found = await connection.execute(
        text("SELECT id FROM standard_dataset WHERE key = :k"), {"k": key}
    )
    return int(found.scalar_one())


def today_in_japan() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo")).date()


async def test_the_matrix_counts_published_standard_datasets(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    wakayama = await f.municipality_id(connection, "302015")
    kainan = await f.municipality_id(connection, "302023")
    aed, shelters = await _standard(connection, "A-08"), await _standard(connection, "A-03")
    for i, (publishers, standard, status) in enumerate(
        [
            ([wakayama], aed, "PUBLISHED"),
            ([wakayama], aed, "PUBLISHED"),
            ([wakayama, kainan], shelters, "PUBLISHED"),  # joint: a cell for each publisher
            ([kainan], aed, "DRAFT"),  # not published: no cell
            ([kainan], None, "PUBLISHED"),  # no standard dataset: no cell
        ]
    ):
        await f.create_dataset(
            connection,
            identifier=f"coverage-{i}",
            publishers=publishers,
            standard_dataset_id=standard,
            status=status,
            modified_on=date(2026, 4, 1 + i),
        )
    cells = data_of(await gql(MATRIX, {"prefecture": "300004"}))["openDataCoverage"]
    assert [
        (c["municipality"]["code"], c["standardDataset"]["key"], c["datasets"], c["lastModifiedOn"])
        for c in cells
    ] == [
        ("302015", "A-03", 1, "2026-04-03"),
        ("302015", "A-08", 2, "2026-04-02"),
        ("302023", "A-03", 1, "2026-04-03"),
    ]
    # Another prefecture's code: a valid code, nothing of it here.
    assert data_of(await gql(MATRIX, {"prefecture": "270008"}))["openDataCoverage"] == []
    error = error_of(await gql(MATRIX, {"prefecture": "300005"}))
    assert error["extensions"]["argument"] == "prefecture"


async def test_publishing_municipalities_per_fiscal_year(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    # 8 municipalities first published in FY2023 (April 2023 - March 2024), 5 more in FY2024;
    # a draft and a later dataset of a counted municipality change nothing.
    ids = [await f.municipality_id(connection, code) for code in CODES]
    for i, municipality in enumerate(ids):
        issued = date(2023, 6, 1) if i < 8 else date(2025, 3, 31)  # FY2023 ... FY2024's end
        await f.create_dataset(
            connection, identifier=f"kpi-{i}", publishers=[municipality], issued_on=issued
        )
    await f.create_dataset(
        connection, identifier="kpi-again", publishers=[ids[0]], issued_on=date(2024, 5, 1)
    )
    other = await f.municipality_id(connection, "304271")
    await f.create_dataset(
        connection, identifier="kpi-draft", publishers=[other], status="DRAFT",
        issued_on=date(2024, 5, 1),
    )  # fmt: skip
    years = data_of(await gql(PER_YEAR))["openDataPublishersByYear"]
    current = (today_in_japan() - timedelta(days=90)).year  # an approximation of April-March
    assert years[0] == {"fiscalYear": 2023, "municipalities": 8, "newMunicipalities": 8}
    assert years[1] == {"fiscalYear": 2024, "municipalities": 13, "newMunicipalities": 5}
    assert all(y["municipalities"] == 13 and y["newMunicipalities"] == 0 for y in years[2:])
    assert years[-1]["fiscalYear"] in (current, current + 1)


async def test_overdue_datasets_longest_overdue_first(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    wakayama = await f.municipality_id(connection, "302015")
    today = today_in_japan()
    rows: list[tuple[str, str | None, date, str]] = [
        ("monthly-late", "MONTHLY", today - timedelta(days=40), "PUBLISHED"),
        ("daily-late", "DAILY", today - timedelta(days=3), "PUBLISHED"),
        ("annual-late", "ANNUAL", today - timedelta(days=800), "PUBLISHED"),
        ("annual-fine", "ANNUAL", today - timedelta(days=30), "PUBLISHED"),
        ("irregular", "IRREGULAR", today - timedelta(days=3000), "PUBLISHED"),
        ("no-frequency", None, today - timedelta(days=3000), "PUBLISHED"),
        ("draft-late", "MONTHLY", today - timedelta(days=400), "DRAFT"),
    ]
    for identifier, frequency, modified, status in rows:
        await f.create_dataset(
            connection, identifier=identifier, publishers=[wakayama],
            update_frequency=frequency, modified_on=modified, status=status,
        )  # fmt: skip
    first = data_of(await gql(OVERDUE))["overdueDatasets"]
    assert first["totalCount"] == 3
    nodes: list[dict[str, Any]] = [e["node"] for e in first["edges"]]
    assert [n["identifier"] for n in nodes] == ["annual-late", "monthly-late"]
    assert nodes[0]["nextUpdateDue"] == (today - timedelta(days=800 - 366)).isoformat()
    assert all(n["overdue"] for n in nodes)
    rest = data_of(await gql(OVERDUE, {"after": first["pageInfo"]["endCursor"]}))
    assert [e["node"]["identifier"] for e in rest["overdueDatasets"]["edges"]] == ["daily-late"]

    one = "query($id: ID!) { node(id: $id) { ... on Dataset { overdue nextUpdateDue } } }"
    fine = await connection.execute(text("SELECT id FROM dataset WHERE identifier = 'annual-fine'"))
    node = data_of(await gql(one, {"id": encode_global_id("Dataset", fine.scalar_one())}))
    assert node["node"] == {
        "overdue": False,
        "nextUpdateDue": (today - timedelta(days=30) + timedelta(days=366)).isoformat(),
    }
