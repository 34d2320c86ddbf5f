"""Errors: client mistakes are explained; bugs are masked, logged and roll the request back."""

from __future__ import annotations

import logging

import httpx
import pytest

from service.geography.service import GeographyService
from tests.conftest import GraphQL, error_of


async def test_unexpected_exception_is_masked_and_logged(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(GeographyService, "all", broken)
    with caplog.at_level(logging.ERROR, logger="dxlink.graphql"):
        body = await gql(
            "{ regions { name } }",
            **{"X-Request-ID": "req-42", "X-Dxlink-Executor": "resolvers"},
        )
    error = error_of(body)
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "req-42" in error["message"]
    assert "hunter2" not in str(body)
    assert "Traceback" not in str(body)
    logged = [r for r in caplog.records if r.name == "dxlink.graphql"]
    assert logged
    assert logged[0].exc_info is not None
    assert "hunter2" in str(logged[0].exc_info[1])


async def test_syntax_error_is_reported_not_masked(gql: GraphQL) -> None:
    error = error_of(await gql("{ municipalities( }"))
    assert "Syntax Error" in error["message"]


async def test_unknown_field_is_a_validation_error(gql: GraphQL) -> None:
    error = error_of(await gql('{ municipality(code: "302015") { secret } }'))
    assert "Cannot query field 'secret'" in error["message"]


async def test_query_depth_is_limited(gql: GraphQL) -> None:
    chain = "tier { municipality { " * 7
    deep = '{ municipality(code: "302015") { ' + chain + "code" + " } }" * 7 + " } }"
    error = error_of(await gql(deep))
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "maxQueryDepth",
        "maximum": 12,
    }
    assert "nests fields 15 deep; at most 12 levels" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        "{ prefectures { municipalities { prefecture { municipalities { prefecture { "
        "municipalities { code } } } } } } }",
        # Fragments count too.
        "{ prefectures { ...P } } fragment P on Prefecture { regions { ...R } } "
        "fragment R on Region { municipalities { tierHistory { score } } }",
    ],
)
async def test_nested_lists_are_limited(gql: GraphQL, query: str) -> None:
    error = error_of(await gql(query))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "at most 3" in error["message"]


async def test_aliases_are_limited(gql: GraphQL) -> None:
    many = "{ " + " ".join(f"a{i}: tiers {{ level }}" for i in range(40)) + " }"
    error = error_of(await gql(many))
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "maxAliases",
        "maximum": 30,
    }
    assert "uses 40 aliases" in error["message"]


@pytest.mark.parametrize(
    ("query", "variables", "argument"),
    [
        (
            "query($v: String) { assessmentFramework(version: $v) { version } }",
            {"v": "2024\x00"},
            "v",
        ),
        ('{ publishedStatistics(survey: "a\\u0000") { value } }', None, "survey"),
        (
            'query($s: String = "a\\u0000b") { municipalities(search: $s) { totalCount } }',
            None,
            "s",
        ),
    ],
)
async def test_nul_characters_are_refused_by_name(
    gql: GraphQL, query: str, variables: dict | None, argument: str
) -> None:
    error = error_of(await gql(query, variables))
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": argument,
        "field": [argument],
    }
    assert "NUL" in error["message"]
    assert "requestId" not in error["extensions"]


async def test_lone_surrogates_are_refused_by_name(client: httpx.AsyncClient) -> None:
    # Sent as JSON text: a lone surrogate is valid JSON but no valid UTF-8 text for PostgreSQL.
    body = (
        '{"query": "query($s: String) { publishedStatistics(survey: $s) { value } }", '
        '"variables": {"s": "\\ud800"}}'
    )
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    error = error_of(response.json())
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "s", "field": ["s"]}
