"""Inputs and payloads of the assessment's mutations (ARCHITECTURE.md, "Writes")."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from schema.assessments import AssessmentResponse
from schema.errors import UserError

_ROUND = "調査回 / The round's key, e.g. 2024-04."
_MUNICIPALITY = (
    "市町村 / The municipality's code (全国地方公共団体コード); a municipality's staff may "
    "leave it out (their own), the prefecture's staff name it."
)
_VERSION = "読み取った版 / The response's version read: a stale one is refused (STALE)."


@strawberry.input(
    description="回答 / One answer: a choice question's option labels (exactly one for a "
    "single choice), a free-text question's text, a number question's number. An answer "
    "with none of them clears the question's answer."
)
class AssessmentAnswerInput:
    question: str = strawberry.field(description="設問 / The question id, e.g. 3-4.")
    options: list[str] | None = strawberry.field(
        default=None, description="選択肢 / Labels of the question's options, e.g. 定義している."
    )
    text: str | None = strawberry.field(default=None, description="自由記述 / Up to 2,000 chars.")
    number: float | None = strawberry.field(
        default=None, description="数値 / Within the question's bounds where it has them."
    )


@strawberry.input(
    description="回答の保存 / save answers to a round's response as a draft: the first save "
    "creates the response, a save changes the answers it names and leaves the others. "
    "Refused when the round is not open or the response is submitted; an invalid answer "
    'refuses the whole save with a user error on its field (["input", "answers", "3", '
    '"options"]) naming the question.'
)
class SaveAssessmentAnswersInput:
    round: str = strawberry.field(description=_ROUND)
    municipality: str | None = strawberry.field(default=None, description=_MUNICIPALITY)
    version: int | None = strawberry.field(
        default=None, description=_VERSION + " Needed once the response exists."
    )
    answers: list[AssessmentAnswerInput]


@strawberry.input(
    description="回答の提出 / submit a response: every required question asked must be "
    "answered, and follow-ups only where their condition is met (errors name the question as "
    '["answers", "<question id>"]).'
)
class SubmitAssessmentResponseInput:
    round: str = strawberry.field(description=_ROUND)
    municipality: str | None = strawberry.field(default=None, description=_MUNICIPALITY)
    version: int = strawberry.field(description=_VERSION)


@strawberry.input(
    description="回答の差し戻し / the prefecture reopens a submitted response, with a reason, "
    "so that the municipality can change and submit it again."
)
class ReopenAssessmentResponseInput:
    round: str = strawberry.field(description=_ROUND)
    municipality: str = strawberry.field(description="市町村 / The municipality's code.")
    version: int = strawberry.field(description=_VERSION)
    reason: str = strawberry.field(description="理由 / Why it is reopened.")


@strawberry.type(
    description="回答の変更結果 / The response after the change, or why nothing changed."
)
class AssessmentResponsePayload:
    response: AssessmentResponse | None
    user_errors: list[UserError]


@strawberry.input(
    description="調査票CSVの取り込み / import the web form's CSV (a Google Forms export) into a "
    "round, as the prefecture: each row a municipality's submitted response (its timestamp, "
    "Japan's time, the submission's; the municipality by 8-1's name or code; a column per "
    "question, mapped by its id prefix or its text). Every row or none: any problem refuses "
    'the whole file, each a user error on ["input", "file", "<row>", "<column>"] (the '
    "file's line, the header being 1, and the question id or the header as written). Sent "
    "as a multipart request (the GraphQL multipart request spec) with a header that forces "
    "a CORS preflight (Authorization, or GraphQL-Preflight: 1)."
)
class ImportAssessmentCsvInput:
    round: str = strawberry.field(description=_ROUND)
    file: Upload = strawberry.field(description="CSVファイル / The CSV file (UTF-8).")
    replace: bool | None = strawberry.field(
        default=False,
        description="置き換え / Replace responses submitted already (else they are an error; "
        "null: false).",
    )


@strawberry.type(description="取り込み結果 / What the import wrote, or why it wrote nothing.")
class ImportAssessmentCsvPayload:
    rows: int = strawberry.field(description="取り込んだ回答 / Responses imported (0: refused).")
    answers: int = strawberry.field(description="回答の件数 / Answers imported.")
    user_errors: list[UserError]
