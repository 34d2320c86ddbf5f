"""The benchmark's query shapes: each as dxlink's GraphQL, the floor's route and PostGraphile's
closest equivalent, with the views that let bench/run.py check that all three answer the same
data before it times them.

dxlink and the floor must give the same bytes. PostGraphile's generated schema names things its
own way (``allMunicipalities``, ``regionByRegionId``, connections with ``nodes``; the datasets
of a municipality through its ``dataset_publisher`` links), so each shape maps both answers to
plain tuples and compares those.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

NESTED = (
    "query($n: Int!) { municipalities(first: $n) { edges { node { code name kana population "
    "region { name } datasets(first: 10) { identifier title modifiedOn } } } } }"
)
ONE = (
    'query { municipality(code: "302015") { code name kana kind population '
    "region { name municipalities { code } } prefecture { name } "
    "tierHistory { snapshotOn tier { name } } datasets(first: 10) { identifier title } "
    "dispatchAssignments { theme startsOn } } }"
)
REGIONS = "{ regions { name shortName municipalities { code name kana population } } }"
# Matches the reading of serials 060-069 in every prefecture that has that many municipalities:
# 28 of the 1,741 (bench/generate.py), a page and a half.
SEARCH_TERM = "ごうせい06"
SEARCH = (
    "query($q: String!) { municipalities(first: 20, search: $q) "
    "{ totalCount edges { node { code name kana population } } } }"
)
# A regional office of 北海道 (synthetic): 36 municipalities, so the page of 20 is full.
REGION_NAME = "合成01-1振興局"
IN_REGION = (
    "query($region: String!) { municipalities(first: 20, region: $region) "
    "{ totalCount edges { node { code name } } } }"
)

# The dispatch coordinators' calendar: the assignments running in a month, a page of 50 (all 500
# generated assignments run in December 2026), each with its municipality, its expert and its
# sessions (24 each, bench/generate.py). Not the public's: read as a dispatch coordinator.
CALENDAR_MONTH = "2026-12"
CALENDAR = (
    "query($month: String!) { assignments(month: $month, first: 50) { edges { node { "
    "id theme startsOn endsOn status municipality { code name } expert { name } "
    "sessions { startsAt endsAt mode status } } } } }"
)

# The catalog's dataset page (issue 11), as the public: a published dataset with its license,
# publishers, standard dataset and distributions. Which dataset depends on the data, so the
# floor names it (`/dataset/pick`: the first published synthetic dataset that conforms to a
# standard dataset and has two distributions) and bench/run.py completes the shape with it.
DATASET = (
    "query($id: ID!) { dataset(id: $id) { id identifier title description keywords themes "
    "license licenseInfo { name url } issuedOn modifiedOn updateFrequency version "
    "publishers { code name } standardDataset { key name } "
    "distributions { title accessUrl mediaType format byteSize } } }"
)

# Issue 12. The tier distribution of a snapshot month, as the public: every one of the 1,741
# municipalities has a tier in 2024-11 (bench/generate.py), so no count is withheld.
TIER_SNAPSHOT = "2024-11"
TIERS = (
    "query($snapshot: String!) { tierDistribution(snapshot: $snapshot) "
    "{ tier { level name } count } }"
)
# KPI progress in that month as the prefecture's staff: prefecture-wide (all 1,741) and for each
# of the 237 regional offices, in their order.
KPI = (
    "query($snapshot: String!) { kpiProgress(snapshot: $snapshot) "
    "{ inTarget share regions { region { name } share } } }"
)
# The municipality dashboard, as the prefecture's staff (tiers are not the public's to read): a
# municipality with its latest tier, its tier history (2023-11 and 2024-11, the latter
# overridden with a reason: bench/generate.py `_tier_history`) and the score of its latest
# submitted response (2024-04, seven scored sections: bench/generate.py `_assessments`).
DASHBOARD_CODE = "132012"
DASHBOARD = (
    "query($code: String!) { municipality(code: $code) { code name "
    "tier { snapshot tier { level name } } "
    "tierHistory { snapshot snapshotOn tier { level name } computedTier { level } overridden "
    "reason } latestScore { total sections { key score } } } }"
)

# Issue 13. The WG board: the first 20 active working groups (by slug) with their region, lead,
# goals, active members and outputs, and the participation coverage (prefecture-wide and per
# region), as the public and as a member municipality's staff (和歌山市, an active member of
# every third group, bench/generate.py `_working_groups`: it reads the unpublished outputs of
# its groups, row-level security of migration f0a1b2c3d4e5).
WG_BOARD_FIRST = 20
WG_BOARD = (
    "query($first: Int!) { workingGroups(status: [ACTIVE], first: $first) { edges { node { "
    "slug name kind status theme region { name } leadMunicipality { name } ledByPrefecture "
    "memberCount goals { code title } members { municipality { code name } contactRole } "
    "outputs { title url published } } } } "
    "participationCoverage { municipalities participating share "
    "regions { region { name } participating share } } }"
)
WG_STAFF_CODE = "302015"

# PostGraphile v5 (amber preset, connection-filter plugin, bench/postgraphile/server.mjs).
_PG_DATASETS = (
    "datasetPublishersByMunicipalityId(first: 10, "
    "orderBy: [DATASET_MODIFIED_ON_DESC, DATASET_ID_ASC]) { nodes { datasetByDatasetId "
)
PG_NESTED = (
    "query($n: Int!) { allMunicipalities(first: $n, orderBy: CODE_ASC) { nodes { code name kana "
    f"population regionByRegionId {{ name }} {_PG_DATASETS}{{ identifier title modifiedOn }} }} }} "
    "} } }"
)
PG_ONE = (
    'query { municipalityByCode(code: "302015") { code name kana kind population '
    "regionByRegionId { name municipalitiesByRegionId(orderBy: CODE_ASC) { nodes { code } } } "
    "prefectureByPrefectureId { name } "
    "tierAssignmentsByMunicipalityId(orderBy: [SNAPSHOT_ON_DESC, ROW_ID_ASC]) "
    "{ nodes { snapshotOn supportTierByLevel { name } } } "
    f"{_PG_DATASETS}{{ identifier title }} }} }} "
    "dispatchAssignmentsByMunicipalityId(orderBy: [STARTS_ON_ASC, ROW_ID_ASC]) "
    "{ nodes { theme startsOn } } } }"
)
PG_REGIONS = (
    "{ allRegions(orderBy: [PREFECTURE_ID_ASC, POSITION_ASC]) { nodes { name shortName "
    "municipalitiesByRegionId(orderBy: CODE_ASC) { nodes { code name kana population } } } } }"
)
# dxlink's search in PostGraphile's filter language: name, kana or romaji containing the term
# (ILIKE), or a code starting with it. dxlink also folds katakana and full-width input first;
# the term here is already folded, so both match the same rows.
PG_SEARCH = (
    "query($q: String!) { allMunicipalities(first: 20, orderBy: CODE_ASC, filter: { or: ["
    "{ name: { includesInsensitive: $q } }, { kana: { includesInsensitive: $q } }, "
    "{ romaji: { includesInsensitive: $q } }, { code: { startsWith: $q } }] }) "
    "{ totalCount nodes { code name kana population } } }"
)
# The region by its full or short name, as dxlink takes it (a filter through the relation).
PG_IN_REGION = (
    "query($region: String!) { allMunicipalities(first: 20, orderBy: CODE_ASC, filter: { "
    "regionByRegionId: { or: [{ name: { equalTo: $region } }, "
    "{ shortName: { equalTo: $region } }] } }) { totalCount nodes { code name } } }"
)

# The month as dxlink's `month` takes it: running at some time in it.
PG_CALENDAR = (
    "query($first: Date!, $next: Date!) { allDispatchAssignments(first: 50, "
    "orderBy: [STARTS_ON_ASC, ROW_ID_ASC], filter: { startsOn: { lessThan: $next }, "
    "endsOn: { greaterThanOrEqualTo: $first } }) { nodes { rowId theme startsOn endsOn status "
    "municipalityByMunicipalityId { code name } expertByExpertId { name } "
    "dispatchVisitsByAssignmentId(orderBy: [STARTS_AT_ASC, ROW_ID_ASC]) "
    "{ nodes { startsAt endsAt mode status } } } } }"
)

# The dataset by its primary key (`rowId`: PostGraphile keeps `id` for its node id). Its
# publishers are the municipal links (the prefecture's are left out, as dxlink's `publishers`
# does); PostGraphile cannot order links by the municipality's code, so both views sort them.
PG_DATASET = (
    "query($rowId: Int!) { datasetByRowId(rowId: $rowId) { rowId identifier title description "
    "keywords themes license licenseByLicense { name url } issuedOn modifiedOn updateFrequency "
    "version datasetPublishersByDatasetId(filter: { municipalityId: { isNull: false } }) "
    "{ nodes { municipalityByMunicipalityId { code name } } } "
    "standardDatasetByStandardDatasetId { key name } "
    "distributionsByDatasetId(orderBy: [POSITION_ASC, ROW_ID_ASC]) "
    "{ nodes { title accessUrl mediaType format byteSize } } } }"
)

# Issue 12. The counts come from the same definer function (PostGraphile exposes a STABLE
# function as a root field), the tiers' names from their table: PostGraphile cannot join a
# function's records to a table. It has no suppression (none applies on this data).
PG_TIERS = (
    "query($snapshotOn: Date!) { dxlinkTierCounts(snapshot: $snapshotOn) "
    "{ nodes { level municipalities } } "
    "allSupportTiers(orderBy: LEVEL_ASC) { nodes { level name } } }"
)
# The same definer function for the KPI; the regions' names in their order from their table
# (bench/postgraphile/server.mjs orders regions by position), the shares computed in the view.
PG_KPI = (
    "query($month: Date!) { dxlinkKpiByRegion(month: $month) "
    "{ nodes { regionId municipalities inTarget } } "
    "allRegions(orderBy: [PREFECTURE_ID_ASC, POSITION_ASC, PRIMARY_KEY_ASC]) "
    "{ nodes { rowId name } } }"
)
# The history by date (the month is the view's: PostGraphile has no such field), its first
# entry the latest tier.
PG_DASHBOARD = (
    "query($code: String!) { municipalityByCode(code: $code) { code name "
    "tierAssignmentsByMunicipalityId(orderBy: [SNAPSHOT_ON_DESC, ROW_ID_ASC]) { nodes { "
    "snapshotOn supportTierByLevel { level name } supportTierByComputedLevel { level } "
    "overridden reason } } "
    "assessmentScoresByMunicipalityId(first: 1, orderBy: [SUBMITTED_AT_DESC, RESPONSE_ID_DESC]) "
    "{ nodes { total assessmentSectionScoresByResponseId(orderBy: POSITION_ASC) "
    "{ nodes { key score } } } } } }"
)

View = Callable[[dict[str, Any]], Any]

# The principals a shape may read as (`Shape.principal`): each role's name with the subject of
# the token bench/run.py mints for it (none for the public). Roles without a scope only.
PRINCIPALS: dict[str, str] = {
    "public": "",
    "dispatch_coordinator": "bench-coordinator",
    "prefecture_admin": "bench-prefecture-admin",
    "municipal_staff": "bench-municipal-staff",
}
# The scope claim of a principal whose role needs one (auth/principal.py SCOPE_CLAIMS):
# bench/run.py puts it in the token and resolves it to the ids of the principal's settings.
PRINCIPAL_SCOPES: dict[str, dict[str, str]] = {
    "municipal_staff": {"municipality": WG_STAFF_CODE},
}


@dataclass(frozen=True)
class Shape:
    key: str  # for --only
    label: str
    dxlink: dict[str, Any]  # the GraphQL request body
    floor: str  # the floor's path and query string
    dxlink_data: View
    postgraphile: dict[str, Any] | None = None
    postgraphile_data: View | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Whose numbers the PostGraphile column shows instead (a shape without a query of its own).
    postgraphile_note: str = ""
    # Who reads: a key of PRINCIPALS, `public` (no token) or a role (bench/run.py mints its
    # token for dxlink; the floor and PostGraphile hold that principal's settings).
    principal: str = "public"
    # A shape that reads a row chosen from the data: the floor's path that names it (a JSON
    # object) and the shape for that answer; bench/run.py completes the shape before its checks.
    pick: tuple[str, Callable[[Shape, dict[str, Any]], Shape]] | None = None


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def _nested_dx(data: dict[str, Any]) -> Any:
    return [
        (
            m["code"], m["name"], m["kana"], m["population"], (m["region"] or {}).get("name"),
            [(d["identifier"], d["title"], d["modifiedOn"]) for d in m["datasets"]],
        )
        for m in _nodes(data["municipalities"])
    ]  # fmt: skip


def _pg_datasets(m: dict[str, Any], *fields: str) -> list[tuple[Any, ...]]:
    links = m["datasetPublishersByMunicipalityId"]["nodes"]
    return [tuple(link["datasetByDatasetId"][f] for f in fields) for link in links]


def _nested_pg(data: dict[str, Any]) -> Any:
    return [
        (
            m["code"], m["name"], m["kana"], m["population"],
            (m["regionByRegionId"] or {}).get("name"),
            _pg_datasets(m, "identifier", "title", "modifiedOn"),
        )
        for m in data["allMunicipalities"]["nodes"]
    ]  # fmt: skip


def _one_dx(data: dict[str, Any]) -> Any:
    m = data["municipality"]
    region = m["region"]
    return (
        m["code"], m["name"], m["kana"], m["kind"], m["population"],
        region and (region["name"], [o["code"] for o in region["municipalities"]]),
        m["prefecture"]["name"],
        [(t["snapshotOn"], t["tier"]["name"]) for t in m["tierHistory"]],
        [(d["identifier"], d["title"]) for d in m["datasets"]],
        [(a["theme"], a["startsOn"]) for a in m["dispatchAssignments"]],
    )  # fmt: skip


def _one_pg(data: dict[str, Any]) -> Any:
    m = data["municipalityByCode"]
    region = m["regionByRegionId"]
    members = region and [o["code"] for o in region["municipalitiesByRegionId"]["nodes"]]
    tiers = m["tierAssignmentsByMunicipalityId"]["nodes"]
    assignments = m["dispatchAssignmentsByMunicipalityId"]["nodes"]
    return (
        m["code"], m["name"], m["kana"], m["kind"], m["population"],
        region and (region["name"], members),
        m["prefectureByPrefectureId"]["name"],
        [(t["snapshotOn"], t["supportTierByLevel"]["name"]) for t in tiers],
        _pg_datasets(m, "identifier", "title"),
        [(a["theme"], a["startsOn"]) for a in assignments],
    )  # fmt: skip


def _municipality(m: dict[str, Any]) -> tuple[Any, ...]:
    return (m["code"], m["name"], m["kana"], m["population"])


def _regions_dx(data: dict[str, Any]) -> Any:
    return [
        (r["name"], r["shortName"], [_municipality(m) for m in r["municipalities"]])
        for r in data["regions"]
    ]


def _regions_pg(data: dict[str, Any]) -> Any:
    return [
        (
            r["name"], r["shortName"],
            [_municipality(m) for m in r["municipalitiesByRegionId"]["nodes"]],
        )
        for r in data["allRegions"]["nodes"]
    ]  # fmt: skip


def _search_dx(data: dict[str, Any]) -> Any:
    page = data["municipalities"]
    return page["totalCount"], [_municipality(m) for m in _nodes(page)]


def _search_pg(data: dict[str, Any]) -> Any:
    page = data["allMunicipalities"]
    return page["totalCount"], [_municipality(m) for m in page["nodes"]]


def _in_region_dx(data: dict[str, Any]) -> Any:
    page = data["municipalities"]
    return page["totalCount"], [(m["code"], m["name"]) for m in _nodes(page)]


def _in_region_pg(data: dict[str, Any]) -> Any:
    page = data["allMunicipalities"]
    return page["totalCount"], [(m["code"], m["name"]) for m in page["nodes"]]


def _calendar_dx(data: dict[str, Any]) -> Any:
    return [
        (
            int(base64.urlsafe_b64decode(a["id"] + "==").decode().partition(":")[2]),
            a["theme"], a["startsOn"], a["endsOn"], a["status"],
            (a["municipality"]["code"], a["municipality"]["name"]),
            (a["expert"] or {}).get("name"),
            [_session(v) for v in a["sessions"]],
        )
        for a in _nodes(data["assignments"])
    ]  # fmt: skip


def _session(v: dict[str, Any]) -> tuple[Any, ...]:
    # The same instant whatever offset each writes it with.
    starts, ends = (datetime.fromisoformat(v[k]) for k in ("startsAt", "endsAt"))
    return starts, ends, v["mode"], v["status"]


def _calendar_pg(data: dict[str, Any]) -> Any:
    return [
        (
            a["rowId"], a["theme"], a["startsOn"], a["endsOn"], a["status"],
            (a["municipalityByMunicipalityId"]["code"], a["municipalityByMunicipalityId"]["name"]),
            (a["expertByExpertId"] or {}).get("name"),
            [_session(v) for v in a["dispatchVisitsByAssignmentId"]["nodes"]],
        )
        for a in data["allDispatchAssignments"]["nodes"]
    ]  # fmt: skip


def global_id(type_name: str, key: int) -> str:
    """dxlink's global id: base64url of `Type:key`, without padding."""
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def _dataset_page(
    key: int, identifier: str, title: str, description: str | None, keywords: list[str],
    themes: list[str], license: str, license_info: dict[str, Any] | None,
    issued_on: str | None, modified_on: str | None, update_frequency: str | None,
    version: int, publishers: list[dict[str, Any]], standard: dict[str, Any] | None,
    distributions: list[dict[str, Any]],
) -> tuple[Any, ...]:  # fmt: skip
    return (
        key, identifier, title, description, keywords, themes, license,
        license_info and (license_info["name"], license_info["url"]),
        issued_on, modified_on, update_frequency, version,
        sorted((p["code"], p["name"]) for p in publishers),
        standard and (standard["key"], standard["name"]),
        [
            # PostGraphile gives BigInt as a string.
            (d["title"], d["accessUrl"], d["mediaType"], d["format"],
             None if d["byteSize"] is None else int(d["byteSize"]))
            for d in distributions
        ],
    )  # fmt: skip


