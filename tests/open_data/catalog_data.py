"""A small catalog for the interchange tests (DCAT-AP JSON-LD, the CKAN Action API): a dataset
with every optional field, a joint one, one with the fewest fields a dataset can have, one the
prefecture publishes, and a draft, a pending and a withdrawn one that the public must not see."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import DatasetPublisher
from tests import factories as f

WAKAYAMA, KAINAN, HASHIMOTO, PREFECTURE = "302015", "302023", "302031", "300004"
SHA256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"

# identifier -> whether the public may read it
PUBLISHED = ("wakayama-evac", "joint-hazard", "kainan-minimal", "pref-roads")
HIDDEN = ("wakayama-draft", "joint-pending", "kainan-withdrawn")


async def _scalar(connection: AsyncConnection, sql: str, **params: str) -> int:
    return int((await connection.execute(text(sql), params)).scalar_one())


async def make_catalog(connection: AsyncConnection) -> dict[str, int]:
    """The datasets, by identifier (their ids)."""
    m = {code: await f.municipality_id(connection, code) for code in (WAKAYAMA, KAINAN, HASHIMOTO)}
    standard = await _scalar(connection, "SELECT id FROM standard_dataset WHERE key = 'A-03'")
    prefecture = await _scalar(
        connection, "SELECT id FROM prefecture WHERE code = :c", c=PREFECTURE
    )
    ids: dict[str, int] = {}
    ids["wakayama-evac"] = await f.create_dataset(
        connection,
        identifier="wakayama-evac",
        title="指定緊急避難場所一覧",
        description="和歌山市の指定緊急避難場所の名称、所在地、対象とする災害。",
        keywords=["防災", "避難"],
        themes=["JUST", "HEAL"],
        license="PDL-1.0",
        update_frequency="MONTHLY",
        issued_on=date(2024, 4, 1),
        modified_on=date(2026, 5, 1),
        contact_name="和歌山市 危機管理局",
        contact_email="bousai@example.jp",
        contact_url="https://example.jp/bousai/contact",
        landing_page="https://example.jp/opendata/evac",
        spatial=[WAKAYAMA],
        standard_dataset_id=standard,
        publishers=[m[WAKAYAMA]],
    )
    await f.create_distribution(
        connection,
        dataset_id=ids["wakayama-evac"],
        title="指定緊急避難場所一覧（CSV）",
        access_url="https://example.jp/opendata/evac",
        download_url="https://example.jp/opendata/evac.csv",
        media_type="text/csv; charset=utf-8",
        format="CSV",
        byte_size=20480,
        checksum=SHA256,
        checksum_algorithm="sha256",
        columns=["名称", "所在地"],
    )
    await f.create_distribution(
        connection,
        dataset_id=ids["wakayama-evac"],
        title=None,
        access_url="https://example.jp/opendata/evac.geojson",
        media_type="application/geo+json",
        format="GeoJSON",
        byte_size=None,
        position=1,
    )
    ids["joint-hazard"] = await f.create_dataset(
        connection,
        identifier="joint-hazard",
        title="ハザードマップ（海草地域）",
        description="洪水・土砂災害の避難に",
        keywords=["防災"],
        themes=["ENVI"],
        license="CC-BY-4.0",
        spatial=[WAKAYAMA, KAINAN],
        modified_on=date(2026, 3, 1),
        publishers=[m[KAINAN], m[WAKAYAMA]],
    )
    await f.create_distribution(
        connection,
        dataset_id=ids["joint-hazard"],
        access_url="https://example.jp/hazard.zip",
        media_type="application/zip",
        format="ZIP",
    )
    # The fewest fields the data model takes: identifier, title, state and one publisher.
    ids["kainan-minimal"] = await f.create_dataset(
        connection,
        identifier="kainan-minimal",
        title="公共施設一覧",
        keywords=[],
        modified_on=None,
        publishers=[m[KAINAN]],
    )
    ids["pref-roads"] = await f.create_dataset(
        connection,
        identifier="pref-roads",
        title="県道の通行規制情報",
        description="和歌山県が管理する道路の通行規制",
        keywords=["道路"],
        themes=["TRAN"],
        license="CC0-1.0",
        spatial=[PREFECTURE],
        modified_on=date(2026, 2, 1),
        publishers=[],
    )
    await connection.execute(
        insert(DatasetPublisher.__table__).values(
            dataset_id=ids["pref-roads"], prefecture_id=prefecture
        )
    )
    await f.create_distribution(
        connection, dataset_id=ids["pref-roads"], access_url="https://example.jp/roads.csv"
    )
    ids["wakayama-draft"] = await f.create_dataset(
        connection,
        identifier="wakayama-draft",
        title="避難所の混雑状況（準備中）",
        keywords=["防災"],
        status="DRAFT",
        modified_on=date(2026, 6, 1),
        publishers=[m[WAKAYAMA]],
    )
    await f.create_distribution(
        connection,
        dataset_id=ids["wakayama-draft"],
        access_url="https://example.jp/draft.csv",
        format="CSV",
    )
    ids["joint-pending"] = await f.create_dataset(
        connection,
        identifier="joint-pending",
        title="避難所の開設状況",
        status="PENDING_APPROVAL",
        modified_on=date(2026, 6, 2),
        publishers=[m[WAKAYAMA], m[HASHIMOTO]],
    )
    ids["kainan-withdrawn"] = await f.create_dataset(
        connection,
        identifier="kainan-withdrawn",
        title="避難場所（旧版）",
        status="UNPUBLISHED",
        unpublished_reason="誤りのため",
        modified_on=date(2026, 6, 3),
        publishers=[m[KAINAN]],
    )
    return ids
