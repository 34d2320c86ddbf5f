"""`dxlink seed --demo`: a dispatch calendar to read right away, every record flagged synthetic,
within every rule the mutations enforce; a second run adds nothing; `--remove` deletes the
synthetic rows and nothing else.

The command runs as a user runs it (`service.cli.main` on DATABASE_URL) against scratch
databases, since it commits: one owned by the server's superuser and read through the API, and
one owned by a login that is no superuser (a managed PostgreSQL, where row-level security holds
the owner too), which holds real dispatch rows beside the demo.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import logging
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.principal import Role
from auth.tokens import mint_token
from seeds import demo, demo_assessment
from seeds.demo_loader import SUBJECT
from seeds.demo_working_groups import TABLES as WORKING_GROUP_TABLES
from service.app import create_app
from service.cli import main as cli_main
from service.database import API_ROLE, Database
from service.dispatch.repository import first_month_over
from service.models import Base
from service.settings import Settings, get_settings
from tests.database import scratch_database
from tests.test_serve import _free_port, _stop, _wait_ready

DISPATCH = (
    "dispatch_programme",
    "expert",
    "expert_availability",
    "dispatch_request",
    "dispatch_assignment",
    "dispatch_visit",
    # The demo catalog.
    "dataset",
    "dataset_publisher",
    "distribution",
    # The demo's 2024-04 assessment and its tier snapshots.
    "assessment_response",
    "assessment_answer",
    "assessment_answer_option",
    "tier_assignment",
    # The demo's rubric (its weights, points and thresholds go with it).
    "assessment_rubric",
)
RUBRIC_PARTS = (
    "assessment_rubric_section",
    "assessment_rubric_option",
    "assessment_rubric_threshold",
)
CALENDAR = """
query($month: String!) {
  assignments(month: $month, first: 100) {
    totalCount
    edges { node {
      synthetic status startsOn endsOn
      municipality { code }
      expert { name synthetic }
      request { synthetic }
      programme { fiscalYear synthetic }
      sessions { startsAt mode place status synthetic }
    } }
  }
}
"""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def dxlink(url: str, settings: Settings, data_dir: Path, *argv: str, **env: str) -> int:
    """`dxlink <argv>` in this process on the database ``url``; its exit code."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("DXLINK_DATA_DIR", str(data_dir))
        patch.setenv("DXLINK_DB_RUNTIME_PASSWORD", settings.db_runtime_password.get_secret_value())
        for name, value in env.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        # The command points the root logger at this test's captured stderr: put it back.
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            return cli_main(list(argv))
        finally:
            get_settings.cache_clear()
            root.handlers[:] = handlers
            root.setLevel(level)


async def _rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(_libpq(url))
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('dxlink.maintenance', 'on', true)")
            return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def _counts(url: str, condition: str = "true") -> dict[str, int]:
    counts = {}
    for table in DISPATCH:
        rows = await _rows(url, f"SELECT count(*) FROM {table} WHERE {condition}")
        counts[table] = rows[0][0]
    return counts


async def _audited_working_groups(url: str) -> dict[str, int]:
    """The demo's working groups' synthetic rows, of the tables the audit trigger watches."""
    names = [t.name for t in WORKING_GROUP_TABLES]
    audited = await _rows(
        url,
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = 'audit' AND c.relname = ANY($1::text[])",
        names,
    )
    return {
        r["relname"]: (await _rows(url, f"SELECT count(*) FROM {r['relname']} WHERE synthetic"))[0][
            0
        ]
        for r in audited
    }


async def _all_counts(url: str) -> dict[str, int]:
    return {
        table: (await _rows(url, f"SELECT count(*) FROM {table}"))[0][0]
        for table in Base.metadata.tables
    }


# --- the demo on a database of the server's superuser, read through the API --------------------


@dataclass
class Seeded:
    url: str
    started: datetime  # when the command started: sessions ended before it are held
    data_dir: Path


@pytest.fixture(scope="module")
async def demo_url(pg_server: str) -> AsyncIterator[str]:
    async with scratch_database(pg_server, "demo") as url:
        yield url


