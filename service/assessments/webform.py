"""The shape of the assessment's web-form CSV (a Google Forms export), both ways.

One row per municipality; the first column `タイムスタンプ` (when the form was sent, Japan's
time, ``2024/04/22 10:15:30``), then a column per question whose header is the question's id
and text (``0-1. 基本的な考え方：...``). On reading, a header is mapped to a question by its id
prefix (``0-1``, ``0-1.``, ``０－１　…``) or, failing that, by its text, both NFKC-normalised
with whitespace collapsed. A multiple-choice cell holds the chosen labels joined by ", " as
Google Forms writes them; labels may hold commas themselves, so a cell is matched against the
question's labels (longest first, backtracking) rather than split. The municipality is the
answer to 8-1 (自治体名): its name or its 全国地方公共団体コード.

Pure functions: `service/assessments/csv_import.py` reads and writes the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
TIMESTAMP = "タイムスタンプ"
# The respondent section's question naming the municipality (自治体名): the row's municipality.
MUNICIPALITY_QUESTION = "8-1"
SEPARATOR = ", "  # Google Forms joins a checkbox question's answers so

_ID_PREFIX = re.compile(r"^(\d+-\d+)(?:[.:)\s]|$)")
# Google Forms in the Japanese locale: 2024/04/22 10:15:30, sometimes with 午前/午後 and GMT+9.
_TIMESTAMP = re.compile(
    r"^(\d{4})/(\d{1,2})/(\d{1,2})\s+(午前|午後)?\s*(\d{1,2}):(\d{2}):(\d{2})"
    r"(?:\s*(午前|午後))?(?:\s*GMT\+9(?::00)?)?$"
)


def normalise(text: str) -> str:
    """NFKC, whitespace collapsed and trimmed: how headers and cells are compared."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class QuestionColumn:
    key: str
    text: str


def header(question: QuestionColumn) -> str:
    """A question's column header as the export writes it."""
    return f"{question.key}. {question.text}"


def question_of(raw: str, questions: Sequence[QuestionColumn]) -> str | None:
    """The key of the question a header names: by its id prefix, else by its whole text."""
    text = normalise(raw)
    keys = {q.key for q in questions}
    found = _ID_PREFIX.match(text)
    if found is not None and found.group(1) in keys:
        return found.group(1)
    by_text = {normalise(q.text): q.key for q in questions}
    return by_text.get(text)


def parse_timestamp(raw: str) -> datetime | None:
    """A form timestamp (Japan's time) as an aware UTC datetime; None when it is not one."""
    found = _TIMESTAMP.match(normalise(raw))
    if found is None:
        return None
    year, month, day, before, hour, minute, second, after = found.groups()
    meridiem = before or after
    hour_ = int(hour)
    if meridiem is not None:
        if not 1 <= hour_ <= 12:
            return None
        hour_ = hour_ % 12 + (12 if meridiem == "午後" else 0)
    try:
        local = datetime(
            int(year), int(month), int(day), hour_, int(minute), int(second), tzinfo=JST
        )
    except ValueError:
        return None
    return local.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y/%m/%d %H:%M:%S")


# A cell a spreadsheet runs as a formula (OWASP, "CSV Injection"): = + - @, a tab or a CR
# first, after any number of ' (so that a text that starts so with a ' of its own survives the
# round trip); a plain number such as -5 is not a formula.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_DEFUSED = re.compile(r"'+[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def defuse_formula(cell: str) -> str:
    """The cell as the export writes it: a ' before what a spreadsheet would run."""
    if _FORMULA.match(cell) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restore_formula(cell: str) -> str:
    """The cell as read: `defuse_formula` undone (a Google Forms export has no such ')."""
    return cell[1:] if _DEFUSED.match(cell) else cell


def split_choices(cell: str, labels: Sequence[str]) -> list[str] | None:
    """The labels a multiple-choice cell chose, in the cell's order; None when the cell is
    not a ", "-joined sequence of ``labels`` (a label may itself hold ", " or "、").

    From the cell's end backwards, each position's parse (the longest label that ends the cell
    or is followed by ", " and a parse) from the ones after it: a loop, not a recursion, since
    a cell of a few thousand choices would otherwise exhaust the interpreter's stack."""
    if not cell:
        return []
    ordered = sorted(set(label for label in labels if label), key=len, reverse=True)
    # at[start]: the label chosen at ``start`` and where the rest's parse begins (None: the
    # end of the cell); no entry: the cell cannot be parsed from there.
    at: dict[int, tuple[str, int | None]] = {}
    for start in range(len(cell) - 1, -1, -1):
        for label in ordered:
            if not cell.startswith(label, start):
                continue
            end = start + len(label)
            if end == len(cell):
                at[start] = (label, None)
                break
            rest = end + len(SEPARATOR)
            if cell.startswith(SEPARATOR, end) and rest in at:
                at[start] = (label, rest)
                break
    chosen: list[str] = []
    position: int | None = 0
    while position is not None:
        if position not in at:
            return None
        label, position = at[position]
        chosen.append(label)
    return chosen


def unknown_choices(cell: str, labels: Sequence[str]) -> list[str]:
    """For a message: the parts of a cell (split at ", ") that are no label."""
    known = set(labels)
    return [part for part in cell.split(SEPARATOR) if part not in known] or [cell]


def format_choices(labels: Sequence[str]) -> str:
    return SEPARATOR.join(labels)


def parse_number(raw: str) -> float | None:
    text = normalise(raw).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return float(number) if number.is_finite() else None


def format_number(number: Decimal) -> str:
    if number == number.to_integral_value():
        return f"{number.to_integral_value():f}"
    return f"{number.normalize():f}"


def municipality_of(raw: str, by_code: Mapping[str, int], by_name: Mapping[str, int]) -> int | None:
    """The municipality a cell names: its 6-digit code, or its name (with or without the
    prefecture's, 和歌山県新宮市)."""
    text = normalise(raw)
    if text in by_code:
        return by_code[text]
    if text in by_name:
        return by_name[text]
    return by_name.get(text.removeprefix("和歌山県").strip())
