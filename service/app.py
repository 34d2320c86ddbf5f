"""The ASGI application: GraphQL at /graphql (GraphiQL's files below /graphql/ide/), health at
/healthz and /readyz, and the catalog for tools that do not speak GraphQL: DCAT-AP JSON-LD
(/catalog.jsonld, /datasets/{id}.jsonld) and a read-only CKAN Action API (/api/3/action/...)."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from auth.tokens import TokenVerifier
from service import migrate
from service.database import Database
from service.fast_path import FastPath
from service.graphql import GraphQLApp, build_schema
from service.http_body import error_response
from service.ide.page import asset_route
from service.live import ChangeHub
from service.logging import RequestIdMiddleware
from service.open_data.ckan import CkanApi
from service.open_data.interchange_http import Reader
from service.open_data.jsonld import JsonLdEndpoints
from service.settings import Settings, get_settings
from service.working_groups.webhooks import WebhookSender

logger = logging.getLogger("dxlink")


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    database: Database | None = None,
    verifier: TokenVerifier | None = None,
) -> Starlette:
    """The app on ``database`` (tests) or on an engine for ``database_url`` made at startup."""
    settings = settings or get_settings()
    if database is None and database_url is None:
        raise ValueError("create_app needs a database or a database_url")
    state: dict[str, Database] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = database is None
        db = database or Database.from_settings(database_url or "", settings)
        state["db"] = db
        graphql_app.database = db
        # The documents' worker thread parses and compiles new operations while the event loop
        # serves requests; at CPython's default switch interval (5 ms) the loop waits up to
        # 5 ms for the GIL at every wake-up. 1 ms took a trivial query's p99 from 228 ms to
        # 24 ms while distinct large documents kept arriving (docs/PERFORMANCE.md).
        sys.setswitchinterval(0.001)
        # The schema, the declarations, SQLAlchemy's and graphql-core's structures: about 140,000
        # objects that live as long as the process. Left to the collector, every full
        # collection walks them all (60 ms on the benchmark machine), stalling every request
        # in flight; frozen, collections walk only what requests made (docs/PERFORMANCE.md).
        gc.collect()
        gc.freeze()
        graphql_app.hub = ChangeHub(db.listen_url, settings)
        # The chat webhooks' sender runs on the owner's login (DATABASE_URL), which the app has
        # only when it made its own database; a test's database never commits.
        sender = WebhookSender(database_url, settings) if owned and database_url else None
        if sender is not None and settings.webhooks:
            sender.start()
        try:
            yield
        finally:
            # Subscriptions end and the listener's connection closes before the pools do.
            if sender is not None:
                await sender.close()
            await graphql_app.hub.close()
            graphql_app.schema.documents.close()
            if owned:
                await db.dispose()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database answers and its schema is at the migrations' head."""
        db = state["db"]
        try:
            async with db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            current = await migrate.current_revision(db.engine)
        except Exception as exc:  # the probe reports any failure as not ready
            logger.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        head = migrate.head_revision()
        if current != head:
            return JSONResponse(
                {"status": "unavailable", "database": "ok", "migration": current, "head": head},
                503,
            )
        return JSONResponse({"status": "ok", "database": "ok", "migration": current})

    async def root(request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    async def server_error(request: Request, exc: Exception) -> Response:
        """Whatever escaped everything else: still a GraphQL-shaped JSON body, with the
        request id of the log line (Starlette logs the exception itself)."""
        request_id = request.scope.get("state", {}).get("request_id", "-")
        return error_response(
            f"Internal server error (request id {request_id}).",
            status=500,
            code="INTERNAL_SERVER_ERROR",
            requestId=request_id,
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(f"No such path: {request.url.path}", status=404, code="NOT_FOUND")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        allow = getattr(exc, "headers", None) or {}
        return error_response(
            f"{request.method} is not allowed at {request.url.path}.",
            status=405,
            code="METHOD_NOT_ALLOWED",
            headers={"Allow": allow["Allow"]} if "Allow" in allow else None,
        )

    verifier = verifier or TokenVerifier(settings)
    graphql_app = GraphQLApp(build_schema(settings), settings, database, verifier)
    if database is not None:
        state["db"] = database
    # The interchange reads as /graphql does: its authenticator, a session per request.
    reader = Reader(lambda: state["db"], lambda: graphql_app.authenticator)
    jsonld = JsonLdEndpoints(reader)
    ckan = CkanApi(reader, settings)
    app = Starlette(
        routes=[
            Route("/", root),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            # Every method reaches the view, which refuses the others with a JSON 405.
            Route("/graphql", graphql_app),
            # Subscriptions (graphql-transport-ws; ARCHITECTURE.md, "Live changes").
            WebSocketRoute("/graphql", graphql_app),
            Route("/catalog.jsonld", jsonld.catalog, methods=["GET"]),
            Route("/datasets/{id}.jsonld", jsonld.dataset, methods=["GET"]),
            # CKAN serves its Action API at both paths (ckanapi calls the unversioned one).
            Route("/api/3/action/{action}", ckan.action, methods=["GET", "POST"]),
            Route("/api/action/{action}", ckan.action, methods=["GET", "POST"]),
            *([asset_route()] if settings.graphiql else []),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: server_error, 404: not_found, 405: method_not_allowed},
    )
    app.state.graphql = graphql_app
    app.add_middleware(RequestIdMiddleware)
    return FastPath(app, graphql_app)  # type: ignore[return-value]