def _dataset_dx(data: dict[str, Any]) -> Any:
    d = data["dataset"]
    if d is None:
        return None
    key = int(base64.urlsafe_b64decode(d["id"] + "==").decode().partition(":")[2])
    return _dataset_page(
        key, d["identifier"], d["title"], d["description"], d["keywords"], d["themes"],
        d["license"], d["licenseInfo"], d["issuedOn"], d["modifiedOn"], d["updateFrequency"],
        d["version"], d["publishers"], d["standardDataset"], d["distributions"],
    )  # fmt: skip


def _dataset_pg(data: dict[str, Any]) -> Any:
    d = data["datasetByRowId"]
    if d is None:
        return None
    publishers = [
        link["municipalityByMunicipalityId"] for link in d["datasetPublishersByDatasetId"]["nodes"]
    ]
    return _dataset_page(
        d["rowId"], d["identifier"], d["title"], d["description"], d["keywords"], d["themes"],
        d["license"], d["licenseByLicense"], d["issuedOn"], d["modifiedOn"],
        d["updateFrequency"], d["version"], publishers,
        d["standardDatasetByStandardDatasetId"], d["distributionsByDatasetId"]["nodes"],
    )  # fmt: skip


def _dataset_of(shape: Shape, picked: dict[str, Any]) -> Shape:
    """The dataset page shape for the dataset the floor picked."""
    key = int(picked["id"])
    dataset_id = global_id("Dataset", key)
    return replace(
        shape,
        dxlink={"query": DATASET, "variables": {"id": dataset_id}},
        floor="/dataset?" + urlencode({"id": dataset_id}),
        postgraphile={"query": PG_DATASET, "variables": {"rowId": key}},
    )


