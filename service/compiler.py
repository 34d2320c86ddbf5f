"""The compiled read path: a whole GraphQL read operation as one SQL statement.

The statement's single text value *is* the response body, byte for byte what the resolver path
(strawberry + DataLoaders) would send. It is built from the same declarations
(`schema.mapping`) and scoped by the same access policy (`auth.policy`: row conditions and
hidden fields), under the same row-level security, so the two executors cannot disagree about
who sees what; `tests/conftest.py` runs every read query of the suite through both and compares
the bytes.

What it does not cover (mutations, introspection, directives, a field without a SQL mapping or
with arguments it does not know, an argument that fails its checks) it declines with
`NotCompilable`, and the request goes to the ordinary resolvers, unchanged. Plans are cached per
document and operation name; variables become bind parameters at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    value_from_ast,
)
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.util import ClauseAdapter
from strawberry.utils.str_converters import to_camel_case

from auth import policy
from auth.principal import Principal
from schema.mapping import REGISTRY, Column, SqlType, ToMany, ToOne
from schema.node import decode_global_id
from service.errors import DxlinkError
from service.geography.codes import require_valid_code
from service.geography.repository import GeographyRepository, municipality_ordering
from service.pagination import Ordering, check_page_size
from service.settings import Settings


class NotCompilable(Exception):
    """This operation (or these arguments) go to the resolver path; ``category`` names the
    reason without the request's values (the fallbacks are counted by it)."""

    def __init__(self, reason: str, category: str | None = None) -> None:
        super().__init__(reason)
        self.category = category or reason


# --- JSON text in SQL ------------------------------------------------------------------------


def _text(value: str) -> ColumnElement[str]:
    return literal(value, Text)


def _concat(*parts: ColumnElement[Any] | str) -> ColumnElement[str]:
    items = [_text(p) if isinstance(p, str) else p for p in parts]
    out = items[0]
    for item in items[1:]:
        out = out.op("||")(item)
    return out


