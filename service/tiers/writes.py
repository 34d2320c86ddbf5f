"""Tiers by thresholds and the prefecture's overrides (ARCHITECTURE.md, "Writes", "Scoring").

``classifyTiers`` writes one tier assignment per municipality with a submitted response in the
round, at the snapshot date: its score and the tier the rubric's thresholds give it (computed in
the database, ``dxlink_round_scores``). A re-run for the same snapshot updates the rows in
place, and only where something changed: an overridden row keeps its final tier (``level``)
and its reason, while its score and computed tier follow the answers.

``overrideTier`` sets a row's final tier with a reason; the computed tier stays as it was.
Both are the prefecture's (``auth/policy.py``), enforced again by PostgreSQL's write policies.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Integer, Numeric, SmallInteger, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert

from auth.policy import Action, Scope
from service.database import RequestSession
from service.models import AssessmentRound, SupportTier, TierAssignment
from service.writes import Code, UserError, UserErrors, Write, refusals, says_nothing

REASON_MAX = 2000

tier_t = TierAssignment.__table__
round_t = AssessmentRound.__table__

refusals(
    {
        # An override without a reason: the service asks for one first.
        "ck_tier_assignment_override_has_reason": (
            ("input", "reason"),
            Code.REQUIRED,
            "say why the tier is overridden",
        ),
    }
)


class TierWriteService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def classify(self, round_key: str, snapshot_on: date) -> list[int]:
        """Classify every municipality with a submitted response in ``round_key`` at
        ``snapshot_on``; the ids of the snapshot's rows of the round."""
        async with Write(self.db, "classifyTiers") as write:
            # Every row is the prefecture's to write: one check covers them all (PostgreSQL
            # judges each row again).
            write.authorize("TierAssignment", Action.INSERT, Scope())
            found = await self.db.all(
                select(round_t.c.id, round_t.c.rubric_id).where(round_t.c.key == round_key.strip())
            )
            if not found:
                write.fail(("input", "round"), Code.NOT_FOUND, f"no round {round_key}")
            round_id, rubric_id = found[0]
            if rubric_id is None:
                write.fail(("input", "round"), Code.NO_RUBRIC, f"{round_key} has no rubric")
            scores = func.dxlink_round_scores(round_key.strip()).table_valued(
                "municipality_id", "round_id", "total", "computed_level"
            )
            source = select(
                scores.c.municipality_id.cast(Integer),
                literal(snapshot_on).label("snapshot_on"),
                scores.c.round_id.cast(Integer),
                scores.c.total.cast(Numeric),
                scores.c.computed_level.cast(SmallInteger),
                scores.c.computed_level.cast(SmallInteger),
            )
            statement = insert(tier_t).from_select(
                ["municipality_id", "snapshot_on", "round_id", "score", "computed_level", "level"],
                source,
            )
            new = statement.excluded
            # An overridden row keeps its final tier; a row changes only when a value does.
            level = text(
                "CASE WHEN tier_assignment.overridden THEN tier_assignment.level "
                "ELSE excluded.level END"
            )
            statement = statement.on_conflict_do_update(
                index_elements=[tier_t.c.municipality_id, tier_t.c.snapshot_on],
                set_={
                    "score": new.score,
                    "computed_level": new.computed_level,
                    "round_id": new.round_id,
                    "level": level,
                    "version": tier_t.c.version + 1,
                    "updated_at": func.now(),
                },
                where=text(
                    "(tier_assignment.score, tier_assignment.computed_level, "
                    "tier_assignment.round_id, tier_assignment.level) IS DISTINCT FROM "
                    "(excluded.score, excluded.computed_level, excluded.round_id, "
                    f"{level.text})"
                ),
            )
            await self.db.all(statement.returning(tier_t.c.id))
            rows = await self.db.all(
                select(tier_t.c.id)
                .where(tier_t.c.snapshot_on == snapshot_on, tier_t.c.round_id == round_id)
                .order_by(tier_t.c.municipality_id)
            )
        return [int(r.id) for r in rows]

    async def override(self, key: Any, level: int, reason: str, version: int) -> int:
        """Set the final tier of the assignment ``key`` (None: an id of another type)."""
        async with Write(self.db, "overrideTier") as write:
            found = (
                []
                if key is None
                else await self.db.all(
                    select(tier_t.c.municipality_id, tier_t.c.version).where(tier_t.c.id == key)
                )
            )
            if not found:
                write.fail(("input", "id"), Code.NOT_FOUND, "no such tier assignment")
            municipality_id, current = found[0]
            write.authorize(
                "TierAssignment", Action.UPDATE, Scope(municipality_id=int(municipality_id))
            )
            if current != version:
                write.fail(
                    ("input", "version"), Code.STALE, f"the tier assignment is at version {current}"
                )
            levels = {
                int(r.level): r.name
                for r in await self.db.all(select(SupportTier.level, SupportTier.name))
            }
            if level not in levels:
                named = ", ".join(f"{n} {name}" for n, name in sorted(levels.items()))
                write.error(("input", "tier"), Code.INVALID, f"no tier {level}: {named}")
            cleaned = reason.strip()
            if says_nothing(cleaned):
                write.error(("input", "reason"), Code.REQUIRED, "say why the tier is overridden")
            elif len(cleaned) > REASON_MAX:
                write.error(("input", "reason"), Code.TOO_LONG, f"at most {REASON_MAX} characters")
            write.check()
            changed = await self.db.all(
                update(tier_t)
                .where(tier_t.c.id == key, tier_t.c.version == version)
                .values(
                    level=level,
                    overridden=True,
                    reason=cleaned,
                    decided_by=self.db.principal.subject,
                    version=tier_t.c.version + 1,
                    updated_at=func.now(),
                )
                .returning(tier_t.c.id)
            )
            if not changed:
                again = await self.db.all(select(tier_t.c.version).where(tier_t.c.id == key))
                if again and again[0][0] != version:
                    raise UserErrors(
                        [UserError(("input", "version"), Code.STALE, Code.STALE.value)]
                    )
                # Read, at this version, and still not updated: the write policies refused.
                raise UserErrors([UserError(("input",), Code.FORBIDDEN, Code.FORBIDDEN.value)])
        return int(key)
