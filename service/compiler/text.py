"""JSON text in SQL: values written exactly as the resolver path's serialisation writes them."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull, get_named_type
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Text,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, aggregate_order_by

from service.compiler.binding import NotCompilable
from service.pagination import Ordering


def text(value: str) -> ColumnElement[str]:
    return literal(value, Text)


_MAX_ARGUMENTS = 100  # PostgreSQL's FUNC_MAX_ARGS


def concat(*parts: ColumnElement[Any] | str) -> ColumnElement[str]:
    """The parts (none of them NULL) as one text, joined with `||`.

    `concat(...)` in one call measured no faster (slower at small pages, docs/PERFORMANCE.md
    "Tried and dropped"). Adjacent literal parts are joined here, so that a run of punctuation
    and keys is one bind parameter."""
    items: list[ColumnElement[Any]] = []
    pending = ""
    for part in parts:
        if isinstance(part, str):
            pending += part
            continue
        if pending:
            items.append(text(pending))
            pending = ""
        items.append(part)
    if pending:
        items.append(text(pending))
    out = items[0]
    for item in items[1:]:
        out = out.op("||")(item)
    return out


def json(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """A value as JSON text; SQL NULL as `null`."""
    return func.coalesce(cast(func.to_json(expr), Text), text("null"))


def json_string(expr: ColumnElement[Any]) -> ColumnElement[str]:
    return json(cast(expr, Text))


def base64url(expr: ColumnElement[str]) -> ColumnElement[str]:
    """base64url without padding, as Python's `urlsafe_b64encode(...).rstrip("=")`."""
    encoded = func.encode(func.convert_to(expr, "UTF8"), "base64")
    return func.rtrim(func.translate(encoded, "+/\n", "-_"), "=")


def datetime_(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """timestamptz as Python's `isoformat()` of a UTC datetime (microseconds only if any)."""
    utc = func.timezone("UTC", expr)
    fraction = case(
        (func.extract("microseconds", utc) % 1_000_000 != 0, concat(".", func.to_char(utc, "US"))),
        else_=text(""),
    )
    body = concat(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS'), fraction, "+00:00")
    return case((expr.is_(None), text("null")), else_=concat('"', body, '"'))


def scalar(expr: ColumnElement[Any], graphql_type: Any) -> ColumnElement[str]:
    """A scalar or enum field's value (or a list of them) as JSON text."""
    inner = graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
    named = get_named_type(graphql_type)
    if isinstance(inner, GraphQLList):
        if isinstance(named, GraphQLEnumType) or named.name in ("String", "ID", "Boolean", "Int"):
            return json(expr)  # to_json of an array writes these as the resolvers do
        raise NotCompilable(f"list of {named.name}")
    if isinstance(named, GraphQLEnumType):
        return json_string(expr)  # enums are stored by member name, as GraphQL spells them
    match named.name:
        case "String" | "ID" | "Boolean":
            return json(expr)
        case "Int":
            if isinstance(expr.type, BigInteger):
                # GraphQL's Int is 32-bit: such a column is declared BigInt.
                raise NotCompilable("Int from a 64-bit column")
            return json(expr)
        case "BigInt":
            return json(expr)
        case "Float":
            # float8 as PostgreSQL writes it; schema/scalars.py writes floats the same way.
            return json(cast(expr, DOUBLE_PRECISION))
        case "Date":
            # to_json writes dates in ISO 8601 whatever the session's DateStyle: what
            # date.isoformat() gives.
            return json(expr)
        case "DateTime":
            return datetime_(expr)
        case "JSON":
            # JSON columns are read as their text on both paths (schema/scalars.py).
            return func.coalesce(cast(expr, Text), text("null"))
    raise NotCompilable(f"scalar {named.name}")


def json_array(
    item: ColumnElement[str],
    position: ColumnElement[Any] | tuple[ColumnElement[Any], ...] | None,
    source: Any,
    *where: ColumnElement[bool],
) -> ColumnElement[str]:
    """`[item,item,...]` over the rows of ``source``, in ``position`` order (one expression or
    a tuple of them); `[]` when none.

    Without a position, in the order ``source`` delivers its rows: only for a source that is
    one ordered sub-select, which PostgreSQL aggregates in its order (no join, no grouping
    in between that could reorder it)."""
    if position is None:
        separator: Any = literal(",")
    else:
        order = position if isinstance(position, tuple) else (position,)
        separator = aggregate_order_by(literal(","), *order)
    joined = func.string_agg(item, separator)
    return (
        select(concat("[", func.coalesce(joined, text("")), "]"))
        .select_from(source)
        .where(*where)
        .scalar_subquery()
    )


def global_id(type_name: str, key: ColumnElement[Any]) -> ColumnElement[str]:
    return concat('"', base64url(concat(f"{type_name}:", cast(key, Text))), '"')


def cursor(ordering: Ordering, values: list[ColumnElement[Any]]) -> ColumnElement[str]:
    parts: list[ColumnElement[Any] | str] = ["[", json(literal(ordering.name, Text))]
    for value in values:
        parts += [",", json(value)]
    parts.append("]")
    return concat('"', base64url(concat(*parts)), '"')


def key(name: str, first: bool) -> str:
    """The text that opens a member of a JSON object: `{"name":` or `,"name":`."""
    return ("{" if first else ",") + f'"{name}":'
