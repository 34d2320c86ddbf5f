"""`viewer`: who the API takes the caller for."""

from __future__ import annotations

import strawberry

from auth.principal import Role as RoleModel
from resolvers.context import Info
from schema.dispatch import Expert
from schema.geography import Municipality, Region
from schema.mapping import SqlType, sql_type_of
from service import reads

Role = strawberry.enum(RoleModel, name="Role", description="The caller's role (lower case).")


@strawberry.type(description="The caller: role and scope from the bearer token, or public.")
class Viewer:
    role: Role  # type: ignore[valid-type]
    subject: str | None = strawberry.field(description="The token's `sub`; null for public.")
    municipality_id: strawberry.Private[int | None]
    expert_id: strawberry.Private[int | None]
    region_id: strawberry.Private[int | None]

    @strawberry.field(description="The municipality of municipal staff.")
    async def municipality(self, info: Info) -> Municipality | None:
        return await _by_id(info, sql_type_of(Municipality), self.municipality_id)

    @strawberry.field(description="The expert profile of a dispatched expert.")
    async def expert(self, info: Info) -> Expert | None:
        return await _by_id(info, sql_type_of(Expert), self.expert_id)

    @strawberry.field(description="The region of regional-office staff.")
    async def region(self, info: Info) -> Region | None:
        return await _by_id(info, sql_type_of(Region), self.region_id)


async def _by_id(info: Info, spec: SqlType, id_: int | None) -> object | None:
    if id_ is None:
        return None
    return await reads.fetch_one(info.context.db, spec, [spec.table.c.id == id_])


@strawberry.type
class ViewerQuery:
    @strawberry.field(description="Who the API takes the caller for.")
    def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            role=p.role,
            subject=p.subject,
            municipality_id=p.municipality_id,
            expert_id=p.expert_id,
            region_id=p.region_id,
        )
