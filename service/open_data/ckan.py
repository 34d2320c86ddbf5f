"""A read-only CKAN Action API (CKAN 2.10's envelope) over the catalog, for CKAN tools.

``/api/3/action/<name>`` (and ``/api/action/<name>``, which ckanapi calls) answers
``package_search``, ``package_show``, ``package_list``, ``organization_list``,
``organization_show`` and ``help_show``, by GET (query parameters) or POST (a JSON object, or
a form). The answer is ``{"help": <url>, "success": true, "result": ...}``; a refusal is
``success: false`` with ``error.__type`` as CKAN words it: ``Not Found Error`` (404),
``Validation Error`` (409, with the parameter's reasons as CKAN lists them and a ``message``),
``Authorization Error`` (401 here: a refused bearer token, checked as /graphql checks it). An
action CKAN has and this API does not (every write) is CKAN's 400 ``Action name not known``.

The mapping: a package is a dataset (``name`` its identifier, ``id`` its GraphQL global id),
an organization a publishing municipality or the prefecture (``name`` its 6-digit
全国地方公共団体コード, ``title`` its Japanese name, ``id`` its global id). A joint dataset's
``organization`` is its lead publisher; ``extras`` name all of them (``publishers``), its themes
(``theme``, EU data-theme IRIs), its spatial coverage (``spatial_code``, ``spatial_text``; not
``spatial``, which ckanext-spatial reads as GeoJSON) and its standard dataset (``conforms_to``).
Datasets the caller reads that are not published come out ``private: true``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from auth.principal import Principal
from schema.node import decode_global_id
from service.availability import RETRY_AFTER_SECONDS, DatabaseUnavailable
from service.database import RequestSession
from service.errors import InvalidArgument
from service.http_body import BadRequest, bad_request_response, decode_json, read_body
from service.open_data import ckan_query
from service.open_data import interchange_reads as reads
from service.open_data.ckan_dicts import organization_dict, package_dict
from service.open_data.ckan_query import ValidationError
from service.open_data.interchange_http import Reader, Refusals, base_url, storable
from service.open_data.interchange_reads import Agent
from service.settings import Settings

MAX_ROWS = 1000  # CKAN's ckan.search.rows_max: more is cut to it, as CKAN does
DEFAULT_ROWS = 10
MAX_FACET_LIMIT = 50
ORGANIZATION_DATASETS = 1000  # organization_show's include_datasets, as many as package_search

Params = dict[str, Any]


class NotFound(Exception):
    pass


# --- parameters ------------------------------------------------------------------------------


def _text(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(name, "must be a string")


def _check_storable(value: Any, name: str) -> None:
    """Refuse text PostgreSQL cannot hold anywhere in a parameter's value."""
    if isinstance(value, str) and not storable(value):
        raise ValidationError(name, "must not hold NUL characters or lone surrogates")
    if isinstance(value, list):
        for item in value:
            _check_storable(item, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, name)
            _check_storable(item, name)


def _integer(params: Params, name: str, default: int, maximum: int | None = None) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(name, "Invalid integer")
    if value < 0:
        raise ValidationError(name, "Must be a natural number")
    if value > 2**31 - 1:
        raise ValidationError(name, "Invalid integer")
    return value if maximum is None else min(value, maximum)