def _tiers_dx(data: dict[str, Any]) -> Any:
    return [(c["tier"]["level"], c["tier"]["name"], c["count"]) for c in data["tierDistribution"]]


def _tiers_pg(data: dict[str, Any]) -> Any:
    counts = {c["level"]: int(c["municipalities"]) for c in data["dxlinkTierCounts"]["nodes"]}
    tiers = data["allSupportTiers"]["nodes"]
    return [(t["level"], t["name"], counts[t["level"]]) for t in tiers if t["level"] in counts]


def _kpi_dx(data: dict[str, Any]) -> Any:
    k = data["kpiProgress"]
    return k["inTarget"], k["share"], [(r["region"]["name"], r["share"]) for r in k["regions"]]


def _kpi_pg(data: dict[str, Any]) -> Any:
    rows = {r["regionId"]: r for r in data["dxlinkKpiByRegion"]["nodes"]}

    def share(row: dict[str, Any]) -> float | None:
        whole = int(row["municipalities"])
        return int(row["inTarget"]) / whole if whole else None

    top = rows[None]
    regions = [(r["name"], share(rows[r["rowId"]])) for r in data["allRegions"]["nodes"]]
    return int(top["inTarget"]), share(top), regions


def _history(snapshot_on: str, tier: dict[str, Any], computed: Any, overridden: bool,
             reason: str | None) -> tuple[Any, ...]:  # fmt: skip
    return (
        snapshot_on,
        tier["level"],
        tier["name"],
        (computed or {}).get("level"),
        overridden,
        reason,
    )


