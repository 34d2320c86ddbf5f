"""`auditLog`: the audit trail, newest first (prefecture_admin only, by the access policy)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.audit import AuditRecord
from schema.mapping import sql_type_of
from schema.pagination import Connection
from service import reads
from service.models import AuditRecord as AuditRecordModel
from service.pagination import Ordering, SortKey, check_page_size

_NEWEST_FIRST = Ordering("audit:id:desc", (SortKey(AuditRecordModel.__table__.c.id, True),))


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Changes, newest first, optionally of one entity (table). Readable by "
        "prefecture_admin only; empty for everyone else."
    )
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        entity: str | None = None,
    ) -> Connection[AuditRecord]:
        context = info.context
        size = check_page_size(
            first,
            default=context.settings.default_page_size,
            maximum=context.settings.max_page_size,
        )
        spec = sql_type_of(AuditRecord)
        where = [] if entity is None else [AuditRecordModel.__table__.c.entity == entity]
        page = await reads.fetch_page(
            context.db, spec, where=where, ordering=_NEWEST_FIRST, first=size, after=after
        )

        async def count_total() -> int:
            return await reads.count(context.db, spec, where)

        return Connection.of(
            page.nodes,
            page.cursors,
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count_total=count_total,
        )