def _boolean(params: Params, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    raise ValidationError(name, "Invalid boolean")


def _required(params: Params, name: str) -> str:
    value = _text(params, name)
    if value is None or not value.strip():
        raise ValidationError(name, "Missing value")
    return value.strip()


# --- actions ---------------------------------------------------------------------------------

Action = Callable[[RequestSession, Params], Awaitable[Any]]


async def package_search(db: RequestSession, params: Params) -> Any:
    """Search the catalog: ``q`` (the catalog's Japanese-aware search), ``fq``
    (organization:, tags:, res_format:, license_id: terms joined by spaces or AND), ``rows``
    (default 10, at most 1000), ``start``, ``sort`` (score, metadata_modified,
    metadata_created, title_string, name; asc or desc), ``facet.field`` (organization, tags,
    res_format, license_id) and ``facet.limit`` (at most 50)."""
    query = ckan_query.build(_text(params, "q"), _text(params, "fq"))
    sort = _text(params, "sort") or ckan_query.DEFAULT_SORT
    order_by = ckan_query.order_by(sort, query.text)
    rows = _integer(params, "rows", DEFAULT_ROWS, MAX_ROWS)
    start = _integer(params, "start", 0)
    fields = ckan_query.facet_fields(params.get("facet.field"))
    # CKAN's -1 (no limit) is the most this API counts.
    if params.get("facet.limit") in (-1, "-1"):
        params = {**params, "facet.limit": MAX_FACET_LIMIT}
    facet_limit = _integer(params, "facet.limit", MAX_FACET_LIMIT, MAX_FACET_LIMIT)
    records = []
    if rows:
        records = await reads.page(
            db, where=query.where, order_by=order_by, limit=rows, offset=start
        )
    count = await reads.count(db, query.where)
    conditions = [*query.where, *reads.visible_conditions(db)]
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for name in fields:
        counted = await db.all(ckan_query.facet(name, conditions, facet_limit))
        facets[name] = {row.value: int(row.count) for row in counted}
        search_facets[name] = {
            "title": name,
            "items": [
                {"name": row.value, "display_name": row.label or row.value, "count": row.count}
                for row in counted
            ],
        }
    return {
        "count": count,
        "sort": sort,
        "facets": facets,
        "search_facets": search_facets,
        "results": [package_dict(record) for record in records],
    }


async def package_show(db: RequestSession, params: Params) -> Any:
    """One dataset: ``id`` is its name (identifier) or its id (GraphQL global id)."""
    record = await reads.one(db, _required(params, "id"))
    if record is None:
        raise NotFound()
    return package_dict(record)


async def package_list(db: RequestSession, params: Params) -> Any:
    """The names of the datasets the caller reads, in order; ``limit`` and ``offset``."""
    limit = params.get("limit")
    return await reads.names(
        db,
        limit=None if limit in (None, "") else _integer(params, "limit", 0),
        offset=_integer(params, "offset", 0),
    )


_ORGANIZATION_SORTS = ("name", "title", "package_count")


async def organization_list(db: RequestSession, params: Params) -> Any:
    """The publishers (the prefecture and its municipalities): names, or with
    ``all_fields=true`` dictionaries with ``package_count``; ``sort`` (name, title or
    package_count, asc or desc; default title asc), ``limit``, ``offset``."""
    sort = (_text(params, "sort") or "title asc").split()
    if (
        not sort
        or len(sort) > 2
        or sort[0] not in _ORGANIZATION_SORTS
        or (len(sort) == 2 and sort[1].lower() not in ("asc", "desc"))
    ):
        raise ValidationError("sort", "use name, title or package_count, then asc or desc")
    all_fields = _boolean(params, "all_fields", False)
    agents = list((await reads.agents(db)).values())
    counts = await reads.package_counts(db)
    key: Callable[[Agent], Any] = {
        "name": lambda a: a.code,
        "title": lambda a: (a.name, a.code),
        "package_count": lambda a: (counts.get(a.code, 0), a.code),
    }[sort[0]]
    agents.sort(key=key, reverse=len(sort) == 2 and sort[1].lower() == "desc")
    offset = _integer(params, "offset", 0)
    limit = params.get("limit")
    end = None if limit in (None, "") else offset + _integer(params, "limit", 0)
    agents = agents[offset:end]
    if not all_fields:
        return [a.code for a in agents]
    return [organization_dict(a, counts.get(a.code, 0), full=True) for a in agents]


async def organization_show(db: RequestSession, params: Params) -> Any:
    """One publisher by ``id`` (its code or its id), with ``package_count``; its datasets too
    (at most 1000) with ``include_datasets=true``."""
    key = _required(params, "id")
    code = key
    try:
        spec, value = decode_global_id(key)
    except InvalidArgument:
        pass
    else:
        if spec.name in ("Municipality", "Prefecture"):
            code = str(value)
    agent = (await reads.agents(db, {code})).get(code)
    if agent is None:
        raise NotFound()
    counts = await reads.package_counts(db)
    out = organization_dict(agent, counts.get(agent.code, 0), full=True)
    if _boolean(params, "include_datasets", False):
        query = ckan_query.build(None, f"organization:{agent.code}")
        records = await reads.page(
            db,
            where=query.where,
            order_by=ckan_query.order_by("name asc", None),
            limit=ORGANIZATION_DATASETS,
        )
        out["packages"] = [package_dict(record) for record in records]
    return out


async def help_show(db: RequestSession, params: Params) -> Any:
    """The documentation of an action (``name``)."""
    name = _required(params, "name")
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound()
    return action.__doc__


ACTIONS: dict[str, Action] = {
    action.__name__: action
    for action in (
        package_search,
        package_show,
        package_list,
        organization_list,
        organization_show,
        help_show,
    )
}


# --- the endpoint ----------------------------------------------------------------------------


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json;charset=utf-8",
        headers=headers,
    )