def _json(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """A value as JSON text; SQL NULL as `null`."""
    return func.coalesce(cast(func.to_json(expr), Text), _text("null"))


def _json_string(expr: ColumnElement[Any]) -> ColumnElement[str]:
    return _json(cast(expr, Text))


def _base64url(expr: ColumnElement[str]) -> ColumnElement[str]:
    """base64url without padding, as Python's `urlsafe_b64encode(...).rstrip("=")`."""
    encoded = func.encode(func.convert_to(expr, "UTF8"), "base64")
    return func.rtrim(func.translate(encoded, "+/\n", "-_"), "=")


def _datetime(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """timestamptz as Python's `isoformat()` of a UTC datetime (microseconds only if any)."""
    utc = func.timezone("UTC", expr)
    fraction = case(
        (func.extract("microseconds", utc) % 1_000_000 != 0, _concat(".", func.to_char(utc, "US"))),
        else_=_text(""),
    )
    text = _concat(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS'), fraction, "+00:00")
    return case((expr.is_(None), _text("null")), else_=_concat('"', text, '"'))


def _scalar(expr: ColumnElement[Any], graphql_type: Any) -> ColumnElement[str]:
    named = get_named_type(graphql_type)
    if isinstance(named, GraphQLEnumType):
        return _json_string(expr)  # enums are stored by member name, as GraphQL spells them
    name = named.name
    if name in ("String", "ID", "Boolean"):
        return _json(expr)
    if name == "Int":
        if isinstance(expr.type, BigInteger):
            # GraphQL's Int is 32-bit: the resolvers report larger values as errors.
            raise NotCompilable("Int from a 64-bit column")
        return _json(expr)
    if name == "Date":
        # to_json writes dates in ISO 8601 whatever the session's DateStyle: what
        # date.isoformat() gives (and 7% faster than to_char at N=100 in the benchmark).
        return _json(expr)
    if name == "DateTime":
        return _datetime(expr)
    # Float among others: PostgreSQL writes 60 where Python writes 60.0.
    raise NotCompilable(f"scalar {name}")


def _json_array(
    item: ColumnElement[str],
    position: ColumnElement[Any] | None,
    source: Any,
    *where: ColumnElement[bool],
) -> ColumnElement[str]:
    """`[item,item,...]` over the rows of ``source``, in ``position`` order; `[]` when none.

    Without a position, in the order ``source`` delivers its rows: only for a source that is
    one ordered sub-select, which PostgreSQL aggregates in its order (no join, no grouping
    in between that could reorder it)."""
    separator = literal(",") if position is None else aggregate_order_by(literal(","), position)
    joined = func.string_agg(item, separator)
    return (
        select(_concat("[", func.coalesce(joined, _text("")), "]"))
        .select_from(source)
        .where(*where)
        .scalar_subquery()
    )


def _global_id(spec: SqlType, key: ColumnElement[Any]) -> ColumnElement[str]:
    return _concat('"', _base64url(_concat(f"{spec.name}:", cast(key, Text))), '"')


def _cursor(ordering: Ordering, values: list[ColumnElement[Any]]) -> ColumnElement[str]:
    parts: list[ColumnElement[Any] | str] = ["[", _json(literal(ordering.name, Text))]
    for value in values:
        parts += [",", _json(value)]
    parts.append("]")
    return _concat('"', _base64url(_concat(*parts)), '"')


# --- operations ------------------------------------------------------------------------------


@dataclass
class Context:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    principal: Principal
    settings: Settings


def _arguments(node: FieldNode, field_def: Any, context: Context) -> dict[str, Any]:
    values: dict[str, Any] = {}
    given = {a.name.value: a for a in node.arguments or ()}
    for name, argument in field_def.args.items():
        value = Undefined
        if name in given:
            value = value_from_ast(given[name].value, argument.type, context.variables)
            if value is Undefined:
                # Not a valid value after all (a null variable for a non-null argument):
                # the resolvers word that error.
                raise NotCompilable(f"argument {name}")
        if value is Undefined:
            value = argument.default_value
        values[name] = None if value is Undefined else value
    return values


def _fields(selection_set: SelectionSetNode, type_name: str, context: Context) -> list[FieldNode]:
    """The selected fields for an object of ``type_name``, fragments flattened, in order."""
    out: list[FieldNode] = []
    for selection in selection_set.selections:
        if selection.directives:
            raise NotCompilable("directives")
        if isinstance(selection, FieldNode):
            out.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or _applies(condition.name.value, type_name, context):
                out += _fields(selection.selection_set, type_name, context)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = context.fragments[selection.name.value]
            if _applies(fragment.type_condition.name.value, type_name, context):
                out += _fields(fragment.selection_set, type_name, context)
    # The same response key twice (merged fields) is rare; leave it to the resolvers.
    keys = [(f.alias or f.name).value for f in out]
    if len(keys) != len(set(keys)):
        raise NotCompilable("merged fields")
    return out


def _applies(condition: str, type_name: str, context: Context) -> bool:
    if condition == type_name:
        return True
    target = context.schema.get_type(condition)
    obj = context.schema.get_type(type_name)
    return target is not None and context.schema.is_sub_type(target, obj)  # type: ignore[arg-type]


def _object(
    spec: SqlType,
    row: Any,
    selection_set: SelectionSetNode,
    context: Context,
) -> ColumnElement[str]:
    """JSON text of one object of ``spec``, whose row is ``row`` (a table or alias)."""
    graphql_type = context.schema.get_type(spec.name)
    assert isinstance(graphql_type, GraphQLObjectType)
    hidden = policy.hidden_fields(spec.name, context.principal)
    parts: list[ColumnElement[Any] | str] = []
    for node in _fields(selection_set, spec.name, context):
        key = (node.alias or node.name).value
        parts.append(("{" if not parts else ",") + f'"{key}":')
        name = node.name.value
        if name == "__typename":
            parts.append(f'"{spec.name}"')
            continue
        if name == "id" and spec.node:
            parts.append(_global_id(spec, _on(row, spec.key)))
            continue
        field_def = graphql_type.fields.get(name)
        python_name = _python_name(spec, name)
        mapped = spec.fields.get(python_name) if python_name else None
        if field_def is None or mapped is None:
            raise NotCompilable(f"{spec.name}.{name}")
        arguments = _arguments(node, field_def, context)
        if isinstance(mapped, Column):
            if arguments:
                raise NotCompilable(f"{spec.name}.{name} arguments")
            if python_name in hidden:
                # The policy hides it: JSON null, written as text (`to_json(NULL)` has no type
                # PostgreSQL could resolve, and the field's type is of no use for a null).
                parts.append("null")
                continue
            expr = _on(row, mapped.expr)
            if isinstance(_unwrap(field_def.type), GraphQLList):
                parts.append(_json(expr))
            else:
                parts.append(_scalar(expr, field_def.type))
        elif isinstance(mapped, ToOne):
            if arguments or node.selection_set is None:
                raise NotCompilable(f"{spec.name}.{name} arguments")
            parts.append(_to_one(mapped, row, node.selection_set, context))
        else:
            limit = None
            if set(arguments) - {"first"}:
                raise NotCompilable(f"{spec.name}.{name} arguments")
            if "first" in arguments:
                limit = check_page_size(
                    arguments["first"], default=10, maximum=context.settings.max_page_size
                )
            assert node.selection_set is not None
            parts.append(_to_many(mapped, row, node.selection_set, context, limit))
    if not parts:
        raise NotCompilable("empty selection")
    parts.append("}")
    return _concat(*parts)


def _unwrap(graphql_type: Any) -> Any:
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type


@cache
def _python_names(type_name: str) -> dict[str, str]:
    spec = REGISTRY[type_name]
    return {to_camel_case(name): name for name in spec.fields}


def _python_name(spec: SqlType, graphql_name: str) -> str | None:
    return _python_names(spec.name).get(graphql_name)


def _on(row: Any, expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """``expr`` (over the declared table) re-targeted at ``row`` (an alias of it)."""
    if row is None:
        return expr
    return ClauseAdapter(row).traverse(expr)


def _scoped(spec: SqlType, context: Context) -> tuple[Any, list[ColumnElement[bool]]]:
    """An alias of ``spec``'s table and the policy's conditions on it."""
    alias = spec.table.alias()
    condition = policy.row_condition(spec.name, context.principal)
    return alias, [] if condition is None else [_on(alias, condition)]


def _to_one(
    relation: ToOne, row: Any, selection_set: SelectionSetNode, context: Context
) -> ColumnElement[str]:
    target = REGISTRY[relation.target]
    alias, conditions = _scoped(target, context)
    inner = (
        select(_object(target, alias, selection_set, context))
        .select_from(alias)
        .where(_on(alias, relation.remote) == _on(row, relation.local), *conditions)
        .scalar_subquery()
    )
    return func.coalesce(inner, _text("null"))


def _to_many(
    relation: ToMany,
    row: Any,
    selection_set: SelectionSetNode,
    context: Context,
    limit: int | None,
) -> ColumnElement[str]:
    target = REGISTRY[relation.target]
    alias, conditions = _scoped(target, context)
    order = [_on(alias, o) for o in (relation.order_by or target.order_by)]
    if relation.through is not None:
        association, on = relation.through
        link = association.alias()
        from_ = alias.join(link, _on(link, _on(alias, on)))
        remote = _on(link, relation.remote)
        order = [_on(link, o) for o in order]  # the order may be on the association's columns
    else:
        from_, remote = alias, _on(alias, relation.remote)
    rows = (
        select(_object(target, alias, selection_set, context).label("item"))
        .select_from(from_)
        .where(remote == _on(row, relation.local), *conditions)
        .order_by(*order)
        # A derived table referring to the enclosing query's row: PostgreSQL allows outer
        # references from a sub-SELECT in FROM; SQLAlchemy needs to be told.
        .correlate(row)
    )
    if limit is not None:
        rows = rows.limit(limit)
    items = rows.subquery()
    # Aggregated in the sub-select's order: a window numbering the rows and a sort of them
    # again cost 13% of the nested benchmark query, once per parent row.
    return _json_array(items.c.item, None, items)


def _list(
    spec: SqlType,
    selection_set: SelectionSetNode,
    context: Context,
    where: list[ColumnElement[bool]] | None = None,
    order_by: Sequence[ColumnElement[Any]] | None = None,
    limit: int | None = None,
) -> ColumnElement[str]:
    alias, conditions = _scoped(spec, context)
    order = [_on(alias, o) for o in (order_by or spec.order_by)]
    extra = [_on(alias, w) for w in where or []]
    rows = (
        select(
            _object(spec, alias, selection_set, context).label("item"),
            func.row_number().over(order_by=order).label("position"),
        )
        .select_from(alias)
        .where(*conditions, *extra)
        .order_by(*order)
        .limit(limit)
        .subquery()
    )
    return _json_array(rows.c.item, rows.c.position, rows)


def _one(
    spec: SqlType,
    selection_set: SelectionSetNode,
    context: Context,
    where: list[ColumnElement[bool]],
) -> ColumnElement[str]:
    alias, conditions = _scoped(spec, context)
    inner = (
        select(_object(spec, alias, selection_set, context))
        .select_from(alias)
        .where(*conditions, *[_on(alias, w) for w in where])
        .scalar_subquery()
    )
    return func.coalesce(inner, _text("null"))


def _connection(
    spec: SqlType,
    node: FieldNode,
    context: Context,
    where: list[ColumnElement[bool]],
    ordering: Ordering,
    first: int,
    after: str | None,
) -> ColumnElement[str]:
    alias, conditions = _scoped(spec, context)
    scoped = [*conditions, *[_on(alias, w) for w in where]]
    filters = list(scoped)
    if after is not None:
        filters.append(_on(alias, ordering.after(ordering.decode_cursor(after))))
    sort = [_on(alias, k.expr) for k in ordering.keys]
    order = [_on(alias, c) for c in ordering.order_by()]
    connection_type = _unwrap(context.schema.get_type("Query").fields[node.name.value].type)
    parts: list[ColumnElement[Any] | str] = []
    page: Any = None
    for field in _fields(node.selection_set, connection_type.name, context):  # type: ignore[arg-type]
        key = (field.alias or field.name).value
        parts.append(("{" if not parts else ",") + f'"{key}":')
        name = field.name.value
        if name == "__typename":
            parts.append(f'"{connection_type.name}"')
        elif name == "totalCount":
            parts.append(
                cast(select(func.count()).select_from(alias).where(*scoped).scalar_subquery(), Text)
            )
        elif name in ("edges", "nodes", "pageInfo"):
            if page is None:
                page = _page(spec, alias, filters, order, sort, first, after is not None, context)
            parts.append(page(field, name, ordering))
        else:
            raise NotCompilable(f"connection field {name}")
    parts.append("}")
    return _concat(*parts)


def _page(spec, alias, filters, order, sort, first, has_previous, context):  # type: ignore[no-untyped-def]
    """Builders for edges / nodes / pageInfo over one page subquery (LIMIT first + 1)."""
    base = (
        select(
            alias,
            func.row_number().over(order_by=order).label("__position"),
            *[s.label(f"__sort{i}") for i, s in enumerate(sort)],
        )
        .where(*filters)
        .order_by(*order)
        .limit(first + 1)
        .subquery()
    )
    in_page = base.c.__position <= first

    def aggregate(item: ColumnElement[str]) -> ColumnElement[str]:
        return _json_array(item, base.c.__position, base, in_page)

    def build(field: FieldNode, name: str, ordering: Ordering) -> ColumnElement[str]:
        cursor = _cursor(ordering, [base.c[f"__sort{i}"] for i in range(len(sort))])
        if name == "nodes":
            return aggregate(_object(spec, base, field.selection_set, context))
        if name == "edges":
            edge_parts: list[ColumnElement[Any] | str] = []
            for edge_field in _fields(field.selection_set, f"{spec.name}Edge", context):
                key = (edge_field.alias or edge_field.name).value
                edge_parts.append(("{" if not edge_parts else ",") + f'"{key}":')
                if edge_field.name.value == "cursor":
                    edge_parts.append(cursor)
                elif edge_field.name.value == "node":
                    edge_parts.append(_object(spec, base, edge_field.selection_set, context))
                elif edge_field.name.value == "__typename":
                    edge_parts.append(f'"{spec.name}Edge"')
                else:
                    raise NotCompilable("edge field")
            edge_parts.append("}")
            return aggregate(_concat(*edge_parts))
        info_parts: list[ColumnElement[Any] | str] = []
        first_cursor = select(cursor).select_from(base).where(base.c.__position == 1)
        last_cursor = (
            select(cursor)
            .select_from(base)
            .where(in_page)
            .order_by(base.c.__position.desc())
            .limit(1)
        )
        has_next = select(func.count() > first).select_from(base)
        for info_field in _fields(field.selection_set, "PageInfo", context):
            key = (info_field.alias or info_field.name).value
            info_parts.append(("{" if not info_parts else ",") + f'"{key}":')
            match info_field.name.value:
                case "hasNextPage":
                    info_parts.append(_json(has_next.scalar_subquery()))
                case "hasPreviousPage":
                    info_parts.append("true" if has_previous else "false")
                case "startCursor":
                    info_parts.append(
                        func.coalesce(first_cursor.where(in_page).scalar_subquery(), _text("null"))
                    )
                case "endCursor":
                    info_parts.append(func.coalesce(last_cursor.scalar_subquery(), _text("null")))
                case "__typename":
                    info_parts.append('"PageInfo"')
                case _:
                    raise NotCompilable("pageInfo field")
        info_parts.append("}")
        return _concat(*info_parts)

    return build


# --- root fields -----------------------------------------------------------------------------


RootBuilder = Callable[[FieldNode, dict[str, Any], Context], ColumnElement[str]]


def _root_municipalities(node: FieldNode, args: dict[str, Any], context: Context) -> Any:
    if args.get("region") is not None:
        raise NotCompilable("region filter")  # its unknown-name error needs a lookup first
    settings = context.settings
    first = check_page_size(
        args["first"], default=settings.default_page_size, maximum=settings.max_page_size
    )
    search = args.get("search")
    if search is not None and len(search) > 100:
        raise NotCompilable("search too long")
    where = GeographyRepository.municipality_filters(
        region_ids=None, kind=args.get("kind"), search=search
    )
    order = args.get("orderBy") or {}
    field = order["field"].value if order.get("field") is not None else "code"
    descending = order.get("direction") is not None and order["direction"].name == "DESC"
    ordering = municipality_ordering(field, descending)
    return _connection(
        REGISTRY["Municipality"], node, context, where, ordering, first, args.get("after")
    )


def _root_by_code(type_name: str) -> RootBuilder:
    def build(node: FieldNode, args: dict[str, Any], context: Context) -> Any:
        code = require_valid_code(args["code"].strip())
        spec = REGISTRY[type_name]
        return _one(spec, node.selection_set, context, [spec.key == code])

    return build


def _root_list(type_name: str) -> RootBuilder:
    def build(node: FieldNode, args: dict[str, Any], context: Context) -> Any:
        if any(v is not None for v in args.values()):
            raise NotCompilable("list arguments")
        return _list(REGISTRY[type_name], node.selection_set, context)

    return build


def _root_statistics(node: FieldNode, args: dict[str, Any], context: Context) -> Any:
    spec = REGISTRY["PublishedStatistic"]
    where = [spec.table.c[name] == args[name] for name in ("survey", "subject") if args[name]]
    if any(args[name] == "" for name in ("survey", "subject")):
        raise NotCompilable("empty filter")  # the resolvers treat "" as a filter value
    return _list(spec, node.selection_set, context, where)


def _root_framework(node: FieldNode, args: dict[str, Any], context: Context) -> Any:
    spec = REGISTRY["AssessmentFramework"]
    version = args.get("version")
    if version is None:
        # The newest version: the first of a one-item list, or null.
        newest = _list(spec, node.selection_set, context, order_by=[spec.key.desc()], limit=1)
        return func.coalesce(
            func.nullif(func.substr(newest, 2, func.length(newest) - 2), ""), _text("null")
        )
    if not version.strip() or len(version) > 20:
        raise NotCompilable("version argument")  # the resolvers word the error
    return _one(spec, node.selection_set, context, [spec.key == version.strip()])


def _root_node(node: FieldNode, args: dict[str, Any], context: Context) -> Any:
    spec, key = decode_global_id(args["id"])
    return _one(spec, node.selection_set, context, [spec.key == key])


ROOTS: dict[str, RootBuilder] = {
    "municipalities": _root_municipalities,
    "municipality": _root_by_code("Municipality"),
    "prefecture": _root_by_code("Prefecture"),
    "regions": _root_list("Region"),
    "prefectures": _root_list("Prefecture"),
    "tiers": _root_list("Tier"),
    "standardDatasets": _root_list("StandardDataset"),
    "assessmentFrameworks": _root_list("AssessmentFramework"),
    "assessmentFramework": _root_framework,
    "publishedStatistics": _root_statistics,
    "node": _root_node,
}


def compile_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    principal: Principal,
    settings: Settings,
) -> Select[Any]:
    """One statement whose single text column is the response body; or NotCompilable."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        raise NotCompilable("not a single query")
    operation = operations[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    context = Context(schema, fragments, dict(variables), principal, settings)
    query_type = schema.query_type
    assert query_type is not None
    parts: list[ColumnElement[Any] | str] = []
    try:
        for node in _fields(operation.selection_set, "Query", context):
            name = node.name.value
            builder = ROOTS.get(name)
            if builder is None:
                raise NotCompilable(f"root field {name}")
            key = (node.alias or node.name).value
            parts.append(('{"data":{' if not parts else ",") + f'"{key}":')
            parts.append(builder(node, _arguments(node, query_type.fields[name], context), context))
    except DxlinkError as exc:
        # The resolvers report argument errors with their exact wording and paths.
        raise NotCompilable(str(exc), category="argument error") from exc
    if not parts:
        raise NotCompilable("empty operation")
    parts.append("}}")
    return select(_concat(*parts).label("body"))


DriverStatement = tuple[str, tuple[Any, ...]]
_DIALECT = asyncpg_dialect()


def driver_statement(statement: Select[Any]) -> DriverStatement:
    """The statement as asyncpg runs it: SQL with $n placeholders and its arguments, each
    through its type's bind processor (what SQLAlchemy would do at execution)."""
    compiled = statement.compile(dialect=_DIALECT)
    params = compiled.construct_params()
    if compiled.positiontup is None or params is None:
        raise NotCompilable("no positional parameters")
    args = []
    for name in compiled.positiontup:
        bind = compiled.binds.get(name)
        if bind is None or bind.expanding or bind.literal_execute or name not in params:
            # IN lists and literal-rendered parameters: not produced by the compiler today.
            raise NotCompilable(f"parameter {name}")
        processor = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        value = params[name]
        args.append(processor(value) if processor is not None else value)
    return compiled.string, tuple(args)
