"""File uploads: the GraphQL multipart request
(https://github.com/jaydenseric/graphql-multipart-request-spec), as `importAssessmentCsv` takes
its CSV.

A multipart/form-data POST holds ``operations`` (the JSON request, ``null`` where a file goes),
``map`` (``{"0": ["variables.input.file"]}``) and the file parts. It is read whole up to
`DXLINK_MAX_UPLOAD_BYTES` (413 beyond) and parsed by python-multipart (starlette's
``Request.form``); each file's bytes are put in the variables where the map says (the value
of the `Upload` scalar).

CSRF: /graphql has no cookies, but a browser page of another origin may still send a "simple"
cross-origin request (a form post) without asking first, and multipart/form-data is such a
content type, while JSON is not. So a multipart request is accepted only with a header that a
simple request cannot carry, which makes a browser send a CORS preflight first (refused: the
API allows no other origin): ``Authorization`` (a bearer token), or ``GraphQL-Preflight`` /
``Apollo-Require-Preflight`` (Apollo Server's rule; any non-empty value).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Receive, Scope

from service.http_body import BadRequest, decode_json, graphql_request

MULTIPART = "multipart/form-data"
PREFLIGHT_HEADERS = ("graphql-preflight", "apollo-require-preflight")
MAX_FILES = 10
MAX_FIELDS = 10


def is_multipart(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == MULTIPART


def check_preflight(headers: Mapping[str, str]) -> None:
    """Refuse a multipart request a cross-origin page could send without a preflight."""
    if headers.get("authorization", "").strip():
        return
    if any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return
    raise BadRequest(
        "A multipart request needs a header that forces a CORS preflight: Authorization, or "
        "GraphQL-Preflight: 1 (cross-site request forgery protection).",
        code="PREFLIGHT_REQUIRED",
        header="GraphQL-Preflight",
    )


async def decode(
    scope: Scope, receive: Receive, max_json_depth: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The GraphQL request of a multipart body, its files in the variables; and the same with
    each file as its SHA-256, for the idempotency key's request hash."""
    request = Request(scope, receive)
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except (MultiPartException, HTTPException) as exc:
        detail = getattr(exc, "message", None) or getattr(exc, "detail", "")
        raise BadRequest(f"The multipart body cannot be read: {detail}.") from exc
    try:
        return await _request_of(form, max_json_depth)
    finally:
        await form.close()  # the parts spooled to temporary files


async def _request_of(form: Any, max_json_depth: int) -> tuple[dict[str, Any], dict[str, Any]]:
    operations, files_map = form.get("operations"), form.get("map")
    if not isinstance(operations, str) or not isinstance(files_map, str):
        raise BadRequest("A multipart request needs the fields `operations` and `map`.")
    decoded = decode_json(operations, max_json_depth, "`operations` field")
    if isinstance(decoded, list):
        raise BadRequest("Batched operations are not supported.", field="operations")
    payload = graphql_request(decoded)
    hashed = graphql_request(decode_json(operations, max_json_depth, "`operations` field"))
    mapping = decode_json(files_map, max_json_depth, "`map` field")
    if not isinstance(mapping, dict) or not all(
        isinstance(paths, list) and all(isinstance(p, str) for p in paths)
        for paths in mapping.values()
    ):
        raise BadRequest("`map` must be an object of lists of paths.", field="map")
    for name, paths in mapping.items():
        upload = form.get(name)
        if not isinstance(upload, UploadFile):
            raise BadRequest(f"The file part {name!r} of `map` is missing.", field="map")
        # The file's bytes are the Upload's value (bounded by the body's limit already).
        data = await upload.read()
        digest = hashlib.sha256(data).hexdigest()
        for path in paths:
            _put(payload, path, data)
            _put(hashed, path, {"sha256": digest})
    return payload, hashed


def _put(payload: dict[str, Any], path: str, value: Any) -> None:
    """Set ``variables.input.file`` (a dotted path, list indexes as numbers) to ``value``."""
    *parents, last = path.split(".")
    if not parents or parents[0] != "variables":
        raise BadRequest(f"A file goes into the variables, not {path!r}.", field="map")
    target: Any = payload
    try:
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        elif isinstance(target, dict) and last in target:
            target[last] = value
        else:
            raise KeyError(last)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise BadRequest(f"`map` names {path!r}, which the operations do not hold.") from exc
