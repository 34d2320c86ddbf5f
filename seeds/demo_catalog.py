"""The synthetic open-data catalog of `dxlink seed --demo` (written by seeds/demo_loader.py).

Thirteen municipalities publish, as the programme reports for FY2024: eight whose first
dataset was issued in FY2023 and five more in FY2024 (`openDataPublishersByYear` shows 8 -> 13).
Each publishes datasets conforming to the national standard datasets, with CSV distributions
whose columns are the standard's where they are known. 海草's two cities publish their
evacuation sites jointly (published: both approved); 田辺市 and 白浜町 have a joint tourism
dataset waiting for 白浜町's approval; two drafts; one dataset the prefecture unpublished. Names
of people, addresses and URLs are invented (example.jp is reserved for examples); the facts of
the programme (who publishes how many) are not real either, except the 8 -> 13 count.

Deterministic: the same plan whenever it is made (dates are fixed, not relative to today), so
tests and screenshots stay stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Municipality code -> (fiscal year of its first dataset, romaji used in invented URLs).
PUBLISHERS: dict[str, tuple[int, str]] = {
    "302015": (2023, "wakayama"),
    "302023": (2023, "kainan"),
    "302031": (2023, "hashimoto"),
    "302066": (2023, "tanabe"),
    "302074": (2023, "shingu"),
    "302082": (2023, "kinokawa"),
    "302091": (2023, "iwade"),
    "303666": (2023, "aridagawa"),
    "302040": (2024, "arida"),
    "302058": (2024, "gobo"),
    "304018": (2024, "shirahama"),
    "303917": (2024, "minabe"),
    "304280": (2024, "kushimoto"),
}

# Standard dataset key -> (update frequency, themes, license)
STANDARDS: dict[str, tuple[str, list[str], str]] = {
    "A-01": ("ANNUAL", ["GOVE"], "CC-BY-4.0"),
    "A-03": ("ANNUAL", ["JUST"], "CC-BY-4.0"),
    "A-05": ("ANNUAL", ["SOCI", "EDUC"], "CC-BY-4.0"),
    "A-08": ("QUARTERLY", ["HEAL"], "CC-BY-4.0"),
    "A-10": ("QUARTERLY", ["HEAL"], "PDL-1.0"),
    "A-11": ("ANNUAL", ["ECON", "REGI"], "CC-BY-4.0"),
    "A-12": ("MONTHLY", ["EDUC", "REGI"], "CC-BY-4.0"),
    "A-13": ("ANNUAL", ["GOVE"], "CC0-1.0"),
}

# Which standard datasets each publisher has, in the order they were issued.
CATALOG: dict[str, list[str]] = {
    "302015": ["A-01", "A-08", "A-12", "A-10", "A-05"],
    "302023": ["A-01", "A-08"],
    "302031": ["A-08", "A-01", "A-11"],
    "302066": ["A-03", "A-11", "A-08"],
    "302074": ["A-01", "A-13"],
    "302082": ["A-08", "A-05"],
    "302091": ["A-01", "A-12"],
    "303666": ["A-11"],
    "302040": ["A-08", "A-01"],
    "302058": ["A-03", "A-08"],
    "304018": ["A-11", "A-13"],
    "303917": ["A-08"],
    "304280": ["A-03", "A-11"],
}

GENERIC_COLUMNS = ["NO", "名称", "住所", "緯度", "経度", "電話番号", "URL", "備考"]


@dataclass(frozen=True)
class DemoDataset:
    key: str  # unique within the plan
    lead: str  # the creating municipality's code
    title: str
    description: str
    standard: str | None
    frequency: str
    themes: list[str]
    license: str
    issued_on: date
    modified_on: date
    keywords: list[str]
    url_stem: str
    partners: list[str] = field(default_factory=list)  # joint publishers (codes)
    approved_by: list[str] = field(default_factory=list)  # partners who approve
    publish: bool = True  # the lead asks for publication
    unpublish_reason: str | None = None  # then the prefecture withdraws it


def _first_day(fiscal_year: int, n: int) -> date:
    """The n-th (0-2) dataset's issue date in a fiscal year: June, August or October."""
    return date(fiscal_year, 6 + 2 * n, 10)


