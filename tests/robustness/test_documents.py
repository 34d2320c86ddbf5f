"""Documents are bounded before they cost anything, validated once, and prepared off the
event loop (issue 8, point 2); every refusal carries a code and names its limit (point 9)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from graphql import validate

from service import documents as documents_module
from service.documents import Documents
from service.settings import Settings
from tests.conftest import GraphQL, error_of


async def _post(client: httpx.AsyncClient, query: str) -> Any:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()


def _fragment_bomb(levels: int) -> str:
    """A few hundred bytes that expand to 2**levels fields."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ __typename }}"


HOSTILE = [
    # (document, code, limit): the shapes of the issue, each refused before validation.
    ("{ " + "__typename " * 20000 + "}", "DOCUMENT_TOO_LARGE", "maxDocumentLength"),
    ("{ " + "__typename " * 2500 + "}", "DOCUMENT_TOO_LARGE", "maxDocumentTokens"),
    ("{ __typename " + "@skip(if: false) " * 10000 + "}", "DOCUMENT_TOO_LARGE", None),
    (
        "{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }",
        "DOCUMENT_TOO_LARGE",
        "maxDocumentTokens",
    ),
    ("{ " + " ".join(f"a{i}: __typename" for i in range(300)) + " }", "QUERY_TOO_COMPLEX", None),
    ("{ " + 'municipality(code: "302015") { name } ' * 200 + "}", "QUERY_TOO_COMPLEX", None),
    ("{ " + "__typename " * 400 + "}", "QUERY_TOO_COMPLEX", "maxFieldRepeats"),
    (_fragment_bomb(40), "QUERY_TOO_COMPLEX", "maxFields"),
    ("#\n" * 300 + "{ __typename }", "DOCUMENT_TOO_LARGE", "maxDocumentComments"),
]


@pytest.mark.parametrize(("query", "code", "limit"), HOSTILE)
async def test_hostile_documents_are_refused_with_the_limit_named(
    client: httpx.AsyncClient, query: str, code: str, limit: str | None
) -> None:
    body = await _post(client, query)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == code
    assert "limit" in error["extensions"]
    assert error["extensions"]["limit"] in error["message"]
    if limit is not None:
        assert error["extensions"]["limit"] == limit


def test_a_fragment_bomb_is_measured_without_expanding_it(settings: Settings) -> None:
    """2**60 fields: measured in one pass over the fragments, not by walking them."""
    schema = _schema(settings)
    prepared = Documents(schema, settings).parse(_fragment_bomb(60))
    errors = {e.extensions["limit"]: e.message for e in prepared.errors}
    assert "selects without bound fields" in errors["maxFields"]
    assert "repeats one field without bound times" in errors["maxFieldRepeats"]


def test_the_specification_rules_do_not_run_on_an_operation_over_a_limit(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The costly rules (OverlappingFieldsCanBeMerged is quadratic in repeats) never see it."""
    calls: list[object] = []
    monkeypatch.setattr(documents_module, "validate", lambda *a: calls.append(a) or [])
    prepared = Documents(_schema(settings), settings).parse("{ " + "__typename " * 400 + "}")
    assert prepared.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    assert calls == []


async def test_a_document_is_validated_once_whichever_executor_answers(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    def counting(*args: Any) -> Any:
        calls.append(args)
        return validate(*args)

    monkeypatch.setattr(documents_module, "validate", counting)
    # One the compiled path answers, one it declines (viewer is computed in Python).
    for query in ("{ tiers { level name } }", "{ viewer { role } tiers { level } }"):
        before = len(calls)
        for _ in range(3):
            body = await _post(client, query)
            assert "errors" not in body
        assert len(calls) - before == 1, query


async def test_documents_are_prepared_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    original = Documents.parse

    def recording(self: Documents, text: str) -> Any:
        threads.append(threading.current_thread().name)
        return original(self, text)

    monkeypatch.setattr(Documents, "parse", recording)
    await _post(client, '{ municipality(code: "302015") { name kana } }')
    await _post(client, "{ regions { name } }")
    assert threads
    assert all(name.startswith("dxlink-documents") for name in threads), threads
    assert threading.current_thread().name not in threads


async def test_a_large_dashboard_document_is_answered(gql: GraphQL) -> None:
    """A screen's worth of fields (about 870 tokens, 27 aliases, 486 fields) stays within
    every limit; one more field in each alias is refused, by name."""
    selection = (
        "code name kana romaji kind kindLabel population populationYear "
        "region { name shortName kana romaji } prefecture { code name kana } "
    )

    def document(aliases: int, extra: str = "") -> str:
        return (
            "{ "
            + " ".join(
                f'm{i}: municipality(code: "302015") {{ {selection} {extra} }}'
                for i in range(aliases)
            )
            + " }"
        )

    body = await gql(document(27))
    assert body["data"]["m26"]["region"]["shortName"] == "海草"
    error = error_of(await gql(document(27, "id")))
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "maxFields",
        "maximum": 500,
    }
    assert "selects 513 fields" in error["message"]


async def test_syntax_errors_have_a_code(gql: GraphQL) -> None:
    error = error_of(await gql("{ municipalities( }"))
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


def _schema(settings: Settings) -> Any:
    from service.graphql import build_schema

    return build_schema(settings)._schema
