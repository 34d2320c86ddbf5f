"""Working groups' mutations: each workflow step and each rule with its code; a refusal
writes nothing (neither the row nor an audit record)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.models import AuditRecord
from service.models.working_group import WorkingGroup, WorkingGroupMembership
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of
from tests.working_groups import factories as wg

WAKAYAMA, KAINAN, KITAYAMA = "302015", "302023", "304271"

GROUP = "workingGroup { id slug name status kind ledByPrefecture startedOn version }"
PROPOSE = (
    "mutation($input: ProposeWorkingGroupInput!) { proposeWorkingGroup(input: $input) { "
    f"{GROUP} userErrors {{ field code message }} }} }}"
)
CREATE = (
    "mutation($input: CreateWorkingGroupInput!) { createWorkingGroup(input: $input) { "
    f"{GROUP} userErrors {{ field code message }} }} }}"
)
DECIDE = (
    "mutation($input: DecideWorkingGroupInput!) { decideWorkingGroup(input: $input) { "
    f"{GROUP} userErrors {{ field code message }} }} }}"
)
UPDATE = (
    "mutation($input: UpdateWorkingGroupInput!) { updateWorkingGroup(input: $input) { "
    "workingGroup { purpose publicSummary version } userErrors { field code message } } }"
)
ADVISER = (
    "mutation($input: AssignWorkingGroupAdviserInput!) { assignWorkingGroupAdviser(input: "
    "$input) { adviser { id } userErrors { field code message } } }"
)
REQUEST = (
    "mutation($input: RequestMembershipInput!) { requestMembership(input: $input) { "
    "membership { id status version } userErrors { field code message } } }"
)
DECIDE_MEMBERSHIP = (
    "mutation($input: DecideMembershipInput!) { decideMembership(input: $input) { "
    "membership { id status version } userErrors { field code message } } }"
)
ACCEPT = (
    "mutation($input: AcceptMembershipInput!) { acceptMembership(input: $input) { "
    "membership { id status version } userErrors { field code message } } }"
)
MEETING = (
    "mutation($input: RecordMeetingInput!) { recordMeeting(input: $input) { "
    "meeting { id title } userErrors { field code message } } }"
)
OUTPUT = (
    "mutation($input: AddOutputInput!) { addOutput(input: $input) { "
    "output { id title published } userErrors { field code message } } }"
)


@dataclass
class Groups:
    settings: Settings
    goal: int
    active: int  # led by 和歌山市, 海南市 an active member
    prefecture_led: int
    proposed: int  # proposed by 和歌山市

    def token(self, role: Role, **scope: Any) -> str:
        subject = f"{role.value}-{'-'.join(map(str, scope.values())) or 'x'}"
        return mint_token(self.settings, role=role, subject=subject, scope=scope)

    @property
    def admin(self) -> str:
        return self.token(Role.prefecture_admin)

    def staff(self, code: str) -> str:
        return self.token(Role.municipal_staff, municipality=code)

    def office(self, region: str) -> str:
        return self.token(Role.regional_office, region=region)


@pytest.fixture
async def groups(connection: AsyncConnection, settings: Settings) -> Groups:
    goal = await wg.create_goal(connection, code="G1")
    await wg.create_goal(connection, code="G2", title="地域の担い手")
    active = await wg.create_group(connection, lead=WAKAYAMA, goals=(goal,), slug="training")
    await wg.create_membership(connection, group_id=active, code=WAKAYAMA)
    await wg.create_membership(connection, group_id=active, code=KAINAN)
    prefecture_led = await wg.create_group(connection, goals=(goal,), slug="procurement")
    proposed = await wg.create_group(
        connection,
        lead=WAKAYAMA,
        goals=(goal,),
        slug="proposal",
        kind="SELF_INITIATED",
        status="PROPOSED",
        started_on=None,
        proposed_by_municipality_id=await f.municipality_id(connection, WAKAYAMA),
    )
    await wg.create_membership(connection, group_id=proposed, code=WAKAYAMA)
    return Groups(settings, goal, active, prefecture_led, proposed)


def gid(type_name: str, key: Any) -> str:
    return encode_global_id(type_name, key)


async def audits(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.count()).select_from(AuditRecord)))


def proposal(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "職員研修WG",
        "theme": "職員研修",
        "purpose": "市町村職員のDX研修を共同で行う",
        "expectedOutputs": "研修カリキュラム",
        "goals": ["G1"],
        "leadMunicipality": WAKAYAMA,
        **overrides,
    }


def codes(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


# --- proposeWorkingGroup ---------------------------------------------------------------------


async def test_a_municipality_proposes_a_group_it_leads(
    gql: GraphQL, groups: Groups, connection: AsyncConnection
) -> None:
    body = data_of(await gql(PROPOSE, {"input": proposal()}, token=groups.staff(WAKAYAMA)))
    payload = body["proposeWorkingGroup"]
    assert payload["userErrors"] == []
    group = payload["workingGroup"]
    assert group["status"] == "PROPOSED"
    assert group["kind"] == "SELF_INITIATED"
    assert group["slug"].startswith("wg-")
    key = int(group["slug"].removeprefix("wg-"))
    row = (
        await connection.execute(select(WorkingGroup.__table__).where(WorkingGroup.id == key))
    ).one()
    assert row.proposed_by_municipality_id == await f.municipality_id(connection, WAKAYAMA)
    assert row.proposed_by == "municipal_staff-302015"
    lead = await connection.scalar(
        select(WorkingGroupMembership.status).where(WorkingGroupMembership.working_group_id == key)
    )
    assert lead.name == "ACTIVE"
    entities = sorted(
        r[0]
        for r in await connection.execute(
            select(AuditRecord.entity).where(AuditRecord.actor_role == "municipal_staff")
        )
    )
    assert entities == ["working_group", "working_group_goal", "working_group_membership"]


async def test_a_municipality_proposes_only_what_it_leads(
    gql: GraphQL, groups: Groups, connection: AsyncConnection
) -> None:
    before = await audits(connection)
    body = data_of(
        await gql(
            PROPOSE, {"input": proposal(leadMunicipality=KAINAN)}, token=groups.staff(WAKAYAMA)
        )
    )
    assert codes(body["proposeWorkingGroup"]) == [(["input", "leadMunicipality"], "FORBIDDEN")]
    assert body["proposeWorkingGroup"]["workingGroup"] is None
    assert await audits(connection) == before


async def test_a_proposal_names_a_goal_and_says_what_it_is(gql: GraphQL, groups: Groups) -> None:
    body = data_of(
        await gql(
            PROPOSE,
            {"input": proposal(goals=[], purpose="\u200b ", name="x" * 201)},
            token=groups.staff(WAKAYAMA),
        )
    )
    assert sorted(codes(body["proposeWorkingGroup"])) == [
        (["input", "goals"], "REQUIRED"),
        (["input", "name"], "TOO_LONG"),
        (["input", "purpose"], "REQUIRED"),
    ]
    body = data_of(
        await gql(PROPOSE, {"input": proposal(goals=["G9"])}, token=groups.staff(WAKAYAMA))
    )
    assert codes(body["proposeWorkingGroup"]) == [(["input", "goals", "0"], "NOT_FOUND")]


async def test_a_slug_is_unique(gql: GraphQL, groups: Groups) -> None:
    body = data_of(
        await gql(PROPOSE, {"input": proposal(slug="training")}, token=groups.staff(WAKAYAMA))
    )
    assert codes(body["proposeWorkingGroup"]) == [(["input", "slug"], "CONFLICT")]
    body = data_of(
        await gql(PROPOSE, {"input": proposal(slug="No Spaces")}, token=groups.staff(WAKAYAMA))
    )
    assert codes(body["proposeWorkingGroup"]) == [(["input", "slug"], "INVALID")]


async def test_a_regional_office_proposes_for_its_region(
    gql: GraphQL, groups: Groups, connection: AsyncConnection
) -> None:
    office = groups.office("海草")
    body = data_of(await gql(PROPOSE, {"input": proposal(leadMunicipality=KAINAN)}, token=office))
    assert body["proposeWorkingGroup"]["userErrors"] == []
    # Led by the prefecture: no lead municipality.
    body = data_of(await gql(PROPOSE, {"input": proposal(leadMunicipality=None)}, token=office))
    assert body["proposeWorkingGroup"]["userErrors"] == []
    assert body["proposeWorkingGroup"]["workingGroup"]["ledByPrefecture"] is True
    # Not a municipality of another region, not for another region.
    body = data_of(await gql(PROPOSE, {"input": proposal(leadMunicipality=KITAYAMA)}, token=office))
    assert codes(body["proposeWorkingGroup"]) == [(["input", "leadMunicipality"], "FORBIDDEN")]
    body = data_of(await gql(PROPOSE, {"input": proposal(region="東牟婁")}, token=office))
    assert codes(body["proposeWorkingGroup"]) == [(["input", "region"], "FORBIDDEN")]


async def test_the_prefecture_does_not_propose(gql: GraphQL, groups: Groups) -> None:
    body = data_of(await gql(PROPOSE, {"input": proposal()}, token=groups.admin))
    assert codes(body["proposeWorkingGroup"]) == [(["input", "leadMunicipality"], "FORBIDDEN")]


# --- decideWorkingGroup ----------------------------------------------------------------------


async def test_the_prefecture_approves_a_proposal_which_starts_today(
    gql: GraphQL, groups: Groups
) -> None:
    body = data_of(
        await gql(
            DECIDE,
            {"input": {"workingGroup": "proposal", "version": 1, "decision": "APPROVE"}},
            token=groups.admin,
        )
    )
    group = body["decideWorkingGroup"]["workingGroup"]
    assert group["status"] == "ACTIVE"
    assert group["startedOn"] == f.jst_today().isoformat()
    assert group["version"] == 2
    # Decided once: a second decision is refused, as is a stale version.
    again = {"workingGroup": gid("WorkingGroup", "proposal"), "version": 2}
    body = data_of(
        await gql(
            DECIDE, {"input": {**again, "decision": "DECLINE", "reason": "x"}}, token=groups.admin
        )
    )
    assert codes(body["decideWorkingGroup"]) == [(["input", "workingGroup"], "NOT_PROPOSED")]


async def test_declining_needs_a_reason_that_says_something(gql: GraphQL, groups: Groups) -> None:
    decision = {"workingGroup": "proposal", "version": 1, "decision": "DECLINE"}
    body = data_of(
        await gql(DECIDE, {"input": {**decision, "reason": "\u200b"}}, token=groups.admin)
    )
    assert codes(body["decideWorkingGroup"]) == [(["input", "reason"], "REQUIRED")]
    body = data_of(
        await gql(
            DECIDE, {"input": {**decision, "version": 7, "reason": "予算"}}, token=groups.admin
        )
    )
    assert codes(body["decideWorkingGroup"]) == [(["input", "version"], "STALE")]
    body = data_of(
        await gql(DECIDE, {"input": {**decision, "reason": "予算がない"}}, token=groups.admin)
    )
    assert body["decideWorkingGroup"]["workingGroup"]["status"] == "DECLINED"


async def test_only_the_prefecture_decides(gql: GraphQL, groups: Groups) -> None:
    body = data_of(
        await gql(
            DECIDE,
            {"input": {"workingGroup": "proposal", "version": 1, "decision": "APPROVE"}},
            token=groups.staff(WAKAYAMA),
        )
    )
    assert codes(body["decideWorkingGroup"]) == [(["input", "workingGroup"], "FORBIDDEN")]


# --- createWorkingGroup ----------------------------------------------------------------------


async def test_the_prefecture_creates_an_active_group(gql: GraphQL, groups: Groups) -> None:
    draft = {k: v for k, v in proposal().items() if k != "leadMunicipality"}
    body = data_of(
        await gql(CREATE, {"input": {**draft, "ledByPrefecture": True}}, token=groups.admin)
    )
    group = body["createWorkingGroup"]["workingGroup"]
    assert group["status"] == "ACTIVE"
    assert group["kind"] == "BUSINESS_CREATION"
    assert group["ledByPrefecture"] is True
    body = data_of(await gql(CREATE, {"input": draft}, token=groups.admin))
    assert codes(body["createWorkingGroup"]) == [(["input", "leadMunicipality"], "REQUIRED")]
    body = data_of(
        await gql(CREATE, {"input": {**draft, "lead": WAKAYAMA}}, token=groups.staff(WAKAYAMA))
    )
    assert codes(body["createWorkingGroup"]) == [(["input"], "FORBIDDEN")]


# --- updateWorkingGroup ----------------------------------------------------------------------


async def test_the_lead_edits_its_group_and_its_webhook(gql: GraphQL, groups: Groups) -> None:
    change = {"workingGroup": "training", "version": 1, "publicSummary": "研修を共同で"}
    body = data_of(await gql(UPDATE, {"input": change}, token=groups.staff(WAKAYAMA)))
    assert body["updateWorkingGroup"]["workingGroup"]["version"] == 2
    body = data_of(
        await gql(UPDATE, {"input": {**change, "version": 2}}, token=groups.staff(KAINAN))
    )
    assert codes(body["updateWorkingGroup"]) == [(["input", "workingGroup"], "FORBIDDEN")]
    for url in ("javascript:alert(1)", "ftp://chat.example/hook", "https://"):
        body = data_of(
            await gql(
                UPDATE,
                {"input": {**change, "version": 2, "webhookUrl": url}},
                token=groups.admin,
            )
        )
        assert codes(body["updateWorkingGroup"]) == [(["input", "webhookUrl"], "INVALID_URL")]
    long = "https://chat.example/" + "a" * 2000
    body = data_of(
        await gql(
            UPDATE, {"input": {**change, "version": 2, "webhookUrl": long}}, token=groups.admin
        )
    )
    assert codes(body["updateWorkingGroup"]) == [(["input", "webhookUrl"], "TOO_LONG")]
    body = data_of(
        await gql(
            UPDATE,
            {"input": {**change, "version": 2, "webhookUrl": "https://hooks.example/T1"}},
            token=groups.admin,
        )
    )
    assert body["updateWorkingGroup"]["userErrors"] == []


# --- assignWorkingGroupAdviser -----------------------------------------------------------------


async def test_the_prefecture_assigns_one_adviser_once(
    gql: GraphQL, groups: Groups, connection: AsyncConnection
) -> None:
    expert = await f.create_expert(connection, name="助言者")
    given = {"workingGroup": "training", "expert": gid("Expert", expert)}
    body = data_of(await gql(ADVISER, {"input": given}, token=groups.admin))
    assert body["assignWorkingGroupAdviser"]["userErrors"] == []
    body = data_of(await gql(ADVISER, {"input": given}, token=groups.admin))
    assert codes(body["assignWorkingGroupAdviser"]) == [(["input", "expert"], "CONFLICT")]
    producer = await wg.create_producer(connection)
    both = {**given, "producer": gid("Producer", producer)}
    body = data_of(await gql(ADVISER, {"input": both}, token=groups.admin))
    assert codes(body["assignWorkingGroupAdviser"]) == [(["input"], "INVALID")]
    body = data_of(await gql(ADVISER, {"input": given}, token=groups.staff(WAKAYAMA)))
    assert codes(body["assignWorkingGroupAdviser"]) == [(["input", "workingGroup"], "FORBIDDEN")]


# --- memberships -----------------------------------------------------------------------------


async def test_a_municipality_asks_to_join_and_the_lead_accepts(
    gql: GraphQL, groups: Groups
) -> None:
    body = data_of(
        await gql(
            REQUEST,
            {"input": {"workingGroup": "training", "contactRole": "企画課 主査"}},
            token=groups.staff(KITAYAMA),
        )
    )
    membership = body["requestMembership"]["membership"]
    assert membership["status"] == "REQUESTED"
    again = data_of(
        await gql(REQUEST, {"input": {"workingGroup": "training"}}, token=groups.staff(KITAYAMA))
    )
    assert codes(again["requestMembership"]) == [(["input", "workingGroup"], "CONFLICT")]
    decision = {"membership": membership["id"], "version": 1, "decision": "ACCEPT"}
    # A member is not the lead: another's request is not even visible to it.
    body = data_of(await gql(DECIDE_MEMBERSHIP, {"input": decision}, token=groups.staff(KAINAN)))
    assert codes(body["decideMembership"]) == [(["input", "membership"], "NOT_FOUND")]
    body = data_of(await gql(DECIDE_MEMBERSHIP, {"input": decision}, token=groups.staff(WAKAYAMA)))
    assert body["decideMembership"]["membership"]["status"] == "ACTIVE"
    body = data_of(
        await gql(
            DECIDE_MEMBERSHIP, {"input": {**decision, "version": 2}}, token=groups.staff(WAKAYAMA)
        )
    )
    assert codes(body["decideMembership"]) == [(["input", "membership"], "NOT_REQUESTED")]


async def test_accept_membership_is_the_issues_name(gql: GraphQL, groups: Groups) -> None:
    body = data_of(
        await gql(REQUEST, {"input": {"workingGroup": "procurement"}}, token=groups.staff(KAINAN))
    )
    key = body["requestMembership"]["membership"]["id"]
    body = data_of(
        await gql(
            ACCEPT, {"input": {"membership": key, "version": 1}}, token=groups.staff(WAKAYAMA)
        )
    )
    # The prefecture leads: 和歌山市 does not see 海南市's request.
    assert codes(body["acceptMembership"]) == [(["input", "membership"], "NOT_FOUND")]
    body = data_of(
        await gql(ACCEPT, {"input": {"membership": key, "version": 1}}, token=groups.admin)
    )
    assert body["acceptMembership"]["membership"]["status"] == "ACTIVE"


async def test_only_an_active_group_takes_requests(gql: GraphQL, groups: Groups) -> None:
    body = data_of(
        await gql(REQUEST, {"input": {"workingGroup": "proposal"}}, token=groups.staff(WAKAYAMA))
    )
    assert codes(body["requestMembership"]) == [(["input", "workingGroup"], "GROUP_NOT_OPEN")]
    # A proposal is not visible to another municipality.
    body = data_of(
        await gql(REQUEST, {"input": {"workingGroup": "proposal"}}, token=groups.staff(KAINAN))
    )
    assert codes(body["requestMembership"]) == [(["input", "workingGroup"], "NOT_FOUND")]
    body = data_of(await gql(REQUEST, {"input": {"workingGroup": "training"}}, token=groups.admin))
    assert codes(body["requestMembership"]) == [(["input", "workingGroup"], "FORBIDDEN")]


# --- meetings and outputs --------------------------------------------------------------------


def meeting(**overrides: Any) -> dict[str, Any]:
    return {
        "workingGroup": "training",
        "heldOn": "2026-11-20",
        "mode": "ONLINE",
        "title": "第1回",
        "agenda": "研修計画",
        "minutes": "計画を決めた",
        "attendance": [
            {"municipality": WAKAYAMA, "attendees": 2},
            {"municipality": KAINAN, "attendees": 1},
        ],
        **overrides,
    }


async def test_a_member_records_a_meeting_with_its_members_attendance(
    gql: GraphQL, groups: Groups, connection: AsyncConnection
) -> None:
    body = data_of(await gql(MEETING, {"input": meeting()}, token=groups.staff(KAINAN)))
    assert body["recordMeeting"]["userErrors"] == []
    attended = await connection.scalar(text("SELECT sum(attendees) FROM working_group_attendance"))
    assert attended == 3
    entities = {
        r[0]
        for r in await connection.execute(
            select(AuditRecord.entity).where(AuditRecord.actor_role == "municipal_staff")
        )
    }
    assert entities == {"working_group_meeting", "working_group_attendance"}


async def test_attendance_is_of_members_only(gql: GraphQL, groups: Groups) -> None:
    body = data_of(
        await gql(
            MEETING,
            {"input": meeting(attendance=[{"municipality": KITAYAMA, "attendees": 1}])},
            token=groups.admin,
        )
    )
    assert codes(body["recordMeeting"]) == [
        (["input", "attendance", "0", "municipality"], "NOT_A_MEMBER")
    ]


async def test_a_non_member_records_no_meeting_and_adds_no_output(
    gql: GraphQL, groups: Groups, connection: AsyncConnection
) -> None:
    before = await audits(connection)
    body = data_of(await gql(MEETING, {"input": meeting()}, token=groups.staff(KITAYAMA)))
    assert codes(body["recordMeeting"]) == [(["input", "workingGroup"], "FORBIDDEN")]
    output = {"workingGroup": "training", "kind": "DOCUMENT", "title": "報告書"}
    body = data_of(await gql(OUTPUT, {"input": output}, token=groups.staff(KITAYAMA)))
    assert codes(body["addOutput"]) == [(["input", "workingGroup"], "FORBIDDEN")]
    assert await audits(connection) == before


async def test_a_member_adds_an_output(gql: GraphQL, groups: Groups) -> None:
    output = {
        "workingGroup": "training",
        "kind": "PROCUREMENT_SPEC",
        "title": "共同調達仕様書",
        "url": "https://example.jp/spec.pdf",
        "published": True,
    }
    body = data_of(await gql(OUTPUT, {"input": output}, token=groups.staff(WAKAYAMA)))
    assert body["addOutput"]["output"]["published"] is True
    body = data_of(
        await gql(OUTPUT, {"input": {**output, "url": "data:text/html,x"}}, token=groups.admin)
    )
    assert codes(body["addOutput"]) == [(["input", "url"], "INVALID_URL")]
    body = data_of(
        await gql(OUTPUT, {"input": {**output, "workingGroup": "proposal"}}, token=groups.admin)
    )
    assert codes(body["addOutput"]) == [(["input", "workingGroup"], "GROUP_NOT_OPEN")]
    body = data_of(
        await gql(OUTPUT, {"input": {**output, "workingGroup": "nothing"}}, token=groups.admin)
    )
    assert codes(body["addOutput"]) == [(["input", "workingGroup"], "NOT_FOUND")]


async def test_a_meeting_queues_the_groups_chat_message(
    gql: GraphQL, groups: Groups, connection: AsyncConnection
) -> None:
    await connection.execute(
        text("UPDATE working_group SET webhook_url = 'https://hooks.example/T1' WHERE id = :g"),
        {"g": groups.active},
    )
    body = data_of(await gql(MEETING, {"input": meeting()}, token=groups.staff(WAKAYAMA)))
    assert body["recordMeeting"]["userErrors"] == []
    output = {"workingGroup": "training", "kind": "DOCUMENT", "title": "報告書"}
    data_of(await gql(OUTPUT, {"input": output}, token=groups.staff(WAKAYAMA)))
    # A refused write queues nothing.
    data_of(await gql(OUTPUT, {"input": output}, token=groups.staff(KITAYAMA)))
    events = [
        r[0]
        for r in await connection.execute(
            text("SELECT event FROM webhook_delivery WHERE working_group_id = :g ORDER BY id"),
            {"g": groups.active},
        )
    ]
    assert events == ["meeting_recorded", "output_added"]
