"""GraphQL type of the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.mapping import Column, sql_type
from schema.node import Node
from schema.scalars import JSON, json_column
from service.models import AuditRecord as AuditRecordModel

audit_t = AuditRecordModel.__table__


@sql_type(
    audit_t,
    key=audit_t.c.id,
    order_by=(audit_t.c.id.desc(),),
    fields={
        "occurred_at": Column(audit_t.c.occurred_at),
        "actor_subject": Column(audit_t.c.actor_subject),
        "actor_role": Column(audit_t.c.actor_role),
        "action": Column(audit_t.c.action),
        "entity": Column(audit_t.c.entity),
        "entity_key": Column(audit_t.c.entity_key),
        "before": Column(json_column(audit_t.c.before)),
        "after": Column(json_column(audit_t.c.after)),
        "request_id": Column(audit_t.c.request_id),
    },
)
@strawberry.type(description="One change: who (subject, role), what, before and after, when.")
class AuditRecord(Node):
    occurred_at: datetime
    actor_subject: str | None
    actor_role: str
    action: str = strawberry.field(description="insert, update or delete.")
    entity: str = strawberry.field(description="The table changed.")
    entity_key: str
    before: JSON | None
    after: JSON | None
    request_id: str | None
