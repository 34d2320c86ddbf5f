"""SQL of assessment responses. Every statement runs as the request's principal under
row-level security: a response the principal may not read is not found, and its answers are
read exactly where it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, delete, func, insert, select, update
from sqlalchemy.engine import Row

from service.database import RequestSession
from service.models import (
    AssessmentAnswer,
    AssessmentAnswerOption,
    AssessmentFollowUpOption,
    AssessmentOption,
    AssessmentQuestion,
    AssessmentResponse,
    AssessmentRound,
    Municipality,
)
from service.models.assessment import QuestionKind, ResponseStatus
from service.writes import Code, UserError, UserErrors

round_t = AssessmentRound.__table__
question_t = AssessmentQuestion.__table__
option_t = AssessmentOption.__table__
follow_up_t = AssessmentFollowUpOption.__table__
response_t = AssessmentResponse.__table__
answer_t = AssessmentAnswer.__table__
chosen_t = AssessmentAnswerOption.__table__
municipality_t = Municipality.__table__

# Advisory lock class (int4) of one municipality's responses: its saves, submissions and
# reopenings take turns, so two first saves cannot both create the response (dispatch has
# 73_064_401 and 73_064_402, the catalog 73_064_403).
_RESPONSE_LOCK = 73_064_404


@dataclass(frozen=True)
class Round:
    id: int
    key: str
    framework_id: int
    opens_on: date | None
    closes_on: date | None
    today: date  # in Japan
    rechecks_round_id: int | None = None  # the round a re-check round re-checks

    @property
    def open(self) -> bool:
        return (self.opens_on is None or self.opens_on <= self.today) and (
            self.closes_on is None or self.today <= self.closes_on
        )


@dataclass(frozen=True)
class Question:
    id: int
    key: str
    kind: QuestionKind
    required: bool
    number_min: Decimal | None
    number_max: Decimal | None
    follow_up_of: int | None  # the question's id it follows up
    options: dict[str, int] = field(default_factory=dict)  # label -> id
    # Options of the question followed up that open this one; empty: any answer opens it.
    opened_by: frozenset[int] = frozenset()


@dataclass
class Answer:
    """An answer as stored (or as it will be after a save)."""

    question_id: int
    text: str | None = None
    number: Decimal | None = None
    options: tuple[int, ...] = ()
    id: int | None = None
    # Demo data: a re-check's copy of a synthetic submission is synthetic too (not compared:
    # the flag is where an answer came from, not what it says).
    synthetic: bool = field(default=False, compare=False)


class ResponseRepository:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def lock(self, municipality_id: int) -> None:
        """Serialise the writes of one municipality's responses; they are read after this
        statement (a statement's snapshot predates the locks it takes)."""
        await self.db.all(select(func.pg_advisory_xact_lock(_RESPONSE_LOCK, municipality_id)))

    # --- reads ---------------------------------------------------------------------------

    async def round(self, key: str) -> Round | None:
        today = func.timezone("Asia/Tokyo", func.now()).cast(Date)
        rows = await self.db.all(
            select(
                round_t.c.id,
                round_t.c.key,
                round_t.c.framework_id,
                round_t.c.opens_on,
                round_t.c.closes_on,
                today.label("today"),
                round_t.c.rechecks_round_id,
            ).where(round_t.c.key == key)
        )
        return Round(*rows[0]) if rows else None

    async def municipality_id(self, code: str) -> int | None:
        return await self.db.scalar(
            select(municipality_t.c.id).where(municipality_t.c.code == code)
        )

    async def municipalities(self) -> list[Row[Any]]:
        """Every municipality the principal reads: id, code, name."""
        return await self.db.all(
            select(municipality_t.c.id, municipality_t.c.code, municipality_t.c.name).order_by(
                municipality_t.c.code
            )
        )

    async def submitted(self, round_id: int) -> list[Row[Any]]:
        """The round's submitted responses the principal reads, in the order they came in:
        id, submitted_at, the municipality's code and name."""
        return await self.db.all(
            select(
                response_t.c.id,
                response_t.c.submitted_at,
                municipality_t.c.code,
                municipality_t.c.name,
            )
            .join(municipality_t, municipality_t.c.id == response_t.c.municipality_id)
            .where(
                response_t.c.round_id == round_id,
                response_t.c.status == ResponseStatus.SUBMITTED,
            )
            .order_by(response_t.c.submitted_at, municipality_t.c.code)
        )

    async def question_texts(self, framework_id: int) -> list[tuple[str, str]]:
        """The framework's questions as (key, text), in the form's order."""
        rows = await self.db.all(
            select(question_t.c.key, question_t.c.text)
            .where(question_t.c.framework_id == framework_id)
            .order_by(question_t.c.position)
        )
        return [(row.key, row.text) for row in rows]

    async def questions(self, framework_id: int) -> dict[str, Question]:
        """The framework's questions by key, with their options and what opens them."""
        of_framework = question_t.c.framework_id == framework_id
        options: dict[int, dict[str, int]] = {}
        for question_id, label, option_id in await self.db.all(
            select(option_t.c.question_id, option_t.c.label, option_t.c.id)
            .join(question_t, question_t.c.id == option_t.c.question_id)
            .where(of_framework)
        ):
            options.setdefault(question_id, {})[label] = option_id
        opened_by: dict[int, set[int]] = {}
        for question_id, option_id in await self.db.all(
            select(follow_up_t.c.question_id, follow_up_t.c.option_id)
            .join(question_t, question_t.c.id == follow_up_t.c.question_id)
            .where(of_framework)
        ):
            opened_by.setdefault(question_id, set()).add(option_id)
        rows = await self.db.all(
            select(
                question_t.c.id,
                question_t.c.key,
                question_t.c.kind,
                question_t.c.required,
                question_t.c.number_min,
                question_t.c.number_max,
                question_t.c.follow_up_of_id,
            )
            .where(of_framework)
            .order_by(question_t.c.position)
        )
        return {
            row.key: Question(
                *row,
                options=options.get(row.id, {}),
                opened_by=frozenset(opened_by.get(row.id, ())),
            )
            for row in rows
        }

    async def response(self, round_id: int, municipality_id: int) -> Row[Any] | None:
        rows = await self.db.all(
            select(response_t.c.id, response_t.c.status, response_t.c.version).where(
                response_t.c.round_id == round_id,
                response_t.c.municipality_id == municipality_id,
            )
        )
        return rows[0] if rows else None

    async def submission(self, round_id: int, municipality_id: int) -> tuple[int, int, bool] | None:
        """The municipality's submitted response of the round, as the principal reads it: its
        id, the round's framework and whether it is demo data; None when there is none (a
        draft, a reopened one)."""
        rows = await self.db.all(
            select(response_t.c.id, round_t.c.framework_id, response_t.c.synthetic)
            .join(round_t, round_t.c.id == response_t.c.round_id)
            .where(
                response_t.c.round_id == round_id,
                response_t.c.municipality_id == municipality_id,
                response_t.c.status == ResponseStatus.SUBMITTED,
            )
        )
        return (int(rows[0][0]), int(rows[0][1]), bool(rows[0][2])) if rows else None

    async def answers(self, response_id: int) -> dict[int, Answer]:
        """The response's answers by question id."""
        chosen: dict[int, list[int]] = {}
        for answer_id, option_id in await self.db.all(
            select(chosen_t.c.answer_id, chosen_t.c.option_id)
            .join(answer_t, answer_t.c.id == chosen_t.c.answer_id)
            .join(option_t, option_t.c.id == chosen_t.c.option_id)
            .where(answer_t.c.response_id == response_id)
            .order_by(option_t.c.position)
        ):
            chosen.setdefault(answer_id, []).append(option_id)
        rows = await self.db.all(
            select(
                answer_t.c.id,
                answer_t.c.question_id,
                answer_t.c.text_value,
                answer_t.c.number_value,
                answer_t.c.synthetic,
            ).where(answer_t.c.response_id == response_id)
        )
        return {
            row.question_id: Answer(
                question_id=row.question_id,
                text=row.text_value,
                number=row.number_value,
                options=tuple(chosen.get(row.id, ())),
                id=row.id,
                synthetic=row.synthetic,
            )
            for row in rows
        }

    # --- writes --------------------------------------------------------------------------

    async def insert_response(
        self, round_id: int, municipality_id: int, *, synthetic: bool = False
    ) -> int:
        rows = await self.db.all(
            insert(response_t)
            .values(
                round_id=round_id,
                municipality_id=municipality_id,
                status=ResponseStatus.DRAFT,
                version=1,
                synthetic=synthetic,
            )
            .returning(response_t.c.id)
        )
        return int(rows[0][0])

    async def update_response(self, response_id: int, version: int, values: dict[str, Any]) -> None:
        """Update the response at ``version``, advancing it. When no row changed, say why, as
        `DispatchRepository.update` does (`NOT_FOUND`, `STALE`, or `FORBIDDEN` when the write
        policies skipped it)."""
        statement = (
            update(response_t)
            .where(response_t.c.id == response_id, response_t.c.version == version)
            .values(**values, version=response_t.c.version + 1, updated_at=func.now())
        )
        if await self.db.all(statement.returning(response_t.c.id)):
            return
        found = await self.db.all(
            select(response_t.c.version).where(response_t.c.id == response_id)
        )
        if not found:
            raise UserErrors([UserError(("input", "round"), Code.NOT_FOUND, "no such response")])
        if found[0][0] != version:
            message = f"the response is at version {found[0][0]}"
            raise UserErrors([UserError(("input", "version"), Code.STALE, message)])
        raise UserErrors([UserError(("input",), Code.FORBIDDEN, Code.FORBIDDEN.value)])

    async def write_answer(self, response_id: int, stored: Answer | None, new: Answer) -> None:
        """Insert ``new`` or replace ``stored`` with it (values and chosen options)."""
        if stored is None or stored.id is None:
            rows = await self.db.all(
                insert(answer_t)
                .values(
                    response_id=response_id,
                    question_id=new.question_id,
                    text_value=new.text,
                    number_value=new.number,
                    synthetic=new.synthetic,
                )
                .returning(answer_t.c.id)
            )
            answer_id = int(rows[0][0])
        else:
            answer_id = stored.id
            if (stored.text, stored.number) != (new.text, new.number):
                changed = await self.db.rowcount(
                    update(answer_t)
                    .where(answer_t.c.id == answer_id)
                    .values(text_value=new.text, number_value=new.number, updated_at=func.now())
                )
                if changed != 1:
                    raise _forbidden()
            if set(stored.options) == set(new.options):
                return
            await self.db.rowcount(delete(chosen_t).where(chosen_t.c.answer_id == answer_id))
        await self.insert_options(answer_id, new.options, synthetic=new.synthetic)

    async def insert_options(
        self, answer_id: int, options: Iterable[int], *, synthetic: bool = False
    ) -> None:
        values = [{"answer_id": answer_id, "option_id": o, "synthetic": synthetic} for o in options]
        if values:
            await self.db.rowcount(insert(chosen_t).values(values))

    async def delete_answer(self, answer_id: int) -> None:
        await self.db.rowcount(delete(chosen_t).where(chosen_t.c.answer_id == answer_id))
        if await self.db.rowcount(delete(answer_t).where(answer_t.c.id == answer_id)) != 1:
            raise _forbidden()


def _forbidden() -> UserErrors:
    return UserErrors([UserError(("input",), Code.FORBIDDEN, Code.FORBIDDEN.value)])
