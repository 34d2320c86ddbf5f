"""The hottest path, in front of everything else: a GraphQL request body seen before.

Most reads a frontend sends are the same few documents again and again, with the same
variables. The compiled path keeps, per principal, the statement and arguments of every body
up to 8 KiB it answered (`CompiledReads.respond_known`). This ASGI wrapper looks such a body up
before Starlette's middleware, routing and request objects run, and answers it with the one
statement: what it skips was a fifth of the CPU of a small read (docs/PERFORMANCE.md). Anything
else (another path or method, a body it does not know, a token it cannot take) goes to the
application unchanged, with the body it read handed on.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.compiled_view import BODY_CACHE_LIMIT
from service.logging import HEADER as REQUEST_ID_HEADER
from service.logging import VALID_REQUEST_ID, request_id_context

_JSON = b"application/json"


class FastPath:
    def __init__(self, app: ASGIApp, graphql: Any) -> None:
        self.app = app
        self.graphql = graphql

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # `state`, `router`, ...: the application's

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        settings = self.graphql.settings
        forced = settings.executor_header and headers.get(b"x-dxlink-executor") == b"resolvers"
        declared = headers.get(b"content-length", b"")
        if (
            not settings.compiled_reads
            or forced
            or _JSON not in headers.get(b"content-type", b"")
            or not declared.isdigit()
            or int(declared) > BODY_CACHE_LIMIT
            or sum(name == b"authorization" for name, _ in scope["headers"]) > 1
        ):
            await self.app(scope, receive, send)
            return
        body, complete = await _read(receive, int(declared))
        if complete:
            response = await self._known(scope, headers, body)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, _replay(body, complete, receive), send)

    async def _known(self, scope: Scope, headers: dict[bytes, bytes], body: bytes) -> Any:
        incoming = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        with request_id_context(request_id):
            authorization = headers.get(b"authorization")
            try:
                principal = await self.graphql.authenticator.principal(
                    [authorization.decode("latin-1")] if authorization else []
                )
            except Exception:
                return None  # the application refuses the token (401, or 503) in its words
            response = await self.graphql.compiled.respond_known(body, principal)
        if response is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response


async def _read(receive: Receive, declared: int) -> tuple[bytes, bool]:
    """The body, up to what was declared; whether it is all there (a client that sends more
    than it declared goes to the application, which reads the rest)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > declared:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A `receive` that hands on the body already read, then reads on if there is more."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        if complete:
            return {"type": "http.disconnect"}
        return await receive()

    return replayed
