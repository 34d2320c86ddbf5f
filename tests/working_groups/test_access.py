"""Who reads what of working groups, as every kind of principal, in each layer on its own.

A small world of groups (an active one led by 和歌山市 with members, a request, advisers,
minutes and outputs; a proposal of 北山村; a declined proposal of the 海草 office; a closed
prefecture-led group) is read table by table:
- through PostgreSQL's row-level security alone (a plain ``SELECT`` in a request's transaction
  as ``dxlink_api`` with the principal's settings, no query-layer filter);
- through the query layer alone (``auth.policy.row_condition``, run as the owner, which row-level
  security does not hold in the test database);
and both must give the rows the rules below restate, independently of either layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth import policy
from auth.policy import Action, Rows, Scope, Write, can_write, row_condition
from auth.principal import Principal, Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.database import RequestSession
from service.models import Region
from service.models.working_group import (
    DxGoal,
    Producer,
    WorkingGroup,
    WorkingGroupAdviser,
    WorkingGroupAttendance,
    WorkingGroupGoal,
    WorkingGroupMeeting,
    WorkingGroupMembership,
    WorkingGroupOutput,
)
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of

LEAD, MEMBER, FAR = "302015", "302023", "304271"  # 和歌山市, 海南市 (both 海草), 北山村 (東牟婁)


@dataclass
class Group:
    id: int
    slug: str
    status: str
    lead: int | None = None
    proposed_by_municipality: int | None = None
    proposed_by_region: int | None = None
    active_members: set[int] = field(default_factory=set)
    experts: set[int] = field(default_factory=set)
    producers: set[int] = field(default_factory=set)


@dataclass
class WgWorld:
    m: dict[str, int] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    # table -> key -> (group id, extra facts)
    rows: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    producers: list[int] = field(default_factory=list)
    principals: dict[str, Principal] = field(default_factory=dict)


async def _insert(connection: AsyncConnection, model: Any, **values: Any) -> int:
    table = model.__table__
    return int(
        (await connection.execute(insert(table).values(**values).returning(table.c.id))).scalar()
    )


async def build(connection: AsyncConnection) -> WgWorld:
    w = WgWorld()
    for code in (LEAD, MEMBER, FAR):
        w.m[code] = await f.municipality_id(connection, code)
    regions = {r.short_name: r.id for r in await connection.execute(select(Region))}
    kaiso = regions["海草"]
    adviser_x = await f.create_expert(connection, name="助言 一郎")
    other_expert = await f.create_expert(connection, name="無関係 次郎")
    p1 = await _insert(connection, Producer, name="総括 花子", kind="GENERAL", contact="p1@ex.jp")
    p2 = await _insert(connection, Producer, name="専門 三郎", kind="SPECIALIST", contact="p2@ex")
    w.producers = [p1, p2]
    goal = await _insert(connection, DxGoal, code="G1", title="行政のデジタル化")

    async def group(slug: str, status: str, **values: Any) -> Group:
        gid = await _insert(
            connection,
            WorkingGroup,
            slug=slug,
            name=slug,
            kind="SELF_INITIATED",
            status=status,
            webhook_url=f"https://chat.example/{slug}",
            **values,
        )
        await connection.execute(
            insert(WorkingGroupGoal.__table__).values(working_group_id=gid, goal_id=goal)
        )
        g = Group(
            gid,
            slug,
            status,
            lead=values.get("lead_municipality_id"),
            proposed_by_municipality=values.get("proposed_by_municipality_id"),
            proposed_by_region=values.get("proposed_by_region_id"),
        )
        w.groups[gid] = g
        return g

    active = await group("active", "ACTIVE", lead_municipality_id=w.m[LEAD])
    proposal = await group(
        "proposal", "PROPOSED", proposed_by_municipality_id=w.m[FAR], lead_municipality_id=w.m[FAR]
    )
    declined = await group("declined", "DECLINED", proposed_by_region_id=kaiso)
    closed = await group("closed", "CLOSED", lead_prefecture=True)

    w.rows = {t: {} for t in TABLES}
    for g, code, status in (
        (active, MEMBER, "ACTIVE"),
        (active, FAR, "REQUESTED"),
        (closed, FAR, "LEFT"),
        (closed, MEMBER, "ACTIVE"),
        (declined, MEMBER, "DECLINED"),
    ):
        mid = await _insert(
            connection,
            WorkingGroupMembership,
            working_group_id=g.id,
            municipality_id=w.m[code],
            status=status,
            contact_role="情報政策課",
        )
        w.rows["working_group_membership"][mid] = {
            "group": g.id,
            "municipality": w.m[code],
            "active": status == "ACTIVE",
        }
        if status == "ACTIVE":
            g.active_members.add(w.m[code])
    for g, person in ((active, {"expert_id": adviser_x}), (active, {"producer_id": p1}),
                      (declined, {"producer_id": p1})):  # fmt: skip
        aid = await _insert(connection, WorkingGroupAdviser, working_group_id=g.id, **person)
        w.rows["working_group_adviser"][aid] = {"group": g.id}
        g.experts.update([person["expert_id"]] if "expert_id" in person else [])
        g.producers.update([person["producer_id"]] if "producer_id" in person else [])
    for g in (active, closed, proposal):
        meeting = await _insert(
            connection,
            WorkingGroupMeeting,
            working_group_id=g.id,
            held_on=date(2026, 5, 1),
            mode="ONLINE",
            minutes="議事録",
        )
        w.rows["working_group_meeting"][meeting] = {"group": g.id}
        await connection.execute(
            insert(WorkingGroupAttendance.__table__).values(
                meeting_id=meeting, municipality_id=w.m[MEMBER], attendees=2
            )
        )
        w.rows["working_group_attendance"][(meeting, w.m[MEMBER])] = {"group": g.id}
        for published in (True, False):
            out = await _insert(
                connection,
                WorkingGroupOutput,
                working_group_id=g.id,
                kind="DOCUMENT",
                title="報告書",
                published=published,
            )
            w.rows["working_group_output"][out] = {"group": g.id, "published": published}
    for g in w.groups.values():
        w.rows["working_group"][g.id] = {"group": g.id, "key": g.slug}
        w.rows["working_group_goal"][(g.id, goal)] = {"group": g.id}
    for p in w.producers:
        w.rows["producer"][p] = {"producer": p}

    def staff(code: str) -> Principal:
        return Principal(
            Role.municipal_staff, f"staff-{code}", municipality_id=w.m[code], municipality_code=code
        )

    w.principals = {
        "prefecture_admin": Principal(Role.prefecture_admin, "admin"),
        "dispatch_coordinator": Principal(Role.dispatch_coordinator, "coordinator"),
        "regional_office(海草)": Principal(Role.regional_office, "kaiso", region_id=kaiso),
        "municipal_staff(lead)": staff(LEAD),
        "municipal_staff(member)": staff(MEMBER),
        "municipal_staff(far: proposer, requested, left)": staff(FAR),
        "expert(adviser)": Principal(Role.expert, "x", expert_id=adviser_x),
        "expert(not an adviser)": Principal(Role.expert, "y", expert_id=other_expert),
        "producer(adviser)": Principal(Role.producer, "p1", producer_id=p1),
        "producer(not an adviser)": Principal(Role.producer, "p2", producer_id=p2),
        "public": Principal(Role.public),
    }
    return w


# The rules, restated from issue 13 without either layer's code.
def participant(p: Principal, g: Group) -> bool:
    match p.role:
        case Role.municipal_staff:
            return p.municipality_id == g.lead or p.municipality_id in g.active_members
        case Role.expert:
            return p.expert_id in g.experts
        case Role.producer:
            return p.producer_id in g.producers
    return False


def visible(p: Principal, g: Group) -> bool:
    return (
        p.role is Role.prefecture_admin
        or g.status in ("ACTIVE", "CLOSED")
        or (p.role is Role.municipal_staff and p.municipality_id == g.proposed_by_municipality)
        or (p.role is Role.regional_office and p.region_id == g.proposed_by_region)
        or participant(p, g)
    )


def expected(table: str, p: Principal, facts: dict[str, Any], w: WgWorld) -> bool:
    admin = p.role is Role.prefecture_admin
    g = w.groups.get(facts.get("group", -1))
    match table:
        case "producer":
            return p.role in (Role.prefecture_admin, Role.dispatch_coordinator) or (
                p.role is Role.producer and p.producer_id == facts["producer"]
            )
        case "working_group" | "working_group_goal":
            assert g is not None
            return visible(p, g)
        case "working_group_membership":
            assert g is not None
            return (
                admin
                or (facts["active"] and visible(p, g))
                or (
                    p.role is Role.municipal_staff
                    and p.municipality_id in (facts["municipality"], g.lead)
                )
            )
        case "working_group_meeting" | "working_group_attendance":
            assert g is not None
            return admin or participant(p, g)
        case "working_group_adviser":
            assert g is not None
            return admin or p.role is Role.dispatch_coordinator or participant(p, g)
        case "working_group_output":
            assert g is not None
            return admin or (facts["published"] and visible(p, g)) or participant(p, g)
    raise AssertionError(table)


# table -> (GraphQL type, key columns)
TABLES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "producer": ("Producer", ("id",)),
    "working_group": ("WorkingGroup", ("id",)),
    "working_group_goal": (None, ("working_group_id", "goal_id")),  # no type: RLS only
    "working_group_membership": ("WorkingGroupMembership", ("id",)),
    "working_group_adviser": ("WorkingGroupAdviser", ("id",)),
    "working_group_meeting": ("WorkingGroupMeeting", ("id",)),
    "working_group_attendance": ("WorkingGroupAttendance", ("meeting_id", "municipality_id")),
    "working_group_output": ("WorkingGroupOutput", ("id",)),
}
MODELS = {
    "producer": Producer,
    "working_group": WorkingGroup,
    "working_group_goal": WorkingGroupGoal,
    "working_group_membership": WorkingGroupMembership,
    "working_group_adviser": WorkingGroupAdviser,
    "working_group_meeting": WorkingGroupMeeting,
    "working_group_attendance": WorkingGroupAttendance,
    "working_group_output": WorkingGroupOutput,
}
WHO = [
    "prefecture_admin",
    "dispatch_coordinator",
    "regional_office(海草)",
    "municipal_staff(lead)",
    "municipal_staff(member)",
    "municipal_staff(far: proposer, requested, left)",
    "expert(adviser)",
    "expert(not an adviser)",
    "producer(adviser)",
    "producer(not an adviser)",
    "public",
]


@pytest.fixture
async def world(connection: AsyncConnection) -> WgWorld:
    return await build(connection)


def request_session(connection: AsyncConnection, principal: Principal) -> RequestSession:
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return RequestSession(sessionmaker, principal, "req-wg")


def _key(row: Any, columns: tuple[str, ...]) -> Any:
    return row[0] if len(columns) == 1 else tuple(row)


def _ours(table: str, w: WgWorld) -> Callable[[Any], bool]:
    return lambda key: key in w.rows[table]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("table", list(TABLES))
async def test_row_level_security_alone(
    connection: AsyncConnection, world: WgWorld, table: str, who: str
) -> None:
    principal = world.principals[who]
    columns = TABLES[table][1]
    db = request_session(connection, principal)
    rows = await db.all(text(f"SELECT {', '.join(columns)} FROM {table}"))
    await db.finish(commit=False)
    await connection.execute(text("RESET ROLE"))
    seen = {k for k in (_key(r, columns) for r in rows) if _ours(table, world)(k)}
    want = {k for k, facts in world.rows[table].items() if expected(table, principal, facts, world)}
    assert seen == want


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("table", [t for t, (name, _) in TABLES.items() if name is not None])
async def test_query_layer_alone(
    connection: AsyncConnection, world: WgWorld, table: str, who: str
) -> None:
    """The owner's connection (a superuser here: row-level security does not hold it)."""
    principal = world.principals[who]
    type_name, columns = TABLES[table]
    assert type_name is not None
    t = MODELS[table].__table__
    statement = select(*(t.c[c] for c in columns))
    condition = row_condition(type_name, principal)
    if condition is not None:
        statement = statement.where(condition)
    rows = (await connection.execute(statement)).all()
    seen = {k for k in (_key(r, columns) for r in rows) if _ours(table, world)(k)}
    want = {k for k, facts in world.rows[table].items() if expected(table, principal, facts, world)}
    assert seen == want