def _dashboard_dx(data: dict[str, Any]) -> Any:
    m = data["municipality"]
    history = [
        _history(t["snapshotOn"], t["tier"], t["computedTier"], t["overridden"], t["reason"])
        for t in m["tierHistory"]
    ]
    tier = m["tier"] and (m["tier"]["tier"]["level"], m["tier"]["tier"]["name"])
    score = m["latestScore"] and _score(m["latestScore"]["total"], m["latestScore"]["sections"])
    return m["code"], m["name"], tier, history, score


def _score(total: Any, sections: list[dict[str, Any]]) -> Any:
    # PostGraphile's numeric is a string: compared as a number.
    return float(total), [(s["key"], float(s["score"])) for s in sections]


def _dashboard_pg(data: dict[str, Any]) -> Any:
    m = data["municipalityByCode"]
    history = [
        _history(t["snapshotOn"], t["supportTierByLevel"], t["supportTierByComputedLevel"],
                 t["overridden"], t["reason"])
        for t in m["tierAssignmentsByMunicipalityId"]["nodes"]
    ]  # fmt: skip
    tier = history[0][1:3] if history else None
    scores = m["assessmentScoresByMunicipalityId"]["nodes"]
    score = scores and _score(
        scores[0]["total"], scores[0]["assessmentSectionScoresByResponseId"]["nodes"]
    )
    return m["code"], m["name"], tier, history, score or None


