"""Import and export of the assessment's web-form CSV (`service/assessments/webform.py` is its
shape): `dxlink import-assessment`, `dxlink export-assessment` and the mutation
`importAssessmentCsv`.

An import is the prefecture's: every row becomes its municipality's submitted response of the
round, written through `ResponseService` (save, submit; with ``replace``, a submitted response
is reopened first), so each answer is checked by `saveAssessmentAnswers`' rules, the write
policies and row-level security judge it, and the audit records it. The row's timestamp is
when the municipality sent the form: the round must have been open that day (in Japan), and
the response's ``submitted_at`` is that moment, as the demo does for its invented answers
(seeds/demo_assessment_loader.py).

All or nothing: the rows run in one savepoint; every problem of every row is collected (the
rows after a bad one still run, so one import reports them all) and any problem undoes the
whole import. A problem names its row (the file's line, the header being row 1) and column
(the question id, or the header as written for the other columns).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from auth.policy import COMPOSITE_WRITES
from service.assessments import webform
from service.assessments.answers import Given
from service.assessments.repository import Answer, ResponseRepository, Round
from service.assessments.responses import ResponseService
from service.database import RequestSession
from service.models.assessment import QuestionKind, ResponseStatus
from service.writes import Code, UserError, UserErrors

_ROUND_FIELD = ("input", "round")
REPLACED_REASON = "CSVの取り込みで置き換え / replaced by a CSV import"


@dataclass(frozen=True)
class Problem:
    """One problem of an import: where (row, column) and what."""

    row: int | None  # the file's line (header = 1); None: the whole file
    column: str | None  # question id, or the header as written; None: the whole row
    header: str | None  # the column's header as written, for a person
    code: Code
    message: str
    at: tuple[str, ...] | None = None  # another input field at fault (the round)

    def field(self, base: tuple[str, ...] = ("input", "file")) -> tuple[str, ...]:
        """``["input", "file", "<row>", "<column>"]``: the convention of `importAssessmentCsv`."""
        if self.at is not None:
            return self.at
        parts = [] if self.row is None else [str(self.row)]
        if self.column is not None:
            parts.append(self.column)
        return (*base, *parts)

    def sentence(self) -> str:
        """The message with where it is, for a person: ``row 3, column "0-2. ...": ...``."""
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.header is not None:
            where.append(f'column "{self.header}"')
        elif self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def __str__(self) -> str:
        return f"{self.code.name}: {self.sentence()}"


@dataclass
class Imported:
    rows: int = 0
    answers: int = 0
    problems: list[Problem] = field(default_factory=list)


class ImportRefused(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    key: str | None  # the question's; None: the timestamp


class FormResponseRepository(ResponseRepository):
    """The responses' repository of one imported row: the round is judged open or closed on
    the day the form was sent, and a submission is stamped with that moment."""

    def __init__(self, db: RequestSession, sent_at: datetime) -> None:
        super().__init__(db)
        self.sent_at = sent_at

    async def round(self, key: str) -> Round | None:
        found = await super().round(key)
        if found is None:
            return None
        return replace(found, today=self.sent_at.astimezone(webform.JST).date())

    async def update_response(self, response_id: int, version: int, values: dict[str, Any]) -> None:
        if "submitted_at" in values:
            values = {**values, "submitted_at": self.sent_at}
        await super().update_response(response_id, version, values)


class AssessmentCsvService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db
        self.repository = ResponseRepository(db)

    # --- export -----------------------------------------------------------------------------

    async def export_csv(self, round_key: str) -> str | None:
        """The round's submitted responses as the web form's CSV; None for an unknown round."""
        found = await self.repository.round(round_key.strip())
        if found is None:
            return None
        texts = await self.repository.question_texts(found.framework_id)
        questions = await self.repository.questions(found.framework_id)
        by_id = {q.id: q for q in questions.values()}
        labels = {q.id: {o: label for label, o in q.options.items()} for q in questions.values()}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        columns = [key for key, _ in texts]
        writer.writerow(
            [webform.TIMESTAMP] + [webform.header(webform.QuestionColumn(k, t)) for k, t in texts]
        )
        for response in await self.repository.submitted(found.id):
            answers = await self.repository.answers(response.id)
            cells = {
                by_id[a.question_id].key: _cell(by_id[a.question_id].kind, a, labels[a.question_id])
                for a in answers.values()
            }
            cells[webform.MUNICIPALITY_QUESTION] = response.name
            # A municipality's free text must not run as a formula in the spreadsheet that
            # opens the file: defused, and restored by the import (`_rows`).
            writer.writerow(
                [webform.format_timestamp(response.submitted_at)]
                + [webform.defuse_formula(cells.get(key, "")) for key in columns]
            )
        return out.getvalue()

    # --- import -----------------------------------------------------------------------------

    async def import_csv(
        self,
        round_key: str,
        data: bytes,
        *,
        replace: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Imported:
        """Import every row of ``data`` or none; raises `ImportRefused` with every problem."""
        if self.db.principal.role not in COMPOSITE_WRITES["importAssessmentCsv"].roles:
            raise ImportRefused(
                [
                    Problem(
                        None, None, None, Code.FORBIDDEN, "only the prefecture imports", ("input",)
                    )
                ]
            )
        found = await self.repository.round(round_key.strip())
        if found is None:
            raise ImportRefused(
                [Problem(None, None, None, Code.NOT_FOUND, f"no round {round_key}", _ROUND_FIELD)]
            )
        rows = _rows(data)
        if not rows:
            raise ImportRefused([Problem(None, None, None, Code.REQUIRED, "the file is empty")])
        texts = await self.repository.question_texts(found.framework_id)
        questions = await self.repository.questions(found.framework_id)
        columns, problems = _columns(rows[0], [webform.QuestionColumn(k, t) for k, t in texts])
        if problems:
            raise ImportRefused(problems)
        by_code: dict[str, int] = {}
        by_name: dict[str, int] = {}
        codes: dict[int, str] = {}
        named: dict[str, int] = {}  # name -> how many municipalities bear it
        for m in await self.repository.municipalities():
            by_code[m.code] = m.id
            by_name[m.name] = m.id
            named[m.name] = named.get(m.name, 0) + 1
            codes[m.id] = m.code
        # A name two municipalities bear (another prefecture's 美浜町) names neither: the code.
        by_name = {name: id_ for name, id_ in by_name.items() if named[name] == 1}
        imported = Imported()
        seen: dict[int, int] = {}  # municipality id -> row
        async with self.db.savepoint():
            for number, cells in enumerate(rows[1:], start=2):
                if not any(cell.strip() for cell in cells):
                    continue  # a blank line
                row = _Row(number, cells, columns)
                sent_at, municipality, given = row.read(questions, by_code, by_name)
                if municipality is not None:
                    if municipality in seen:
                        row.problem(
                            webform.MUNICIPALITY_QUESTION,
                            Code.DUPLICATE_MUNICIPALITY,
                            f"the municipality is in row {seen[municipality]} already",
                        )
                    else:
                        seen[municipality] = number
                if not row.problems and sent_at is not None and municipality is not None:
                    await self._write(row, found.key, codes[municipality], sent_at, given, replace)
                if row.problems:
                    imported.problems.extend(row.problems)
                else:
                    imported.rows += 1
                    imported.answers += len(given)
                if progress is not None:
                    progress(1)
            if imported.problems:
                raise ImportRefused(imported.problems)  # undoes every row
        return imported

    async def _write(
        self,
        row: _Row,
        round_key: str,
        code: str,
        sent_at: datetime,
        given: list[tuple[int, Given]],
        replace: bool,
    ) -> None:
        service = ResponseService(self.db)
        repository = FormResponseRepository(self.db, sent_at)
        service.repository = repository
        round_ = await repository.round(round_key)
        assert round_ is not None
        municipality_id = await repository.municipality_id(code)
        assert municipality_id is not None
        questions = await repository.questions(round_.framework_id)
        named = {g.question for _, g in given}
        # Every question the row leaves blank is cleared (a replaced response keeps nothing).
        blanks = [
            Given(key)
            for key in questions
            if key not in named and key != webform.MUNICIPALITY_QUESTION
        ]
        answers = [g for _, g in given] + blanks
        try:
            current = await repository.response(round_.id, municipality_id)
            version = None if current is None else int(current.version)
            if current is not None and current.status == ResponseStatus.SUBMITTED:
                if not replace:
                    row.problem(
                        webform.MUNICIPALITY_QUESTION,
                        Code.RESPONSE_SUBMITTED,
                        f"{code} submitted its response to {round_key} already "
                        "(replace it with --replace, or replace: true)",
                    )
                    return
                assert version is not None
                await service.reopen(round_key, code, version, REPLACED_REASON)
                version += 1
            await service.save(round_key, code, version, answers)
            version = 1 if version is None else version + 1
            await service.submit(round_key, code, version)
        except UserErrors as refused:
            for error in refused.errors:
                row.service_problem(error)


def _cell(kind: QuestionKind, answer: Answer, labels: dict[int, str]) -> str:
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return webform.format_choices([labels[o] for o in answer.options])
    if kind is QuestionKind.NUMBER:
        return "" if answer.number is None else webform.format_number(answer.number)
    return answer.text or ""


def _rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            [Problem(None, None, None, Code.INVALID, f"the file is not UTF-8 ({exc.reason})")]
        ) from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportRefused(
            [Problem(None, None, None, Code.INVALID, f"the file is not CSV: {exc}")]
        ) from exc
    # PostgreSQL's text holds no NUL (a JSON request's is refused up front, input_guard.py).
    nul = [
        Problem(number, None, None, Code.INVALID, "the row holds a NUL character (\\x00)")
        for number, cells in enumerate(rows, start=1)
        if any("\x00" in cell for cell in cells)
    ]
    if nul:
        raise ImportRefused(nul)
    return [[webform.restore_formula(cell) for cell in cells] for cells in rows]


def _columns(
    headers: list[str], questions: list[webform.QuestionColumn]
) -> tuple[list[_Column], list[Problem]]:
    columns: list[_Column] = []
    problems: list[Problem] = []
    taken: dict[str, str] = {}
    for index, raw in enumerate(headers):
        if webform.normalise(raw) == webform.TIMESTAMP:
            key = None
            mapped = webform.TIMESTAMP
        else:
            key = webform.question_of(raw, questions)
            if key is None:
                problems.append(
                    Problem(
                        1, raw, raw, Code.UNMAPPED_COLUMN,
                        "no question of the round's framework has this id or text",
                    )
                )  # fmt: skip
                continue
            mapped = key
        if mapped in taken:
            problems.append(
                Problem(1, key or raw, raw, Code.DUPLICATE_COLUMN,
                        f"the column of {mapped} is there already ({taken[mapped]!r})")
            )  # fmt: skip
            continue
        taken[mapped] = raw
        columns.append(_Column(index, raw, key))
    for needed, what in (
        (webform.TIMESTAMP, "the timestamp"),
        (webform.MUNICIPALITY_QUESTION, "the municipality (自治体名)"),
    ):
        if needed not in taken:
            problems.append(
                Problem(1, needed, None, Code.REQUIRED, f"no column of {what} ({needed})")
            )
    return columns, problems


class _Row:
    """One data row being read, and its problems."""

    def __init__(self, number: int, cells: list[str], columns: list[_Column]) -> None:
        self.number = number
        self.cells = cells
        self.columns = columns
        self.headers = {c.key or webform.TIMESTAMP: c.header for c in columns}
        self.by_key = {c.key: c for c in columns if c.key is not None}
        self.problems: list[Problem] = []
        self.given_columns: list[str] = []  # the question of each Given, in order

    def problem(self, column: str | None, code: Code, message: str) -> None:
        header = self.headers.get(column) if column is not None else None
        self.problems.append(Problem(self.number, column, header, code, message))

    def cell(self, column: _Column) -> str:
        return self.cells[column.index] if column.index < len(self.cells) else ""

    def read(
        self, questions: dict[str, Any], by_code: dict[str, int], by_name: dict[str, int]
    ) -> tuple[datetime | None, int | None, list[tuple[int, Given]]]:
        """The row's timestamp, municipality and answers (with their column's index), each
        problem recorded."""
        if len(self.cells) > len(self.columns) and any(
            c.strip() for c in self.cells[len(self.columns) :]
        ):
            self.problem(None, Code.INVALID, "the row has more cells than the header")
        sent_at: datetime | None = None
        municipality: int | None = None
        given: list[tuple[int, Given]] = []
        for column in self.columns:
            raw = self.cell(column).strip()
            if column.key is None:
                sent_at = webform.parse_timestamp(raw)
                if sent_at is None:
                    self.problem(
                        webform.TIMESTAMP, Code.INVALID,
                        f"not a timestamp such as 2024/04/22 10:15:30: {raw!r}",
                    )  # fmt: skip
                continue
            if column.key == webform.MUNICIPALITY_QUESTION:
                municipality = webform.municipality_of(raw, by_code, by_name)
                if municipality is None:
                    self.problem(
                        column.key, Code.NOT_FOUND,
                        f"no municipality named or coded {raw!r}" if raw
                        else "the municipality (name or 全国地方公共団体コード) is missing",
                    )  # fmt: skip
                continue
            if not raw:
                continue
            question = questions[column.key]
            match question.kind:
                case QuestionKind.MULTIPLE:
                    labels = list(question.options)
                    chosen = webform.split_choices(raw, labels)
                    if chosen is None:
                        unknown = ", ".join(repr(u) for u in webform.unknown_choices(raw, labels))
                        self.problem(
                            column.key, Code.NOT_AN_OPTION, f"{column.key} has no option {unknown}"
                        )
                        continue
                    item = Given(column.key, options=chosen)
                case QuestionKind.SINGLE:
                    item = Given(column.key, options=[raw])
                case QuestionKind.NUMBER:
                    number = webform.parse_number(raw)
                    if number is None:
                        self.problem(column.key, Code.INVALID, f"not a number: {raw!r}")
                        continue
                    item = Given(column.key, number=number)
                case _:
                    item = Given(column.key, text=raw)
            given.append((column.index, item))
            self.given_columns.append(column.key)
        return sent_at, municipality, given

    def service_problem(self, error: UserError) -> None:
        """A user error of the response service, put on its row and column."""
        path = error.field
        column: str | None = webform.MUNICIPALITY_QUESTION
        if len(path) >= 3 and path[:2] == ("input", "answers") and path[2].isdigit():
            index = int(path[2])
            # Past the row's answers: a blank the import cleared, no column's doing.
            column = self.given_columns[index] if index < len(self.given_columns) else None
        elif len(path) == 2 and path[0] == "answers":
            column = path[1]
        elif error.code is Code.ROUND_CLOSED:
            column = webform.TIMESTAMP
        header = self.headers.get(column) if column is not None else None
        self.problems.append(Problem(self.number, column, header, error.code, error.message))