def build_catalog(names: dict[str, str], standard_names: dict[str, str]) -> list[DemoDataset]:
    """The plan, given municipality and standard-dataset names by code and key."""
    plan: list[DemoDataset] = []
    for code, keys in CATALOG.items():
        first_year, romaji = PUBLISHERS[code]
        for n, key in enumerate(keys):
            frequency, themes, license_ = STANDARDS[key]
            # Three in the first year (June, August, October), the rest a year later.
            year = first_year if n < 3 else first_year + 1
            issued = _first_day(year, n % 3)
            # Most are kept up to date; a monthly and a quarterly one fell behind (overdue).
            stale = (code, key) in {("302015", "A-12"), ("302031", "A-08")}
            modified = date(2025, 4, 1) if stale else date(2026, 10, 1)
            modified = max(modified, issued)
            standard = standard_names[key]
            plan.append(
                DemoDataset(
                    key=f"{code}-{key}",
                    lead=code,
                    title=f"{standard}（{names[code]}）",
                    description=f"{names[code]}の{standard}です。自治体標準オープンデータセット"
                    f"（{key}）に準拠しています。デモ用の合成データです。",
                    standard=key,
                    frequency=frequency,
                    themes=themes,
                    license=license_,
                    issued_on=issued,
                    modified_on=modified,
                    keywords=[standard.removesuffix("一覧"), names[code]],
                    url_stem=f"https://opendata.example.jp/{romaji}/{key.lower()}",
                )
            )
    plan += [
        DemoDataset(
            key="kaiso-evacuation",
            lead="302015",
            title="指定緊急避難場所一覧（海草地域 共同）",
            description="和歌山市と海南市が共同で公開する海草地域の指定緊急避難場所です。"
            "デモ用の合成データです。",
            standard="A-03",
            frequency="ANNUAL",
            themes=["JUST"],
            license="CC-BY-4.0",
            issued_on=date(2024, 9, 1),
            modified_on=date(2026, 9, 1),
            keywords=["避難場所", "防災", "海草"],
            url_stem="https://opendata.example.jp/kaiso/a-03",
            partners=["302023"],
            approved_by=["302023"],
        ),
        DemoDataset(
            key="nishimuro-tourism",
            lead="302066",
            title="観光施設一覧（西牟婁地域 共同）",
            description="田辺市と白浜町が共同で公開する予定の観光施設一覧です（白浜町の承認待ち）。"
            "デモ用の合成データです。",
            standard="A-11",
            frequency="ANNUAL",
            themes=["ECON", "REGI"],
            license="CC-BY-4.0",
            issued_on=date(2026, 11, 1),
            modified_on=date(2026, 11, 1),
            keywords=["観光", "西牟婁"],
            url_stem="https://opendata.example.jp/nishimuro/a-11",
            partners=["304018"],
        ),
        DemoDataset(
            key="wakayama-wifi-draft",
            lead="302015",
            title="公衆無線LANアクセスポイント一覧（和歌山市・準備中）",
            description="公開準備中の下書きです。デモ用の合成データです。",
            standard="A-07",
            frequency="ANNUAL",
            themes=["TECH"],
            license="CC-BY-4.0",
            issued_on=date(2026, 12, 1),
            modified_on=date(2026, 12, 1),
            keywords=["Wi-Fi"],
            url_stem="https://opendata.example.jp/wakayama/a-07",
            publish=False,
        ),
        DemoDataset(
            key="kushimoto-events-draft",
            lead="304280",
            title="イベント一覧（串本町・準備中）",
            description="公開準備中の下書きです。デモ用の合成データです。",
            standard="A-12",
            frequency="MONTHLY",
            themes=["EDUC"],
            license="CC-BY-4.0",
            issued_on=date(2026, 12, 1),
            modified_on=date(2026, 12, 1),
            keywords=["イベント"],
            url_stem="https://opendata.example.jp/kushimoto/a-12",
            publish=False,
        ),
        DemoDataset(
            key="gobo-care-withdrawn",
            lead="302058",
            title="介護サービス事業所一覧（御坊市）",
            description="県が公開を停止したデータセットです。デモ用の合成データです。",
            standard="A-09",
            frequency="QUARTERLY",
            themes=["HEAL", "SOCI"],
            license="CC-BY-4.0",
            issued_on=date(2025, 7, 1),
            modified_on=date(2025, 7, 1),
            keywords=["介護"],
            url_stem="https://opendata.example.jp/gobo/a-09",
            unpublish_reason="個人の連絡先を含む列が見つかったため、修正まで公開を停止します。",
        ),
    ]
    return plan


def columns_for(key: str | None, known: dict[str, list[str]]) -> list[str]:
    """A distribution's header: the standard's columns where they are known, else generic."""
    if key is not None and known.get(key):
        return known[key]
    return GENERIC_COLUMNS
