"""importAssessmentCsv over real multipart HTTP (the GraphQL multipart request spec): the
prefecture imports, everyone else is refused, a multipart request without a preflight-forcing
header is refused (CSRF), and the upload's size is bounded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from auth.principal import Role
from auth.tokens import mint_token
from service.app import create_app
from service.database import Database
from service.settings import Settings
from tests import factories as f
from tests.assessments.csv_helpers import SAMPLE, sample_rows, stored, to_csv

ROUND = "2099-05"
IMPORT = (
    "mutation($input: ImportAssessmentCsvInput!) { importAssessmentCsv(input: $input) "
    "{ rows answers userErrors { field code message } } }"
)


@pytest.fixture(autouse=True)
async def empty_round(connection: AsyncConnection) -> None:
    await f.create_open_round(connection, ROUND, opens_on=None, closes_on=None)


def token(settings: Settings, role: Role) -> str:
    scope = {"municipality": "302015"} if role is Role.municipal_staff else None
    return mint_token(settings, role=role, subject=f"csv-{role.value}", scope=scope)


async def upload(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    data: bytes,
    headers: dict[str, str],
    **input_: Any,
) -> httpx.Response:
    operations = {"query": IMPORT, "variables": {"input": {"round": ROUND, "file": None, **input_}}}
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("responses.csv", data, "text/csv")},
        headers=headers,
    )
    await connection.execute(text("RESET ROLE"))
    return response


def payload(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["importAssessmentCsv"]


async def test_the_prefecture_imports_the_sample(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    auth = {"Authorization": f"Bearer {token(settings, Role.prefecture_admin)}"}
    result = payload(await upload(client, connection, SAMPLE.read_bytes(), auth))
    assert result["userErrors"] == []
    assert result["rows"] == 30
    answers = [r for r in await stored(connection, ROUND) if r[1] is not None]
    assert result["answers"] == len(answers) > 0
    # The same file again: every row is submitted already, unless replace.
    again = payload(await upload(client, connection, SAMPLE.read_bytes(), auth))
    assert again["rows"] == 0
    assert {e["code"] for e in again["userErrors"]} == {"RESPONSE_SUBMITTED"}
    assert len(again["userErrors"]) == 30
    replaced = payload(await upload(client, connection, SAMPLE.read_bytes(), auth, replace=True))
    assert (replaced["rows"], replaced["userErrors"]) == (30, [])


async def test_a_bad_cell_is_a_user_error_on_its_row_and_column_and_nothing_is_written(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    rows = sample_rows()[:4]
    answer = next(i for i, h in enumerate(rows[0]) if h.startswith("4-1. "))
    rows[3][answer] = "とても期待する"
    auth = {"Authorization": f"Bearer {token(settings, Role.prefecture_admin)}"}
    result = payload(await upload(client, connection, to_csv(rows), auth))
    assert result["rows"] == 0
    (error,) = result["userErrors"]
    assert error["field"] == ["input", "file", "4", "4-1"]
    assert error["code"] == "NOT_AN_OPTION"
    assert error["message"].startswith(f'row 4, column "{rows[0][answer]}": ')
    assert await stored(connection, ROUND) == []


@pytest.mark.parametrize("role", [Role.municipal_staff, Role.regional_office, Role.public])
async def test_everyone_else_is_refused(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings, role: Role
) -> None:
    if role is Role.public:
        headers = {"GraphQL-Preflight": "1"}
    else:
        scope = {"region": "海草"} if role is Role.regional_office else None
        minted = (
            token(settings, role)
            if scope is None
            else mint_token(settings, role=role, subject="r", scope=scope)
        )
        headers = {"Authorization": f"Bearer {minted}"}
    result = payload(await upload(client, connection, SAMPLE.read_bytes(), headers))
    assert result["rows"] == 0
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["input"], "FORBIDDEN")]
    assert await stored(connection, ROUND) == []


@pytest.mark.parametrize(
    "headers", [{}, {"GraphQL-Preflight": ""}, {"Authorization": ""}], ids=["none", "empty", "auth"]
)
async def test_a_multipart_request_without_a_preflight_header_is_refused(
    client: httpx.AsyncClient, connection: AsyncConnection, headers: dict[str, str]
) -> None:
    response = await upload(client, connection, SAMPLE.read_bytes(), headers)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "PREFLIGHT_REQUIRED"
    assert await stored(connection, ROUND) == []


async def test_apollo_s_preflight_header_is_accepted_too(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    # The public passes the CSRF check with it (and is then refused by the policy).
    response = await upload(
        client, connection, SAMPLE.read_bytes(), {"Apollo-Require-Preflight": "true"}
    )
    assert [e["code"] for e in payload(response)["userErrors"]] == ["FORBIDDEN"]


@pytest.fixture
async def small_upload_client(
    connection: AsyncConnection, engine: AsyncEngine, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    limited = settings.model_copy(update={"max_upload_bytes": 16384})
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    app = create_app(limited, database=Database(engine, sessionmaker))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_upload_limit(
    small_upload_client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    auth = {"Authorization": f"Bearer {token(settings, Role.prefecture_admin)}"}
    assert len(SAMPLE.read_bytes()) > 16384
    response = await upload(small_upload_client, connection, SAMPLE.read_bytes(), auth)
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["extensions"] == {
        "code": "REQUEST_TOO_LARGE",
        "limit": "maxUploadBytes",
        "maximum": 16384,
    }
    assert await stored(connection, ROUND) == []
    # A file within the limit goes through.
    small = to_csv(sample_rows()[:2])
    assert len(small) < 12000
    result = payload(await upload(small_upload_client, connection, small, auth))
    assert (result["rows"], result["userErrors"]) == (1, [])


async def test_a_file_sent_as_json_text_is_a_user_error(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    auth = {"Authorization": f"Bearer {token(settings, Role.prefecture_admin)}"}
    response = await client.post(
        "/graphql",
        json={"query": IMPORT, "variables": {"input": {"round": ROUND, "file": "a,b"}}},
        headers=auth,
    )
    await connection.execute(text("RESET ROLE"))
    (error,) = payload(response)["userErrors"]
    assert (error["field"], error["code"]) == (["input", "file"], "INVALID")


async def test_a_malformed_map_is_a_bad_request(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    auth = {"Authorization": f"Bearer {token(settings, Role.prefecture_admin)}"}
    operations = {"query": IMPORT, "variables": {"input": {"round": ROUND, "file": None}}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.x"]})},
        files={"0": ("a.csv", b"x", "text/csv")},
        headers=auth,
    )
    await connection.execute(text("RESET ROLE"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_an_idempotent_retry_of_an_upload_is_replayed_and_another_file_refused(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    auth = {
        "Authorization": f"Bearer {token(settings, Role.prefecture_admin)}",
        "Idempotency-Key": "import-2099-05-1",
    }
    one = to_csv(sample_rows()[:2])
    first = await upload(client, connection, one, auth)
    assert payload(first)["rows"] == 1
    retry = await upload(client, connection, one, auth)
    assert retry.headers.get("idempotent-replayed") == "true"
    assert retry.content == first.content
    # The same operations with another file are another request.
    other = await upload(client, connection, to_csv(sample_rows()[:3]), auth)
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len({r[0] for r in await stored(connection, ROUND)}) == 1


def one_row(**cells: str) -> bytes:
    """A row answering the required questions, and ``cells`` (question id -> cell) besides."""
    answers = {**{k: ", ".join(v) for k, v in f.COMPLETE.items()}, **cells}
    header = ["タイムスタンプ", "8-1", *answers]
    return to_csv([header, ["2024/04/22 10:15:30", "302015", *answers.values()]])


async def test_a_cell_of_thousands_of_choices_is_a_user_error_not_a_500(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    # The attack: a 4-2 cell of 3,000 ", "-joined labels (70 kB) exhausted the recursion of
    # the cell's parse (RecursionError: Internal server error).
    label = "域内市区町村との連絡調整や情報交換の場の開催"
    auth = {"Authorization": f"Bearer {token(settings, Role.prefecture_admin)}"}
    data = one_row(**{"4-2": ", ".join([label] * 3000)})
    result = payload(await upload(client, connection, data, auth))
    assert result["rows"] == 0
    assert {tuple(e["field"]) for e in result["userErrors"]} == {("input", "file", "2", "4-2")}
    assert await stored(connection, ROUND) == []


async def test_a_nul_character_in_a_cell_is_a_user_error_not_a_500(
    client: httpx.AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    # The attack: a NUL in a free-text cell (備考) reached PostgreSQL, which refuses it in
    # text (Internal server error); over JSON the same character is refused up front.
    auth = {"Authorization": f"Bearer {token(settings, Role.prefecture_admin)}"}
    result = payload(await upload(client, connection, one_row(**{"8-5": "a\x00b"}), auth))
    assert result["rows"] == 0
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["input", "file", "2"], "INVALID")
    ]
    assert await stored(connection, ROUND) == []
