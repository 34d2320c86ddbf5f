"""Objects, relations, lists and connections of declared types, as JSON text in SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
)
from sqlalchemy import ColumnElement, Date, Integer, Text, case, cast, func, literal, select
from sqlalchemy.sql.util import ClauseAdapter
from strawberry.utils.str_converters import to_camel_case

from auth import policy
from schema.mapping import REGISTRY, Column, SqlType, ToMany, ToOne
from service.compiler.binding import Arg, Context, NotCompilable
from service.compiler.text import (
    concat,
    cursor,
    global_id,
    json,
    json_array,
    key,
    scalar,
    text,
)
from service.dispatch.service import month_bounds, session_in_month
from service.pagination import Ordering, check_page_size


def arguments(node: FieldNode, field_def: Any) -> dict[str, Arg]:
    given = {a.name.value: a.value for a in node.arguments or ()}
    return {
        name: Arg.of(given.get(name), argument.type, argument.default_value)
        for name, argument in field_def.args.items()
    }


def given(args: dict[str, Arg]) -> set[str]:
    """The arguments present in the document (whatever their value)."""
    return {name for name, arg in args.items() if arg.node is not None}


def fields(selection_set: SelectionSetNode, type_name: str, context: Context) -> list[FieldNode]:
    """The selected fields for an object of ``type_name``: fragments flattened, `@skip` and
    `@include` applied, fields of the same response key merged, in order of first mention."""
    merged: dict[str, FieldNode] = {}
    for node in _collect(selection_set, type_name, context):
        response_key = (node.alias or node.name).value
        first = merged.get(response_key)
        if first is None:
            merged[response_key] = node
        elif first.selection_set is not None and node.selection_set is not None:
            # Validation (OverlappingFieldsCanBeMerged) made them the same field with the same
            # arguments: one field whose selection is both selections.
            selections = (*first.selection_set.selections, *node.selection_set.selections)
            merged[response_key] = FieldNode(
                alias=first.alias,
                name=first.name,
                arguments=first.arguments,
                directives=(),
                selection_set=SelectionSetNode(selections=selections),
            )
    return list(merged.values())


def _collect(selection_set: SelectionSetNode, type_name: str, context: Context) -> list[FieldNode]:
    out: list[FieldNode] = []
    for selection in selection_set.selections:
        if not _included(selection, context):
            continue
        if isinstance(selection, FieldNode):
            out.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or _applies(condition.name.value, type_name, context):
                out += _collect(selection.selection_set, type_name, context)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = context.fragments[selection.name.value]
            if _applies(fragment.type_condition.name.value, type_name, context):
                out += _collect(fragment.selection_set, type_name, context)
    return out


_BOOLEAN = GraphQLNonNull(GraphQLBoolean)


def _included(selection: Any, context: Context) -> bool:
    """`@skip(if:)` and `@include(if:)`, decided per request (a variable shapes the plan)."""
    included = True
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            raise NotCompilable("unknown directive")
        [argument] = directive.arguments
        condition = context.decide(
            Arg.of(argument.value, GraphQLNonNull(GraphQLBoolean), Undefined)
        )
        included = included and (condition if name == "include" else not condition)
    return included


def _applies(condition: str, type_name: str, context: Context) -> bool:
    if condition == type_name:
        return True
    target = context.schema.get_type(condition)
    obj = context.schema.get_type(type_name)
    return target is not None and context.schema.is_sub_type(target, obj)  # type: ignore[arg-type]


def page_size(context: Context, arg: Arg, default: int, plus: int = 0) -> Any:
    """A bind parameter of a checked page size (``plus`` added: the extra row of a page)."""
    maximum = context.settings.max_page_size
    return context.argument(
        arg, Integer, lambda v: check_page_size(v, default=default, maximum=maximum) + plus
    )


def object_(
    spec: SqlType, row: Any, selection_set: SelectionSetNode, context: Context
) -> ColumnElement[str]:
    """JSON text of one object of ``spec``, whose row is ``row`` (a table or alias)."""
    graphql_type = context.schema.get_type(spec.name)
    assert isinstance(graphql_type, GraphQLObjectType)
    hidden = policy.hidden_fields(spec.name, context.principal)  # type: ignore[arg-type]
    nodes = fields(selection_set, spec.name, context)
    shared = _first_of_lists(spec, nodes, graphql_type)
    parts: list[ColumnElement[Any] | str] = []
    index = 0
    while index < len(nodes):
        node = nodes[index]
        parts.append(key((node.alias or node.name).value, not parts))
        if index in shared:
            # A to-one relation that is the first row of a list the object asks for too (with
            # every field in between): one sub-select reads the rows once for both.
            last = shared[index]
            parts.append(_first_and_list(spec, row, nodes, index, last, context, graphql_type))
            index = last + 1
            continue
        index += 1
        parts.append(_value(spec, row, node, graphql_type, hidden, context))
    if not parts:
        raise NotCompilable("empty selection")
    parts.append("}")
    return concat(*parts)


def _session_month(context: Context, arg: Arg) -> ColumnElement[bool]:
    """`DispatchAssignment.sessions(month:)`: the resolver's filter (`starts_in_month`) in SQL."""
    return session_in_month(
        context.argument(arg, Date, lambda v: month_bounds(v)[0]),
        context.argument(arg, Date, lambda v: month_bounds(v)[1]),
    )


