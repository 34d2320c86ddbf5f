"""Bad HTTP requests get a 4xx with a GraphQL-over-HTTP error body, never plain text or a 500
(issue 8, point 3), and every error a client can see carries `extensions.code` (point 9)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

DEEP = b"[" * 100_000 + b"]" * 100_000


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert "errors" in body, body
    for error in body["errors"]:
        assert error["extensions"]["code"], error
        assert "Traceback" not in error["message"]
    return body["errors"]


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (DEEP, 400, "BAD_REQUEST"),
        (
            b'{"query": "{ tiers { level } }", "variables": {"v": ' + DEEP + b"}}",
            400,
            "BAD_REQUEST",
        ),
        (
            b'{"query": "{ tiers { level } }", "variables": ' + b'{"a":' * 50 + b"1" + b"}" * 51,
            400,
            "BAD_REQUEST",
        ),
        (b"{not json", 400, "BAD_REQUEST"),
        (b"", 400, "BAD_REQUEST"),
        (b'"just a string"', 400, "BAD_REQUEST"),
        (b'[{"query": "{ tiers { level } }"}]', 400, "BAD_REQUEST"),
        (b'{"query": 42}', 400, "BAD_REQUEST"),
        (b'{"query": "{ tiers { level } }", "variables": [1]}', 400, "BAD_REQUEST"),
        (b'{"query": "{ tiers { level } }", "operationName": 7}', 400, "BAD_REQUEST"),
        (b'{"variables": {}}', 400, "BAD_REQUEST"),
        (b'{"query": "query A { tiers { level } }", "operationName": "B"}', 400, "BAD_REQUEST"),
        (
            b'{"query": "query A { tiers { level } } query B { regions { name } }"}',
            400,
            "BAD_REQUEST",
        ),
    ],
)
async def test_bad_bodies_are_4xx_with_a_graphql_error(
    client: httpx.AsyncClient, content: bytes, status: int, code: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    [error] = _errors(response)
    assert error["extensions"]["code"] == code


async def test_deep_variables_in_a_get_request_are_a_bad_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ tiers { level } }", "variables": "[" * 5000 + "]" * 5000}
    )
    assert response.status_code == 400
    [error] = _errors(response)
    assert error["extensions"]["limit"] == "maxJsonDepth"


@pytest.mark.parametrize("declared", [True, False])
async def test_an_oversized_body_is_413(client: httpx.AsyncClient, declared: bool) -> None:
    padding = "x" * (300 << 10)
    content = ('{"query": "{ tiers { level } }", "padding": "' + padding + '"}').encode()

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for start in range(0, len(content), 65536):
            yield content[start : start + 65536]

    response = await client.post(
        "/graphql",
        content=content if declared else chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    [error] = _errors(response)
    assert error["extensions"] == {
        "code": "REQUEST_TOO_LARGE",
        "limit": "maxBodyBytes",
        "maximum": 256 << 10,
    }


async def test_other_content_types_and_methods_are_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{ tiers { level } }", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert _errors(response)[0]["extensions"]["code"] == "BAD_REQUEST"
    # text/plain with "application/json" in a parameter: a browser sends it cross-site without
    # a CORS preflight (its essence is text/plain), so it must not be served as JSON.
    for content_type in ("text/plain; charset=application/json", "text/plain; application/json"):
        response = await client.post(
            "/graphql",
            content=b'{"query": "{ tiers { level } }"}',
            headers={"content-type": content_type},
        )
        assert response.status_code == 400, content_type
        assert _errors(response)[0]["extensions"]["code"] == "BAD_REQUEST"
    for method in ("PUT", "DELETE", "PATCH"):
        response = await client.request(method, "/graphql", json={"query": "{ tiers { level } }"})
        assert response.status_code == 405
        assert _errors(response)[0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
        assert "GET" in response.headers["allow"]
    response = await client.get("/graphql", headers={"accept": "application/json"})
    assert response.status_code == 400
    assert _errors(response)[0]["extensions"]["code"] == "BAD_REQUEST"
    response = await client.get("/no/such/path")
    assert response.status_code == 404
    assert _errors(response)[0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ municipalities( }", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("mutation { nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($c: String!) { municipality(code: $c) { name } }", None, "BAD_USER_INPUT"),
        ("query($c: String!) { municipality(code: $c) { name } }", {"c": 5}, "BAD_USER_INPUT"),
        (
            "query($f: Int) { municipalities(first: $f) { totalCount } }",
            {"f": 2**40},
            "BAD_USER_INPUT",
        ),
        ('{ municipality(code: "12") { name } }', None, "BAD_USER_INPUT"),
        ("{ municipalities(first: 101) { totalCount } }", None, "BAD_USER_INPUT"),
        (
            "{ " + " ".join(f"a{i}: tiers {{ level }}" for i in range(31)) + " }",
            None,
            "QUERY_TOO_COMPLEX",
        ),
        (
            "{ prefectures { municipalities { prefecture { municipalities { prefecture { "
            "municipalities { code } } } } } } }",
            None,
            "QUERY_TOO_COMPLEX",
        ),
    ],
)
async def test_every_error_has_a_code(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    errors = _errors(response)
    assert errors[0]["extensions"]["code"] == code, errors
    if code == "BAD_USER_INPUT":
        assert errors[0]["extensions"]["argument"] in ("c", "f", "code", "first")