def _wg_board_dx(data: dict[str, Any]) -> Any:
    groups = [
        (
            g["slug"], g["name"], g["kind"], g["status"], g["theme"],
            (g["region"] or {}).get("name"), (g["leadMunicipality"] or {}).get("name"),
            g["ledByPrefecture"], g["memberCount"],
            [(d["code"], d["title"]) for d in g["goals"]],
            [((m["municipality"] or {}).get("code"), m["contactRole"]) for m in g["members"]],
            [(o["title"], o["url"], o["published"]) for o in g["outputs"]],
        )
        for g in _nodes(data["workingGroups"])
    ]  # fmt: skip
    c = data["participationCoverage"]
    regions = [(r["region"]["name"], r["participating"], r["share"]) for r in c["regions"]]
    return groups, (c["municipalities"], c["participating"], c["share"], regions)


def _wg_board(principal: str) -> Shape:
    who = "the public" if principal == "public" else "a member municipality's staff"
    return Shape(
        key="wg-board" if principal == "public" else "wg-board-staff",
        label=f"WG board: 20 active working groups and the participation coverage ({who})",
        dxlink={"query": WG_BOARD, "variables": {"first": WG_BOARD_FIRST}},
        floor="/wg-board?" + urlencode({"first": WG_BOARD_FIRST, "as": principal}),
        dxlink_data=_wg_board_dx,
        postgraphile_note="— (not written)",
        principal=principal,
    )


