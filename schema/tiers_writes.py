"""Inputs and payloads of the tier mutations (ARCHITECTURE.md, "Writes")."""

from __future__ import annotations

from datetime import date

import strawberry

from schema.errors import UserError
from schema.tiers import TierAssignment


@strawberry.input(
    description="分類の算定 / classify every municipality with a submitted response in a round "
    "at a snapshot date, by its score and the round's rubric thresholds. A re-run for the same "
    "snapshot updates the tiers: an overridden tier stays, its computed tier follows the score."
)
class ClassifyTiersInput:
    round: str = strawberry.field(description="調査回 / The round's key, e.g. 2024-04.")
    snapshot_on: date = strawberry.field(description="時点 / The snapshot's date, e.g. 2024-11-30.")


@strawberry.type(description="分類の算定結果 / The snapshot's tiers of the round, or why none.")
class ClassifyTiersPayload:
    assignments: list[TierAssignment] = strawberry.field(
        description="The snapshot's tier assignments of the round, by municipality."
    )
    user_errors: list[UserError]


@strawberry.input(
    description="分類の変更 / the prefecture sets a municipality's final tier, with a reason; "
    "the computed tier stays."
)
class OverrideTierInput:
    id: strawberry.ID = strawberry.field(description="The tier assignment's id.")
    tier: int = strawberry.field(description="最終分類 / The tier level, 1 関与 to 4 共創.")
    reason: str = strawberry.field(description="理由 / Why (required, up to 2,000 characters).")
    version: int = strawberry.field(
        description="読み取った版 / The assignment's version read: a stale one is refused (STALE)."
    )


@strawberry.type(description="分類の変更結果 / The tier assignment after the change, or why not.")
class OverrideTierPayload:
    assignment: TierAssignment | None
    user_errors: list[UserError]
