"""Reads of working groups: the filters of `workingGroups` and the participation coverage, as
SQL both executors build their statements from (the resolvers through `WorkingGroupReads`,
the compiled path in `service/compiler/roots.py` with bind parameters)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Integer,
    String,
    any_,
    bindparam,
    cast,
    exists,
    func,
    null,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.errors import InvalidArgument
from service.geography.codes import require_valid_code
from service.models import Municipality, Region
from service.models.working_group import (
    DxGoal,
    MembershipStatus,
    WorkingGroup,
    WorkingGroupGoal,
    WorkingGroupMembership,
    WorkingGroupStatus,
)
from service.pagination import Ordering, SortKey
from service.settings import Settings

wg_t = WorkingGroup.__table__
goal_t = DxGoal.__table__
goal_link_t = WorkingGroupGoal.__table__
membership_t = WorkingGroupMembership.__table__
municipality_t = Municipality.__table__
region_t = Region.__table__

# A municipality's groups: those it is an active member of, and those it leads. Written as text
# so that no column of it derives from the tables the executors alias (an alias would otherwise
# claim the link's columns as its own).
MUNICIPALITY_GROUP_LINK = (
    text(
        "SELECT m.municipality_id, m.working_group_id FROM working_group_membership m "
        "WHERE m.status = 'ACTIVE' "
        "UNION SELECT g.lead_municipality_id, g.id FROM working_group g "
        "WHERE g.lead_municipality_id IS NOT NULL"
    )
    .columns(municipality_id=Integer, working_group_id=Integer)
    .subquery("municipality_group")
)

GROUPS_BY_SLUG = Ordering("workingGroup:slug:asc", (SortKey(wg_t.c.slug),))

ACTIVE = MembershipStatus.ACTIVE.name


def goal_named(code: Any) -> Any:
    """The id of the goal with that code (none: no rows)."""
    return select(goal_t.c.id).where(goal_t.c.code == code)


def region_named(name: Any) -> Any:
    """Regions of that name or short name, as municipalities(region:) finds them."""
    return select(region_t.c.id).where(or_(region_t.c.name == name, region_t.c.short_name == name))


def municipality_is(code: Any) -> ColumnElement[Any]:
    return select(municipality_t.c.id).where(municipality_t.c.code == code).scalar_subquery()


def group_conditions(
    *,
    goal: Any = None,
    kind: Any = None,
    region: Any = None,
    statuses: Any = None,
    member: Any = None,
) -> list[ColumnElement[bool]]:
    """``goal`` a goal code, ``kind`` a kind's name, ``region`` a region's (short) name,
    ``statuses`` an array of status names, ``member`` a municipality code: values or bind
    parameters; None is no filter."""
    conditions: list[ColumnElement[bool]] = []
    if goal is not None:
        linked = select(goal_link_t.c.working_group_id).where(
            goal_link_t.c.goal_id.in_(goal_named(goal))
        )
        conditions.append(wg_t.c.id.in_(linked))
    if kind is not None:
        conditions.append(wg_t.c.kind == kind)
    if region is not None:
        conditions.append(wg_t.c.region_id.in_(region_named(region)))
    if statuses is not None:
        conditions.append(wg_t.c.status == any_(statuses))
    if member is not None:
        municipality = municipality_is(member)
        active = select(membership_t.c.working_group_id).where(
            membership_t.c.municipality_id == municipality, membership_t.c.status == ACTIVE
        )
        conditions.append(or_(wg_t.c.lead_municipality_id == municipality, wg_t.c.id.in_(active)))
    return conditions


def coverage_counts() -> Any:
    """One row per region and one (region_id null) for the prefecture: municipalities, those
    taking part in an ACTIVE group (an active member or its lead) and those leading one,
    counted over what row-level security lets the caller read."""
    live = wg_t.c.status == WorkingGroupStatus.ACTIVE.name
    leads = select(wg_t.c.lead_municipality_id.label("municipality_id")).where(
        live, wg_t.c.lead_municipality_id.is_not(None)
    )
    members = (
        select(membership_t.c.municipality_id)
        .join(wg_t, wg_t.c.id == membership_t.c.working_group_id)
        .where(live, membership_t.c.status == ACTIVE)
    )
    part = union(leads, members).subquery()
    lead = leads.subquery()
    # Counted once per region (the municipalities without a region as one group): a common
    # table expression the prefecture-wide row sums and the regions' rows read, so that each
    # municipality's two EXISTS run once (the WG board of bench/shapes.py, docs/PERFORMANCE.md).
    grouped = (
        select(
            municipality_t.c.region_id,
            func.count().label("municipalities"),
            func.count()
            .filter(exists().where(part.c.municipality_id == municipality_t.c.id))
            .label("participating"),
            func.count()
            .filter(exists().where(lead.c.municipality_id == municipality_t.c.id))
            .label("leading"),
        )
        .group_by(municipality_t.c.region_id)
        .cte("coverage_groups")
    )
    overall = select(
        cast(null(), Integer).label("region_id"),
        *(
            cast(func.coalesce(func.sum(grouped.c[name]), 0), BigInteger).label(name)
            for name in ("municipalities", "participating", "leading")
        ),
    )
    regional = select(
        grouped.c.region_id, grouped.c.municipalities, grouped.c.participating, grouped.c.leading
    ).where(grouped.c.region_id.is_not(None))
    return union_all(overall, regional).subquery("coverage")


def share(municipalities: Any, participating: Any) -> ColumnElement[Any]:
    """participating / municipalities as a float8 (null without municipalities)."""
    return cast(participating, DOUBLE_PRECISION) / func.nullif(municipalities, 0)


@dataclass(frozen=True)
class CoverageRow:
    region_id: int | None
    municipalities: int
    participating: int
    leading: int
    share: float | None


def _code(code: str | None, argument: str) -> str | None:
    return None if code is None else require_valid_code(code.strip(), argument)


class WorkingGroupReads:
    def __init__(self, db: RequestSession, settings: Settings | None = None) -> None:
        self.db = db
        self.settings = settings

    async def groups(
        self,
        spec: SqlType,
        *,
        first: int | None,
        after: str | None,
        goal: str | None,
        kind: Any,
        region: str | None,
        statuses: list[Any] | None,
        member: str | None,
    ) -> tuple[reads.Page, Callable[[], Awaitable[int]]]:
        assert self.settings is not None
        member = _code(member, "member")
        if goal is not None:
            goal = goal.strip()
            if await self.db.scalar(select(exists(goal_named(goal)))) is not True:
                raise InvalidArgument("goal", f"no goal has the code {goal!r}")
        if region is not None:
            region = region.strip()
            if await self.db.scalar(select(exists(region_named(region)))) is not True:
                raise InvalidArgument("region", f"no region is called {region!r}")
        where = group_conditions(
            goal=goal,
            kind=None if kind is None else kind.name,
            region=region,
            statuses=None
            if statuses is None
            else bindparam("statuses", [s.name for s in statuses], type_=ARRAY(String)),
            member=member,
        )
        return await reads.paginate(
            self.db,
            spec,
            where=where,
            ordering=GROUPS_BY_SLUG,
            first=first,
            after=after,
            default=self.settings.default_page_size,
            maximum=self.settings.max_page_size,
        )

    async def group(self, spec: SqlType, slug: str) -> Any | None:
        return await reads.fetch_one(self.db, spec, [wg_t.c.slug == slug.strip()])

    async def goal(self, spec: SqlType, code: str) -> Any | None:
        return await reads.fetch_one(self.db, spec, [goal_t.c.code == code.strip()])

    async def goals(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)

    async def coverage(self) -> list[CoverageRow]:
        counts = coverage_counts()
        statement = select(
            counts.c.region_id,
            counts.c.municipalities,
            counts.c.participating,
            counts.c.leading,
            share(counts.c.municipalities, counts.c.participating).label("share"),
        )
        return [CoverageRow(**row._mapping) for row in await self.db.all(statement)]