@pytest.mark.parametrize("who", WHO)
async def test_both_layers_in_a_join(connection: AsyncConnection, world: WgWorld, who: str) -> None:
    """The query layer's conditions correlate inside a larger select (a join of outputs to
    their groups), under row-level security."""
    principal = world.principals[who]
    out, wg = WorkingGroupOutput.__table__, WorkingGroup.__table__
    conditions = [
        c
        for c in (
            row_condition("WorkingGroupOutput", principal),
            row_condition("WorkingGroup", principal),
        )
        if c is not None
    ]
    statement = select(out.c.id).join(wg, wg.c.id == out.c.working_group_id).where(*conditions)
    db = request_session(connection, principal)
    rows = await db.all(statement)
    await db.finish(commit=False)
    await connection.execute(text("RESET ROLE"))
    table = "working_group_output"
    seen = {r.id for r in rows if r.id in world.rows[table]}
    want = {
        k
        for k, facts in world.rows[table].items()
        if expected(table, principal, facts, world)
        and visible(principal, world.groups[facts["group"]])
    }
    assert seen == want


@pytest.mark.parametrize("who", WHO)
async def test_the_webhook_url_is_the_lead_and_the_prefecture_s(
    connection: AsyncConnection, world: WgWorld, who: str
) -> None:
    principal = world.principals[who]
    wg = WorkingGroup.__table__
    rows = (await connection.execute(select(wg.c.id, policy.webhook_url_column(principal)))).all()
    shown = {r.id for r in rows if r.id in world.groups and r[1] is not None}
    # The same in SQL, for declarations that select it (both executors).
    db = request_session(connection, principal)
    in_sql = await db.all(
        text(
            "SELECT id FROM working_group "
            "WHERE dxlink_webhook_url_visible(lead_municipality_id) AND webhook_url IS NOT NULL"
        )
    )
    await db.finish(commit=False)
    await connection.execute(text("RESET ROLE"))
    # Row-level security limits the SQL to the groups the principal sees.
    assert {r.id for r in in_sql if r.id in world.groups} == {
        g for g in shown if visible(principal, world.groups[g])
    }
    if principal.role is Role.prefecture_admin:
        assert shown == set(world.groups)
    elif principal.role is Role.municipal_staff:
        assert shown == {g.id for g in world.groups.values() if g.lead == principal.municipality_id}
    else:
        assert shown == set()
        hidden = policy.hidden_fields("WorkingGroup", principal)
        assert "webhook_url" in hidden


