"""Every mutation, called through the API by every kind of principal, with both layers.

The expectations come from `auth.policy.POLICY`'s write rules: a mutation succeeds exactly when
every rule it is under admits the principal for the target row; otherwise it is refused with
`FORBIDDEN`, or `NOT_FOUND` where the principal may not read the row either (a refusal must not
tell it the row exists), and nothing is written: neither the row nor an audit record.

Each case runs twice: with the service's checks, and with them switched off
(``policy.QUERY_LAYER = False``), where PostgreSQL's write policies, grants and column guard
alone must refuse (migrations f7a8b9c0d1e2 and, for the catalog, b9c0d1e2f3a4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth import policy
from auth.policy import COMPOSITE_WRITES, POLICY, Rows
from auth.principal import Principal, Role
from resolvers import Mutation
from schema.node import decode_global_id, encode_global_id
from service.models import AuditRecord
from service.settings import Settings
from tests import factories as f
from tests.auth.test_policy_matrix import expected_visible, token_for
from tests.auth.world import FAR, NEIGHBOUR, OWN, PRINCIPAL_NAMES, Row, World, build_world
from tests.conftest import GraphQL, data_of
from tests.working_groups import factories as wg

LAYERS = ["query+rls", "rls-only"]


@dataclass
class Targets:
    """Rows of 和歌山市 (expert A's assignment, its datasets) that the mutations change."""

    world: World
    programme: int
    assignment: int
    open_request: int
    new_expert: int
    upcoming: int  # a planned session in three days
    past: int  # a planned session two days ago, to be reported
    reported: int  # a session reported, to be confirmed
    published: int  # a published dataset of 和歌山市 alone
    publishable: int  # a draft of 和歌山市, described, with a distribution
    pending: int  # a joint dataset of the prefecture, 和歌山市 and 北山村 at version 2, 和歌山市
    # having approved version 1
    draft_response: int  # 和歌山市's complete draft in the open round 2099-04
    submitted_response: int  # 和歌山市's submitted response in the (closed) round 2024-04
    tier: int  # 和歌山市's tier assignment (2024-11-30, version 1)
    wg_active: int  # an active group led by 和歌山市 (its only active member)
    wg_open: int  # an active group the prefecture leads, without members
    wg_proposed: int  # a group 和歌山市 proposed, to be decided
    wg_request: int  # 海南市's request to join wg_active (version 1)

    def row(self, type_name: str, key: int, municipality: int | None, expert: int | None) -> Row:
        return Row(encode_global_id(type_name, key), municipality, expert)

    @property
    def own(self) -> int:
        return self.world.municipality[OWN]

    @property
    def expert(self) -> int:
        return self.world.experts["A"]


@pytest.fixture
async def targets(connection: AsyncConnection) -> Targets:
    world = await build_world(connection)
    programme = await connection.scalar(text("SELECT id FROM dispatch_programme"))
    assignment = await connection.scalar(
        text("SELECT id FROM dispatch_assignment WHERE expert_id = :e AND status = 'ACTIVE'"),
        {"e": world.experts["A"]},
    )
    own = world.municipality[OWN]
    new_expert = await f.create_expert(
        connection, name="専門家D", themes=["生成AI", "DX推進計画"], monthly_capacity=8
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    async def session(at: datetime, **values: Any) -> int:
        return await f.create_visit(
            connection, assignment_id=assignment, starts_at=at, ends_at=at + timedelta(hours=1),
            **values,
        )  # fmt: skip

    plain = {"status": "PLANNED", "report": None, "next_steps": None, "hours": None}
    far = world.municipality[FAR]
    publishable = await f.create_dataset(
        connection,
        identifier="publishable-own",
        status="DRAFT",
        description="公開できる下書き",
        publishers=[own],
    )
    await f.create_distribution(connection, dataset_id=publishable)
    pending = await f.create_dataset(
        connection,
        identifier="pending-joint",
        status="PENDING_APPROVAL",
        description="県と市町村の共同データセット",
        version=2,
        publishers=[own, far],
    )
    await f.create_distribution(connection, dataset_id=pending)
    await connection.execute(
        text(
            "INSERT INTO dataset_publisher (dataset_id, prefecture_id) "
            "SELECT :d, id FROM prefecture WHERE code = '300004'"
        ),
        {"d": pending},
    )
    await connection.execute(
        text(
            "UPDATE dataset_publisher SET approved_version = 1 "
            "WHERE dataset_id = :d AND municipality_id = :m"
        ),
        {"d": pending, "m": own},
    )
    await f.create_open_round(connection)
    draft_response = await f.create_response(
        connection,
        municipality_id=own,
        status="DRAFT",
        round_id=await connection.scalar(
            text("SELECT id FROM assessment_round WHERE key = '2099-04'")
        ),
    )
    await f.create_complete_answers(connection, response_id=draft_response)
    # The round 2024-04 scored, so that classifyTiers has scores to classify.
    await f.create_rubric(
        connection, weights={"step1": 1}, points={("1-1", "策定済み"): 5}, thresholds={1: 0}
    )
    goal = await wg.create_goal(connection, code="GM")
    wg_active = await wg.create_group(connection, lead=OWN, goals=(goal,), slug="matrix-active")
    await wg.create_membership(connection, group_id=wg_active, code=OWN)
    wg_request = await wg.create_membership(
        connection, group_id=wg_active, code=NEIGHBOUR, status="REQUESTED"
    )
    wg_open = await wg.create_group(connection, goals=(goal,), slug="matrix-open")
    wg_proposed = await wg.create_group(
        connection,
        lead=OWN,
        goals=(goal,),
        slug="matrix-proposed",
        kind="SELF_INITIATED",
        status="PROPOSED",
        started_on=None,
        proposed_by_municipality_id=own,
    )
    await wg.create_membership(connection, group_id=wg_proposed, code=OWN)
    return Targets(
        world=world,
        programme=programme,
        assignment=assignment,
        open_request=await f.create_request(
            connection, programme_id=programme, municipality_id=own, theme="DX推進計画"
        ),
        new_expert=new_expert,
        upcoming=await session(now + timedelta(days=3), **plain),
        past=await session(now - timedelta(days=2), **plain),
        reported=await session(now - timedelta(days=5), reported_at=now - timedelta(days=4)),
        published=await connection.scalar(
            text("SELECT id FROM dataset WHERE identifier = 'published-own'")
        ),
        publishable=publishable,
        pending=pending,
        draft_response=draft_response,
        submitted_response=await connection.scalar(
            text(
                "SELECT r.id FROM assessment_response r JOIN assessment_round d "
                "ON d.id = r.round_id WHERE d.key = '2024-04' AND r.municipality_id = :m"
            ),
            {"m": own},
        ),
        tier=await connection.scalar(
            text("SELECT id FROM tier_assignment WHERE municipality_id = :m"), {"m": own}
        ),
        wg_active=wg_active,
        wg_open=wg_open,
        wg_proposed=wg_proposed,
        wg_request=wg_request,
    )


@dataclass(frozen=True)
class Where:
    """Where the changed rows belong, for the write rules: their municipality and expert, and
    the municipalities whose dataset they are part of."""

    municipality: int | None = None
    expert: int | None = None
    publishers: frozenset[int] = frozenset()
    # A working group's region, lead municipality and active members (the lead included).
    region: int | None = None
    lead: int | None = None
    members: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Case:
    input: Callable[[Targets], dict[str, Any]]
    # Where the changed rows belong, for the write rules (a catalog mutation changes the
    # principal's own rows: its approval, a dataset it creates); and the rows the mutation
    # names, which the principal must be able to read to be told FORBIDDEN rather than
    # NOT_FOUND (the first one named decides; a later one may say NOT_FOUND).
    scope: Callable[[Targets, Principal], Where]
    targets: Callable[[Targets], list[Row]]
    # Whether the change is in the database (read as the owner): a query with its `:k`.
    written: tuple[str, Callable[[Targets], Any]]
    # Whether the principal reads the first row the mutation names, where `targets` cannot say
    # (the working groups' rows: their read rules run in tests/working_groups/test_access.py);
    # `targets` then lists the rows named after it.
    visible: Callable[[Principal], bool] | None = None


def gid(type_name: str, key: Any) -> str:
    return encode_global_id(type_name, key)


def _session_row(t: Targets, key: int) -> Row:
    return t.row("DispatchVisit", key, t.own, t.expert)


def _assignment_row(t: Targets) -> Row:
    return t.row("DispatchAssignment", t.assignment, t.own, t.expert)


def _expert_d(t: Targets) -> Row:
    return t.row("Expert", t.new_expert, None, t.new_expert)


def _request_row(t: Targets) -> Row:
    return t.row("DispatchRequest", t.open_request, t.own, None)


def _of_dataset(publishers: Callable[[Targets], set[int]]) -> Any:
    """A dataset's rows: the dataset's, and the principal's own approval where it publishes."""

    def where(t: Targets, p: Principal) -> Where:
        of = frozenset(publishers(t))
        return Where(p.municipality_id if p.municipality_id in of else None, publishers=of)

    return where


def _dataset_row(t: Targets, key: int, published: bool, *publishers: str) -> Row:
    of = frozenset(t.world.municipality[code] for code in publishers)
    return Row(encode_global_id("Dataset", key), published=published, publishers=of)


IN_TEN_DAYS = (datetime.now(UTC) + timedelta(days=10)).replace(
    hour=1, minute=0, second=0, microsecond=0
)

CASES: dict[str, Case] = {
    "createExpert": Case(
        input=lambda t: {"name": "新任 専門家", "themes": ["生成AI"], "monthlyCapacity": 4},
        scope=lambda t, p: Where(None, None),
        targets=lambda t: [],
        written=("SELECT count(*) = 1 FROM expert WHERE name = '新任 専門家'", lambda t: None),
    ),
    "updateExpert": Case(
        input=lambda t: {"id": gid("Expert", t.expert), "version": 1, "name": "改名 専門家"},
        scope=lambda t, p: Where(None, t.expert),
        targets=lambda t: [t.row("Expert", t.expert, None, t.expert)],
        written=("SELECT name = '改名 専門家' FROM expert WHERE id = :k", lambda t: t.expert),
    ),
    "createDispatchProgramme": Case(
        input=lambda t: {"fiscalYear": 2027, "themes": ["生成AI"]},
        scope=lambda t, p: Where(None, None),
        targets=lambda t: [],
        written=(
            "SELECT count(*) = 1 FROM dispatch_programme WHERE fiscal_year = 2027",
            lambda t: None,
        ),
    ),
    "updateDispatchProgramme": Case(
        input=lambda t: {"fiscalYear": 2026, "version": 1, "sessionsPerMonthMax": 5},
        scope=lambda t, p: Where(None, None),
        targets=lambda t: [t.row("DispatchProgramme", 2026, None, None)],
        written=(
            "SELECT sessions_per_month_max = 5 FROM dispatch_programme WHERE id = :k",
            lambda t: t.programme,
        ),
    ),
    "fileDispatchRequest": Case(
        input=lambda t: {
            "fiscalYear": 2026,
            "theme": "情報システム標準化",
            "municipalityCode": OWN,
        },
        scope=lambda t, p: Where(t.own, None),
        targets=lambda t: [],  # the municipality is public
        written=(
            "SELECT count(*) = 1 FROM dispatch_request WHERE theme = '情報システム標準化'",
            lambda t: None,
        ),
    ),
    "withdrawDispatchRequest": Case(
        input=lambda t: {"id": gid("DispatchRequest", t.open_request), "version": 1},
        scope=lambda t, p: Where(t.own, None),
        targets=lambda t: [_request_row(t)],
        written=(
            "SELECT status = 'WITHDRAWN' FROM dispatch_request WHERE id = :k",
            lambda t: t.open_request,
        ),
    ),
    "assignExpert": Case(
        input=lambda t: {
            "requestId": gid("DispatchRequest", t.open_request),
            "expertId": gid("Expert", t.new_expert),
        },
        scope=lambda t, p: Where(t.own, t.new_expert),
        targets=lambda t: [_request_row(t), _expert_d(t)],
        written=(
            "SELECT count(*) = 1 FROM dispatch_assignment WHERE request_id = :k",
            lambda t: t.open_request,
        ),
    ),
    "reassignExpert": Case(
        input=lambda t: {
            "assignmentId": gid("DispatchAssignment", t.assignment),
            "version": 1,
            "expertId": gid("Expert", t.new_expert),
            "reason": "専門分野の変更",
        },
        scope=lambda t, p: Where(t.own, t.expert),
        targets=lambda t: [_assignment_row(t), _expert_d(t)],
        written=(
            "SELECT count(*) = 1 FROM dispatch_assignment WHERE expert_id = :k",
            lambda t: t.new_expert,
        ),
    ),
    "endAssignment": Case(
        input=lambda t: {
            "assignmentId": gid("DispatchAssignment", t.assignment),
            "version": 1,
            "reason": "目標達成",
        },
        scope=lambda t, p: Where(t.own, t.expert),
        targets=lambda t: [_assignment_row(t)],
        written=(
            "SELECT status = 'ENDED' FROM dispatch_assignment WHERE id = :k",
            lambda t: t.assignment,
        ),
    ),
    "planSession": Case(
        input=lambda t: {
            "assignmentId": gid("DispatchAssignment", t.assignment),
            "startsAt": IN_TEN_DAYS.isoformat(),
            "endsAt": (IN_TEN_DAYS + timedelta(hours=2)).isoformat(),
            "mode": "ONLINE",
        },
        scope=lambda t, p: Where(t.own, t.expert),
        targets=lambda t: [_assignment_row(t)],
        written=(
            "SELECT count(*) = 1 FROM dispatch_visit WHERE starts_at = :k",
            lambda t: IN_TEN_DAYS,
        ),
    ),
    "recordSessionReport": Case(
        input=lambda t: {
            "sessionId": gid("DispatchVisit", t.past),
            "version": 1,
            "report": "業務棚卸しの結果を共有した。",
            "hours": 1,
        },
        scope=lambda t, p: Where(t.own, t.expert),
        targets=lambda t: [_session_row(t, t.past)],
        written=("SELECT report IS NOT NULL FROM dispatch_visit WHERE id = :k", lambda t: t.past),
    ),
    "confirmSessionReport": Case(
        input=lambda t: {"sessionId": gid("DispatchVisit", t.reported), "version": 1},
        scope=lambda t, p: Where(t.own, t.expert),
        targets=lambda t: [_session_row(t, t.reported)],
        written=(
            "SELECT confirmed_at IS NOT NULL FROM dispatch_visit WHERE id = :k",
            lambda t: t.reported,
        ),
    ),
    "cancelSession": Case(
        input=lambda t: {
            "sessionId": gid("DispatchVisit", t.upcoming),
            "version": 1,
            "reason": "台風",
        },
        scope=lambda t, p: Where(t.own, t.expert),
        targets=lambda t: [_session_row(t, t.upcoming)],
        written=(
            "SELECT status = 'CANCELLED' FROM dispatch_visit WHERE id = :k",
            lambda t: t.upcoming,
        ),
    ),
    "createDataset": Case(
        input=lambda t: {"title": "新しいデータセット", "jointPublishers": []},
        scope=lambda t, p: Where(
            p.municipality_id, publishers=frozenset({p.municipality_id} - {None})
        ),
        targets=lambda t: [],  # a new row
        written=(
            "SELECT count(*) = 1 FROM dataset WHERE title = '新しいデータセット'",
            lambda t: None,
        ),
    ),
    "updateDataset": Case(
        input=lambda t: {"id": gid("Dataset", t.published), "version": 1, "title": "改題"},
        scope=_of_dataset(lambda t: {t.own}),
        targets=lambda t: [_dataset_row(t, t.published, True, OWN)],
        written=("SELECT title = '改題' FROM dataset WHERE id = :k", lambda t: t.published),
    ),
    "addDistribution": Case(
        input=lambda t: {
            "datasetId": gid("Dataset", t.published),
            "version": 1,
            "accessUrl": "https://example.jp/opendata/new.csv",
        },
        scope=_of_dataset(lambda t: {t.own}),
        targets=lambda t: [_dataset_row(t, t.published, True, OWN)],
        written=(
            "SELECT count(*) = 1 FROM distribution WHERE access_url = :k",
            lambda t: "https://example.jp/opendata/new.csv",
        ),
    ),
    "publishDataset": Case(
        input=lambda t: {"id": gid("Dataset", t.publishable), "version": 1},
        scope=_of_dataset(lambda t: {t.own}),
        targets=lambda t: [_dataset_row(t, t.publishable, False, OWN)],
        written=("SELECT status <> 'DRAFT' FROM dataset WHERE id = :k", lambda t: t.publishable),
    ),
    "approveJointDataset": Case(
        input=lambda t: {"id": gid("Dataset", t.pending), "version": 2},
        scope=_of_dataset(lambda t: {t.own, t.world.municipality[FAR]}),
        targets=lambda t: [_dataset_row(t, t.pending, False, OWN, FAR)],
        written=(
            "SELECT count(*) = 1 FROM dataset_publisher p JOIN dataset d ON d.id = p.dataset_id "
            "WHERE d.id = :k AND p.approved_version = d.version",
            lambda t: t.pending,
        ),
    ),
    "unpublishDataset": Case(
        input=lambda t: {"id": gid("Dataset", t.published), "version": 1, "reason": "個人情報"},
        scope=_of_dataset(lambda t: {t.own}),
        targets=lambda t: [_dataset_row(t, t.published, True, OWN)],
        written=(
            "SELECT status = 'UNPUBLISHED' FROM dataset WHERE id = :k",
            lambda t: t.published,
        ),
    ),
    "saveAssessmentAnswers": Case(
        input=lambda t: {
            "round": "2099-04",
            "municipality": OWN,
            "version": 1,
            "answers": [{"question": "7-3", "number": 42}],
        },
        scope=lambda t, p: Where(t.own),
        targets=lambda t: [],  # the municipality and the round are public
        written=(
            "SELECT count(*) = 1 FROM assessment_answer a JOIN assessment_question q "
            "ON q.id = a.question_id WHERE a.response_id = :k AND q.key = '7-3' "
            "AND a.number_value = 42",
            lambda t: t.draft_response,
        ),
    ),
    "submitAssessmentResponse": Case(
        input=lambda t: {"round": "2099-04", "municipality": OWN, "version": 1},
        scope=lambda t, p: Where(t.own),
        targets=lambda t: [t.row("AssessmentResponse", t.draft_response, t.own, None)],
        written=(
            "SELECT status = 'SUBMITTED' FROM assessment_response WHERE id = :k",
            lambda t: t.draft_response,
        ),
    ),
    "reopenAssessmentResponse": Case(
        input=lambda t: {
            "round": "2024-04",
            "municipality": OWN,
            "version": 1,
            "reason": "再確認のため",
        },
        scope=lambda t, p: Where(t.own),
        targets=lambda t: [t.row("AssessmentResponse", t.submitted_response, t.own, None)],
        written=(
            "SELECT status = 'REOPENED' FROM assessment_response WHERE id = :k",
            lambda t: t.submitted_response,
        ),
    ),
    "classifyTiers": Case(
        input=lambda t: {"round": "2024-04", "snapshotOn": "2099-01-31"},
        scope=lambda t, p: Where(t.own),
        targets=lambda t: [],  # the round is public
        written=(
            "SELECT count(*) > 0 FROM tier_assignment WHERE snapshot_on = :k",
            lambda t: date(2099, 1, 31),
        ),
    ),
    "overrideTier": Case(
        input=lambda t: {
            "id": gid("TierAssignment", t.tier),
            "tier": 4,
            "reason": "県の判断",
            "version": 1,
        },
        scope=lambda t, p: Where(t.own),
        targets=lambda t: [t.row("TierAssignment", t.tier, t.own, None)],
        written=(
            "SELECT level = 4 AND reason = '県の判断' FROM tier_assignment WHERE id = :k",
            lambda t: t.tier,
        ),
    ),
    # Working groups: an active group is public; a proposal and a request to join are the
    # prefecture's and 和歌山市's to read (its proposer, the lead), NOT_FOUND to the others.
    "proposeWorkingGroup": Case(
        input=lambda t: {
            "name": "マトリクス提案WG",
            "theme": "研修",
            "purpose": "共同研修",
            "expectedOutputs": "カリキュラム",
            "goals": ["GM"],
            "leadMunicipality": OWN,
        },
        scope=lambda t, p: Where(t.own, region=t.world.region_of[t.own]),
        targets=lambda t: [],
        written=(
            "SELECT count(*) = 1 FROM working_group WHERE name = :k",
            lambda t: "マトリクス提案WG",
        ),
    ),
    "decideWorkingGroup": Case(
        input=lambda t: {"workingGroup": "matrix-proposed", "version": 1, "decision": "APPROVE"},
        scope=lambda t, p: _group_where(t),
        targets=lambda t: [],
        visible=lambda p: _reads_proposals_and_requests(p),
        written=(
            "SELECT status = 'ACTIVE' FROM working_group WHERE id = :k",
            lambda t: t.wg_proposed,
        ),
    ),
    "createWorkingGroup": Case(
        input=lambda t: {
            "name": "マトリクス事業創出WG",
            "theme": "共同調達",
            "purpose": "グループウェアの共同調達",
            "expectedOutputs": "仕様書",
            "goals": ["GM"],
            "ledByPrefecture": True,
        },
        scope=lambda t, p: Where(),
        targets=lambda t: [],
        written=(
            "SELECT count(*) = 1 FROM working_group WHERE name = :k",
            lambda t: "マトリクス事業創出WG",
        ),
    ),
    "updateWorkingGroup": Case(
        input=lambda t: {"workingGroup": "matrix-active", "version": 1, "publicSummary": "概要"},
        scope=lambda t, p: _group_where(t),
        targets=lambda t: [],
        written=(
            "SELECT public_summary = '概要' FROM working_group WHERE id = :k",
            lambda t: t.wg_active,
        ),
    ),
    "assignWorkingGroupAdviser": Case(
        input=lambda t: {"workingGroup": "matrix-active", "expert": gid("Expert", t.new_expert)},
        scope=lambda t, p: _group_where(t),
        targets=lambda t: [_expert_d(t)],
        visible=lambda p: True,  # an active group is public
        written=(
            "SELECT count(*) = 1 FROM working_group_adviser WHERE working_group_id = :k",
            lambda t: t.wg_active,
        ),
    ),
    "requestMembership": Case(
        input=lambda t: {"workingGroup": "matrix-open", "contactRole": "企画課"},
        scope=lambda t, p: Where(p.municipality_id),
        targets=lambda t: [],
        written=(
            "SELECT count(*) = 1 FROM working_group_membership WHERE working_group_id = :k",
            lambda t: t.wg_open,
        ),
    ),
    "decideMembership": Case(
        input=lambda t: {
            "membership": gid("WorkingGroupMembership", t.wg_request),
            "version": 1,
            "decision": "ACCEPT",
        },
        scope=lambda t, p: _group_where(t),
        targets=lambda t: [],
        visible=lambda p: _reads_proposals_and_requests(p),
        written=(
            "SELECT status = 'ACTIVE' FROM working_group_membership WHERE id = :k",
            lambda t: t.wg_request,
        ),
    ),
    "acceptMembership": Case(
        input=lambda t: {"membership": gid("WorkingGroupMembership", t.wg_request), "version": 1},
        scope=lambda t, p: _group_where(t),
        targets=lambda t: [],
        visible=lambda p: _reads_proposals_and_requests(p),
        written=(
            "SELECT status = 'ACTIVE' FROM working_group_membership WHERE id = :k",
            lambda t: t.wg_request,
        ),
    ),
    "recordMeeting": Case(
        input=lambda t: {
            "workingGroup": "matrix-active",
            "heldOn": "2026-11-20",
            "mode": "ONLINE",
            "title": "第1回",
            "attendance": [{"municipality": OWN, "attendees": 2}],
        },
        scope=lambda t, p: _group_where(t),
        targets=lambda t: [],
        written=(
            "SELECT count(*) = 1 FROM working_group_meeting WHERE working_group_id = :k",
            lambda t: t.wg_active,
        ),
    ),
    "addOutput": Case(
        input=lambda t: {"workingGroup": "matrix-active", "kind": "DOCUMENT", "title": "報告書"},
        scope=lambda t, p: _group_where(t),
        targets=lambda t: [],
        written=(
            "SELECT count(*) = 1 FROM working_group_output WHERE working_group_id = :k",
            lambda t: t.wg_active,
        ),
    ),
}


def _reads_proposals_and_requests(p: Principal) -> bool:
    return p.role is Role.prefecture_admin or p.municipality_code == OWN


def _group_where(t: Targets) -> Where:
    """A group led by 和歌山市 (its row's municipality, its only active member)."""
    return Where(t.own, lead=t.own, members=frozenset({t.own}))


def _mutation_names() -> set[str]:
    definition = Mutation.__strawberry_definition__  # type: ignore[attr-defined]
    return {field.graphql_name or _camel(field.python_name) for field in definition.fields}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_every_mutation_is_in_the_policy_and_in_this_matrix() -> None:
    ruled = {name for entity in POLICY.values() for name in entity.writes}
    # A composite mutation (importAssessmentCsv) writes only through ruled operations: its
    # own tests call it as every principal (tests/assessments/test_import_csv_http.py).
    assert _mutation_names() == ruled | set(COMPOSITE_WRITES)
    assert ruled == set(CASES)
    for composite in COMPOSITE_WRITES.values():
        assert set(composite.operations) <= ruled


def admits(rule: Rows, principal: Principal, where: Where) -> bool:
    """The write rule's meaning, restated independently of both layers."""
    match rule:
        case Rows.ALL:
            return True
        case Rows.OWN_MUNICIPALITY:
            return (
                where.municipality is not None and where.municipality == principal.municipality_id
            )
        case Rows.OWN_EXPERT:
            return where.expert is not None and where.expert == principal.expert_id
        case Rows.OWN_DATASET:
            return principal.municipality_id in where.publishers
        case Rows.REGION:
            return where.region is not None and where.region == principal.region_id
        case Rows.WG_LEAD:
            return where.lead is not None and where.lead == principal.municipality_id
        case Rows.WG_MEMBER:
            return principal.municipality_id is not None and (
                principal.municipality_id == where.lead
                or principal.municipality_id in where.members
            )
        case Rows.NONE:
            return False
    raise AssertionError(f"{rule} is not a write rule")


def allowed(mutation: str, principal: Principal, where: Where) -> bool:
    rules = [entity.writes[mutation] for entity in POLICY.values() if mutation in entity.writes]
    return all(admits(r.rows.get(principal.role, Rows.NONE), principal, where) for r in rules)


def readable(row: Row, principal: Principal, world: World) -> bool:
    rule = POLICY[decode_global_id(row.global_id)[0].name].read.get(principal.role, Rows.NONE)
    return expected_visible(rule, principal, row, world)


def document(mutation: str) -> str:
    input_type = mutation[0].upper() + mutation[1:] + "Input"
    return (
        f"mutation($input: {input_type}!) {{ {mutation}(input: $input) "
        "{ userErrors { field code message } } }"
    )


async def audit_count(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.count()).select_from(AuditRecord)))


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
@pytest.mark.parametrize("mutation", list(CASES))
async def test_write(
    gql: GraphQL,
    targets: Targets,
    connection: AsyncConnection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    mutation: str,
    who: str,
    layer: str,
) -> None:
    if layer == "rls-only":
        monkeypatch.setattr(policy, "QUERY_LAYER", False)
    case = CASES[mutation]
    principal = targets.world.principals[who]
    audits = await audit_count(connection)
    body = await gql(
        document(mutation), {"input": case.input(targets)}, token=token_for(principal, settings)
    )
    errors = data_of(body)[mutation]["userErrors"]
    check, key = case.written
    written = bool(await connection.scalar(text(check), {"k": key(targets)}))
    named = [readable(row, principal, targets.world) for row in case.targets(targets)]
    if case.visible is not None:
        named = [case.visible(principal), *named]
    if allowed(mutation, principal, case.scope(targets, principal)):
        assert errors == [], (mutation, who)
        assert written, (mutation, who)
        assert await audit_count(connection) > audits
        return
    assert not written, (mutation, who, errors)
    assert await audit_count(connection) == audits, "a refused write left an audit record"
    codes = {e["code"] for e in errors}
    if all(named):
        assert codes == {"FORBIDDEN"}, (mutation, who, errors)
    elif not named[0]:
        assert codes == {"NOT_FOUND"}, (mutation, who, errors)
    else:
        assert codes in ({"FORBIDDEN"}, {"NOT_FOUND"}), (mutation, who, errors)
