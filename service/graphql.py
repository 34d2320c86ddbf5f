"""The strawberry schema and its HTTP view: bounded input, one document cache, error codes,
database outages as 503, and one transaction per request."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, VariableDefinitionNode
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from auth.authenticate import Authenticator
from auth.principal import PUBLIC, Principal
from auth.tokens import AuthenticationError, TokenVerifier
from resolvers import Mutation, Query, Subscription
from resolvers.context import Context, LiveContext
from schema.scalars import SCALAR_MAP
from service import idempotency, uploads
from service.availability import (
    RETRY_AFTER_SECONDS,
    DatabaseUnavailable,
    is_unavailable,
    unavailable_response,
)
from service.compiled_view import CompiledReads
from service.database import Database, RequestSession
from service.documents import Documents, coded
from service.errors import DxlinkError
from service.execution import DxlinkExecutionContext
from service.http_body import (
    BadRequest,
    bad_request_response,
    decode_json,
    error_response,
    graphql_request,
    loads,
    read_body,
    unauthenticated_response,
)
from service.ide.page import graphiql_page
from service.input_guard import RejectNulCharacters
from service.live import ChangeHub
from service.logging import current_request_id, request_id_context
from service.settings import Settings

logger = logging.getLogger("dxlink.graphql")
# Each subscription re-reads every change of its table: a connection holds a few at most.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
# What `GraphQLApp._respond` prepared for strawberry's part of the request (one task per
# request): the decoded body, the request's session when it opened it already (to claim an
# idempotency key), and the key it holds.
_decoded: ContextVar[dict[str, Any] | None] = ContextVar("dxlink_decoded_body", default=None)
_session: ContextVar[RequestSession | None] = ContextVar("dxlink_session", default=None)
_claim: ContextVar[idempotency.Claim | None] = ContextVar("dxlink_claim", default=None)
# The request is a mutation: its commit flushes the result cache (`_written`).
_writing: ContextVar[bool] = ContextVar("dxlink_writing", default=False)


def _is_unexpected(error: GraphQLError) -> bool:
    """Errors from resolvers that are not `DxlinkError` are bugs (or outages): mask them.

    So is an error graphql-core raises itself without a code (e.g. a null for a non-null
    field): every error a client sees carries `extensions.code`."""
    original = error.original_error
    if original is None:
        return not (error.extensions or {}).get("code") and not _variable_error(error)
    return not isinstance(original, DxlinkError | GraphQLError)


def _variable_error(error: GraphQLError) -> str | None:
    """The variable a coercion error of graphql-core is about, if it is one."""
    nodes = error.nodes or []
    if nodes and isinstance(nodes[0], VariableDefinitionNode):
        return nodes[0].variable.name.value
    return None


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal server error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out = []
        for error in super()._process_errors(errors):
            variable = _variable_error(error)
            if variable is not None and not (error.extensions or {}).get("code"):
                error = coded(error, "BAD_USER_INPUT", argument=variable)
            out.append(error)
        return out

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = current_request_id()
        extensions: dict[str, Any] = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        message = f"Internal server error (request id {request_id})."
        if is_unavailable(error.original_error):
            unavailable = DatabaseUnavailable()
            extensions = {**unavailable.extensions, "requestId": request_id}
            message = unavailable.message
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )


class PreparedDocuments(SchemaExtension):
    """Parsing and validation through the shared `Documents` cache (the HTTP view prepares
    each document off the event loop before strawberry runs; this finds it ready)."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query is not None:
            prepared = self.documents.prepare_now(context.query)
            if prepared.document is None:
                raise prepared.errors[0]  # strawberry reports a parse error as the only one
            context.graphql_document = prepared.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            prepared = self.documents.prepare_now(context.query)
            context.pre_execution_errors = list(prepared.errors)
            operation = prepared.operation(context.operation_name)
            if (
                prepared.ok
                and isinstance(context.context, LiveContext)
                and (operation is None or operation.operation is not OperationType.SUBSCRIPTION)
            ):
                # A websocket carries subscriptions only: queries and mutations go over HTTP,
                # where a request's transaction, idempotency and limits are settled.
                context.pre_execution_errors = [
                    GraphQLError(
                        "Only subscriptions are served over WebSocket; send queries and "
                        "mutations over HTTP.",
                        extensions={"code": "BAD_REQUEST"},
                    )
                ]
        yield