def test_hidden_fields_by_role() -> None:
    assert policy.hidden_fields("WorkingGroupMembership", Principal(Role.public)) == {
        "contact_role"
    }
    contact = {
        role: "contact" in policy.hidden_fields("Producer", Principal(role)) for role in Role
    }
    # Of the roles reading producers, only the prefecture reads their contact.
    assert (contact[Role.prefecture_admin], contact[Role.dispatch_coordinator]) == (False, True)
    assert contact[Role.producer]
    for role in Role:
        shown = role in (Role.prefecture_admin, Role.municipal_staff)
        assert ("webhook_url" in policy.hidden_fields("WorkingGroup", Principal(role))) is not shown
    for name in ("DxGoal", "DxGoalIndicator"):
        assert name in policy.PUBLIC_TYPES
        assert all(rule is Rows.ALL for rule in policy.POLICY[name].read.values())


def test_a_producer_reads_the_public_s_data_and_its_groups() -> None:
    """Every other type: the producer's rule is the public's (its groups come on top)."""
    for name, entity in policy.POLICY.items():
        if name in policy.WORKING_GROUP_TYPES:
            continue
        assert entity.read[Role.producer] is entity.read[Role.public], name
        assert entity.hidden.get(Role.producer) == entity.hidden.get(Role.public), name


