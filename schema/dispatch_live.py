"""Payloads of the dispatch subscriptions (ARCHITECTURE.md, "Live changes")."""

from __future__ import annotations

from enum import Enum

import strawberry

from schema.dispatch import DispatchAssignment, DispatchVisit


@strawberry.enum(description="変更の種類 / what happened to the object: CREATED or UPDATED.")
class ChangeOp(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"


@strawberry.type(
    description="派遣の変更 / an assignment created or changed, as the subscriber may read it "
    "now (a change the subscriber may not read is never sent)."
)
class AssignmentChange:
    op: ChangeOp
    assignment: DispatchAssignment = strawberry.field(
        description="派遣 / The assignment as committed, read as the subscriber."
    )


@strawberry.type(
    description="面談の変更 / a session planned or changed (reported, confirmed, cancelled), "
    "as the subscriber may read it now (a change the subscriber may not read is never sent)."
)
class SessionChange:
    op: ChangeOp
    session: DispatchVisit = strawberry.field(
        description="面談 / The session as committed, read as the subscriber."
    )
