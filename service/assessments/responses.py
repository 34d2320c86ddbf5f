"""Responses to an assessment round: save answers, submit, reopen (ARCHITECTURE.md, "Writes").

A municipality's staff answer for their own municipality while the round is open (its
``opens_on`` to ``closes_on``, days in Japan), the prefecture's staff for any. The first save
creates the DRAFT response: empty, or in a re-check round (``rechecks_round_id``) a copy of the
municipality's submitted response to the round re-checked (answers and chosen options, written
under the save's own rules), the save's answers then applying on top. A save upserts the
answers it names (an answer given empty clears it) and leaves the others. Every answer is
checked against its question (`answers.check`) and a follow-up against the question it follows
up (`answers.is_open`); any problem refuses the whole save. Submission checks every required
question that is asked, and the follow-up conditions again over the stored answers; after it,
only the prefecture reopens (with a reason), and the municipality saves and submits again.

Each write takes the municipality's response lock and reads after it; every change advances
the response's version, which a save names once the response exists (a stale one is refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func

from auth.policy import Action, Scope
from auth.principal import Role
from service.assessments import answers as rules
from service.assessments.repository import Answer, Question, ResponseRepository, Round
from service.database import RequestSession
from service.models.assessment import ResponseStatus
from service.writes import Code, Write, refusals, says_nothing

REASON_MAX = 2000

refusals(
    {
        # The municipality's lock keeps two first saves apart; a race would end here.
        "uq_assessment_response_round_id_municipality_id": (
            ("input", "version"),
            Code.STALE,
            "the response was started meanwhile: read it and save again with its version",
        ),
        "uq_assessment_answer_response_id_question_id": (
            ("input", "answers"),
            Code.DUPLICATE_ANSWER,
            Code.DUPLICATE_ANSWER.value,
        ),
    }
)


@dataclass(frozen=True)
class Target:
    """The round and municipality a mutation names, and the response there if any."""

    round: Round
    municipality_id: int
    response_id: int | None
    status: ResponseStatus | None
    version: int | None


class ResponseService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db
        self.repository = ResponseRepository(db)

    async def save(
        self,
        round_key: str,
        municipality: str | None,
        version: int | None,
        given: Sequence[rules.Given],
    ) -> int:
        async with Write(self.db, "saveAssessmentAnswers") as write:
            target = await self._target(write, round_key, municipality)
            scope = Scope(municipality_id=target.municipality_id)
            action = Action.INSERT if target.response_id is None else Action.UPDATE
            write.authorize("AssessmentResponse", action, scope)
            write.authorize("AssessmentAnswer", Action.INSERT, scope)
            _check_open(write, target)
            if target.status is ResponseStatus.SUBMITTED:
                write.fail(("input", "round"), Code.RESPONSE_SUBMITTED)
            if target.version is not None and version != target.version:
                write.fail(
                    ("input", "version"),
                    Code.STALE,
                    f"the response is at version {target.version}",
                )
            questions = await self.repository.questions(target.round.framework_id)
            copied_from_demo = False
            if target.response_id is not None:
                stored = await self.repository.answers(target.response_id)
            else:
                stored, copied_from_demo = await self._starting_answers(target, questions)
            changes = _changes(write, questions, stored, given)
            write.check()
            if target.response_id is None:
                response_id = await self.repository.insert_response(
                    target.round.id, target.municipality_id, synthetic=copied_from_demo
                )
            else:
                response_id = target.response_id
                assert target.version is not None
                await self.repository.update_response(response_id, target.version, {})
            for question_id, answer in changes.items():
                before = stored.get(question_id)
                if answer is None:
                    if before is not None and before.id is not None:
                        await self.repository.delete_answer(before.id)
                else:
                    await self.repository.write_answer(response_id, before, answer)
            # A re-check's copied answers the save left alone.
            for question_id, answer in stored.items():
                if answer.id is None and question_id not in changes:
                    await self.repository.write_answer(response_id, None, answer)
        return response_id

    async def _starting_answers(
        self, target: Target, questions: dict[str, Question]
    ) -> tuple[dict[int, Answer], bool]:
        """What a new response starts from: in a re-check round, a copy (not yet written: no
        ids) of the municipality's submission to the round re-checked, its answers and chosen
        options carried to this round's questions by question key and option label; else
        nothing. With it, whether the submission copied is demo data (the copy is then
        flagged ``synthetic`` too, response and copied answers)."""
        if target.round.rechecks_round_id is None:
            return {}, False
        found = await self.repository.submission(
            target.round.rechecks_round_id, target.municipality_id
        )
        if found is None:
            return {}, False
        response_id, framework_id, synthetic = found
        previous = (
            questions
            if framework_id == target.round.framework_id
            else await self.repository.questions(framework_id)
        )
        by_previous_id = {q.id: q for q in previous.values()}
        copied: dict[int, Answer] = {}
        for question_id, answer in (await self.repository.answers(response_id)).items():
            old = by_previous_id[question_id]
            new = questions.get(old.key)
            if new is None or new.kind != old.kind:
                continue  # a question the framework dropped or changed: not carried over
            labels = {option_id: label for label, option_id in old.options.items()}
            options = tuple(
                new.options[labels[o]] for o in answer.options if labels[o] in new.options
            )
            if answer.options and not options:
                continue
            copied[new.id] = Answer(
                question_id=new.id,
                text=answer.text,
                number=answer.number,
                options=options,
                synthetic=answer.synthetic,
            )
        return copied, synthetic

    async def submit(self, round_key: str, municipality: str | None, version: int) -> int:
        async with Write(self.db, "submitAssessmentResponse") as write:
            target = await self._target(write, round_key, municipality)
            response_id = _existing(write, target)
            scope = Scope(municipality_id=target.municipality_id)
            write.authorize("AssessmentResponse", Action.UPDATE, scope)
            _check_version(write, target, version)
            _check_open(write, target)
            if target.status is ResponseStatus.SUBMITTED:
                write.fail(("input", "round"), Code.RESPONSE_SUBMITTED, "submitted already")
            questions = await self.repository.questions(target.round.framework_id)
            stored = await self.repository.answers(response_id)
            by_id = {q.id: q for q in questions.values()}
            for question in questions.values():
                asked = rules.is_open(question, stored)
                if question.id in stored and not asked:
                    write.error(
                        ("answers", question.key),
                        Code.CONDITION_NOT_MET,
                        f"{rules.condition(question, by_id)}: clear the answer to {question.key}",
                    )
                elif question.required and asked and question.id not in stored:
                    write.error(
                        ("answers", question.key), Code.REQUIRED, f"{question.key} is not answered"
                    )
            write.check()
            await self.repository.update_response(
                response_id,
                version,
                {"status": ResponseStatus.SUBMITTED, "submitted_at": func.now()},
            )
        return response_id

    async def reopen(self, round_key: str, municipality: str, version: int, reason: str) -> int:
        async with Write(self.db, "reopenAssessmentResponse") as write:
            target = await self._target(write, round_key, municipality)
            response_id = _existing(write, target)
            scope = Scope(municipality_id=target.municipality_id)
            write.authorize("AssessmentResponse", Action.UPDATE, scope)
            _check_version(write, target, version)
            cleaned = reason.strip()
            if says_nothing(cleaned):
                write.error(("input", "reason"), Code.REQUIRED, "say why it is reopened")
            elif len(cleaned) > REASON_MAX:
                write.error(("input", "reason"), Code.TOO_LONG, f"at most {REASON_MAX} characters")
            if target.status is not ResponseStatus.SUBMITTED:
                write.error(("input", "round"), Code.NOT_SUBMITTED, f"it is {target.status.name}")
            write.check()
            await self.repository.update_response(
                response_id,
                version,
                {"status": ResponseStatus.REOPENED, "reopened_reason": cleaned},
            )
        return response_id

    async def _target(self, write: Write, round_key: str, municipality: str | None) -> Target:
        """The round, the municipality (by default the staff's own) and its response as the
        principal reads it, after the municipality's lock."""
        found = await self.repository.round(round_key.strip())
        if found is None:
            write.fail(("input", "round"), Code.NOT_FOUND, f"no round {round_key}")
        assert found is not None
        principal = self.db.principal
        if municipality is not None:
            municipality_id = await self.repository.municipality_id(municipality.strip())
            if municipality_id is None:
                write.fail(
                    ("input", "municipality"), Code.NOT_FOUND, f"no municipality {municipality}"
                )
        elif principal.role is Role.municipal_staff:
            municipality_id = principal.municipality_id
        else:
            write.fail(
                ("input", "municipality"),
                Code.REQUIRED,
                "name the municipality (全国地方公共団体コード)",
            )
        assert municipality_id is not None
        await self.repository.lock(municipality_id)
        response = await self.repository.response(found.id, municipality_id)
        return Target(
            round=found,
            municipality_id=municipality_id,
            response_id=None if response is None else int(response.id),
            status=None if response is None else ResponseStatus(response.status),
            version=None if response is None else int(response.version),
        )


def _existing(write: Write, target: Target) -> int:
    """The response's id; NOT_FOUND when there is none the principal may read."""
    if target.response_id is None:
        write.fail(("input", "round"), Code.NOT_FOUND, "no response in this round")
    assert target.response_id is not None
    return target.response_id


def _check_version(write: Write, target: Target, version: int) -> None:
    if target.version != version:
        write.fail(("input", "version"), Code.STALE, f"the response is at version {target.version}")


def _check_open(write: Write, target: Target) -> None:
    r = target.round
    if not r.open:
        period = f"{r.opens_on or '…'} – {r.closes_on or '…'}"
        write.fail(("input", "round"), Code.ROUND_CLOSED, f"{r.key} is open {period}")


def _changes(
    write: Write,
    questions: dict[str, Question],
    stored: dict[int, Answer],
    given: Sequence[rules.Given],
) -> dict[int, Answer | None]:
    """The answers a save writes (None: cleared), by question id; each problem an error on
    its answer's field (``["input", "answers", "3", "options"]``)."""
    changes: dict[int, Answer | None] = {}
    named: dict[int, int] = {}  # question id -> index of its answer in the input
    for index, item in enumerate(given):
        at = ("input", "answers", str(index))
        question = questions.get(item.question.strip())
        if question is None:
            write.error((*at, "question"), Code.UNKNOWN_QUESTION, f"no question {item.question}")
            continue
        if question.id in named:
            write.error(
                (*at, "question"),
                Code.DUPLICATE_ANSWER,
                f"{question.key} is answered twice (answers {named[question.id]} and {index})",
            )
            continue
        named[question.id] = index
        answer, problems = rules.check(question, item)
        for problem in problems:
            write.error((*at, problem.part), problem.code, problem.message)
        if not problems:
            changes[question.id] = answer
    # Follow-ups against the answers as they will be after this save.
    after = {**stored, **changes}
    current = {q: a for q, a in after.items() if a is not None}
    by_id = {q.id: q for q in questions.values()}
    for question_id, answer in changes.items():
        question = by_id[question_id]
        if answer is not None and not rules.is_open(question, current):
            write.error(
                ("input", "answers", str(named[question_id]), "question"),
                Code.CONDITION_NOT_MET,
                rules.condition(question, by_id),
            )
    return changes