# Writes: rules with rows WG_MEMBER / WG_LEAD, judged in Python and in PostgreSQL.
_WG_RULES = {
    "WorkingGroupMeeting": ("testRecordMeeting", Rows.WG_MEMBER),
    "WorkingGroup": ("testUpdateGroup", Rows.WG_LEAD),
}


@pytest.mark.parametrize("who", WHO)
async def test_wg_member_and_wg_lead_write_rules(
    connection: AsyncConnection, world: WgWorld, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    principal = world.principals[who]
    for entity, (operation, rows) in _WG_RULES.items():
        rule = Write(frozenset({Action.UPDATE}), {Role.municipal_staff: rows})
        monkeypatch.setitem(
            policy.POLICY, entity, replace(policy.POLICY[entity], writes={operation: rule})
        )
        await connection.execute(
            text(
                "INSERT INTO dxlink_write_rule VALUES "
                "(:e, :t, :o, 'update', 'municipal_staff', :r, '{}')"
            ),
            {"e": entity, "t": "x", "o": operation, "r": rows.name.lower()},
        )
    for g in world.groups.values():
        lead, members = g.lead, frozenset(g.active_members)
        scope = Scope(
            working_group_id=g.id, working_group_lead_id=lead, working_group_members=members
        )
        # The Scope as policy.working_group_scope selects it.
        selected = (await connection.execute(policy.working_group_scope(g.id))).one()
        assert (selected[0], frozenset(selected[1])) == (lead, members)
        mine = principal.municipality_id
        is_staff = principal.role is Role.municipal_staff
        expect = {
            "WorkingGroupMeeting": is_staff and (mine == lead or mine in members),
            "WorkingGroup": is_staff and mine == lead,
        }
        for entity, (operation, _) in _WG_RULES.items():
            assert can_write(entity, operation, Action.UPDATE, principal, scope) is expect[entity]
            db = request_session(connection, principal)
            await db.scalar(
                text("SELECT set_config('dxlink.operation', :o, true)").bindparams(o=operation)
            )
            judged = await db.scalar(
                text("SELECT dxlink_can_write_wg(:e, 'update', :g)").bindparams(e=entity, g=g.id)
            )
            await db.finish(commit=False)
            await connection.execute(text("RESET ROLE"))
            assert judged is expect[entity], (entity, g.status)


async def test_producer_exists_answers_for_the_token_lookup(
    connection: AsyncConnection, world: WgWorld
) -> None:
    db = request_session(connection, Principal(Role.public))
    rows = await db.all(
        text("SELECT dxlink_producer_exists(:a) AS a, dxlink_producer_exists(:b) AS b").bindparams(
            a=world.producers[0], b=world.producers[-1] + 1000
        )
    )
    await db.finish(commit=False)
    await connection.execute(text("RESET ROLE"))
    assert (rows[0].a, rows[0].b) == (True, False)


# Through the API: `node(id:)` of every row as every principal, with both layers and with
# row-level security alone.
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
API_TYPES = {
    "producer": "Producer",
    "working_group": "WorkingGroup",
    "working_group_membership": "WorkingGroupMembership",
    "working_group_adviser": "WorkingGroupAdviser",
    "working_group_meeting": "WorkingGroupMeeting",
    "working_group_output": "WorkingGroupOutput",
}


def token_for(principal: Principal, settings: Settings) -> str | None:
    if principal.role is Role.public:
        return None
    scope: dict[str, Any] = {}
    match principal.role:
        case Role.municipal_staff:
            scope = {"municipality": principal.municipality_code}
        case Role.expert:
            scope = {"expert": str(principal.expert_id)}
        case Role.producer:
            scope = {"producer": str(principal.producer_id)}
        case Role.regional_office:
            scope = {"region": "海草"}
    assert principal.subject is not None
    return mint_token(settings, role=principal.role, subject=principal.subject, scope=scope)


@pytest.mark.parametrize("layer", ["query+rls", "rls-only"])
@pytest.mark.parametrize("who", WHO)
async def test_every_row_through_the_api(
    gql: GraphQL,
    world: WgWorld,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    layer: str,
    who: str,
) -> None:
    monkeypatch.setattr(policy, "QUERY_LAYER", layer == "query+rls")
    principal = world.principals[who]
    token = token_for(principal, settings)
    for table, type_name in API_TYPES.items():
        for key, facts in world.rows[table].items():
            global_id = encode_global_id(type_name, facts.get("key", key))
            node = data_of(await gql(NODE, {"id": global_id}, token=token))["node"]
            want = expected(table, principal, facts, world)
            assert (node is not None) is want, (table, key, facts)


GROUP_FIELDS = """query($id: ID!) { node(id: $id) { ... on WorkingGroup {
  webhookUrl members { contactRole municipality { code } } } } }"""
PRODUCER_FIELDS = "query($id: ID!) { node(id: $id) { ... on Producer { name contact } } }"


@pytest.mark.parametrize("who", WHO)
async def test_hidden_fields_through_the_api(
    gql: GraphQL, world: WgWorld, settings: Settings, who: str
) -> None:
    """Role-hidden fields are null; the webhook URL of the lead's own group reaches its staff
    and the prefecture, and no one else (`policy.webhook_url_visible`, in SQL
    `dxlink_webhook_url_visible`)."""
    principal = world.principals[who]
    token = token_for(principal, settings)
    hidden = policy.hidden_fields("WorkingGroup", principal)
    for g in world.groups.values():
        if not visible(principal, g):
            continue
        global_id = encode_global_id("WorkingGroup", g.slug)
        node = data_of(await gql(GROUP_FIELDS, {"id": global_id}, token=token))["node"]
        if "webhook_url" in hidden:
            assert node["webhookUrl"] is None
        elif principal.role is Role.prefecture_admin or principal.municipality_id == g.lead:
            assert node["webhookUrl"] == f"https://chat.example/{g.slug}"
        else:  # a member or another municipality's staff: not the lead
            assert node["webhookUrl"] is None
        for member in node["members"]:
            assert (member["contactRole"] is None) is (principal.role is Role.public)
    for producer in world.producers:
        global_id = encode_global_id("Producer", producer)
        node = data_of(await gql(PRODUCER_FIELDS, {"id": global_id}, token=token))["node"]
        if node is not None:
            assert node["name"]
            assert (node["contact"] is not None) is (principal.role is Role.prefecture_admin)