# The arguments that filter a list field, beyond `first`: each builds its condition on the
# target's table (the field's resolver applies the same test).
_LIST_FILTERS: dict[tuple[str, str], dict[str, Callable[[Context, Arg], ColumnElement[bool]]]] = {
    ("DispatchAssignment", "sessions"): {"month": _session_month},
}


@cache
def _python_names(type_name: str) -> dict[str, str]:
    spec = REGISTRY[type_name]
    return {to_camel_case(name): name for name in spec.fields}


def on(row: Any, expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """``expr`` (over the declared table) re-targeted at ``row`` (an alias of it)."""
    if row is None:
        return expr
    return ClauseAdapter(row).traverse(expr)


def on_source(source: Any, table: Any, expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """``expr`` (over ``table``) re-targeted at ``source``, a row source with ``table``'s
    columns by name (a catalog search's matches); only ``table``'s own columns (a subquery's
    `id` is another table's)."""
    adapter = ClauseAdapter(
        source, adapt_on_names=True, include_fn=lambda c: getattr(c, "table", None) is table
    )
    return adapter.traverse(expr)


def scoped(spec: SqlType, context: Context) -> tuple[Any, list[ColumnElement[bool]]]:
    """An alias of ``spec``'s table and the policy's conditions on it."""
    alias = spec.table.alias()
    condition = policy.row_condition(spec.name, context.principal)  # type: ignore[arg-type]
    return alias, [] if condition is None else [on(alias, condition)]


def _value(
    spec: SqlType,
    row: Any,
    node: FieldNode,
    graphql_type: GraphQLObjectType,
    hidden: Any,
    context: Context,
) -> ColumnElement[Any] | str:
    """The JSON text of one selected field of an object of ``spec``."""
    name = node.name.value
    if name == "__typename":
        return f'"{spec.name}"'
    if name == "id" and spec.node:
        return global_id(spec.name, on(row, spec.key))
    field_def = graphql_type.fields.get(name)
    python_name = _python_names(spec.name).get(name)
    mapped = spec.fields.get(python_name) if python_name else None
    if field_def is None or mapped is None:
        raise NotCompilable(f"{spec.name}.{name}")
    args = arguments(node, field_def)
    if isinstance(mapped, Column):
        if given(args):
            raise NotCompilable(f"{spec.name}.{name} arguments")
        if python_name in hidden:
            # The policy hides it: JSON null, written as text (`to_json(NULL)` has no type
            # PostgreSQL could resolve, and the field's type is of no use for a null).
            return "null"
        return scalar(on(row, mapped.expr), field_def.type)
    if isinstance(mapped, ToOne):
        if given(args) or node.selection_set is None:
            raise NotCompilable(f"{spec.name}.{name} arguments")
        return to_one(mapped, row, node.selection_set, context)
    filters = _LIST_FILTERS.get((spec.name, name), {})
    if given(args) - {"first"} - filters.keys():
        raise NotCompilable(f"{spec.name}.{name} arguments")
    limit = page_size(context, args["first"], 10) if "first" in args else None
    where = [
        build(context, args[arg])
        for arg, build in filters.items()
        if arg in args and context.decide(args[arg], lambda v: v is not None)
    ]
    assert node.selection_set is not None
    return to_many(mapped, row, node.selection_set, context, limit, where)


def _mapped(spec: SqlType, node: FieldNode) -> Any:
    python_name = _python_names(spec.name).get(node.name.value)
    return spec.fields.get(python_name) if python_name else None


def _same(a: Sequence[ColumnElement[Any]], b: Sequence[ColumnElement[Any]]) -> bool:
    return len(a) == len(b) and all(x.compare(y) for x, y in zip(a, b, strict=True))


def _is_first_of(one: Any, many: Any) -> bool:
    """Whether the to-one relation ``one`` is the first row of the list ``many``: the same
    target rows (same columns, no association table) in the same order."""
    if not (isinstance(one, ToOne) and isinstance(many, ToMany)):
        return False
    if not one.order_by or many.through is not None or one.target != many.target:
        return False
    order = many.order_by or REGISTRY[many.target].order_by
    return _same((one.local, one.remote), (many.local, many.remote)) and _same(one.order_by, order)


def _first_of_lists(
    spec: SqlType, nodes: list[FieldNode], graphql_type: GraphQLObjectType
) -> dict[int, int]:
    """Spans of the selected fields (first index -> last index) that begin or end with a to-one
    relation and end or begin with the list it is the first row of, the list without
    arguments; spans do not overlap (the first found wins)."""
    plain: dict[int, Any] = {}
    for index, node in enumerate(nodes):
        mapped = _mapped(spec, node)
        if isinstance(mapped, ToOne | ToMany) and not node.arguments and node.selection_set:
            plain[index] = mapped
    spans: dict[int, int] = {}
    taken: set[int] = set()
    for i, one in plain.items():
        if not isinstance(one, ToOne) or i in taken:
            continue
        for j, many in plain.items():
            if j in taken or not _is_first_of(one, many):
                continue
            first, last = min(i, j), max(i, j)
            if any(k in taken for k in range(first, last + 1)):
                continue
            spans[first] = last
            taken.update(range(first, last + 1))
            break
    return spans


def _first_and_list(
    spec: SqlType,
    row: Any,
    nodes: list[FieldNode],
    first: int,
    last: int,
    context: Context,
    graphql_type: GraphQLObjectType,
) -> ColumnElement[str]:
    """The JSON text of the fields ``first`` to ``last`` (keys between them included), where
    one end is a to-one relation and the other the list whose first row it is: the list's rows
    read once, ordered, each row's list item built, and the to-one object built for the first
    row only (numbered in the list's order, which the scan's order usually gives for free).
    The fields in between (and their keys) are built in the same sub-select: an aggregate over
    no rows still yields one row, so each is built once whatever the list holds."""
    one_node, many_node = (nodes[first], nodes[last])
    one = _mapped(spec, one_node)
    if not isinstance(one, ToOne):
        one_node, many_node = many_node, one_node
        one = _mapped(spec, one_node)
    many = _mapped(spec, many_node)
    target = REGISTRY[many.target]
    alias, conditions = scoped(target, context)
    order = [on(alias, o) for o in (many.order_by or target.order_by)]
    assert one_node.selection_set is not None
    assert many_node.selection_set is not None
    rows = (
        select(
            object_(target, alias, many_node.selection_set, context).label("item"),
            case(
                (
                    func.row_number().over(order_by=order) == 1,
                    object_(target, alias, one_node.selection_set, context),
                ),
                else_=None,
            ).label("first"),
        )
        .select_from(alias)
        .where(on(alias, many.remote) == on(row, many.local), *conditions)
        .order_by(*order)
        .correlate(row)
        .subquery()
    )
    hidden = policy.hidden_fields(spec.name, context.principal)  # type: ignore[arg-type]
    span: list[ColumnElement[Any] | str] = []
    for index in range(first, last + 1):
        node = nodes[index]
        if index != first:
            span.append(key((node.alias or node.name).value, False))
        if node is one_node:
            span.append(func.coalesce(func.max(rows.c.first), text("null")))
        elif node is many_node:
            span.append(
                concat(
                    "[", func.coalesce(func.string_agg(rows.c.item, literal(",")), text("")), "]"
                )
            )
        else:
            span.append(_value(spec, row, node, graphql_type, hidden, context))
    return select(concat(*span)).select_from(rows).scalar_subquery()


def to_one(
    relation: ToOne, row: Any, selection_set: SelectionSetNode, context: Context
) -> ColumnElement[str]:
    target = REGISTRY[relation.target]
    alias, conditions = scoped(target, context)
    inner = (
        select(object_(target, alias, selection_set, context))
        .select_from(alias)
        .where(on(alias, relation.remote) == on(row, relation.local), *conditions)
    )
    if relation.order_by:
        # The first of several rows (e.g. the latest tier of a municipality).
        inner = inner.order_by(*[on(alias, o) for o in relation.order_by]).limit(1)
    return func.coalesce(inner.scalar_subquery(), text("null"))


def to_many(
    relation: ToMany,
    row: Any,
    selection_set: SelectionSetNode,
    context: Context,
    limit: Any | None,
    where: Sequence[ColumnElement[bool]] = (),
) -> ColumnElement[str]:
    target = REGISTRY[relation.target]
    alias, conditions = scoped(target, context)
    order = [on(alias, o) for o in (relation.order_by or target.order_by)]
    if relation.through is not None:
        association, join_on = relation.through
        link = association.alias()
        from_ = alias.join(link, on(link, on(alias, join_on)))
        remote = on(link, relation.remote)
        order = [on(link, o) for o in order]  # the order may be on the association's columns
    else:
        from_, remote = alias, on(alias, relation.remote)
    rows = (
        select(object_(target, alias, selection_set, context).label("item"))
        .select_from(from_)
        .where(remote == on(row, relation.local), *conditions, *[on(alias, w) for w in where])
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
    return json_array(items.c.item, None, items)


def list_(
    spec: SqlType,
    selection_set: SelectionSetNode,
    context: Context,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[ColumnElement[Any]] | None = None,
    limit: int | None = None,
) -> ColumnElement[str]:
    alias, conditions = scoped(spec, context)
    order = [on(alias, o) for o in (order_by or spec.order_by)]
    rows = (
        select(
            object_(spec, alias, selection_set, context).label("item"),
            func.row_number().over(order_by=order).label("position"),
        )
        .select_from(alias)
        .where(*conditions, *[on(alias, w) for w in where])
        .order_by(*order)
        .limit(limit)
        .subquery()
    )
    return json_array(rows.c.item, rows.c.position, rows)


def one(
    spec: SqlType,
    selection_set: SelectionSetNode,
    context: Context,
    where: Sequence[ColumnElement[bool]],
) -> ColumnElement[str]:
    alias, conditions = scoped(spec, context)
    inner = (
        select(object_(spec, alias, selection_set, context))
        .select_from(alias)
        .where(*conditions, *[on(alias, w) for w in where])
        .scalar_subquery()
    )
    return func.coalesce(inner, text("null"))


def connection(
    spec: SqlType,
    node: FieldNode,
    context: Context,
    where: Sequence[ColumnElement[bool]],
    ordering: Ordering,
    args: dict[str, Arg],
    default_page_size: int,
    extra: Mapping[str, Callable[[FieldNode], ColumnElement[str]]] | None = None,
    ranked_in: Any = None,
) -> ColumnElement[str]:
    """A cursor connection over ``spec``'s rows in ``ordering`` (arguments `first`, `after`);
    ``extra`` builds the connection type's own fields (a search's facets).

    ``ranked_in``: a row source shaped like ``spec``'s table (its columns by the same names,
    `id` among them) holding exactly the rows of the connection, already filtered and scoped
    (a catalog search's matches). The rows are then ranked and counted in it, and only the
    page's rows are read from the table, under the policy."""
    alias, conditions = scoped(spec, context)
    target: Any = alias if ranked_in is None else ranked_in

    def at(expr: ColumnElement[Any]) -> ColumnElement[Any]:
        if ranked_in is None:
            return on(alias, expr)
        return on_source(ranked_in, spec.table, expr)

    filtered = [*conditions, *[on(alias, w) for w in where]] if ranked_in is None else []
    page_filters = list(filtered)
    after = args["after"]
    has_previous = context.decide(after, lambda v: v is not None)
    if has_previous:
        values = [
            context.argument(
                after,
                sort_key.expr.type,
                lambda v, i=i: ordering.decode_cursor(v)[i],
            )
            for i, sort_key in enumerate(ordering.keys)
        ]
        page_filters.append(at(ordering.after(values)))
    first = page_size(context, args["first"], default_page_size)
    limit = page_size(context, args["first"], default_page_size, plus=1)
    sort = [at(k.expr) for k in ordering.keys]
    order = [at(c) for c in ordering.order_by()]
    connection_type = _unwrap(context.schema.get_type("Query").fields[node.name.value].type)
    assert node.selection_set is not None
    selected = fields(node.selection_set, connection_type.name, context)
    names = {field.name.value for field in selected}
    # With filters (a search, a region), counting scans the filtered rows the page scans as
    # well: one scan, the count a window over it (`count(*) OVER ()`, taken before the LIMIT).
    # Without filters a count of the table and an index-ordered page that stops early are
    # cheaper; after a cursor the page's rows are not all the rows.
    filters_given = bool(where) or ranked_in is not None
    shared_count = filters_given and not has_previous and "totalCount" in names
    page = None
    if names & {"edges", "nodes", "pageInfo"} or shared_count:
        ranking = None if ranked_in is None else (ranked_in, conditions)
        page = _page(spec, alias, page_filters, order, sort, first, limit, ordering,
                     has_previous, shared_count, context, ranking)  # fmt: skip
    parts: list[ColumnElement[Any] | str] = []
    for field in selected:
        parts.append(key((field.alias or field.name).value, not parts))
        name = field.name.value
        if name == "__typename":
            parts.append(f'"{connection_type.name}"')
        elif name == "totalCount":
            if shared_count:
                assert page is not None
                parts.append(page(field, name))
            else:
                count = select(func.count()).select_from(target).where(*filtered)
                parts.append(cast(count.scalar_subquery(), Text))
        elif name in ("edges", "nodes", "pageInfo"):
            assert page is not None
            parts.append(page(field, name))
        elif extra is not None and name in extra:
            parts.append(extra[name](field))
        else:
            raise NotCompilable(f"connection field {name}")
    parts.append("}")
    return concat(*parts)


def _unwrap(graphql_type: Any) -> Any:
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def _page(
    spec,
    alias,
    filters,
    order,
    sort,
    first,
    limit,
    ordering,
    has_previous,
    total,
    context,
    ranking=None,
):  # type: ignore[no-untyped-def]
    """Builders for edges / nodes / pageInfo (and, with ``total``, totalCount) over one page
    subquery (LIMIT first + 1). With ``ranking`` (a row source and the policy's conditions on
    ``alias``) the rows are ranked in the source and the page's rows read from ``alias``."""
    counted = [func.count().over().label("__total")] if total else []
    ranked = [
        func.row_number().over(order_by=order).label("__position"),
        *[s.label(f"__sort{i}") for i, s in enumerate(sort)],
        *counted,
    ]
    if ranking is None:
        base = (
            select(alias, *ranked)
            .where(*filters)
            .order_by(*order)
            .limit(limit)
            # A common table expression: the page is read once, however many of edges, nodes,
            # pageInfo and totalCount read it (a subquery would run again for each of them).
            .cte()
        )
    else:
        source, conditions = ranking
        top = (
            select(source.c.id.label("__key"), *ranked)
            .select_from(source)
            .where(*filters)
            .order_by(*order)
            .limit(limit)
            .cte()
        )
        base = (
            select(alias, *[top.c[c.name] for c in ranked])
            .join_from(alias, top, alias.c.id == top.c.__key)
            .where(*conditions)
            .cte()
        )
    in_page = base.c.__position <= first

    def aggregate(item: ColumnElement[str]) -> ColumnElement[str]:
        return json_array(item, base.c.__position, base, in_page)

    def build(field: FieldNode, name: str) -> ColumnElement[str]:
        if name == "totalCount":
            # Every row of the page carries the count; no row, no match at all.
            counted = select(base.c.__total).select_from(base).limit(1).scalar_subquery()
            return cast(func.coalesce(counted, 0), Text)
        row_cursor = cursor(ordering, [base.c[f"__sort{i}"] for i in range(len(sort))])
        assert field.selection_set is not None
        if name == "nodes":
            return aggregate(object_(spec, base, field.selection_set, context))
        if name == "edges":
            edge: list[ColumnElement[Any] | str] = []
            for edge_field in fields(field.selection_set, f"{spec.name}Edge", context):
                edge.append(key((edge_field.alias or edge_field.name).value, not edge))
                match edge_field.name.value:
                    case "cursor":
                        edge.append(row_cursor)
                    case "node":
                        assert edge_field.selection_set is not None
                        edge.append(object_(spec, base, edge_field.selection_set, context))
                    case "__typename":
                        edge.append(f'"{spec.name}Edge"')
                    case _:
                        raise NotCompilable("edge field")
            edge.append("}")
            return aggregate(concat(*edge))
        info: list[ColumnElement[Any] | str] = []
        first_cursor = select(row_cursor).select_from(base).where(base.c.__position == 1)
        last_cursor = (
            select(row_cursor)
            .select_from(base)
            .where(in_page)
            .order_by(base.c.__position.desc())
            .limit(1)
        )
        has_next = select(func.count() > first).select_from(base)
        for info_field in fields(field.selection_set, "PageInfo", context):
            info.append(key((info_field.alias or info_field.name).value, not info))
            match info_field.name.value:
                case "hasNextPage":
                    info.append(json(has_next.scalar_subquery()))
                case "hasPreviousPage":
                    info.append("true" if has_previous else "false")
                case "startCursor":
                    start = first_cursor.where(in_page).scalar_subquery()
                    info.append(func.coalesce(start, text("null")))
                case "endCursor":
                    info.append(func.coalesce(last_cursor.scalar_subquery(), text("null")))
                case "__typename":
                    info.append('"PageInfo"')
                case _:
                    raise NotCompilable("pageInfo field")
        info.append("}")
        return concat(*info)

    return build
