"""The catalog's root fields as SQL: the search connection with its facets, one dataset.

Arguments go through the checks of the resolver path (`service.open_data.catalog`), and the
conditions, orderings and facets are the same functions (`service.open_data.search`), so the
two executors answer byte for byte alike (tests/open_data/test_search.py runs both).
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode
from sqlalchemy import ARRAY, Boolean, ColumnElement, Date, String, Text, exists, select

from auth import policy
from schema.mapping import REGISTRY
from schema.node import decode_global_id
from service.compiler.binding import Arg, Context, NotCompilable
from service.compiler.objects import connection, fields, list_, on, on_source, one, scoped
from service.compiler.text import concat, json, json_array, key, text
from service.open_data import coverage, search
from service.open_data.catalog import checked_publisher, checked_text
from service.open_data.coverage_reads import (
    checked_prefecture,
    coverage_conditions,
    publishers_conditions,
)


def _query(value: str | None) -> search.Query | None:
    return None if value is None else search.parse(value)


def _given(context: Context, arg: Arg, transform: Any, type_: Any = String) -> Any:
    """A bind parameter of an optional filter's value; None when not given (a variant)."""
    if not context.decide(arg, lambda v: v is not None):
        return None
    return context.argument(arg, type_, transform)


def datasets(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    # The number of words shapes the statement (one condition each); their values are binds.
    words = context.decide(args["search"], lambda v: len(_query(v).terms) if _query(v) else 0)
    terms: list[search.TermValues] | None = None
    grams = whole = None
    if words:
        terms = [
            search.TermValues(
                context.argument(args["search"], Text, lambda v, i=i: _query(v).terms[i].text),
                context.argument(args["search"], Boolean, lambda v, i=i: _query(v).terms[i].latin),
                context.argument(args["search"], Text, lambda v, i=i: _query(v).terms[i].pattern),
            )
            for i in range(words)
        ]
        grams = context.argument(args["search"], ARRAY(Text), lambda v: _query(v).grams)
        whole = context.argument(args["search"], Text, lambda v: _query(v).whole)
    region = _given(context, args["region"], checked_text("region"))
    if region is not None:
        # An unknown region is the resolvers' error to word (as for municipalities).
        context.require(exists(search.region_named(region)))
    filters = {
        "terms": terms,
        "grams": grams,
        "publisher": _given(context, args["publisher"], checked_publisher),
        "region": region,
        "theme": _given(context, args["theme"], checked_text("theme")),
        "standard_dataset": _given(
            context, args["standardDataset"], checked_text("standardDataset")
        ),
        "format": _given(context, args["format"], checked_text("format")),
        "license": _given(context, args["license"], checked_text("license")),
        "modified_since": _given(context, args["modifiedSince"], lambda v: v, Date),
    }
    where = search.dataset_conditions(**filters)
    field = context.decide(args["orderBy"], lambda v: (v or {}).get("field"))
    direction = context.decide(args["orderBy"], lambda v: (v or {}).get("direction"))
    ordering = search.dataset_ordering(
        field.value if field is not None else "relevance",
        direction is None or direction.name == "DESC",
        (terms, whole) if terms else None,
    )
    spec = REGISTRY["Dataset"]
    matched: Any = None
    if terms is not None:
        # The search's matches, found once by index (search.found) with what the page ranks
        # and the facets count: the page's rows alone are then read from the table.
        source = search.found(grams)

        def at(expr: Any) -> Any:
            return on_source(source, search.dataset_t, expr)

        scope = policy.row_condition("Dataset", context.principal)  # type: ignore[arg-type]
        others = search.dataset_conditions(**{**filters, "terms": None})
        matched = (
            select(source)
            .where(
                *search.term_conditions(terms, source),
                *([] if scope is None else [at(scope)]),
                *[at(w) for w in others],
            )
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )
    elif where:
        # Filters alone (a publisher, a standard dataset): the same, from the table itself.
        table, conditions = scoped(spec, context)
        columns = [table.c[name] for name in search.FOUND_COLUMNS]
        matched = (
            select(*columns)
            .where(*conditions, *[on(table, w) for w in where])
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )

    def facets(field_node: FieldNode) -> ColumnElement[str]:
        if matched is not None:
            table, filtered = matched, []
        else:
            table, conditions = scoped(spec, context)
            filtered = [*conditions, *[on(table, w) for w in where]]
        parts: list[ColumnElement[Any] | str] = []
        assert field_node.selection_set is not None
        for sub in fields(field_node.selection_set, "DatasetFacets", context):
            parts.append(key((sub.alias or sub.name).value, not parts))
            name = sub.name.value
            if name == "__typename":
                parts.append('"DatasetFacets"')
                continue
            if name not in search.FACETS:
                raise NotCompilable(f"DatasetFacets.{name}")
            rows = search.facet(name, table, filtered).subquery()
            item: list[ColumnElement[Any] | str] = []
            assert sub.selection_set is not None
            for count_field in fields(sub.selection_set, "FacetCount", context):
                item.append(key((count_field.alias or count_field.name).value, not item))
                match count_field.name.value:
                    case "__typename":
                        item.append('"FacetCount"')
                    case "value" | "label" | "count" as column:
                        item.append(json(rows.c[column]))
                    case other:
                        raise NotCompilable(f"FacetCount.{other}")
            item.append("}")
            parts.append(json_array(concat(*item), None, rows))
        parts.append("}")
        return concat(*parts)

    return connection(
        spec, node, context, where, ordering, args, context.settings.default_page_size,
        extra={"facets": facets}, ranked_in=matched,
    )  # fmt: skip


def dataset(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    if context.decide(args["id"], lambda v: decode_global_id(v, "id")[0].name) != "Dataset":
        return text("null")
    spec = REGISTRY["Dataset"]
    value = context.argument(args["id"], spec.key.type, lambda v: decode_global_id(v, "id")[1])
    assert node.selection_set is not None
    return one(spec, node.selection_set, context, [spec.key == value])


def _prefecture(context: Context, args: dict[str, Arg]) -> Any:
    return context.argument(args["prefecture"], String, checked_prefecture)


def coverage_cells(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    spec = REGISTRY["OpenDataCoverageCell"]
    assert node.selection_set is not None
    where = coverage_conditions(_prefecture(context, args))
    return list_(spec, node.selection_set, context, where)


def publishers_by_year(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    spec = REGISTRY["OpenDataPublishersYear"]
    assert node.selection_set is not None
    where = publishers_conditions(_prefecture(context, args))
    return list_(spec, node.selection_set, context, where)


def overdue_datasets(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    where = coverage.overdue_conditions(_prefecture(context, args))
    return connection(
        REGISTRY["Dataset"], node, context, where, coverage.OVERDUE_FIRST, args,
        context.settings.default_page_size,
    )  # fmt: skip