def _next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}-01"


def _nested(n: int) -> Shape:
    return Shape(
        key=f"nested-{n}",
        label=f"first {n} municipalities with region and 10 newest datasets",
        dxlink={"query": NESTED, "variables": {"n": n}},
        floor=f"/nested?n={n}",
        dxlink_data=_nested_dx,
        postgraphile={"query": PG_NESTED, "variables": {"n": n}},
        postgraphile_data=_nested_pg,
    )


SHAPES: list[Shape] = [
    *(_nested(n) for n in (5, 20, 100)),
    Shape(
        key="one",
        label="one municipality with everything",
        dxlink={"query": ONE},
        floor="/one?code=302015",
        dxlink_data=_one_dx,
        postgraphile={"query": PG_ONE},
        postgraphile_data=_one_pg,
    ),
    Shape(
        key="regions",
        label="regions with their municipalities",
        dxlink={"query": REGIONS},
        floor="/regions",
        dxlink_data=_regions_dx,
        postgraphile={"query": PG_REGIONS},
        postgraphile_data=_regions_pg,
    ),
    Shape(
        key="search",
        label="municipality search by name/kana",
        dxlink={"query": SEARCH, "variables": {"q": SEARCH_TERM}},
        floor="/search?" + urlencode({"q": SEARCH_TERM, "first": 20}),
        dxlink_data=_search_dx,
        postgraphile={"query": PG_SEARCH, "variables": {"q": SEARCH_TERM}},
        postgraphile_data=_search_pg,
    ),
    Shape(
        key="region",
        label="municipalities of one region (`municipalities(region: ...)`)",
        dxlink={"query": IN_REGION, "variables": {"region": REGION_NAME}},
        floor="/region?" + urlencode({"name": REGION_NAME, "first": 20}),
        dxlink_data=_in_region_dx,
        postgraphile={"query": PG_IN_REGION, "variables": {"region": REGION_NAME}},
        postgraphile_data=_in_region_pg,
    ),
    Shape(
        key="calendar",
        label="dispatch calendar: 50 assignments of a month with municipality, expert, sessions",
        dxlink={"query": CALENDAR, "variables": {"month": CALENDAR_MONTH}},
        floor="/calendar?" + urlencode({"month": CALENDAR_MONTH, "first": 50}),
        dxlink_data=_calendar_dx,
        postgraphile={
            "query": PG_CALENDAR,
            "variables": {"first": f"{CALENDAR_MONTH}-01", "next": _next_month(CALENDAR_MONTH)},
        },
        postgraphile_data=_calendar_pg,
        principal="dispatch_coordinator",
    ),
    Shape(
        key="dataset",
        label="dataset page: one dataset with license, publishers, standard, distributions",
        # Completed with the dataset the floor picks (`pick`); no request is sent before.
        dxlink={"query": DATASET, "variables": {"id": None}},
        floor="/dataset",
        dxlink_data=_dataset_dx,
        postgraphile={"query": PG_DATASET, "variables": {"rowId": None}},
        postgraphile_data=_dataset_pg,
        pick=("/dataset/pick", _dataset_of),
    ),
    Shape(
        key="tiers",
        label="tier distribution of a snapshot month (`tierDistribution(snapshot:)`)",
        dxlink={"query": TIERS, "variables": {"snapshot": TIER_SNAPSHOT}},
        floor="/tiers?" + urlencode({"snapshot": TIER_SNAPSHOT}),
        dxlink_data=_tiers_dx,
        postgraphile={"query": PG_TIERS, "variables": {"snapshotOn": f"{TIER_SNAPSHOT}-30"}},
        postgraphile_data=_tiers_pg,
    ),
    Shape(
        key="kpi",
        label="KPI progress of a snapshot month, prefecture-wide and per region (prefecture staff)",
        dxlink={"query": KPI, "variables": {"snapshot": TIER_SNAPSHOT}},
        floor="/kpi?" + urlencode({"snapshot": TIER_SNAPSHOT}),
        dxlink_data=_kpi_dx,
        postgraphile={"query": PG_KPI, "variables": {"month": f"{TIER_SNAPSHOT}-01"}},
        postgraphile_data=_kpi_pg,
        principal="prefecture_admin",
    ),
    Shape(
        key="dashboard",
        label="municipality dashboard: tier, tier history and latest score (prefecture staff)",
        dxlink={"query": DASHBOARD, "variables": {"code": DASHBOARD_CODE}},
        floor="/dashboard?" + urlencode({"code": DASHBOARD_CODE}),
        dxlink_data=_dashboard_dx,
        postgraphile={"query": PG_DASHBOARD, "variables": {"code": DASHBOARD_CODE}},
        postgraphile_data=_dashboard_pg,
        principal="prefecture_admin",
    ),
    _wg_board("public"),
    _wg_board("municipal_staff"),
    Shape(
        key="resolvers",
        label="the nested query (N=20) through the resolvers",
        dxlink={"query": NESTED, "variables": {"n": 20}},
        floor="/nested?n=20",
        dxlink_data=_nested_dx,
        headers={"X-Dxlink-Executor": "resolvers"},
        postgraphile_note="(see N=20)",
    ),
]
