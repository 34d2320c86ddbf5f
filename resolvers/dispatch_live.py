"""Subscriptions of expert dispatch: assignments and sessions as they change (ARCHITECTURE.md,
"Live changes").

A notification names a changed row; each subscription re-reads it as its own principal, with
the same policy and row-level security as a query, and sends nothing when the row is not the
subscriber's to read (or not of the municipality it asked for).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

import strawberry

from resolvers.context import Info, LiveContext
from schema.dispatch import DispatchAssignment, DispatchVisit
from schema.dispatch_live import AssignmentChange, ChangeOp, SessionChange
from schema.mapping import sql_type_of
from service.dispatch.service import DispatchService, live_filter
from service.errors import DxlinkError

Read = Callable[[DispatchService, int], Awaitable[Any | None]]


class WebSocketOnly(DxlinkError):
    code = "BAD_REQUEST"


async def _changes(info: Info, table: str, read: Read) -> AsyncGenerator[tuple[ChangeOp, Any]]:
    """The changes of ``table`` the subscriber may read, as ``read`` finds them now."""
    context = info.context
    if not isinstance(context, LiveContext):
        raise WebSocketOnly("Subscriptions are served over WebSocket (graphql-transport-ws).")
    async with context.hub.subscribe({table}) as subscriber:
        async for change in subscriber:
            context.check_token()
            async with context.event() as db:
                found = await read(DispatchService(db, context.settings), change.id)
                if found is not None:
                    # The event's selection is resolved before the generator resumes, so
                    # inside the event's transaction.
                    yield ChangeOp(change.op), found


@strawberry.type
class DispatchSubscription:
    @strawberry.subscription(
        description="派遣の変更 / assignments as they are created or change, whichever API "
        "process wrote them: only those the subscriber may read, optionally of one "
        "municipality (code)."
    )
    async def assignment_changed(
        self, info: Info, municipality: str | None = None
    ) -> AsyncGenerator[AssignmentChange]:
        code = live_filter(municipality)
        spec = sql_type_of(DispatchAssignment)

        async def read(service: DispatchService, key: int) -> Any | None:
            return await service.changed_assignment(spec, key, code)

        async with aclosing(_changes(info, "dispatch_assignment", read)) as changes:
            async for op, assignment in changes:
                yield AssignmentChange(op=op, assignment=assignment)

    @strawberry.subscription(
        description="面談の変更 / sessions as they are planned, reported, confirmed or "
        "cancelled, whichever API process wrote them: only those the subscriber may read, "
        "optionally of one municipality (code)."
    )
    async def session_changed(
        self, info: Info, municipality: str | None = None
    ) -> AsyncGenerator[SessionChange]:
        code = live_filter(municipality)
        spec = sql_type_of(DispatchVisit)

        async def read(service: DispatchService, key: int) -> Any | None:
            return await service.changed_session(spec, key, code)

        async with aclosing(_changes(info, "dispatch_visit", read)) as changes:
            async for op, session in changes:
                yield SessionChange(op=op, session=session)