def _bad_request(message: str) -> Response:
    """CKAN's 400: the body is a JSON string, not an envelope."""
    return _json(f"Bad request - {message}", 400)


def _mixed(pairs: list[tuple[str, str]]) -> Params:
    """Parameters as CKAN reads a query string: one value as a string, several as a list."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in out.items()}


class CkanApi:
    def __init__(self, reader: Reader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings

    async def _params(self, request: Request) -> Params:
        """The action's parameters: the query string of a GET, the JSON object or form of a
        POST (a repeated query parameter is a list, as CKAN reads it)."""
        if request.method == "GET":
            return _mixed(request.query_params.multi_items())
        body = await read_body(request, self.settings.max_body_bytes)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            try:
                pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=100)
            except (UnicodeDecodeError, ValueError) as exc:
                raise BadRequest(f"unreadable form: {exc}") from exc
            return _mixed(pairs)
        if not body.strip():
            return {}
        decoded = decode_json(body, self.settings.max_json_depth)
        if not isinstance(decoded, dict):
            raise BadRequest("Request data JSON decoded to a non-object; it needs to be a dict")
        return decoded

    async def action(self, request: Request) -> Response:
        name = request.path_params["action"]
        action = ACTIONS.get(name)
        if action is None:
            return _bad_request(f"Action name not known: {name}")
        base = base_url(request)
        help_url = f"{base}/api/3/action/help_show?name={name}"
        try:
            params = await self._params(request)
        except BadRequest as exc:
            if exc.status != 400:
                return bad_request_response(exc)  # a body over the size limit: 413
            return _bad_request(f"JSON Error: {exc.message}")

        def failure(status: int, error: dict[str, Any], **headers: str) -> Response:
            body = {"help": help_url, "success": False, "error": error}
            return _json(body, status, headers or None)

        def unauthenticated(reason: str) -> Response:
            error = {"__type": "Authorization Error", "message": f"Unauthenticated: {reason}"}
            return failure(401, error, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})

        def unavailable() -> Response:
            error = {"__type": "Service Unavailable", "message": DatabaseUnavailable().message}
            return failure(503, error, **{"Retry-After": str(RETRY_AFTER_SECONDS)})

        async def work(db: RequestSession, principal: Principal) -> Response:
            try:
                for parameter, value in params.items():
                    _check_storable(value, parameter)
                result = await action(db, params)
            except NotFound:
                return failure(404, {"__type": "Not Found Error", "message": "Not found"})
            except ValidationError as exc:
                error = {
                    "__type": "Validation Error",
                    "message": f"{exc.parameter}: {exc.reason}",
                    exc.parameter: [exc.reason],
                }
                return failure(409, error)
            return _json({"help": help_url, "success": True, "result": result})

        return await self.reader.run(request, Refusals(unauthenticated, unavailable), work)
