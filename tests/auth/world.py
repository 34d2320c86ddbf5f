"""A small world of scoped data and the principals who look at it, for the access tests.

Three municipalities: 和歌山市 (302015) and 海南市 (302023) in the 海草 region, 北山村 (304271)
in 東牟婁. Expert A is assigned to 和歌山市 now, expert B was assigned to 海南市 (ended), expert C
is assigned to 北山村 now. Each municipality has a tier and an assessment response; each
assignment has a visit; the audit log has one record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Principal, Role
from schema.node import encode_global_id
from service.models import DatasetPublisher, DxGoal, DxGoalIndicator, Region
from tests import factories as f

OWN, NEIGHBOUR, FAR = "302015", "302023", "304271"


@dataclass(frozen=True)
class Row:
    global_id: str
    municipality_id: int | None = None
    expert_id: int | None = None
    published: bool = False
    publishers: frozenset[int] = frozenset()


@dataclass
class World:
    municipality: dict[str, int] = field(default_factory=dict)
    experts: dict[str, int] = field(default_factory=dict)
    region_of: dict[int, int] = field(default_factory=dict)  # municipality id -> region id
    assigned_now: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    ever_assigned: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    principals: dict[str, Principal] = field(default_factory=dict)


async def build_world(connection: AsyncConnection) -> World:
    world = World()
    for code in (OWN, NEIGHBOUR, FAR):
        world.municipality[code] = await f.municipality_id(connection, code)
    regions = {
        row.short_name: row.id
        for row in await connection.execute(select(Region.id, Region.short_name))
    }
    world.region_of = {
        world.municipality[OWN]: regions["海草"],
        world.municipality[NEIGHBOUR]: regions["海草"],
        world.municipality[FAR]: regions["東牟婁"],
    }
    today = f.jst_today()
    plans = {
        "A": (OWN, {}),
        "B": (
            NEIGHBOUR,
            {
                "status": "ENDED",
                "starts_on": today - timedelta(days=200),
                "ends_on": today - timedelta(days=20),
            },
        ),
        "C": (FAR, {}),
    }
    # A programme whose period and menu hold every assignment and request below (the world's
    # dates follow today), so that writes on them are judged by the policy, not by its rules.
    programme = await f.create_programme(
        connection,
        starts_on=today - timedelta(days=400),
        ends_on=today + timedelta(days=400),
        themes=["DX推進計画", "生成AI", "情報システム標準化", *(f"生成AI {n}" for n in "ABC")],
    )
    world.rows["DispatchProgramme"].append(Row(encode_global_id("DispatchProgramme", 2026)))
    for name, (code, overrides) in plans.items():
        expert = await f.create_expert(connection, name=f"専門家{name}")
        world.experts[name] = expert
        world.rows["Expert"].append(Row(encode_global_id("Expert", expert), expert_id=expert))
        window = await f.create_availability(connection, expert_id=expert)
        world.rows["ExpertAvailability"].append(
            Row(encode_global_id("ExpertAvailability", window), expert_id=expert)
        )
        request = await f.create_request(
            connection,
            programme_id=programme,
            municipality_id=world.municipality[code],
            theme=f"生成AI {name}",
            status="MATCHED",
        )
        world.rows["DispatchRequest"].append(
            Row(encode_global_id("DispatchRequest", request), world.municipality[code])
        )
        municipality = world.municipality[code]
        assignment = await f.create_assignment(
            connection,
            expert_id=expert,
            municipality_id=municipality,
            request_id=request,
            programme_id=programme,
            **overrides,
        )
        world.ever_assigned[expert].add(municipality)
        if not overrides:
            world.assigned_now[expert].add(municipality)
        world.rows["DispatchAssignment"].append(
            Row(encode_global_id("DispatchAssignment", assignment), municipality, expert)
        )
        visit = await f.create_visit(connection, assignment_id=assignment)
        world.rows["DispatchVisit"].append(
            Row(encode_global_id("DispatchVisit", visit), municipality, expert)
        )
    for municipality in world.municipality.values():
        tier = await f.create_tier_assignment(connection, municipality_id=municipality)
        world.rows["TierAssignment"].append(
            Row(encode_global_id("TierAssignment", tier), municipality)
        )
        response = await f.create_response(connection, municipality_id=municipality)
        answer = await f.create_answer(connection, response_id=response)
        choice = await f.create_choice_answer(
            connection, response_id=response, question_key="4-2", labels=f.COMPLETE["4-2"]
        )
        for key in (answer, choice):
            world.rows["AssessmentAnswer"].append(
                Row(encode_global_id("AssessmentAnswer", key), municipality)
            )
        world.rows["AssessmentResponse"].append(
            Row(encode_global_id("AssessmentResponse", response), municipality)
        )
    own, far = world.municipality[OWN], world.municipality[FAR]
    for name, status, publishers in (
        ("published-own", "PUBLISHED", {own}),
        ("draft-own", "DRAFT", {own}),
        ("draft-far", "DRAFT", {far}),
        ("published-joint", "PUBLISHED", {own, far}),
        ("draft-joint", "DRAFT", {own, far}),
    ):
        dataset = await f.create_dataset(
            connection, identifier=name, status=status, publishers=sorted(publishers)
        )
        distribution = await f.create_distribution(connection, dataset_id=dataset)
        facts = {"published": status == "PUBLISHED", "publishers": frozenset(publishers)}
        world.rows["Dataset"].append(Row(encode_global_id("Dataset", dataset), **facts))
        world.rows["Distribution"].append(
            Row(encode_global_id("Distribution", distribution), **facts)
        )
        for publisher, municipality in await connection.execute(
            select(DatasetPublisher.id, DatasetPublisher.municipality_id).where(
                DatasetPublisher.dataset_id == dataset
            )
        ):
            world.rows["DatasetPublisher"].append(
                Row(encode_global_id("DatasetPublisher", publisher), municipality, **facts)
            )
    audit = await f.create_audit_record(connection)
    world.rows["AuditRecord"].append(Row(encode_global_id("AuditRecord", audit)))
    # A DX goal with an indicator: public reference data (working groups serve the goals).
    goal = (
        await connection.execute(
            insert(DxGoal.__table__)
            .values(code="W0", title="行政のデジタル化（アクセス試験）")
            .returning(DxGoal.__table__.c.id)
        )
    ).scalar_one()
    await connection.execute(
        insert(DxGoalIndicator.__table__).values(
            goal_id=goal, name="オンライン申請率", fiscal_year=2026, target=80.0
        )
    )

    m = world.municipality
    world.principals = {
        "prefecture_admin": Principal(Role.prefecture_admin, "admin"),
        "dispatch_coordinator": Principal(Role.dispatch_coordinator, "coordinator"),
        "regional_office(海草)": Principal(
            Role.regional_office, "kaiso", region_id=regions["海草"]
        ),
        "municipal_staff(302015)": Principal(
            Role.municipal_staff, "wakayama", municipality_id=m[OWN], municipality_code=OWN
        ),
        "municipal_staff(304271)": Principal(
            Role.municipal_staff, "kitayama", municipality_id=m[FAR], municipality_code=FAR
        ),
        "expert(A, assigned now)": Principal(Role.expert, "a", expert_id=world.experts["A"]),
        "expert(B, assignment ended)": Principal(Role.expert, "b", expert_id=world.experts["B"]),
        "public": Principal(Role.public),
    }
    return world


PRINCIPAL_NAMES = [
    "prefecture_admin",
    "dispatch_coordinator",
    "regional_office(海草)",
    "municipal_staff(302015)",
    "municipal_staff(304271)",
    "expert(A, assigned now)",
    "expert(B, assignment ended)",
    "public",
]


def token_claims(principal: Principal) -> dict[str, Any]:
    """The scope claims a token for ``principal`` carries."""
    if principal.role is Role.municipal_staff:
        return {"municipality": principal.municipality_code}
    if principal.role is Role.expert:
        return {"expert": str(principal.expert_id)}
    if principal.role is Role.regional_office:
        return {"region": "海草"}
    return {}
