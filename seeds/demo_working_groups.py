"""The demo's working groups under わかやまDX-GOALS (issue 13), every row flagged ``synthetic``:
a few goals with indicators for FY2025 and FY2026, the programme's producers (one general, three
specialists: invented names, no real persons), and four groups of both kinds, with members (their
contact roles are posts, not persons), advisers (the dispatch demo's experts and the producers),
meetings with attendance per member municipality, and outputs.

- a business-creation group the prefecture leads: joint procurement of a groupware to replace one
  whose sales end in 2026 (ACTIVE, prefecture-wide; a published procurement spec with its link on
  example.org, an unpublished migration plan draft; one municipality's request to join pending);
- a self-initiated group the 西牟婁振興局 proposed: the region's staff training (ACTIVE);
- a self-initiated group a municipality proposes: work-style reform (PROPOSED, not decided);
- a business-creation group of FY2025: open data publishing (CLOSED).

The groups are written as the owner in the demo's transaction (the working groups' mutations come
with their own revision); the municipalities are the reference data's real codes. Written once:
when a synthetic goal or group is there, nothing is written (`write_working_groups`), and
`remove_working_groups` deletes them again (`dxlink seed --demo --remove`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import Expert, Municipality, Region
from service.models.working_group import (
    DxGoal,
    DxGoalIndicator,
    Producer,
    WorkingGroup,
    WorkingGroupAdviser,
    WorkingGroupAttendance,
    WorkingGroupGoal,
    WorkingGroupMeeting,
    WorkingGroupMembership,
    WorkingGroupOutput,
)

logger = logging.getLogger(__name__)
SUBJECT = "dxlink-seed-demo"

goal_t = DxGoal.__table__
indicator_t = DxGoalIndicator.__table__
producer_t = Producer.__table__
group_t = WorkingGroup.__table__
group_goal_t = WorkingGroupGoal.__table__
membership_t = WorkingGroupMembership.__table__
adviser_t = WorkingGroupAdviser.__table__
meeting_t = WorkingGroupMeeting.__table__
attendance_t = WorkingGroupAttendance.__table__
output_t = WorkingGroupOutput.__table__
# Parents before children (the order they are written in).
TABLES = (
    goal_t,
    indicator_t,
    producer_t,
    group_t,
    group_goal_t,
    membership_t,
    adviser_t,
    meeting_t,
    attendance_t,
    output_t,
)

# (code, title, description, ((indicator, unit, ((fiscal year, target, current), ...)), ...))
GOALS = (
    (
        "DX-GOAL-1",
        "協働から共創へ",
        "県と全市町村が個別支援から協働・共創へ進み、共通課題をともに解決する。",
        (
            ("協働・共創の段階にある市町村の割合", "%", ((2025, 60.0, 53.3), (2026, 80.0, 63.3))),
            ("WGを主導または貢献する市町村数", "団体", ((2025, 10.0, 6.0), (2026, 20.0, 12.0))),
        ),
    ),
    (
        "DX-GOAL-2",
        "オープンデータの公開と利活用",
        "推奨データセットの公開団体を増やし、地域のデータ利活用を進める。",
        (("オープンデータ公開団体数", "団体", ((2025, 25.0, 22.0), (2026, 30.0, 24.0))),),
    ),
    (
        "DX-GOAL-3",
        "共同調達による業務効率化",
        "システム・ツールの共同調達で費用と事務負担を減らす。",
        (
            ("共同調達の件数", "件", ((2025, 1.0, 0.0), (2026, 3.0, 1.0))),
            ("共同調達に参加する市町村数", "団体", ((2025, 10.0, 0.0), (2026, 20.0, 12.0))),
        ),
    ),
    (
        "DX-GOAL-4",
        "デジタル人材の育成",
        "県・市町村職員の合同研修で、庁内のDX推進人材を育てる。",
        (("合同研修の受講職員数", "人", ((2025, 300.0, 284.0), (2026, 400.0, 150.0))),),
    ),
)

# (key, name, kind, specialty, affiliation)
PRODUCERS = (
    ("general", "デモ 森田 圭", "GENERAL", "DX推進全般", "デモ地域DX研究所"),
    ("process", "デモ 山本 彩花", "SPECIALIST", "業務改革・共同調達", "株式会社デモ業務改革"),
    ("data", "デモ 藤井 直人", "SPECIALIST", "データ利活用", "デモデータ合同会社"),
    ("people", "デモ 西川 陽子", "SPECIALIST", "人材育成", "一般社団法人デモ人材育成協会"),
)

POSTS = ("情報政策課 主任", "総務課 係長", "企画課 主査", "DX推進室 主事")


@dataclass(frozen=True)
class Meeting:
    held_on: date
    mode: str
    title: str
    agenda: str
    minutes: str
    absent: tuple[str, ...] = ()  # member municipalities (codes) that did not attend


@dataclass(frozen=True)
class Output:
    kind: str
    title: str
    description: str
    url: str | None
    published_on: date | None


@dataclass(frozen=True)
class Group:
    slug: str
    name: str
    kind: str
    status: str
    theme: str
    purpose: str
    expected_outputs: str
    goals: tuple[str, ...]
    fiscal_year: int
    started_on: date | None
    closed_on: date | None = None
    lead: str | None = None  # a municipality's code; None: the prefecture leads
    region: str | None = None  # the region's name; None: prefecture-wide
    proposed_by_region: bool = False  # proposed by the region's office, not the lead
    members: tuple[str, ...] = ()  # ACTIVE members (codes)
    requested: tuple[str, ...] = ()  # requests to join, not decided yet
    producers: tuple[str, ...] = ()
    experts: tuple[str, ...] = ()  # the dispatch demo's experts (names)
    meetings: tuple[Meeting, ...] = ()
    outputs: tuple[Output, ...] = ()


GROUPS = (
    Group(
        slug="demo-groupware-joint-procurement",
        name="グループウェア共同調達WG",
        kind="BUSINESS_CREATION",
        status="ACTIVE",
        theme="グループウェアの共同調達",
        purpose=(
            "多くの市町村が使う現行グループウェアの販売が2026年に終了するため、後継製品の要件を"
            "そろえ、県と市町村で共同調達する。"
        ),
        expected_outputs="共同調達仕様書、参加団体の合意、移行計画",
        goals=("DX-GOAL-3", "DX-GOAL-1"),
        fiscal_year=2026,
        started_on=date(2026, 5, 15),
        members=(
            "302015",
            "302023",
            "302031",
            "302040",
            "302058",
            "302066",
            "302074",
            "302082",
            "302091",
            "303046",
            "303615",
            "304018",
        ),
        requested=("304280",),
        producers=("general", "process"),
        experts=("デモ 上野 健", "デモ 木村 大輔"),
        meetings=(
            Meeting(
                date(2026, 6, 10),
                "ON_SITE",
                "第1回 キックオフ",
                "1. WGの目的と進め方\n2. 現行グループウェアの利用状況調査",
                "各団体の利用状況調査を7月末までに回答することを確認した。",
                absent=("302074",),
            ),
            Meeting(
                date(2026, 7, 22),
                "ONLINE",
                "第2回 要件整理",
                "1. 利用状況調査の結果\n2. 必須機能と任意機能の整理",
                "必須機能(スケジュール、設備予約、掲示板、ワークフロー)に合意した。",
            ),
            Meeting(
                date(2026, 9, 16),
                "HYBRID",
                "第3回 仕様書案の確認",
                "1. 共同調達仕様書案\n2. 参加意向の確認",
                "仕様書第1版を確定し、10月に公開することとした。",
                absent=("303046", "304018"),
            ),
        ),
        outputs=(
            Output(
                "PROCUREMENT_SPEC",
                "グループウェア共同調達 仕様書(第1版)",
                "WGで合意した必須機能・非機能要件・移行要件。",
                "https://example.org/demo/wg/groupware/spec-v1.pdf",
                date(2026, 10, 1),
            ),
            Output(
                "DOCUMENT",
                "グループウェア移行計画(案)",
                "各団体の移行時期とデータ移行手順の案。WG内で検討中。",
                None,
                None,
            ),
        ),
    ),
    Group(
        slug="demo-nishimuro-staff-training",
        name="西牟婁地域 職員DX研修WG",
        kind="SELF_INITIATED",
        status="ACTIVE",
        theme="地域合同の職員研修",
        purpose="西牟婁振興局管内の市町が合同で、窓口・内部事務のDX研修を企画・実施する。",
        expected_outputs="合同研修カリキュラム、研修の実施報告",
        goals=("DX-GOAL-4", "DX-GOAL-1"),
        fiscal_year=2026,
        started_on=date(2026, 6, 1),
        lead="302066",
        region="西牟婁振興局",
        proposed_by_region=True,
        members=("302066", "304018", "304042", "304069"),
        producers=("people",),
        experts=("デモ 中村 さくら",),
        meetings=(
            Meeting(
                date(2026, 7, 3),
                "ON_SITE",
                "第1回 研修テーマの決定",
                "1. 各市町の研修ニーズ\n2. 年間計画",
                "生成AIの業務活用と書かない窓口を年間テーマとした。",
                absent=("304069",),
            ),
        ),
    ),
    Group(
        slug="demo-aridagawa-workstyle-reform",
        name="働き方改革WG",
        kind="SELF_INITIATED",
        status="PROPOSED",
        theme="テレワークとペーパーレスによる働き方改革",
        purpose="テレワーク規程とペーパーレス会議の導入事例を共有し、共通の手引きを作る。",
        expected_outputs="働き方改革の手引き",
        goals=("DX-GOAL-1",),
        fiscal_year=2026,
        started_on=None,
        lead="303666",
        region="有田振興局",
        members=("303666",),
    ),
    Group(
        slug="demo-open-data-fy2025",
        name="オープンデータ公開推進WG (2025年度)",
        kind="BUSINESS_CREATION",
        status="CLOSED",
        theme="推奨データセットの一括公開",
        purpose="推奨データセットの公開手順を共有し、未公開の団体の公開を支援する。",
        expected_outputs="公開手順書、公開団体の拡大",
        goals=("DX-GOAL-2",),
        fiscal_year=2025,
        started_on=date(2025, 6, 1),
        closed_on=date(2026, 3, 31),
        members=("302040", "303411", "303810", "303909", "304212"),
        producers=("data",),
        experts=("デモ 江口 美咲",),
        meetings=(
            Meeting(
                date(2025, 8, 20),
                "ONLINE",
                "第1回 公開手順の共有",
                "1. 推奨データセットの公開手順\n2. 公開予定の確認",
                "各団体が年度内に3件以上を公開することを目標とした。",
            ),
        ),
    ),
)


async def synthetic_counts(connection: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        statement = select(func.count()).select_from(table).where(table.c.synthetic)
        counts[table.name] = int(await connection.scalar(statement))
    return counts


async def write_working_groups(connection: AsyncConnection) -> dict[str, int]:
    """Write the demo's goals, producers and groups as the owner (maintenance on: the caller's
    transaction), unless synthetic goals or groups are there; the synthetic rows per table."""
    present = await synthetic_counts(connection)
    if present[goal_t.name] or present[group_t.name]:
        logger.info("demo working groups are there already: nothing written")
        return present
    municipality_t, region_t, expert_t = (
        Municipality.__table__,
        Region.__table__,
        Expert.__table__,
    )
    rows = await connection.execute(select(municipality_t.c.code, municipality_t.c.id))
    codes = dict(rows.all())
    regions = dict((await connection.execute(select(region_t.c.name, region_t.c.id))).all())
    experts = dict(
        (
            await connection.execute(
                select(expert_t.c.name, expert_t.c.id).where(expert_t.c.synthetic)
            )
        ).all()
    )

    async def add(table: Any, values: dict[str, Any], key: str | None = "id") -> Any:
        statement = insert(table).values({**values, "synthetic": True})
        if key is None:
            await connection.execute(statement)
            return None
        return await connection.scalar(statement.returning(table.c[key]))

    goals = {}
    for position, (code, title, description, indicators) in enumerate(GOALS):
        goal = await add(
            goal_t,
            {"code": code, "title": title, "description": description, "position": position},
        )
        goals[code] = goal
        for rank, (name, unit, years) in enumerate(indicators):
            for year, target, current in years:
                await add(
                    indicator_t,
                    {
                        "goal_id": goal,
                        "name": name,
                        "unit": unit,
                        "fiscal_year": year,
                        "target": target,
                        "current": current,
                        "position": rank,
                    },
                )
    producers = {}
    for key, name, kind, specialty, affiliation in PRODUCERS:
        producers[key] = await add(
            producer_t,
            {
                "name": name,
                "kind": kind,
                "specialty": specialty,
                "affiliation": affiliation,
                "contact": f"demo-producer-{key}@example.org",
            },
        )
    decided = datetime(2026, 5, 10, 1, 0, tzinfo=UTC)
    for group in GROUPS:
        region = regions.get(group.region) if group.region else None
        if group.region and region is None:
            raise LookupError(f"no region {group.region} in the reference data")
        proposed = group.kind == "SELF_INITIATED"
        wg = await add(
            group_t,
            {
                "slug": group.slug,
                "name": group.name,
                "kind": group.kind,
                "status": group.status,
                "theme": group.theme,
                "purpose": group.purpose,
                "expected_outputs": group.expected_outputs,
                "public_summary": group.purpose,
                "lead_municipality_id": codes[group.lead] if group.lead else None,
                "lead_prefecture": group.lead is None,
                "region_id": region,
                "fiscal_year": group.fiscal_year,
                "started_on": group.started_on,
                "closed_on": group.closed_on,
                "proposed_by_municipality_id": (
                    codes[group.lead] if proposed and not group.proposed_by_region else None
                ),
                "proposed_by_region_id": region if group.proposed_by_region else None,
                "proposed_by": SUBJECT if proposed else None,
                "decided_at": decided if group.status != "PROPOSED" else None,
                "decided_by": SUBJECT if group.status != "PROPOSED" else None,
            },
        )
        for code in group.goals:
            await add(group_goal_t, {"working_group_id": wg, "goal_id": goals[code]}, key=None)
        for rank, code in enumerate(group.members):
            await add(
                membership_t,
                {
                    "working_group_id": wg,
                    "municipality_id": codes[code],
                    "status": "ACTIVE",
                    "contact_role": POSTS[rank % len(POSTS)],
                    "requested_by": SUBJECT,
                    "decided_at": decided,
                    "decided_by": SUBJECT,
                },
            )
        for code in group.requested:
            await add(
                membership_t,
                {
                    "working_group_id": wg,
                    "municipality_id": codes[code],
                    "status": "REQUESTED",
                    "contact_role": POSTS[0],
                    "requested_by": SUBJECT,
                },
            )
        for key in group.producers:
            await add(adviser_t, {"working_group_id": wg, "producer_id": producers[key]})
        for name in group.experts:
            if name in experts:  # the dispatch demo's experts (absent: not advisers)
                await add(adviser_t, {"working_group_id": wg, "expert_id": experts[name]})
        for meeting in group.meetings:
            held = await add(
                meeting_t,
                {
                    "working_group_id": wg,
                    "held_on": meeting.held_on,
                    "mode": meeting.mode,
                    "title": meeting.title,
                    "agenda": meeting.agenda,
                    "minutes": meeting.minutes,
                    "recorded_by": SUBJECT,
                },
            )
            for rank, code in enumerate(group.members):
                if code not in meeting.absent:
                    await add(
                        attendance_t,
                        {
                            "meeting_id": held,
                            "municipality_id": codes[code],
                            "attendees": 1 + rank % 3,
                        },
                        key=None,
                    )
        for output in group.outputs:
            await add(
                output_t,
                {
                    "working_group_id": wg,
                    "kind": output.kind,
                    "title": output.title,
                    "description": output.description,
                    "url": output.url,
                    "published": output.published_on is not None,
                    "published_on": output.published_on,
                    "created_by": SUBJECT,
                },
            )
    counts = await synthetic_counts(connection)
    logger.info("demo working groups written: %s", counts)
    return counts


async def remove_working_groups(connection: AsyncConnection) -> dict[str, int]:
    """Delete the synthetic groups (their members, advisers, meetings and outputs go with them),
    goals and producers; the rows deleted per table."""
    removed = await synthetic_counts(connection)
    # A group's rows cascade with it; then what the groups referenced.
    for table in (attendance_t, meeting_t, output_t, adviser_t, membership_t, group_goal_t):
        await connection.execute(delete(table).where(table.c.synthetic))
    for table in (group_t, indicator_t, goal_t, producer_t):
        await connection.execute(delete(table).where(table.c.synthetic))
    return removed
