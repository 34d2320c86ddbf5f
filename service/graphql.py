"""The strawberry schema and its HTTP view: limits, caches, error masking, one transaction."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext, ExecutionResult

from auth.authenticate import Authenticator
from auth.principal import PUBLIC
from auth.tokens import AuthenticationError, TokenVerifier
from resolvers import Query
from resolvers.context import Context
from service.compiled_view import CompiledReads
from service.database import Database, RequestSession
from service.errors import DxlinkError
from service.ide.page import graphiql_page
from service.input_guard import RejectNulCharacters
from service.limits import max_list_nesting
from service.logging import current_request_id
from service.settings import Settings

logger = logging.getLogger("dxlink.graphql")


def _is_unexpected(error: GraphQLError) -> bool:
    """Errors from resolvers that are not `DxlinkError` are bugs: mask them."""
    original = error.original_error
    return original is not None and not isinstance(original, DxlinkError | GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal server error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = current_request_id()
        return GraphQLError(
            message=f"Internal server error (request id {request_id}).",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


class DxlinkSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors a client caused are its answer, not our problem; log only the bugs, in full.
        for error in errors:
            if _is_unexpected(error):
                logger.error(
                    "unexpected error at %s",
                    ".".join(map(str, error.path or [])),
                    exc_info=error.original_error,
                )


def build_schema(settings: Settings) -> strawberry.Schema:
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        max_list_nesting(settings.max_list_nesting),
    ]
    schema = DxlinkSchema(
        query=Query,
        # Factories: strawberry builds fresh extensions per request; the parser and validation
        # caches live at module level, shared by all requests.
        # The limits' validation rules are made once: the validation cache is keyed by the rule
        # classes, and limiter extensions built per request would make new ones every time.
        extensions=[
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
            lambda: AddValidationRules(limits),
            RejectNulCharacters,
            MaskUnexpectedErrors,
        ],
    )
    # The compiled path validates with the same rules (service/compiled_view.py).
    schema.validation_rules = tuple(limits)  # type: ignore[attr-defined]
    return schema


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI view: authentication first, and the request's session ended in
    exactly one place."""

    def __init__(
        self,
        schema: strawberry.Schema,
        settings: Settings,
        database: Database | None,
        verifier: TokenVerifier,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings
        self.verifier = verifier
        self.database = database  # type: ignore[assignment]
        self._authenticator: Authenticator | None = None
        self._compiled: CompiledReads | None = None

    async def render_graphql_ide(self, request: Request) -> Response:
        # strawberry's page loads GraphiQL from a CDN; serve it with the platform's own copies.
        return graphiql_page(request, self.graphql_ide_html)

    @property
    def authenticator(self) -> Authenticator:
        if self._authenticator is None:
            self._authenticator = Authenticator(self.verifier, self.database.sessionmaker)
        return self._authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            try:
                principal = await self.authenticator.principal(request.headers.get("authorization"))
            except AuthenticationError as exc:
                await _unauthenticated(exc.reason)(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
            if (
                request.method == "POST"
                and "application/json" in request.headers.get("content-type", "")
                and self._compiled_allowed(request)
            ):
                body = await request.body()
                response = await self.compiled.respond(body, principal)
                if response is not None:
                    await response(scope, receive, send)
                    return
                receive = _replay(body)
        await super().__call__(scope, receive, send)

    def _compiled_allowed(self, request: Request) -> bool:
        if not self.settings.compiled_reads:
            return False
        forced = request.headers.get("x-dxlink-executor")
        return not (self.settings.executor_header and forced == "resolvers")

    @property
    def compiled(self) -> CompiledReads:
        if self._compiled is None:
            self._compiled = CompiledReads(self.schema, self.settings, self.database)
        return self._compiled

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        principal = getattr(request.state, "principal", PUBLIC)
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            principal=principal,
            db=RequestSession(self.database.sessionmaker, principal, current_request_id()),
            request_id=current_request_id(),
        )

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        context: Context = kwargs["context"]
        try:
            result = await super().execute_operation(*args, **kwargs)
        except BaseException:
            await context.db.finish(commit=False)
            raise
        # Any error rolls the whole request back: a mutation never half-writes.
        commit = not getattr(result, "errors", None)
        try:
            await context.db.finish(commit=commit)
        except Exception:
            # The commit itself failed (e.g. a serialization failure): nothing was written.
            logger.exception("commit failed")
            request_id = current_request_id()
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"The change could not be saved; nothing was written "
                        f"(request id {request_id}).",
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                    )
                ],
            )
        return result

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _replay(body: bytes) -> Receive:
    """A `receive` that hands the already-read request body to the resolver path."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _unauthenticated(reason: str) -> JSONResponse:
    """401 with a GraphQL-shaped body, so clients handle it like any other error."""
    error = {
        "message": f"Unauthenticated: {reason}",
        "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
    }
    return JSONResponse(
        {"data": None, "errors": [error]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
