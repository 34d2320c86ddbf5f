"""Queries of the working-group domain (わかやまDX-GOALS): goals, groups, participation."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Info
from schema.geography import Region
from schema.mapping import KEY, sql_type_of
from schema.pagination import Connection
from schema.working_groups import (
    DxGoal,
    ParticipationCoverage,
    RegionParticipation,
    WorkingGroup,
    WorkingGroupKind,
    WorkingGroupStatus,
)
from service import reads
from service.models import Region as RegionModel
from service.working_groups.reads import WorkingGroupReads

region_t = RegionModel.__table__
# The regions' order, the id breaking ties between prefectures (as kpiProgress lists them).
REGION_ORDER = (region_t.c.prefecture_id, region_t.c.position, region_t.c.id)


def _reads(info: Info) -> WorkingGroupReads:
    return WorkingGroupReads(info.context.db, info.context.settings)


@strawberry.type
class WorkingGroupQuery:
    @strawberry.field(description="わかやまDX-GOALS / The shared DX goals, in their order.")
    async def dx_goals(self, info: Info) -> list[DxGoal]:
        return await _reads(info).goals(sql_type_of(DxGoal))

    @strawberry.field(description="One DX-GOAL by its code; null when no goal has it.")
    async def dx_goal(self, info: Info, code: str) -> DxGoal | None:
        return await _reads(info).goal(sql_type_of(DxGoal), code)

    @strawberry.field(
        description="ワーキンググループ / Working groups by slug, filtered and paginated (Relay "
        "cursor connection), as far as visible. `goal` is a DX-GOAL's code, `region` a regional "
        "office's name (海草振興局) or short name (海草), `member` a municipality's 6-digit "
        "code (the groups it is an active member of or leads)."
    )
    async def working_groups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        goal: str | None = None,
        kind: WorkingGroupKind | None = None,  # type: ignore[valid-type]
        region: str | None = None,
        status: Annotated[
            list[WorkingGroupStatus] | None,  # type: ignore[valid-type]
            strawberry.argument(description="状態 / Any of these states."),
        ] = None,
        member: str | None = None,
    ) -> Connection[WorkingGroup]:
        page, count_total = await _reads(info).groups(
            sql_type_of(WorkingGroup),
            first=first,
            after=after,
            goal=goal,
            kind=kind,
            region=region,
            statuses=status,
            member=member,
        )
        return Connection.from_page(page, count_total)

    @strawberry.field(description="One working group by its slug; null when none is visible.")
    async def working_group(self, info: Info, slug: str) -> WorkingGroup | None:
        return await _reads(info).group(sql_type_of(WorkingGroup), slug)

    @strawberry.field(
        description="WGへの参加状況 / Municipalities taking part in active working groups (an "
        "active member or the lead), prefecture-wide and per region."
    )
    async def participation_coverage(self, info: Info) -> ParticipationCoverage:
        rows = await _reads(info).coverage()
        found = await reads.fetch_all(info.context.db, sql_type_of(Region), order_by=REGION_ORDER)
        by_region = {row.region_id: row for row in rows}
        overall = by_region[None]
        return ParticipationCoverage(
            municipalities=overall.municipalities,
            participating=overall.participating,
            leading=overall.leading,
            share=overall.share,
            regions=[
                RegionParticipation(
                    region=region,
                    municipalities=row.municipalities,
                    participating=row.participating,
                    leading=row.leading,
                    share=row.share,
                )
                for region in found
                if (row := by_region.get(region.sql_row[KEY])) is not None
            ],
        )
