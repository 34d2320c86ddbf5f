"""`node(id:)`: any object with a global id."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.node import Node, decode_global_id
from service import reads


@strawberry.type
class NodeQuery:
    @strawberry.field(description="The object with this global id; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        spec, key = decode_global_id(id)
        return await reads.fetch_one(info.context.db, spec, [spec.key == key])
