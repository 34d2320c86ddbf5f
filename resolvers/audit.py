"""`auditLog`: the audit trail, newest first (prefecture_admin only, by the access policy)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.audit import AuditRecord
from schema.mapping import sql_type_of
from schema.pagination import Connection
from service import reads
from service.models import AuditRecord as AuditRecordModel
from service.pagination import Ordering, SortKey

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
        where = [] if entity is None else [AuditRecordModel.__table__.c.entity == entity]
        page, count_total = await reads.paginate(
            context.db,
            sql_type_of(AuditRecord),
            where=where,
            ordering=_NEWEST_FIRST,
            first=first,
            after=after,
            default=context.settings.default_page_size,
            maximum=context.settings.max_page_size,
        )
        return Connection.from_page(page, count_total)
