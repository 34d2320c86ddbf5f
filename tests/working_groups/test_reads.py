"""Reads of working groups (issue 13): goals with indicators, groups and everything nested in
them, the filters and pages of workingGroups, a municipality's groups and the participation
coverage, on both executors (the `gql` fixture sends every query both ways and compares the
bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth import policy
from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import conftest
from tests import factories as f
from tests.auth.world import PRINCIPAL_NAMES, build_world, token_claims
from tests.conftest import GraphQL, data_of, error_of
from tests.working_groups import factories as wgf

WAKAYAMA, KAINAN, HASHIMOTO, ARIDA = "302015", "302023", "302031", "302040"


@dataclass
class Board:
    goals: dict[str, int]
    groups: dict[str, int]


async def _board(connection: AsyncConnection) -> Board:
    """Two goals and three groups: a prefecture-led business-creation group with two members,
    a self-initiated one 和歌山市 leads (and a declined and a left membership), a closed one."""
    g1 = await wgf.create_goal(connection, code="G1", title="行政のデジタル化", position=1)
    g2 = await wgf.create_goal(connection, code="G2", title="地域のデジタル化", position=2)
    await wgf.create_indicator(connection, goal_id=g1, fiscal_year=2026, position=1)
    await wgf.create_indicator(
        connection, goal_id=g1, name="電子契約", fiscal_year=2025, target=0.0, current=3.0
    )
    await wgf.create_indicator(
        connection, goal_id=g1, name="RPA", fiscal_year=2026, position=2, target=30, current=None
    )
    kaiso = await connection.scalar(text("SELECT id FROM region WHERE short_name = '海草'"))
    procurement = await wgf.create_group(
        connection, goals=(g1, g2), webhook_url="https://hooks.example/x"
    )
    await wgf.create_membership(connection, group_id=procurement, code=KAINAN)
    await wgf.create_membership(connection, group_id=procurement, code=HASHIMOTO)
    await wgf.create_membership(connection, group_id=procurement, code=ARIDA, status="REQUESTED")
    ai = await wgf.create_group(
        connection,
        slug="generative-ai",
        name="生成AI活用WG",
        kind="SELF_INITIATED",
        lead=WAKAYAMA,
        goals=(g1,),
        region_id=kaiso,
        proposed_by_municipality_id=await f.municipality_id(connection, WAKAYAMA),
    )
    await wgf.create_membership(connection, group_id=ai, code=KAINAN)
    await wgf.create_membership(connection, group_id=ai, code=HASHIMOTO, status="LEFT")
    await wgf.create_membership(connection, group_id=ai, code=ARIDA, status="DECLINED")
    closed = await wgf.create_group(
        connection,
        slug="archive",
        name="文書管理WG",
        status="CLOSED",
        goals=(g2,),
        closed_on=date(2026, 10, 1),
    )
    await wgf.create_membership(connection, group_id=closed, code=ARIDA)
    return Board({"G1": g1, "G2": g2}, {"joint-procurement": procurement, "generative-ai": ai})


GOALS = """
{
  dxGoals {
    id code title description position synthetic
    indicators { name unit fiscalYear target current progress synthetic goal { code } }
    workingGroups { slug }
  }
}
"""


def _admin(settings: Settings) -> str:
    return mint_token(settings, role=Role.prefecture_admin, subject="a")


async def test_goals_list_their_indicators_and_groups(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    await _board(connection)
    goals = data_of(await gql(GOALS))["dxGoals"]
    assert [g["code"] for g in goals] == ["G1", "G2"]
    g1 = goals[0]
    assert [(i["name"], i["fiscalYear"]) for i in g1["indicators"]] == [
        ("電子契約", 2025),
        ("オンライン申請率", 2026),
        ("RPA", 2026),
    ]
    assert [i["progress"] for i in g1["indicators"]] == [None, 0.25, None]
    assert g1["indicators"][1]["target"] == 80
    assert [w["slug"] for w in g1["workingGroups"]] == ["generative-ai", "joint-procurement"]
    assert [w["slug"] for w in goals[1]["workingGroups"]] == ["archive", "joint-procurement"]


async def test_one_goal_by_its_code(gql: GraphQL, connection: AsyncConnection) -> None:
    await _board(connection)
    query = "query($c: String!) { dxGoal(code: $c) { code title } }"
    assert data_of(await gql(query, {"c": " G2 "}))["dxGoal"] == {
        "code": "G2",
        "title": "地域のデジタル化",
    }
    assert data_of(await gql(query, {"c": "G9"}))["dxGoal"] is None


GROUP = """
query($slug: String!) {
  workingGroup(slug: $slug) {
    id slug name kind status theme purpose expectedOutputs publicSummary ledByPrefecture
    fiscalYear startedOn closedOn decidedAt decisionReason webhookUrl version synthetic
    memberCount
    leadMunicipality { code } region { shortName }
    proposedByMunicipality { code } proposedByRegion { name }
    goals { code }
    members { municipality { code } status contactRole workingGroup { slug } }
    memberships { municipality { code } status version synthetic requestedAt decidedAt }
    advisers { note synthetic expert { name } producer { name kind specialty } }
    meetings(first: 2) {
      heldOn mode title agenda minutes version synthetic workingGroup { slug }
      attendance { municipality { code } attendees synthetic }
    }
    outputs { kind title description url published publishedOn version synthetic }
  }
}
"""


async def test_a_group_and_everything_in_it(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    board = await _board(connection)
    procurement = board.groups["joint-procurement"]
    expert = await f.create_expert(connection)
    producer = await wgf.create_producer(connection, kind="SPECIALIST")
    await wgf.create_adviser(connection, group_id=procurement, expert_id=expert, note="技術")
    await wgf.create_adviser(connection, group_id=procurement, producer_id=producer)
    for day in (1, 2, 3):
        meeting = await wgf.create_meeting(
            connection, group_id=procurement, held_on=date(2026, 5, day), title=f"第{day}回"
        )
        await wgf.create_attendance(connection, meeting_id=meeting, code=HASHIMOTO, attendees=2)
        await wgf.create_attendance(connection, meeting_id=meeting, code=KAINAN)
    await wgf.create_output(connection, group_id=procurement, kind="PROCUREMENT_SPEC")
    await wgf.create_output(connection, group_id=procurement, published=False, published_on=None)

    body = data_of(await gql(GROUP, {"slug": "joint-procurement"}, token=_admin(settings)))
    group = body["workingGroup"]
    assert (group["kind"], group["status"], group["ledByPrefecture"]) == (
        "BUSINESS_CREATION",
        "ACTIVE",
        True,
    )
    assert group["leadMunicipality"] is None
    assert group["region"] is None
    assert group["webhookUrl"] == "https://hooks.example/x"
    assert group["memberCount"] == 2
    assert [g["code"] for g in group["goals"]] == ["G1", "G2"]
    assert [m["municipality"]["code"] for m in group["members"]] == [KAINAN, HASHIMOTO]
    assert {m["status"] for m in group["members"]} == {"ACTIVE"}
    assert [(m["municipality"]["code"], m["status"]) for m in group["memberships"]] == [
        (KAINAN, "ACTIVE"),
        (HASHIMOTO, "ACTIVE"),
        (ARIDA, "REQUESTED"),
    ]
    assert group["advisers"][0]["expert"]["name"] == "専門 太郎"
    assert group["advisers"][0]["producer"] is None
    assert group["advisers"][1]["producer"]["kind"] == "SPECIALIST"
    assert [m["heldOn"] for m in group["meetings"]] == ["2026-05-03", "2026-05-02"]
    assert group["meetings"][0]["attendance"] == [
        {"municipality": {"code": KAINAN}, "attendees": 1, "synthetic": False},
        {"municipality": {"code": HASHIMOTO}, "attendees": 2, "synthetic": False},
    ]
    assert [o["kind"] for o in group["outputs"]] == ["PROCUREMENT_SPEC", "DOCUMENT"]

    ai = data_of(await gql(GROUP, {"slug": "generative-ai"}))["workingGroup"]
    assert ai["kind"] == "SELF_INITIATED"
    assert ai["ledByPrefecture"] is False
    assert ai["leadMunicipality"] == {"code": WAKAYAMA}
    assert ai["proposedByMunicipality"] == {"code": WAKAYAMA}
    assert ai["region"] == {"shortName": "海草"}
    assert ai["memberCount"] == 1
    assert data_of(await gql(GROUP, {"slug": "nothing"}))["workingGroup"] is None


LIST = """
query(
  $goal: String, $kind: WorkingGroupKind, $region: String, $status: [WorkingGroupStatus!],
  $member: String, $first: Int, $after: String
) {
  workingGroups(
    goal: $goal, kind: $kind, region: $region, status: $status, member: $member,
    first: $first, after: $after
  ) {
    totalCount
    edges { cursor node { slug memberCount } }
    nodes { id name }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def _slugs(body: dict) -> list[str]:
    return [e["node"]["slug"] for e in data_of(body)["workingGroups"]["edges"]]


@pytest.mark.parametrize(
    ("variables", "slugs"),
    [
        ({}, ["archive", "generative-ai", "joint-procurement"]),
        ({"goal": "G1"}, ["generative-ai", "joint-procurement"]),
        ({"goal": " G2"}, ["archive", "joint-procurement"]),
        ({"kind": "SELF_INITIATED"}, ["generative-ai"]),
        ({"kind": "BUSINESS_CREATION"}, ["archive", "joint-procurement"]),
        ({"region": "海草"}, ["generative-ai"]),
        ({"region": "海草振興局"}, ["generative-ai"]),
        ({"region": "伊都"}, []),
        ({"status": ["ACTIVE"]}, ["generative-ai", "joint-procurement"]),
        ({"status": ["CLOSED", "PROPOSED"]}, ["archive"]),
        ({"status": []}, []),
        ({"member": KAINAN}, ["generative-ai", "joint-procurement"]),
        ({"member": WAKAYAMA}, ["generative-ai"]),  # it leads
        ({"member": HASHIMOTO}, ["joint-procurement"]),  # it left generative-ai
        ({"member": ARIDA}, ["archive"]),  # requested and declined elsewhere
        ({"member": ARIDA, "status": ["ACTIVE"]}, []),
        ({"goal": "G1", "kind": "BUSINESS_CREATION", "member": KAINAN}, ["joint-procurement"]),
    ],
)
async def test_filters(
    gql: GraphQL, connection: AsyncConnection, variables: dict, slugs: list[str]
) -> None:
    await _board(connection)
    body = await gql(LIST, variables)
    assert _slugs(body) == slugs
    assert data_of(body)["workingGroups"]["totalCount"] == len(slugs)


async def test_pages(gql: GraphQL, connection: AsyncConnection) -> None:
    await _board(connection)
    first = data_of(await gql(LIST, {"first": 2}))["workingGroups"]
    assert [e["node"]["slug"] for e in first["edges"]] == ["archive", "generative-ai"]
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    second = data_of(await gql(LIST, {"first": 2, "after": after}))["workingGroups"]
    assert [e["node"]["slug"] for e in second["edges"]] == ["joint-procurement"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert second["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"goal": "G9"}, "goal"),
        ({"region": "どこか"}, "region"),
        ({"member": "30201"}, "member"),
        ({"member": "302016"}, "member"),  # a wrong check digit
        ({"first": 1000}, "first"),
        ({"after": "not a cursor"}, "after"),
    ],
)
async def test_bad_arguments(
    gql: GraphQL, connection: AsyncConnection, variables: dict, argument: str
) -> None:
    await _board(connection)
    error = error_of(await gql(LIST, variables))
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert f"'{argument}'" in error["message"], error


async def test_a_municipality_lists_the_groups_it_takes_part_in(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    await _board(connection)
    query = """
    query($code: String!) { municipality(code: $code) { workingGroups { slug status } } }
    """
    groups = {}
    for code in (WAKAYAMA, KAINAN, HASHIMOTO, ARIDA, "302058"):
        body = data_of(await gql(query, {"code": code}))
        groups[code] = [g["slug"] for g in body["municipality"]["workingGroups"]]
    assert groups == {
        WAKAYAMA: ["generative-ai"],
        KAINAN: ["generative-ai", "joint-procurement"],
        HASHIMOTO: ["joint-procurement"],
        ARIDA: ["archive"],
        "302058": [],
    }
    many = data_of(
        await gql("{ municipalities(first: 5) { nodes { code workingGroups { slug } } } }")
    )["municipalities"]["nodes"]
    assert [len(m["workingGroups"]) for m in many] == [1, 2, 1, 1, 0]


COVERAGE = """
{
  participationCoverage {
    municipalities participating leading share
    regions { region { name shortName } municipalities participating leading share }
  }
}
"""


async def test_participation_coverage(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    empty = data_of(await gql(COVERAGE))["participationCoverage"]
    assert (empty["municipalities"], empty["participating"], empty["leading"]) == (30, 0, 0)
    assert empty["share"] == 0
    await _board(connection)
    rows = await connection.execute(
        text(
            "SELECT r.short_name, count(*) AS n FROM municipality m JOIN region r "
            "ON r.id = m.region_id GROUP BY r.id ORDER BY r.prefecture_id, r.position, r.id"
        )
    )
    sizes = [(r.short_name, r.n) for r in rows]
    body = data_of(await gql(COVERAGE, token=_admin(settings)))["participationCoverage"]
    # 和歌山市 (lead), 海南市 and 橋本市 (members of active groups); 有田市 only of a closed one.
    assert (body["municipalities"], body["participating"], body["leading"]) == (30, 3, 1)
    assert body["share"] == 3 / 30
    assert [(r["region"]["shortName"], r["municipalities"]) for r in body["regions"]] == sizes
    taking_part = {r["region"]["shortName"]: r["participating"] for r in body["regions"]}
    region_of = dict(
        (
            await connection.execute(
                text(
                    "SELECT m.code, r.short_name FROM municipality m JOIN region r "
                    "ON r.id = m.region_id"
                )
            )
        ).all()
    )
    expected: dict[str, int] = {name: 0 for name, _ in sizes}
    for code in (WAKAYAMA, KAINAN, HASHIMOTO):
        expected[region_of[code]] += 1
    assert taking_part == expected
    leading = [r["region"]["shortName"] for r in body["regions"] if r["leading"]]
    assert leading == [region_of[WAKAYAMA]]
    assert data_of(await gql(COVERAGE)) == {"participationCoverage": body}


async def test_node_finds_a_group_by_its_id(gql: GraphQL, connection: AsyncConnection) -> None:
    await _board(connection)
    group = data_of(await gql(GROUP, {"slug": "generative-ai"}))["workingGroup"]
    query = "query($id: ID!) { node(id: $id) { ... on WorkingGroup { slug } } }"
    assert data_of(await gql(query, {"id": group["id"]}))["node"] == {"slug": "generative-ai"}


EVERYTHING = (
    "{ dxGoals { code indicators { progress } workingGroups { slug } } "
    "workingGroups(first: 5) { totalCount nodes { slug webhookUrl memberCount "
    "members { municipality { code } } memberships { status contactRole } "
    "advisers { expert { name contact } producer { name contact } } "
    "meetings(first: 1) { heldOn minutes attendance { attendees municipality { code } } } "
    "outputs { title published } goals { code } region { name } leadMunicipality { code } } } "
    'municipality(code: "302015") { workingGroups { slug } } '
    "participationCoverage { participating leading share regions { region { name } share } } }"
)


@pytest.mark.parametrize("layer", ["query+rls", "rls-only"])
@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
async def test_compiled_as_every_principal(
    gql: GraphQL,
    connection: AsyncConnection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    who: str,
    layer: str,
) -> None:
    world = await build_world(connection)
    board = await _board(connection)
    procurement = board.groups["joint-procurement"]
    await wgf.create_adviser(
        connection, group_id=procurement, expert_id=await f.create_expert(connection)
    )
    await wgf.create_adviser(
        connection, group_id=procurement, producer_id=await wgf.create_producer(connection)
    )
    meeting = await wgf.create_meeting(connection, group_id=procurement, minutes="議事録")
    await wgf.create_attendance(connection, meeting_id=meeting, code=KAINAN)
    await wgf.create_output(connection, group_id=procurement)
    if layer == "rls-only":
        monkeypatch.setattr(policy, "QUERY_LAYER", False)
    principal = world.principals[who]
    token = None
    if principal.subject is not None:
        token = mint_token(
            settings, role=principal.role, subject=principal.subject, scope=token_claims(principal)
        )
    before = len(conftest.executors_compared)
    data_of(await gql(EVERYTHING, token=token))
    assert len(conftest.executors_compared) == before + 1, "not compiled"


async def test_meetings_take_a_checked_page_size(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    # Meetings are for the group's members, advisers and the prefecture: read as the prefecture.
    admin = _admin(settings)
    board = await _board(connection)
    for day in range(1, 13):
        await wgf.create_meeting(
            connection, group_id=board.groups["generative-ai"], held_on=date(2026, 6, day)
        )
    query = (
        'query($n: Int!) { workingGroup(slug: "generative-ai") { all: meetings { heldOn } '
        "few: meetings(first: $n) { heldOn } } }"
    )
    group = data_of(await gql(query, {"n": 3}, token=admin))["workingGroup"]
    assert len(group["all"]) == 10  # the default page
    assert [m["heldOn"] for m in group["few"]] == ["2026-06-12", "2026-06-11", "2026-06-10"]
    error = error_of(await gql(query, {"n": 1000}, token=admin))
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert data_of(await gql(LIST, {"status": None}))["workingGroups"]["totalCount"] == 3
