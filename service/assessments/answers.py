"""The rules an answer keeps: its question's kind and bounds, and the follow-up conditions.

Pure functions over the framework's questions (`repository.Question`) and the answers as they
are or will be (`repository.Answer`): the service reports what they find as user errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from service.assessments.repository import Answer, Question
from service.models.assessment import QuestionKind
from service.writes import Code

# A free-text answer's limit, in characters (the web form's longest answers are a paragraph).
TEXT_MAX = 2000


@dataclass(frozen=True)
class Given:
    """One answer of a save's input, as the schema took it."""

    question: str
    options: Sequence[str] | None = None
    text: str | None = None
    number: float | None = None

    @property
    def empty(self) -> bool:
        """Nothing given: the save clears the answer."""
        return not self.options and self.text is None and self.number is None


@dataclass(frozen=True)
class Problem:
    """What is wrong, on which part of an answer (``question``, ``options``, ``text``,
    ``number``)."""

    part: str
    code: Code
    message: str


def check(question: Question, given: Given) -> tuple[Answer | None, list[Problem]]:
    """The answer ``given`` stands for (None: clear it), or what is wrong with it."""
    if given.empty:
        return None, []
    key, problems = question.key, []
    foreign = [
        part
        for part, value in (
            ("options", given.options),
            ("text", given.text),
            ("number", given.number),
        )
        if value is not None and part != _PART[question.kind]
    ]
    for part in foreign:
        problems.append(
            Problem(part, Code.WRONG_ANSWER_KIND, f"{key} is a {question.kind.name} question: "
                    f"answer it with {_PART[question.kind]} only")
        )  # fmt: skip
    answer = Answer(question_id=question.id)
    match question.kind:
        case QuestionKind.SINGLE | QuestionKind.MULTIPLE:
            labels = list(given.options or ())
            unknown = [label for label in labels if label not in question.options]
            if unknown:
                problems.append(
                    Problem("options", Code.NOT_AN_OPTION,
                            f"{key} has no option {', '.join(unknown)}")
                )  # fmt: skip
            if len(set(labels)) != len(labels):
                problems.append(
                    Problem("options", Code.DUPLICATE_OPTION, f"{key}: an option is chosen twice")
                )
            if question.kind is QuestionKind.SINGLE and len(set(labels)) > 1:
                problems.append(
                    Problem("options", Code.ONE_OPTION, f"{key} takes exactly one option")
                )
            if not labels and not foreign:
                problems.append(
                    Problem("options", Code.REQUIRED, f"{key} is answered with its options")
                )
            answer.options = tuple(
                dict.fromkeys(question.options[label] for label in labels if label not in unknown)
            )
        case QuestionKind.TEXT:
            text = (given.text or "").strip()
            if not text and not foreign:
                problems.append(Problem("text", Code.REQUIRED, f"{key} is answered with a text"))
            if len(text) > TEXT_MAX:
                problems.append(
                    Problem("text", Code.TOO_LONG, f"{key}: at most {TEXT_MAX} characters")
                )
            answer.text = text
        case QuestionKind.NUMBER:
            if given.number is None:
                if not foreign:
                    problems.append(
                        Problem("number", Code.REQUIRED, f"{key} is answered with a number")
                    )
            elif not math.isfinite(given.number):
                problems.append(Problem("number", Code.INVALID, f"{key}: not a number"))
            else:
                number = Decimal(str(given.number))  # 12.0 is stored as 12
                if number == number.to_integral_value():
                    number = number.to_integral_value()
                low, high = question.number_min, question.number_max
                if (low is not None and number < low) or (high is not None and number > high):
                    problems.append(
                        Problem("number", Code.OUT_OF_RANGE,
                                f"{key}: between {_bound(low)} and {_bound(high)}")
                    )  # fmt: skip
                answer.number = number
    return (None if problems else answer), problems


_PART = {
    QuestionKind.SINGLE: "options",
    QuestionKind.MULTIPLE: "options",
    QuestionKind.TEXT: "text",
    QuestionKind.NUMBER: "number",
}


def _bound(value: Decimal | None) -> str:
    return "any" if value is None else f"{value:f}"


def is_open(question: Question, answers: Mapping[int, Answer]) -> bool:
    """Whether ``answers`` ask ``question``: always, for a question that follows up none; for
    a follow-up, once the question followed up is answered, with an option that opens it
    where any is named (`assessment_follow_up_option`)."""
    if question.follow_up_of is None:
        return True
    parent = answers.get(question.follow_up_of)
    if parent is None:
        return False
    return not question.opened_by or bool(question.opened_by & set(parent.options))


def condition(question: Question, by_id: Mapping[int, Question]) -> str:
    """The follow-up's condition, for a person: which answer of which question opens it."""
    parent = by_id[question.follow_up_of] if question.follow_up_of is not None else None
    if parent is None:
        return ""
    labels = [label for label, id_ in parent.options.items() if id_ in question.opened_by]
    wanted = " or ".join(f"「{label}」" for label in labels) if labels else "an answer"
    return f"{question.key} is asked only after {wanted} to {parent.key}"
