"""The working groups' root fields as SQL: goals, groups (a connection with its filters), one
group, and the participation coverage.

The filters and counts are the functions the resolvers read with
(`service.working_groups.reads`), given bind parameters, so that the two executors answer alike
(tests/working_groups/test_reads.py runs both).
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode
from sqlalchemy import ARRAY, ColumnElement, String, exists, select

from schema.mapping import REGISTRY
from service.compiler.binding import Arg, Context, NotCompilable
from service.compiler.objects import connection, fields, list_, object_, on, one, scoped
from service.compiler.text import concat, json, json_array, key
from service.geography.codes import require_valid_code
from service.models import Region
from service.working_groups.reads import (
    GROUPS_BY_SLUG,
    coverage_counts,
    goal_named,
    group_conditions,
    region_named,
    share,
)

region_t = Region.__table__


def _given(context: Context, arg: Arg, transform: Any, type_: Any = String) -> Any:
    """A bind parameter of an optional filter's value; None when not given (a variant)."""
    if not context.decide(arg, lambda v: v is not None):
        return None
    return context.argument(arg, type_, transform)


def dx_goals(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    assert node.selection_set is not None
    return list_(REGISTRY["DxGoal"], node.selection_set, context)


def _by_key(type_name: str, argument: str) -> Any:
    def build(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
        spec = REGISTRY[type_name]
        value = context.argument(args[argument], String, str.strip)
        assert node.selection_set is not None
        return one(spec, node.selection_set, context, [spec.key == value])

    return build


dx_goal = _by_key("DxGoal", "code")
working_group = _by_key("WorkingGroup", "slug")


def working_groups(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    goal = _given(context, args["goal"], str.strip)
    if goal is not None:
        # An unknown goal or region is the resolvers' error to word (as for municipalities):
        # the statement answers NULL, and the request goes to them.
        context.require(exists(goal_named(goal)))
    region = _given(context, args["region"], str.strip)
    if region is not None:
        context.require(exists(region_named(region)))
    where = group_conditions(
        goal=goal,
        kind=_given(context, args["kind"], lambda v: v.name),
        region=region,
        statuses=_given(context, args["status"], lambda v: [s.name for s in v], ARRAY(String)),
        member=_given(context, args["member"], lambda v: require_valid_code(v.strip(), "member")),
    )
    return connection(
        REGISTRY["WorkingGroup"], node, context, where, GROUPS_BY_SLUG, args,
        context.settings.default_page_size,
    )  # fmt: skip


def participation_coverage(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    counts = coverage_counts()
    # A common table expression: the counts are computed once for the prefecture and regions.
    shared = select(
        counts.c.region_id, counts.c.municipalities, counts.c.participating, counts.c.leading
    ).cte()
    region_spec = REGISTRY["Region"]
    region, _ = scoped(region_spec, context)

    def figures(selection: Any, type_name: str, row: Any, extra: Any) -> list[Any]:
        parts: list[ColumnElement[Any] | str] = []
        for field in fields(selection, type_name, context):
            parts.append(key((field.alias or field.name).value, not parts))
            match field.name.value:
                case "__typename":
                    parts.append(f'"{type_name}"')
                case "municipalities" | "participating" | "leading" as name:
                    parts.append(json(row.c[name]))
                case "share":
                    parts.append(json(share(row.c.municipalities, row.c.participating)))
                case other:
                    parts.append(extra(field, other))
        parts.append("}")
        return parts

    def region_extra(field: FieldNode, name: str) -> Any:
        if name != "region":
            raise NotCompilable(f"RegionParticipation.{name}")
        assert field.selection_set is not None
        return object_(region_spec, region, field.selection_set, context)

    def overall_extra(field: FieldNode, name: str) -> Any:
        if name != "regions":
            raise NotCompilable(f"ParticipationCoverage.{name}")
        assert field.selection_set is not None
        k = shared.alias()
        item = figures(field.selection_set, "RegionParticipation", k, region_extra)
        source = k.join(region, on(region, region_t.c.id) == k.c.region_id)
        order = (region_t.c.prefecture_id, region_t.c.position, region_t.c.id)
        return json_array(concat(*item), tuple(on(region, c) for c in order), source)

    top = shared.alias()
    assert node.selection_set is not None
    parts = figures(node.selection_set, "ParticipationCoverage", top, overall_extra)
    return (
        select(concat(*parts)).select_from(top).where(top.c.region_id.is_(None)).scalar_subquery()
    )