@pytest.fixture(scope="module")
def seeded(demo_url: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    data_dir = tmp_path_factory.mktemp("demo-data")
    started = datetime.now(demo.JST)
    assert dxlink(demo_url, settings, data_dir, "seed", "--demo") == 0
    return Seeded(demo_url, started, data_dir)


@pytest.fixture(scope="module")
async def api(seeded: Seeded, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    database = Database.from_settings(seeded.url, settings)
    app = create_app(settings, database=database)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
    finally:
        await database.dispose()


async def _calendar(
    api: httpx.AsyncClient, settings: Settings, role: Role, month: str, **scope: str
) -> dict[str, Any]:
    token = mint_token(settings, role=role, subject=f"demo-{role.value}", scope=scope)
    response = await api.post(
        "/graphql",
        json={"query": CALENDAR, "variables": {"month": month}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["assignments"]


async def test_a_coordinator_reads_a_whole_calendar_of_synthetic_records(
    api: httpx.AsyncClient, settings: Settings, seeded: Seeded
) -> None:
    calendar = await _calendar(api, settings, Role.dispatch_coordinator, "2026-11")
    nodes = [edge["node"] for edge in calendar["edges"]]
    assert calendar["totalCount"] == len(nodes) >= 12
    assert len({n["municipality"]["code"] for n in nodes}) >= 12
    for node in nodes:
        assert node["synthetic"]
        assert node["request"]["synthetic"]
        assert node["programme"] == {"fiscalYear": 2026, "synthetic": True}
        assert node["expert"]["synthetic"]
        assert node["expert"]["name"].startswith("デモ ")
        assert node["startsOn"] <= "2026-11-30"
        assert node["endsOn"] >= "2026-11-01"
        sessions = node["sessions"]
        assert sessions
        assert all(s["synthetic"] for s in sessions)
        november = [s for s in sessions if s["startsAt"].startswith("2026-11")]
        assert november, node  # every assignment running in November meets in it
        for session in sessions:
            starts = datetime.fromisoformat(session["startsAt"])
            if starts + timedelta(hours=2) < seeded.started:
                assert session["status"] in ("HELD", "CANCELLED"), session
            elif starts > datetime.now(demo.JST):
                assert session["status"] in ("PLANNED", "CANCELLED"), session
            if session["mode"] == "ON_SITE":
                assert session["place"].endswith("会議室")
        first = next(s for s in sessions if s["status"] != "CANCELLED")
        assert first["mode"] == "ON_SITE"


async def test_a_municipality_reads_its_own_calendar_only(
    api: httpx.AsyncClient, settings: Settings, seeded: Seeded
) -> None:
    everyone = await _calendar(api, settings, Role.dispatch_coordinator, "2026-11")
    by_code: dict[str, int] = defaultdict(int)
    for edge in everyone["edges"]:
        by_code[edge["node"]["municipality"]["code"]] += 1
    code = sorted(by_code)[0]
    own = await _calendar(api, settings, Role.municipal_staff, "2026-11", municipality=code)
    assert own["totalCount"] == by_code[code] >= 1
    for edge in own["edges"]:
        assert edge["node"]["municipality"]["code"] == code
        assert edge["node"]["synthetic"]
        assert all(s["synthetic"] for s in edge["node"]["sessions"])
    # A municipality the demo gave no assignment sees none.
    codes = [r["code"] for r in await _rows(seeded.url, "SELECT code FROM municipality")]
    other = next(c for c in sorted(codes) if c not in by_code)
    none = await _calendar(api, settings, Role.municipal_staff, "2026-11", municipality=other)
    assert none == {"totalCount": 0, "edges": []}


async def test_the_demo_keeps_every_rule_of_the_mutations(seeded: Seeded) -> None:
    url = seeded.url
    (programme,) = await _rows(url, "SELECT * FROM dispatch_programme")
    assert programme["synthetic"]
    assert programme["fiscal_year"] == 2026
    assert (programme["starts_on"], programme["ends_on"]) == (date(2026, 6, 1), date(2027, 2, 28))
    assert programme["themes"] == ["DX推進計画", "生成AI", "情報システム標準化"]
    assert (programme["sessions_per_month_target"], programme["sessions_per_month_max"]) == (4, 6)
    assert programme["first_session_on_site"]
    assert programme["confirmation_required"]
    experts = {r["id"]: r for r in await _rows(url, "SELECT * FROM expert")}
    windows = defaultdict(list)
    for r in await _rows(url, "SELECT * FROM expert_availability"):
        windows[r["expert_id"]].append((r["starts_on"], r["ends_on"]))
    assignments = {r["id"]: r for r in await _rows(url, "SELECT * FROM dispatch_assignment")}
    requests = {r["id"]: r for r in await _rows(url, "SELECT * FROM dispatch_request")}
    sessions = await _rows(
        url,
        "SELECT v.*, (v.starts_at AT TIME ZONE 'Asia/Tokyo')::date AS day FROM dispatch_visit v "
        "ORDER BY v.starts_at",
    )
    assert len(experts) == 12
    assert len(requests) == 20
    assert len(assignments) >= 14
    assert len(sessions) >= 4 * 6 * len(assignments) * 0.8

    # Assignments: theme covered, inside the programme, one running per request, capacity.
    bookings = defaultdict(list)
    for a in assignments.values():
        assert a["theme"] in experts[a["expert_id"]]["themes"]
        assert a["theme"] in programme["themes"]
        assert a["theme"] == requests[a["request_id"]]["theme"]
        assert programme["starts_on"] <= a["starts_on"] <= a["ends_on"] <= programme["ends_on"]
        bookings[a["expert_id"]].append((a["starts_on"], a["ends_on"], 4))
    for expert_id, booked in bookings.items():
        assert first_month_over(booked, experts[expert_id]["monthly_capacity"]) is None
    running = [a["request_id"] for a in assignments.values() if a["status"] != "ENDED"]
    assert len(running) == len(set(running))
    for request in requests.values():
        expected = "MATCHED" if request["id"] in running else request["status"]
        assert request["status"] == expected
        assert expected in ("MATCHED", "OPEN", "WITHDRAWN")
    assert {r["status"] for r in requests.values()} == {"MATCHED", "OPEN", "WITHDRAWN"}
    assert sum(a["status"] == "ENDED" for a in assignments.values()) == 1

    # Sessions: inside the assignment and the expert's availability, no overlaps, the monthly
    # maximum, the first held one on site, reports on held ones only.
    by_expert = defaultdict(list)
    per_month: dict[tuple[int, date], int] = defaultdict(int)
    first_held: dict[int, str] = {}
    for s in sessions:
        a = assignments[s["assignment_id"]]
        assert a["starts_on"] <= s["day"] <= a["ends_on"]
        assert any(start <= s["day"] <= end for start, end in windows[a["expert_id"]])
        assert s["day"].weekday() < 5
        assert s["day"] not in demo.HOLIDAYS
        if s["status"] != "CANCELLED":
            by_expert[a["expert_id"]].append((s["starts_at"], s["ends_at"]))
            per_month[(a["id"], s["day"].replace(day=1))] += 1
        if s["status"] == "HELD":
            first_held.setdefault(a["id"], s["mode"])
            assert s["report"]
            assert s["reported_at"]
            assert s["hours"] > 0
            assert s["starts_at"] < seeded.started
        else:
            assert s["report"] is None
            assert s["confirmed_at"] is None
        assert (s["confirmed_at"] is None) == (s["confirmed_by"] is None)
        assert (s["status"] == "CANCELLED") == (s["cancelled_reason"] is not None)
        assert (s["mode"] == "ON_SITE") == (s["place"] is not None)
    for spans in by_expert.values():
        for (_, ended), (started, _) in itertools.pairwise(spans):
            assert ended <= started, spans
    assert max(per_month.values()) <= programme["sessions_per_month_max"]
    assert set(first_held.values()) == {"ON_SITE"}
    statuses = {s["status"] for s in sessions}
    assert "CANCELLED" in statuses
    # (While the programme runs: held sessions behind, planned ones ahead.)
    if (
        datetime(2026, 6, 10, tzinfo=demo.JST)
        < seeded.started
        < datetime(2027, 2, 1, tzinfo=demo.JST)
    ):
        assert statuses == {"HELD", "PLANNED", "CANCELLED"}
        confirmed = [s["confirmed_at"] is not None for s in sessions if s["status"] == "HELD"]
        assert any(confirmed)
        assert not all(confirmed)


async def test_every_demo_record_is_synthetic_and_audited_as_the_demo(seeded: Seeded) -> None:
    counts = await _counts(seeded.url)
    assert await _counts(seeded.url, "synthetic") == counts
    audit = await _rows(
        seeded.url,
        "SELECT entity, action, actor_subject, actor_role, after ->> 'synthetic' AS synthetic, "
        "after ->> 'rubric_id' AS rubric_id FROM audit_log",
    )
    # The dispatch demo as the prefecture; each catalog entry as its own municipality's staff.
    actors = {(r["actor_subject"], r["actor_role"]) for r in audit}
    assert (SUBJECT, "prefecture_admin") in actors
    assert {role for subject, role in actors if subject != SUBJECT} == {"municipal_staff"}
    assert all(subject.startswith(SUBJECT) for subject, _ in actors)
    inserted = defaultdict(int)
    demo_rubrics = {
        str(r["id"]) for r in await _rows(seeded.url, "SELECT id FROM assessment_rubric")
    }
    parts = {}
    for record in audit:
        if record["entity"] in RUBRIC_PARTS:
            # A rubric's weights, points and thresholds are demo data as their rubric is.
            assert record["rubric_id"] in demo_rubrics, record
            parts[record["entity"]] = parts.get(record["entity"], 0) + 1
            continue
        if record["entity"] == "assessment_round":
            # The rounds the demo rubric scores name it (reference rows, not demo data).
            assert (record["action"], record["rubric_id"]) == ("update", *demo_rubrics), record
            parts["assessment_round"] = parts.get("assessment_round", 0) + 1
            continue
        assert record["synthetic"] == "true", record
        inserted[record["entity"]] += record["action"] == "insert"
    # The demo's working groups (seeds/demo_working_groups.py), where the audit watches them.
    assert dict(inserted) == {**counts, **await _audited_working_groups(seeded.url)}
    assert parts == {
        **{
            table: (await _rows(seeded.url, f"SELECT count(*) FROM {table}"))[0][0]
            for table in RUBRIC_PARTS
        },
        "assessment_round": len(demo_assessment.RUBRIC_ROUNDS),
    }


AGGREGATE = """
query($question: String!) {
  assessmentAggregate(round: "2024-04", questionId: $question) { option count }
}
"""
DISTRIBUTION = """
query($snapshot: String!) {
  tierDistribution(snapshot: $snapshot) { snapshotOn tier { level } count }
}
"""
PUBLISHED = Path(__file__).resolve().parents[1] / "seeds" / "data" / "published_results.csv"


def _published() -> list[dict[str, str]]:
    with PUBLISHED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


async def _as_prefecture(
    api: httpx.AsyncClient, settings: Settings, query: str, **variables: str
) -> dict[str, Any]:
    token = mint_token(settings, role=Role.prefecture_admin, subject="demo-prefecture")
    response = await api.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.mark.parametrize(
    "question", ["0-1", "1-1", "2-3", "2-4", "3-4", "3-9", "3-12", "4-1", "4-2"]
)
async def test_the_demo_s_answers_add_up_to_the_published_counts(
    api: httpx.AsyncClient, settings: Settings, question: str
) -> None:
    rows = [r for r in _published() if r["survey"] == "2024-04 assessment"]
    published = {r["option"]: int(r["count"]) for r in rows if r["question_id"] == question}
    assert published, question
    data = await _as_prefecture(api, settings, AGGREGATE, question=question)
    counts = {c["option"]: c["count"] for c in data["assessmentAggregate"]}
    # Every option the report counted, with its count (the prefecture sees exact counts).
    chosen = {o: n for o, n in published.items() if not o.startswith("(")}
    assert counts == chosen
    # What the report counts beside the options: 2-3's one municipality without an answer, and
    # 4-2's two free-text answers (no option to choose; the demo leaves them out).
    apart = {o: n for o, n in published.items() if o.startswith("(")}
    if question == "2-3":
        assert apart == {"(no answer)": 1}
        assert sum(counts.values()) + 1 == 30
    elif question == "4-2":
        assert set(apart) == {"(other: free text 1)", "(other: free text 2)"}
    else:
        assert apart == {}
        if question != "2-4":  # asked only after 2-3's 設置済み or 設置する予定がある
            assert sum(counts.values()) == 30


@pytest.mark.parametrize("snapshot", ["2023-11", "2024-11"])
async def test_the_demo_s_tiers_reproduce_the_published_distribution(
    api: httpx.AsyncClient, settings: Settings, snapshot: str
) -> None:
    published = {
        int(r["option"].split()[0]): int(r["count"])
        for r in _published()
        if r["survey"] == f"tiers {snapshot}"
    }
    assert set(published) == {1, 2, 3, 4}
    data = (await _as_prefecture(api, settings, DISTRIBUTION, snapshot=snapshot))[
        "tierDistribution"
    ]
    assert {c["snapshotOn"] for c in data} == {f"{snapshot}-30"}
    assert {c["tier"]["level"]: c["count"] for c in data} == published


SCORE = """
query($code: String!) {
  municipality(code: $code) {
    latestScore { total maxTotal rubric { key synthetic } computedTier { level }
      sections { key score } explanation { question { key } option { label } points } }
    assessmentResponses { synthetic answers { question { key } options { label } } }
  }
}
"""


async def test_the_demo_s_responses_are_scored_by_a_synthetic_rubric(
    api: httpx.AsyncClient, settings: Settings, seeded: Seeded
) -> None:
    """Each demo response's score is the demo rubric's points of its answers: 10 for the first
    option of each scored question down to 0 for the last, one question per section."""
    codes = [r["code"] for r in await _rows(seeded.url, "SELECT code FROM municipality")]
    totals = []
    for code in codes:
        data = (await _as_prefecture(api, settings, SCORE, code=code))["municipality"]
        score = data["latestScore"]
        assert score["rubric"] == {"key": demo_assessment.RUBRIC_KEY, "synthetic": True}
        (response,) = data["assessmentResponses"]
        chosen = {a["question"]["key"]: a["options"] for a in response["answers"]}
        expected = []
        for key in demo_assessment.RUBRIC_QUESTIONS:
            if key not in chosen:
                continue  # not every municipality answered every question
            (label,) = (o["label"] for o in chosen[key])
            expected.append({"question": {"key": key}, "option": {"label": label}})
        assert [{k: e[k] for k in ("question", "option")} for e in score["explanation"]] == (
            expected
        )
        assert 0 <= score["total"] == round(sum(e["points"] for e in score["explanation"]), 2)
        assert score["maxTotal"] == 10 * len(demo_assessment.RUBRIC_QUESTIONS)
        assert score["total"] == round(sum(s["score"] for s in score["sections"]), 2)
        top = score["maxTotal"]
        assert score["computedTier"]["level"] == 1 + sum(
            score["total"] >= top * k / 4 for k in (1, 2, 3)
        )
        totals.append(score["total"])
    assert len(set(totals)) > 1  # the answers differ, and so do the scores


HISTORY = """
query($code: String!) {
  municipality(code: $code) {
    tierHistory { snapshotOn synthetic overridden tier { level } computedTier { level } }
  }
}
"""


async def test_the_demo_s_tiers_never_drop_and_are_flagged_synthetic(
    api: httpx.AsyncClient, settings: Settings, seeded: Seeded
) -> None:
    codes = [r["code"] for r in await _rows(seeded.url, "SELECT code FROM municipality")]
    rises = []
    for code in codes:
        data = await _as_prefecture(api, settings, HISTORY, code=code)
        history = data["municipality"]["tierHistory"]
        assert [h["snapshotOn"] for h in history] == ["2024-11-30", "2023-11-30"]
        assert all(h["synthetic"] and not h["overridden"] for h in history)
        assert all(h["tier"] == h["computedTier"] for h in history)
        after, before = (h["tier"]["level"] for h in history)
        rises.append(after - before)
    assert min(rises) >= 0
    assert max(rises) <= 2


async def test_the_demo_s_responses_are_submitted_in_the_round_by_their_staff(
    seeded: Seeded,
) -> None:
    rows = await _rows(
        seeded.url,
        "SELECT r.status, r.synthetic, r.submitted_at, r.version, "
        "(SELECT array_agg(DISTINCT actor_subject) FROM audit_log a "
        " WHERE a.entity = 'assessment_response' AND (a.after ->> 'id')::bigint = r.id) AS actors, "
        "m.code FROM assessment_response r JOIN municipality m ON m.id = r.municipality_id",
    )
    assert len(rows) == 30
    for row in rows:
        assert row["status"] == "SUBMITTED"
        assert row["synthetic"]
        day = row["submitted_at"].astimezone(demo.JST).date()
        assert date(2024, 4, 22) <= day <= date(2024, 5, 7)
        assert row["actors"] == [f"{SUBJECT}-{row['code']}"]


RESPONSES = """
query($code: String!) {
  municipality(code: $code) {
    assessmentResponses {
      synthetic status round { key } answers { synthetic question { key } options { label } }
    }
  }
}
"""


async def test_a_municipality_reads_its_demo_response_flagged_synthetic(
    api: httpx.AsyncClient, settings: Settings, seeded: Seeded
) -> None:
    codes = sorted(r["code"] for r in await _rows(seeded.url, "SELECT code FROM municipality"))
    for code in (codes[0], codes[-1]):
        token = mint_token(
            settings, role=Role.municipal_staff, subject="s", scope={"municipality": code}
        )
        data = await _graphql(api, RESPONSES, {"code": code}, token)
        (response,) = data["municipality"]["assessmentResponses"]
        assert response["synthetic"]
        assert response["status"] == "SUBMITTED"
        assert response["round"] == {"key": "2024-04"}
        keys = [a["question"]["key"] for a in response["answers"]]
        assert set(keys) <= {"0-1", "1-1", "2-3", "2-4", "3-4", "3-9", "3-12", "4-1", "4-2"}
        assert {"0-1", "1-1", "3-4", "3-9", "3-12", "4-1", "4-2"} <= set(keys)  # required
        assert all(a["synthetic"] and a["options"] for a in response["answers"])


CATALOG = """
query($search: String) {
  datasets(search: $search, first: 100) {
    totalCount
    facets { publishers { value count } }
    nodes { identifier title status synthetic publishers { code }
      distributions { format columns synthetic } standardDataset { key } }
  }
  openDataPublishersByYear { fiscalYear municipalities newMunicipalities }
  openDataCoverage { municipality { code } standardDataset { key } datasets }
}
"""


async def _graphql(
    api: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = await api.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def test_the_demo_catalog_shows_the_programme_s_open_data(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    public = await _graphql(api, CATALOG, {})
    datasets = public["datasets"]["nodes"]
    # Thirteen municipalities publish (8 from FY2023, 5 more in FY2024), every record synthetic.
    assert len(public["datasets"]["facets"]["publishers"]) == 13
    assert all(d["synthetic"] and d["status"] == "PUBLISHED" for d in datasets)
    assert all(x["synthetic"] for d in datasets for x in d["distributions"])
    years = {y["fiscalYear"]: y for y in public["openDataPublishersByYear"]}
    assert years[2023]["municipalities"] == 8
    assert years[2024] == {"fiscalYear": 2024, "municipalities": 13, "newMunicipalities": 5}
    # A joint regional dataset, public once both cities approved; the pending one is not.
    joint = [d for d in datasets if len(d["publishers"]) > 1]
    assert [[p["code"] for p in d["publishers"]] for d in joint] == [["302015", "302023"]]
    assert not any("西牟婁" in d["title"] for d in datasets)
    # Standard datasets with their standard's columns, and the Japanese search over them.
    aed = next(d for d in datasets if d["standardDataset"] == {"key": "A-08"})
    assert {"名称", "名称_カナ", "住所", "設置位置"} <= set(aed["distributions"][0]["columns"])
    found = await _graphql(api, CATALOG, {"search": "避難所"})
    assert "指定緊急避難場所一覧（海草地域 共同）" in [
        d["title"] for d in found["datasets"]["nodes"]
    ]
    assert len(public["openDataCoverage"]) >= 30
    # 白浜町's staff see the dataset waiting for their approval.
    token = mint_token(settings, role=Role.municipal_staff, subject="demo-shirahama",
                       scope={"municipality": "304018"})  # fmt: skip
    own = await _graphql(api, CATALOG, {"search": "西牟婁"}, token)
    assert [(d["title"], d["status"]) for d in own["datasets"]["nodes"]] == [
        ("観光施設一覧（西牟婁地域 共同）", "PENDING_APPROVAL")
    ]


def test_a_second_run_adds_nothing_and_says_so(
    seeded: Seeded, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = asyncio.run(_all_counts(seeded.url))
    capsys.readouterr()
    assert dxlink(seeded.url, settings, seeded.data_dir, "seed", "--demo") == 0
    err = capsys.readouterr().err
    assert "demo data is there already" in err, err
    assert "nothing written" in err
    assert asyncio.run(_all_counts(seeded.url)) == before


def test_serve_with_demo_serves_the_calendar(seeded: Seeded, settings: Settings) -> None:
    """`./scripts/serve --demo` passes `--demo` to `dxlink serve`: the demo (here present
    already: nothing written), then the API with the calendar."""
    assert settings.jwt_secret is not None
    assert settings.db_runtime_password is not None
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env |= {
        "DATABASE_URL": seeded.url,
        "DXLINK_DATA_DIR": str(seeded.data_dir),
        "DXLINK_DB_RUNTIME_PASSWORD": settings.db_runtime_password.get_secret_value(),
        "DXLINK_JWT_ALGORITHMS": "HS256",
        "DXLINK_JWT_SECRET": settings.jwt_secret.get_secret_value(),
    }
    port, log = _free_port(), seeded.data_dir / "serve.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(port, server, log)
        token = mint_token(settings, role=Role.dispatch_coordinator, subject="demo-serve")
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": CALENDAR, "variables": {"month": "2026-11"}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        nodes = [e["node"] for e in response.json()["data"]["assignments"]["edges"]]
        assert len(nodes) >= 12
        assert all(n["synthetic"] and n["expert"]["synthetic"] for n in nodes)
    finally:
        _stop(server)
    assert "demo data is there already" in log.read_text()


def test_the_plan_is_the_same_whenever_it_is_made() -> None:
    towns = [demo.Municipality(f"30{n:04d}", f"デモ町{n}", "TOWN") for n in range(30)]
    december = demo.build_plan(towns, datetime(2026, 12, 1, tzinfo=demo.JST))
    assert demo.build_plan(towns, datetime(2026, 12, 1, tzinfo=demo.JST)) == december
    may = demo.build_plan(towns, datetime(2026, 5, 1, tzinfo=demo.JST))
    assert {s.status for s in may.sessions} == {
        demo.VisitStatus.PLANNED,
        demo.VisitStatus.CANCELLED,
    }

    def calendar(plan: demo.DemoPlan) -> list[tuple[int, datetime, Any]]:
        return [(s.assignment, s.starts_at, s.mode) for s in plan.sessions]

    assert calendar(may) == calendar(december)


# --- removal, on a database whose owner is no superuser, beside real rows --------------------


@dataclass
class Managed:
    url: str  # the owner's
    env: dict[str, str]
    data_dir: Path


@pytest.fixture(scope="module")
async def managed_database(
    pg_server: str, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Managed]:
    """An empty database owned by a login with CREATEROLE only (and a runtime login's name of
    its own, which that owner can create)."""
    # `engine` migrated the suite's main database: the cluster has the API role.
    suffix = uuid.uuid4().hex[:8]
    owner, runtime = f"dxlink_test_demo_owner_{suffix}", f"dxlink_test_demo_app_{suffix}"
    admin = await asyncpg.connect(_libpq(pg_server))
    try:
        await admin.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD 'owner-of-the-demo'")
        await admin.execute(f"GRANT {API_ROLE} TO {owner} WITH ADMIN OPTION")
        async with scratch_database(pg_server, "demo_managed") as url:
            await admin.execute(f'ALTER DATABASE "{make_url(url).database}" OWNER TO {owner}')
            owner_url = (
                make_url(url)
                .set(username=owner, password="owner-of-the-demo")
                .render_as_string(hide_password=False)
            )
            world = Managed(
                owner_url, {"DXLINK_DB_RUNTIME_USER": runtime}, tmp_path_factory.mktemp("dm")
            )
            yield world
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {runtime}")
        await admin.execute(f"DROP ROLE IF EXISTS {owner}")
        await admin.close()


@pytest.fixture(scope="module")
def managed(managed_database: Managed, settings: Settings) -> Managed:
    """The managed database migrated and seeded by `dxlink seed`, holding a real FY2025
    programme with an expert, a request, an assignment and a session."""
    world = managed_database
    assert dxlink(world.url, settings, world.data_dir, "seed", **world.env) == 0
    asyncio.run(_real_rows(world.url))
    return world


async def _real_rows(url: str) -> None:
    connection = await asyncpg.connect(_libpq(url))
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('dxlink.maintenance', 'on', true)")
            programme = await connection.fetchval(
                "INSERT INTO dispatch_programme (fiscal_year, starts_on, ends_on, themes, "
                "sessions_per_month_target) VALUES (2025, '2025-06-01', '2026-02-28', "
                "'{生成AI}', 4) RETURNING id"
            )
            expert = await connection.fetchval(
                "INSERT INTO expert (name, themes, monthly_capacity) "
                "VALUES ('紀州 太郎', '{生成AI}', 4) RETURNING id"
            )
            await connection.execute(
                "INSERT INTO expert_availability (expert_id, starts_on, ends_on) "
                "VALUES ($1, '2025-06-01', '2026-02-28')",
                expert,
            )
            town = await connection.fetchval("SELECT id FROM municipality WHERE code = '302015'")
            request = await connection.fetchval(
                "INSERT INTO dispatch_request (programme_id, municipality_id, theme, status) "
                "VALUES ($1, $2, '生成AI', 'MATCHED') RETURNING id",
                programme,
                town,
            )
            assignment = await connection.fetchval(
                "INSERT INTO dispatch_assignment (request_id, programme_id, expert_id, "
                "municipality_id, theme, starts_on, ends_on, status) VALUES ($1, $2, $3, $4, "
                "'生成AI', '2025-06-01', '2025-11-30', 'ACTIVE') RETURNING id",
                request,
                programme,
                expert,
                town,
            )
            await connection.execute(
                "INSERT INTO dispatch_visit (assignment_id, starts_at, ends_at, mode, status, "
                "place) VALUES ($1, '2025-06-10 10:00+09', '2025-06-10 12:00+09', 'ON_SITE', "
                "'HELD', '和歌山市役所')",
                assignment,
            )
    finally:
        await connection.close()


async def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every non-synthetic dispatch row, and the reference tables' counts."""
    rows = {
        table: [
            tuple(r)
            # By the first two columns: id and more (an answer's options have no id).
            for r in await _rows(url, f"SELECT * FROM {table} WHERE NOT synthetic ORDER BY 1, 2")
        ]
        for table in DISPATCH
    }
    counts = await _all_counts(url)
    for table in (
        "prefecture",
        "region",
        "municipality",
        "assessment_question",
        "assessment_round",
        "support_tier",
    ):
        rows[table] = [(counts[table],)]
    return rows


def test_removal_deletes_the_synthetic_rows_and_nothing_else(
    managed: Managed, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = asyncio.run(_snapshot(managed.url))
    assert dxlink(managed.url, settings, managed.data_dir, "seed", "--demo", **managed.env) == 0
    demo_rows = asyncio.run(_counts(managed.url, "synthetic"))
    assert demo_rows["dispatch_visit"] > 300
    assert demo_rows["expert"] == 12

    # A real session planned on a demo assignment (through the API it would be synthetic
    # false): removal refuses rather than delete it, and removes nothing.
    (assignment,) = asyncio.run(
        _rows(managed.url, "SELECT min(id) FROM dispatch_assignment WHERE synthetic")
    )
    (real,) = asyncio.run(
        _rows(
            managed.url,
            "INSERT INTO dispatch_visit (assignment_id, starts_at, ends_at, mode, status) VALUES "
            "($1, '2027-02-26 10:00+09', '2027-02-26 11:00+09', 'ONLINE', 'PLANNED') RETURNING id",
            assignment[0],
        )
    )
    capsys.readouterr()
    remove = ("seed", "--demo", "--remove")
    assert dxlink(managed.url, settings, managed.data_dir, *remove, **managed.env) == 1
    err = capsys.readouterr().err
    assert f"dispatch_visit {real[0]}" in err, err
    assert "nothing was removed" in err
    assert asyncio.run(_counts(managed.url, "synthetic")) == demo_rows
    asyncio.run(_rows(managed.url, "DELETE FROM dispatch_visit WHERE id = $1", real[0]))

    # The demo rubric's weights, points and thresholds are deleted (and audited) with it.
    rubric_parts = {
        table: asyncio.run(
            _rows(
                managed.url,
                f"SELECT count(*) FROM {table} WHERE rubric_id IN "
                "(SELECT id FROM assessment_rubric WHERE synthetic)",
            )
        )[0][0]
        for table in RUBRIC_PARTS
    }
    assert all(rubric_parts.values())
    working_groups = asyncio.run(_audited_working_groups(managed.url))
    assert dxlink(managed.url, settings, managed.data_dir, *remove, **managed.env) == 0
    assert set((asyncio.run(_counts(managed.url, "synthetic"))).values()) == {0}
    assert asyncio.run(_snapshot(managed.url)) == before
    deleted = asyncio.run(
        _rows(
            managed.url,
            "SELECT entity, count(*) AS n FROM audit_log "
            "WHERE action = 'delete' AND actor_subject = $1 GROUP BY entity",
            SUBJECT,
        )
    )
    assert {r["entity"]: r["n"] for r in deleted} == {
        **{t: n for t, n in demo_rows.items() if n},
        **rubric_parts,
        **working_groups,
    }


def test_a_real_programme_of_the_year_is_left_alone(
    managed: Managed, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    remove = ("seed", "--demo", "--remove")
    assert dxlink(managed.url, settings, managed.data_dir, *remove, **managed.env) == 0
    (programme,) = asyncio.run(
        _rows(
            managed.url,
            "INSERT INTO dispatch_programme (fiscal_year, starts_on, ends_on, themes, "
            "sessions_per_month_target) VALUES (2026, '2026-06-01', '2027-02-28', '{生成AI}', 4) "
            "RETURNING id",
        )
    )
    try:
        capsys.readouterr()
        assert dxlink(managed.url, settings, managed.data_dir, "seed", "--demo", **managed.env) == 1
        err = capsys.readouterr().err
        assert "a real FY2026 programme exists" in err, err
        assert "wrote nothing" in err
        assert set((asyncio.run(_counts(managed.url, "synthetic"))).values()) == {0}
    finally:
        asyncio.run(
            _rows(managed.url, "DELETE FROM dispatch_programme WHERE id = $1", programme[0])
        )


def test_real_tiers_of_a_demo_snapshot_are_left_alone(
    managed: Managed, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    remove = ("seed", "--demo", "--remove")
    assert dxlink(managed.url, settings, managed.data_dir, *remove, **managed.env) == 0
    (tier,) = asyncio.run(
        _rows(
            managed.url,
            "INSERT INTO tier_assignment (municipality_id, snapshot_on, level, overridden) "
            "SELECT min(id), '2024-11-30', 3, false FROM municipality RETURNING id",
        )
    )
    try:
        capsys.readouterr()
        assert dxlink(managed.url, settings, managed.data_dir, "seed", "--demo", **managed.env) == 1
        err = capsys.readouterr().err
        assert "1 real tier assignments of the snapshots 2023-11-30 and 2024-11-30" in err, err
        assert "wrote nothing" in err
        assert set((asyncio.run(_counts(managed.url, "synthetic"))).values()) == {0}
    finally:
        asyncio.run(_rows(managed.url, "DELETE FROM tier_assignment WHERE id = $1", tier[0]))


# Issue 12's "names frontends and scripts rely on", exactly as the issue writes them.
NAMED = {
    "distribution": '{ tierDistribution(snapshot: "2024-11") { tier { level name } count } }',
    "transitions": '{ tierTransitions(from: "2023-11", to: "2024-11") '
    "{ from { level } to { level } count } }",
    "aggregate": '{ assessmentAggregate(round: "2024-04", questionId: "4-1") { option count } }',
    "dashboard": '{ municipality(code: "302015") { tierHistory { snapshot tier { level } '
    "computedTier { level } overridden reason } latestScore { total sections { key score } } } }",
}


async def test_the_names_frontends_rely_on_answer_with_the_demo_data(
    api: httpx.AsyncClient, settings: Settings, seeded: Seeded
) -> None:
    answers = {name: await _as_prefecture(api, settings, q) for name, q in NAMED.items()}
    distribution = answers["distribution"]["tierDistribution"]
    assert [c["tier"]["level"] for c in distribution] == [1, 2, 3, 4]
    assert sum(c["count"] for c in distribution) == 30
    transitions = answers["transitions"]["tierTransitions"]
    assert len(transitions) == 16
    assert sum(t["count"] for t in transitions) == 30
    assert sum(c["count"] for c in answers["aggregate"]["assessmentAggregate"]) > 0
    dashboard = answers["dashboard"]["municipality"]
    assert [h["snapshot"] for h in dashboard["tierHistory"]] == ["2024-11", "2023-11"]
    assert dashboard["latestScore"]["sections"]
    assert dashboard["latestScore"]["total"] == round(
        sum(s["score"] for s in dashboard["latestScore"]["sections"]), 2
    )