class DxlinkSchema(strawberry.Schema):
    documents: Documents

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors a client caused are its answer, not our problem; log only the bugs, in full.
        for error in errors:
            if not _is_unexpected(error):
                continue
            path = ".".join(map(str, error.path or []))
            if is_unavailable(error.original_error):
                logger.warning("database unavailable at %s: %s", path, error.original_error)
            else:
                logger.error("unexpected error at %s", path, exc_info=error.original_error)


def build_schema(settings: Settings) -> DxlinkSchema:
    holder: dict[str, Documents] = {}
    schema = DxlinkSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Float written as PostgreSQL writes it, so that both executors agree (schema/scalars.py).
        execution_context_class=DxlinkExecutionContext,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        # Factories: strawberry builds fresh extensions per request; the document cache is
        # the schema's, shared by all requests and by the compiled path.
        extensions=[
            lambda: PreparedDocuments(holder["documents"]),
            RejectNulCharacters,
            MaskUnexpectedErrors,
        ],
    )
    schema.documents = holder["documents"] = Documents(schema._schema, settings)
    return schema


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI view, with the checks that come before it: authentication, bounded
    bodies and JSON, the document prepared off the event loop; then the compiled path or
    strawberry; and the request's session ended in exactly one place."""

    schema: DxlinkSchema

    def __init__(
        self,
        schema: DxlinkSchema,
        settings: Settings,
        database: Database | None,
        verifier: TokenVerifier,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            # The legacy graphql-ws protocol is not offered: subscriptions only after an
            # acknowledged connection_init, which carries the token.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self.settings = settings
        self.verifier = verifier
        self.database = database  # type: ignore[assignment]
        self._authenticator: Authenticator | None = None
        self._compiled: CompiledReads | None = None
        self.hub: ChangeHub | None = None  # the app's lifespan makes it

    async def render_graphql_ide(self, request: Request) -> Response:
        # strawberry's page loads GraphiQL from a CDN; serve it with the platform's own copies.
        return graphiql_page(request, self.graphql_ide_html)

    @property
    def authenticator(self) -> Authenticator:
        if self._authenticator is None:
            self._authenticator = Authenticator(self.verifier, self.database.sessionmaker)
        return self._authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        _decoded.set(None)
        _session.set(None)
        _claim.set(None)
        _writing.set(False)
        try:
            response, receive = await self._respond(scope, receive)
        except BadRequest as exc:
            response = bad_request_response(exc)
        if response is None:
            request = Request(scope, receive)
            try:
                response = await self.run(request)
            except HTTPException as exc:
                allow = {"Allow": "GET, POST"} if exc.status_code == 405 else None
                code = _HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
                response = error_response(
                    exc.reason, status=exc.status_code, code=code, headers=allow
                )
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive) -> tuple[Response | None, Receive]:
        """A response decided before strawberry runs (refusals, the compiled path), or None
        and the `receive` strawberry reads the request from."""
        request = Request(scope, receive)
        try:
            principal = await self.authenticator.principal(request.headers.getlist("authorization"))
        except AuthenticationError as exc:
            return unauthenticated_response(exc.reason), receive
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("database unavailable for the token's scope: %s", exc)
            return unavailable_response(), receive
        scope.setdefault("state", {})["principal"] = principal
        settings = self.settings
        body = b""
        multipart = False
        hashed: dict[str, Any] | None = None
        if request.method == "GET":
            params = request.query_params
            if params.get("variables"):
                decode_json(params["variables"], settings.max_json_depth, "variables parameter")
            payload: dict[str, Any] = {
                "query": params.get("query"),
                "operationName": params.get("operationName"),
            }
        elif request.method == "POST" and uploads.is_multipart(
            request.headers.get("content-type", "")
        ):
            # A file upload (service/uploads.py): refused without a preflight-forcing header,
            # before its body is read; bounded by its own limit.
            uploads.check_preflight(request.headers)
            body = await read_body(request, settings.max_upload_bytes, "maxUploadBytes")
            receive = _replay(body)
            payload, hashed = await uploads.decode(scope, _replay(body), settings.max_json_depth)
            _decoded.set(payload)
            multipart = True
        elif request.method == "POST":
            body = await read_body(request, settings.max_body_bytes)
            receive = _replay(body)
            # The media type itself, as strawberry reads it: "text/plain; x=application/json"
            # is a simple request a page of another origin sends without a CORS preflight.
            media_type, _ = parse_content_type(request.headers.get("content-type", ""))
            if "application/json" not in media_type.lower():
                return None, receive  # strawberry words the unsupported content type
            if self._compiled_allowed(request):
                known = await self.compiled.respond_known(body, principal)
                if known is not None:
                    return known, receive
            payload = graphql_request(decode_json(body, settings.max_json_depth))
            # Decoded once: strawberry takes it from here (`parse_http_body`).
            _decoded.set(payload)
        else:
            return None, receive  # strawberry answers 405
        query = payload.get("query")
        if not isinstance(query, str):
            return None, receive  # strawberry answers GraphiQL, or 400 for a missing query
        prepared = await self.schema.documents.prepare(query)
        if not prepared.ok:
            return None, receive  # strawberry reports the errors, from the same cache
        operation_name = payload.get("operationName")
        operation = prepared.operation(operation_name)
        if operation is None:
            raise BadRequest(
                "The document holds several operations: name one with `operationName`."
                if operation_name is None
                else f"The document has no operation named {operation_name!r}.",
                field="operationName",
            )
        _writing.set(operation.operation is OperationType.MUTATION)
        if operation.operation is OperationType.SUBSCRIPTION:
            raise BadRequest(
                "Subscriptions are served over WebSocket (graphql-transport-ws) at this path."
            )
        reading = operation.operation is OperationType.QUERY
        compiled = request.method == "POST" and not multipart and self._compiled_allowed(request)
        if reading and compiled:
            return await self.compiled.respond(body, payload, prepared, principal), receive
        key = request.headers.get(idempotency.HEADER)
        writing = operation.operation is OperationType.MUTATION and request.method == "POST"
        if key is not None and writing and principal.subject is not None:
            # An upload is the same request again when its files' bytes are (`hashed`).
            same = payload if hashed is None else hashed
            return await self._claim(idempotency.checked_key(key), same, principal), receive
        return None, receive

    async def _claim(
        self, key: str, payload: dict[str, Any], principal: Principal
    ) -> Response | None:
        """Hold the idempotency key in the request's transaction, or answer with the stored
        answer of the request that held it first."""
        db = RequestSession(self.database.sessionmaker, principal, current_request_id())
        _session.set(db)
        try:
            outcome = await idempotency.claim(db, key, idempotency.request_hash(payload))
        except BaseException:
            await db.finish(commit=False)
            raise
        if isinstance(outcome, idempotency.Replay):
            await db.finish(commit=False)
            return Response(
                outcome.body,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        _claim.set(outcome)
        return None

    def _compiled_allowed(self, request: Request) -> bool:
        if not self.settings.compiled_reads:
            return False
        forced = request.headers.get("x-dxlink-executor")
        return not (self.settings.executor_header and forced == "resolvers")

    @property
    def compiled(self) -> CompiledReads:
        if self._compiled is None:
            self._compiled = CompiledReads(self.schema, self.settings, self.database, self.changes)
        return self._compiled

    @property
    def changes(self) -> ChangeHub:
        """The process's listener (the app's lifespan makes it; made here without one)."""
        if self.hub is None:
            self.hub = ChangeHub(self.database.listen_url, self.settings)
        return self.hub

    async def parse_http_body(self, request: Any) -> Any:
        payload = _decoded.get()
        if payload is None or self._get_stream_transport_from_headers(request.headers):
            return await super().parse_http_body(request)
        return GraphQLRequestData(
            query=payload.get("query"),
            variables=payload.get("variables"),
            operation_name=payload.get("operationName"),
            extensions=payload.get("extensions"),
        )

    def decode_json(self, data: str | bytes) -> object:
        return loads(data)  # bounded already (`_respond`)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        if isinstance(request, WebSocket):
            # One for the connection; `on_ws_connect` sets its principal.
            return LiveContext(
                request, self.settings, self.database.sessionmaker, self.changes, uuid.uuid4().hex
            )
        principal = getattr(request.state, "principal", PUBLIC)
        db = _session.get() or RequestSession(
            self.database.sessionmaker, principal, current_request_id()
        )
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            principal=principal,
            db=db,
            request_id=current_request_id(),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws's connection_init: its payload's ``Authorization: Bearer
        <token>`` decides the connection's principal, as the header does for HTTP (none: the
        public). A refused token closes the connection with 4403."""
        assert isinstance(context, LiveContext)
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        with request_id_context(context.request_id):
            if authorization is not None and not isinstance(authorization, str):
                logger.info("websocket refused: Authorization is not a string")
                raise ConnectionRejectionError()
            try:
                principal, expires_at = await self.authenticator.authenticate(authorization)
            except AuthenticationError as exc:
                logger.info("websocket refused: %s", exc.reason)
                raise ConnectionRejectionError() from exc
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                logger.warning("database unavailable for the token's scope: %s", exc)
                raise ConnectionRejectionError() from exc
        context.principal, context.expires_at = principal, expires_at
        return UNSET

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        context: Context = kwargs["context"]
        try:
            result = await super().execute_operation(*args, **kwargs)
        except asyncio.CancelledError:
            await context.db.finish(commit=False)
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the request itself is being cancelled (the client went away)
            # A cancellation from inside the operation is a bug, not the client's doing.
            logger.exception("a resolver was cancelled")
            result = _masked_result("Internal server error")
        except BaseException:
            await context.db.finish(commit=False)
            raise
        else:
            # Any error rolls the whole request back: a mutation never half-writes.
            commit = not getattr(result, "errors", None)
            held = _claim.get()
            if held is not None and commit:
                # The answer a retry with the same key will get, committed with the writes.
                try:
                    answer = await self.process_result(kwargs["request"], result)
                    await idempotency.keep(context.db, held, self.encode_json(answer))
                except Exception:
                    logger.exception("could not keep the idempotent answer")
                    commit = False
                    result = _masked_result("The change could not be saved; nothing was written")
            try:
                await context.db.finish(commit=commit)
            except Exception as exc:
                self._written(commit)
                if is_unavailable(exc):
                    result = ExecutionResult(data=None, errors=[_unavailable_error()])
                else:
                    # The commit itself failed (e.g. a serialization failure): nothing was
                    # written.
                    logger.exception("commit failed")
                    result = _masked_result("The change could not be saved; nothing was written")
            else:
                self._written(commit)
        if any(_code(e) == "SERVICE_UNAVAILABLE" for e in getattr(result, "errors", None) or []):
            response = kwargs["sub_response"]
            response.status_code = 503
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return result

    def _written(self, committed: bool) -> None:
        """A mutation's transaction ended (or may have: its commit failed): flush the result
        cache before the response is sent, so that the writer's next read on this process
        sees its change. Other processes hear of it by NOTIFY (service/result_cache.py)."""
        if committed and _writing.get() and self._compiled is not None:
            self._compiled.cache.flush()


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def _code(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def _masked_result(what: str) -> ExecutionResult:
    request_id = current_request_id()
    return ExecutionResult(
        data=None,
        errors=[
            GraphQLError(
                f"{what} (request id {request_id}).",
                extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            )
        ],
    )


def _unavailable_error() -> GraphQLError:
    unavailable = DatabaseUnavailable()
    return GraphQLError(
        unavailable.message,
        extensions={**unavailable.extensions, "requestId": current_request_id()},
    )


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
