"""The HTTP side of a GraphQL request: bounded bodies, bounded JSON, and error responses.

Everything here runs before a document is parsed, and costs at most what the limits allow:
the body is read up to `DXLINK_MAX_BODY_BYTES` (413 beyond), decoded by orjson (which refuses
JSON nested deeper than 1024 levels instead of exhausting the interpreter's recursion), and
refused when it nests deeper than `DXLINK_MAX_JSON_DEPTH` (a GraphQL request needs a few
levels; variables for input objects a few more). Refusals are GraphQL-over-HTTP error bodies
(`{"errors": [...]}` with `extensions.code`), never plain text.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.logging import current_request_id


class BadRequest(Exception):
    """The HTTP request cannot be a GraphQL request; answered with ``status`` and ``code``."""

    def __init__(
        self, message: str, *, status: int = 400, code: str = "BAD_REQUEST", **extensions: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.extensions = extensions


async def read_body(request: Request, max_bytes: int, limit: str = "maxBodyBytes") -> bytes:
    """The request body, refused as soon as it is known to exceed ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int, limit: str) -> BadRequest:
    return BadRequest(
        f"The request body is larger than {max_bytes} bytes ({limit}).",
        status=413,
        code="REQUEST_TOO_LARGE",
        limit=limit,
        maximum=max_bytes,
    )


def loads(data: bytes | str) -> Any:
    """JSON as orjson decodes it; raises `json.JSONDecodeError` (orjson's is a subclass).

    `"\\ud800"` is valid JSON that orjson refuses: the standard library decodes it, so that
    the text guard can name the variable holding it (service/input_guard.py)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc):
            raise
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise json.JSONDecodeError("nested too deeply", str(data)[:100], 0) from exc


def decode_json(data: bytes | str, max_depth: int, what: str = "request body") -> Any:
    """``data`` as JSON, nested at most ``max_depth`` deep; `BadRequest` otherwise."""
    try:
        value = loads(data)
    except ValueError as exc:
        if "depth limit exceeded" in str(exc) or "nested too deeply" in str(exc):
            value = [[]] * 0  # orjson's own bound (1024 levels): over ours too
            depth_exceeded = True
        else:
            raise BadRequest(f"The {what} is not valid JSON: {exc}.") from exc
    else:
        depth_exceeded = json_depth(value, max_depth) > max_depth
    if depth_exceeded:
        raise BadRequest(
            f"The {what} nests JSON more than {max_depth} levels deep (maxJsonDepth).",
            limit="maxJsonDepth",
            maximum=max_depth,
        )
    return value


def json_depth(value: Any, stop_after: int) -> int:
    """How deeply ``value`` nests (a scalar: 0), counting no further than ``stop_after + 1``.

    Iterative: a recursive walk would itself fail on the inputs it is meant to refuse."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > stop_after:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def graphql_request(payload: Any) -> dict[str, Any]:
    """Check the shape of a decoded GraphQL-over-HTTP request (query, variables, ...)."""
    if not isinstance(payload, dict):
        raise BadRequest("A GraphQL request must be a JSON object.")
    checks = (
        ("query", str, "a string"),
        ("variables", dict, "an object"),
        ("operationName", str, "a string"),
        ("extensions", dict, "an object"),
    )
    for key, kind, name in checks:
        if payload.get(key) is not None and not isinstance(payload[key], kind):
            raise BadRequest(f"The request's `{key}` must be {name} or null.", field=key)
    return payload


def error_response(
    message: str,
    *,
    status: int,
    code: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A GraphQL-over-HTTP error body for a request refused before execution."""
    extensions = {"code": code, **extensions}
    if status >= 500:
        extensions.setdefault("requestId", current_request_id())
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status_code=status,
        headers=headers,
    )


def bad_request_response(error: BadRequest) -> JSONResponse:
    return error_response(error.message, status=error.status, code=error.code, **error.extensions)


def unauthenticated_response(reason: str) -> JSONResponse:
    """401 for a refused bearer token, with a GraphQL-shaped body, so clients handle it like any
    other error (/graphql and the catalog's JSON-LD answer the same)."""
    error = {
        "message": f"Unauthenticated: {reason}",
        "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
    }
    return JSONResponse(
        {"data": None, "errors": [error]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
