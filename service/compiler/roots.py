"""The root fields of the read API, each as SQL returning its JSON text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import FieldNode
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from schema.mapping import REGISTRY
from schema.node import decode_global_id
from service.compiler import catalog
from service.compiler import working_groups as wg
from service.compiler.binding import Arg, Context, NotCompilable
from service.compiler.objects import (
    connection,
    fields,
    list_,
    object_,
    on,
    one,
    scoped,
)
from service.compiler.text import concat, json, json_array, key, text
from service.dispatch.service import (
    ASSIGNMENTS_BY_START,
    EXPERTS_BY_NAME,
    REQUESTS_NEWEST_FIRST,
    assignment_conditions,
    expert_conditions,
    month_bounds,
    request_conditions,
)
from service.errors import InvalidArgument
from service.geography.codes import require_valid_code
from service.geography.repository import (
    like_pattern,
    like_prefix,
    municipality_ordering,
    normalise_search,
    search_condition,
)
from service.models import (
    AssessmentOption,
    AssessmentQuestion,
    AssessmentRound,
    AuditRecord,
    Municipality,
    Region,
    SupportTier,
)
from service.pagination import Ordering, SortKey

RootBuilder = Callable[[FieldNode, dict[str, Any], Context], ColumnElement[str]]

municipality_t = Municipality.__table__
region_t = Region.__table__


def _municipalities(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    where: list[ColumnElement[bool]] = []
    if context.decide(args["region"], lambda v: v is not None):
        # Regions of that name (full or short); an unknown name is the resolvers' error to word:
        # the statement answers NULL, and the request goes to them (`compiled_view`).
        name = context.argument(args["region"], String, str.strip)
        named = select(region_t.c.id).where(
            or_(region_t.c.name == name, region_t.c.short_name == name)
        )
        where.append(municipality_t.c.region_id.in_(named))
        context.require(exists(named))
    kind = context.decide(args["kind"], lambda v: v is not None)
    if kind:
        where.append(
            municipality_t.c.kind == context.argument(args["kind"], String, lambda v: v.name)
        )
    if context.decide(args["search"], bool):

        def checked(search: str) -> str:
            if len(search) > 100:
                raise InvalidArgument("search", "must be at most 100 characters")
            return normalise_search(search)

        pattern = context.argument(args["search"], String, lambda v: like_pattern(checked(v)))
        prefix = context.argument(args["search"], String, lambda v: like_prefix(checked(v)))
        where.append(search_condition(pattern, prefix))
    order = context.decide(
        args["orderBy"],
        lambda v: (v or {}).get("field"),
    )
    direction = context.decide(args["orderBy"], lambda v: (v or {}).get("direction"))
    field = order.value if order is not None else "code"
    descending = direction is not None and direction.name == "DESC"
    return connection(
        REGISTRY["Municipality"],
        node,
        context,
        where,
        municipality_ordering(field, descending),
        args,
        context.settings.default_page_size,
    )


def _by_code(type_name: str) -> RootBuilder:
    def build(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
        spec = REGISTRY[type_name]
        code = context.argument(args["code"], String, lambda v: require_valid_code(v.strip()))
        assert node.selection_set is not None
        return one(spec, node.selection_set, context, [spec.key == code])

    return build


def _all(type_name: str, *order_by: Any) -> RootBuilder:
    def build(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
        assert node.selection_set is not None
        return list_(REGISTRY[type_name], node.selection_set, context, order_by=order_by or None)

    return build


def _statistics(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    spec = REGISTRY["PublishedStatistic"]
    where = []
    for name in ("survey", "subject"):
        if context.decide(args[name], lambda v: v is not None):
            where.append(spec.table.c[name] == context.argument(args[name]))
    assert node.selection_set is not None
    return list_(spec, node.selection_set, context, where)


def _framework(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    spec = REGISTRY["AssessmentFramework"]
    assert node.selection_set is not None
    if not context.decide(args["version"], lambda v: v is not None):
        # The newest version: the first of a one-item list, or null.
        newest = list_(spec, node.selection_set, context, order_by=[spec.key.desc()], limit=1)
        return func.coalesce(
            func.nullif(func.substr(newest, 2, func.length(newest) - 2), ""), text("null")
        )

    def checked(version: str) -> str:
        if not version.strip() or len(version) > 20:
            raise InvalidArgument("version", "must be a framework version such as 2024")
        return version.strip()

    version = context.argument(args["version"], String, checked)
    return one(spec, node.selection_set, context, [spec.key == version])


def _node(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    type_name = context.decide(args["id"], lambda v: decode_global_id(v)[0].name)
    spec = REGISTRY[type_name]
    value = context.argument(args["id"], spec.key.type, lambda v: decode_global_id(v)[1])
    assert node.selection_set is not None
    return one(spec, node.selection_set, context, [spec.key == value])


def _assignment_list(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    spec = REGISTRY["DispatchAssignment"]
    where = []
    if context.decide(args["municipalityCode"], lambda v: v is not None):
        code = context.argument(
            args["municipalityCode"],
            String,
            lambda v: require_valid_code(v.strip(), "municipalityCode"),
        )
        where = assignment_conditions(municipality_code=code)
    assert node.selection_set is not None
    return list_(spec, node.selection_set, context, where)


def _given(context: Context, arg: Arg, type_: Any = String, transform: Any = None) -> Any:
    """A bind parameter of an optional filter's value, or None when it is not given (which
    shapes the statement: a variant of its own)."""
    if not context.decide(arg, lambda v: v is not None):
        return None
    if transform is None:
        return context.argument(arg, type_)
    return context.argument(arg, type_, transform)


def _experts(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    where = expert_conditions(theme=_given(context, args["theme"]))
    return connection(
        REGISTRY["Expert"], node, context, where, EXPERTS_BY_NAME, args,
        context.settings.default_page_size,
    )  # fmt: skip


def _dispatch_requests(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    where = request_conditions(
        municipality_code=_given(
            context,
            args["municipalityCode"],
            transform=lambda v: require_valid_code(v.strip(), "municipalityCode"),
        ),
        status=_given(context, args["status"], transform=lambda v: v.name),
        programme_year=_given(context, args["fiscalYear"], Integer),
    )
    return connection(
        REGISTRY["DispatchRequest"], node, context, where, REQUESTS_NEWEST_FIRST, args,
        context.settings.default_page_size,
    )  # fmt: skip


def _assignments(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    expert = None
    if context.decide(args["expert"], lambda v: v is not None):
        expert = context.argument(args["expert"], Integer, lambda v: _expert_key(v))
    month = context.decide(args["month"], lambda v: v is not None)
    where = assignment_conditions(
        municipality_code=_given(
            context,
            args["municipality"],
            transform=lambda v: require_valid_code(v.strip(), "municipality"),
        ),
        expert_id=expert,
        theme=_given(context, args["theme"]),
        status=_given(context, args["status"], transform=lambda v: v.name),
        month_first=context.argument(args["month"], Date, lambda v: month_bounds(v)[0])
        if month
        else None,
        month_next=context.argument(args["month"], Date, lambda v: month_bounds(v)[1])
        if month
        else None,
    )
    return connection(
        REGISTRY["DispatchAssignment"], node, context, where, ASSIGNMENTS_BY_START, args,
        context.settings.default_page_size,
    )  # fmt: skip


def _expert_key(value: str) -> int:
    """An expert id's key; -1 (no such expert) for an id of another type, as the resolvers."""
    spec, key = decode_global_id(value, "expert")
    return int(key) if spec.name == "Expert" else -1


def _programme(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    spec = REGISTRY["DispatchProgramme"]
    assert node.selection_set is not None
    if not context.decide(args["fiscalYear"], lambda v: v is not None):
        newest = list_(spec, node.selection_set, context, order_by=[spec.key.desc()], limit=1)
        return func.coalesce(
            func.nullif(func.substr(newest, 2, func.length(newest) - 2), ""), text("null")
        )
    year = context.argument(args["fiscalYear"], Integer)
    return one(spec, node.selection_set, context, [spec.key == year])


_NEWEST_FIRST = Ordering("audit:id:desc", (SortKey(AuditRecord.__table__.c.id, True),))


def _audit_log(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    where = []
    if context.decide(args["entity"], lambda v: v is not None):
        where.append(AuditRecord.__table__.c.entity == context.argument(args["entity"]))
    spec = REGISTRY["AuditRecord"]
    settings = context.settings
    return connection(spec, node, context, where, _NEWEST_FIRST, args, settings.default_page_size)


_VIEWER_TYPES = {"municipality": "Municipality", "expert": "Expert", "region": "Region"}


def _viewer(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    parts: list[ColumnElement[Any] | str] = []
    assert node.selection_set is not None
    for field in fields(node.selection_set, "Viewer", context):
        parts.append(key((field.alias or field.name).value, not parts))
        name = field.name.value
        if name == "__typename":
            parts.append('"Viewer"')
        elif name == "role":
            parts.append(f'"{context.role.value}"')
        elif name == "subject":
            parts.append(json(context.bind(lambda i: i.principal.subject, String)))
        elif name in ("municipality", "expert", "region"):
            attribute = {"municipality": "municipality_id", "expert": "expert_id"}.get(
                name, "region_id"
            )
            if context.decide_principal(lambda p, a=attribute: getattr(p, a) is None):
                parts.append("null")
                continue
            spec = REGISTRY[
                {"municipality": "Municipality", "expert": "Expert"}.get(name, "Region")
            ]
            identifier = context.bind(lambda i, a=attribute: getattr(i.principal, a), Integer)
            assert field.selection_set is not None
            parts.append(one(spec, field.selection_set, context, [spec.table.c.id == identifier]))
        else:
            raise NotCompilable(f"Viewer.{name}")
    parts.append("}")
    return concat(*parts)


def _suppressed(counts: Any, context: Context) -> ColumnElement[bool]:
    """Whether the counts are withheld: a non-empty group under the threshold, for viewers
    outside the prefecture's staff (service/aggregates.py)."""
    if context.inputs.principal.is_staff:
        return false()
    threshold = context.settings.aggregate_threshold
    small = (
        select(counts.c.municipalities)
        .where(counts.c.municipalities > 0, counts.c.municipalities < threshold)
        # Over all the counts, never correlated with a row of them in an enclosing query.
        .correlate(None)
    )
    return small.exists()


def _tier_distribution(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    if context.decide(args["snapshot"], lambda v: v is not None):

        def alone(value: Any) -> bool:
            if value is not None:
                raise InvalidArgument("snapshot", "give either snapshot or snapshotOn, not both")
            return True

        context.decide(args["snapshotOn"], alone)  # both: the resolvers' error to word
        first = context.argument(args["snapshot"], Date, lambda v: month_bounds(v, "snapshot")[0])
        snapshot: Any = func.dxlink_latest_tier_snapshot_in(first, type_=Date)
    else:
        given = context.argument(args["snapshotOn"], Date)
        snapshot = func.coalesce(given, func.dxlink_latest_tier_snapshot(type_=Date))
    call = func.dxlink_tier_counts(snapshot).table_valued("level", "municipalities").alias()
    # A common table expression: the counting function runs once, however many of the entries,
    # the suppression test and the total read its rows (each reference to the function in
    # FROM would call it again: two scans of the tier assignments for the public).
    counts = select(call.c.level, call.c.municipalities).cte()
    suppressed = _suppressed(counts, context)
    tier_spec = REGISTRY["Tier"]
    tier, _ = scoped(tier_spec, context)
    item: list[ColumnElement[Any] | str] = []
    assert node.selection_set is not None
    for field in fields(node.selection_set, "TierCount", context):
        item.append(key((field.alias or field.name).value, not item))
        match field.name.value:
            case "__typename":
                item.append('"TierCount"')
            case "count":
                item.append(json(case((suppressed, None), else_=counts.c.municipalities)))
            case "snapshotOn":
                item.append(json(snapshot))
            case "suppressed":
                item.append(json(suppressed))
            case "total":
                total = select(
                    func.coalesce(func.sum(counts.c.municipalities), 0)
                ).scalar_subquery()
                item.append(json(total))
            case "tier":
                assert field.selection_set is not None
                item.append(object_(tier_spec, tier, field.selection_set, context))
            case other:
                raise NotCompilable(f"TierCount.{other}")
    item.append("}")
    source = counts.join(tier, on(tier, SupportTier.__table__.c.level) == counts.c.level)
    return json_array(concat(*item), counts.c.level, source)


def _kpi_progress(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    given = context.argument(
        args["snapshot"], Date, lambda v: None if v is None else month_bounds(v, "snapshot")[0]
    )
    latest = func.date_trunc("month", func.dxlink_latest_tier_snapshot(type_=Date))
    month = func.coalesce(given, cast(latest, Date))

    call = (
        func.dxlink_kpi_by_region(month)
        .table_valued("region_id", "municipalities", "assessed", "in_target")
        .alias()
    )
    # A common table expression: the function (a pass over every municipality and tier
    # assignment) runs once for the prefecture-wide row, the regions and the suppression tests.
    shared = select(
        call.c.region_id, call.c.municipalities, call.c.assessed, call.c.in_target
    ).cte()

    def counts() -> Any:
        return shared.alias()

    def withheld(regional: bool) -> ColumnElement[bool]:
        if context.inputs.principal.is_staff:
            return false()
        threshold = context.settings.aggregate_threshold
        k = counts()
        outside = k.c.assessed - k.c.in_target
        small = or_(
            and_(k.c.in_target > 0, k.c.in_target < threshold),
            and_(outside > 0, outside < threshold),
        )
        scope = k.c.region_id.is_not(None) if regional else k.c.region_id.is_(None)
        return exists().select_from(k).where(scope, small).correlate(None)

    def figures(
        selection: Any, type_name: str, row: Any, suppressed: ColumnElement[bool], extra: Any
    ) -> list[ColumnElement[Any] | str]:
        parts: list[ColumnElement[Any] | str] = []
        for field in fields(selection, type_name, context):
            parts.append(key((field.alias or field.name).value, not parts))
            match field.name.value:
                case "__typename":
                    parts.append(f'"{type_name}"')
                case "municipalities":
                    parts.append(json(row.c.municipalities))
                case "assessed":
                    parts.append(json(case((suppressed, None), else_=row.c.assessed)))
                case "inTarget":
                    parts.append(json(case((suppressed, None), else_=row.c.in_target)))
                case "share":
                    # float8 as the resolvers write it (`float_column`, schema/scalars.py).
                    share = cast(row.c.in_target, DOUBLE_PRECISION) / func.nullif(
                        row.c.municipalities, 0
                    )
                    parts.append(json(case((suppressed, None), else_=share)))
                case "suppressed":
                    parts.append(json(suppressed))
                case other:
                    parts.append(extra(field, other))
        parts.append("}")
        return parts

    region_spec = REGISTRY["Region"]
    region, _ = scoped(region_spec, context)
    regional = withheld(True)

    def region_extra(field: FieldNode, name: str) -> Any:
        if name != "region":
            raise NotCompilable(f"RegionKpi.{name}")
        assert field.selection_set is not None
        return object_(region_spec, region, field.selection_set, context)

    def overall_extra(field: FieldNode, name: str) -> Any:
        match name:
            case "snapshot":
                return json(func.to_char(month, "YYYY-MM"))
            case "regions":
                assert field.selection_set is not None
                k = counts()
                item = figures(field.selection_set, "RegionKpi", k, regional, region_extra)
                source = k.join(region, on(region, region_t.c.id) == k.c.region_id)
                # The regions' order (prefecture, position: `regions`), then the id: the
                # positions repeat from one prefecture to the next.
                order = (region_t.c.prefecture_id, region_t.c.position, region_t.c.id)
                return json_array(concat(*item), tuple(on(region, c) for c in order), source)
            case other:
                raise NotCompilable(f"KpiProgress.{other}")

    top = counts()
    assert node.selection_set is not None
    parts = figures(node.selection_set, "KpiProgress", top, withheld(False), overall_extra)
    return (
        select(concat(*parts)).select_from(top).where(top.c.region_id.is_(None)).scalar_subquery()
    )


def _tier_transitions(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    first = context.argument(args["from"], Date, lambda v: month_bounds(v, "from")[0])
    second = context.argument(args["to"], Date, lambda v: month_bounds(v, "to")[0])
    counts = (
        func.dxlink_tier_transitions(first, second)
        .table_valued("from_level", "to_level", "municipalities")
        .alias()
    )
    suppressed = _suppressed(counts, context)
    tier_spec = REGISTRY["Tier"]
    level = SupportTier.__table__.c.level
    before, _ = scoped(tier_spec, context)
    after, _ = scoped(tier_spec, context)
    item: list[ColumnElement[Any] | str] = []
    assert node.selection_set is not None
    for field in fields(node.selection_set, "TierTransition", context):
        item.append(key((field.alias or field.name).value, not item))
        match field.name.value:
            case "__typename":
                item.append('"TierTransition"')
            case "count":
                item.append(json(case((suppressed, None), else_=counts.c.municipalities)))
            case "from" | "to" as end:
                assert field.selection_set is not None
                tier = before if end == "from" else after
                item.append(object_(tier_spec, tier, field.selection_set, context))
            case other:
                raise NotCompilable(f"TierTransition.{other}")
    item.append("}")
    source = counts.join(before, on(before, level) == counts.c.from_level).join(
        after, on(after, level) == counts.c.to_level
    )
    # The first tier, then the second (levels are 1 to 4), as the resolvers list them.
    return json_array(concat(*item), counts.c.from_level * 10 + counts.c.to_level, source)


def _answer_scope(
    args: dict[str, Arg], context: Context, question_argument: str
) -> tuple[Any, Any, list[ColumnElement[bool]], Any, ColumnElement[bool]]:
    """The round's question (an alias, the conditions that find it), the counts of its
    options (dxlink_answer_counts) and whether they are withheld."""

    def checked(argument: str) -> Callable[[str], str]:
        def check(value: str) -> str:
            if not value.strip() or len(value) > 20:
                raise InvalidArgument(argument, "must be a key such as 2024-04 or 3-4")
            return value.strip()

        return check

    round_key = context.argument(args["round"], String, checked("round"))
    question_key = context.argument(args[question_argument], String, checked(question_argument))
    question, question_conditions = scoped(REGISTRY["AssessmentQuestion"], context)
    question_t, round_t = AssessmentQuestion.__table__, AssessmentRound.__table__
    found = [
        on(question, question_t.c.key) == question_key,
        on(question, question_t.c.framework_id).in_(
            select(round_t.c.framework_id).where(round_t.c.key == round_key)
        ),
        *question_conditions,
    ]
    counts = (
        func.dxlink_answer_counts(round_key, question_key)
        .table_valued("option_id", "municipalities")
        .alias()
    )
    return round_key, question, found, counts, _suppressed(counts, context)


def _per_option(
    question: Any, counts: Any, context: Context
) -> tuple[Any, ColumnElement[Any], Callable[[list[ColumnElement[Any] | str]], Any]]:
    """The question's options (scoped), each option's count, and the ordered sub-select of one
    JSON item per option: what `assessmentAnswerCounts` and `assessmentAggregate` share."""
    option_spec = REGISTRY["AssessmentOption"]
    option, option_conditions = scoped(option_spec, context)
    option_t, question_t = AssessmentOption.__table__, AssessmentQuestion.__table__
    count = (
        select(counts.c.municipalities)
        .where(counts.c.option_id == on(option, option_t.c.id))
        .scalar_subquery()
    )

    def rows(item: list[ColumnElement[Any] | str]) -> Any:
        return (
            select(concat(*item).label("item"))
            .select_from(option)
            .where(
                on(option, option_t.c.question_id) == on(question, question_t.c.id),
                *option_conditions,
            )
            .order_by(*[on(option, o) for o in option_spec.order_by])
            .correlate(question)
            .subquery()
        )

    return option, count, rows


def _assessment_aggregate(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    _, question, found, counts, suppressed = _answer_scope(args, context, "questionId")
    option, count, option_rows = _per_option(question, counts, context)
    option_t = AssessmentOption.__table__
    item: list[ColumnElement[Any] | str] = []
    assert node.selection_set is not None
    for field in fields(node.selection_set, "AssessmentAggregateCount", context):
        item.append(key((field.alias or field.name).value, not item))
        match field.name.value:
            case "__typename":
                item.append('"AssessmentAggregateCount"')
            case "option":
                item.append(json(on(option, option_t.c.label)))
            case "count":
                item.append(json(case((suppressed, None), else_=count)))
            case other:
                raise NotCompilable(f"AssessmentAggregateCount.{other}")
    item.append("}")
    rows = option_rows(item)
    body = (
        select(json_array(rows.c.item, None, rows))
        .select_from(question)
        .where(*found)
        .scalar_subquery()
    )
    return func.coalesce(body, text("null"))


def _answer_counts(node: FieldNode, args: dict[str, Arg], context: Context) -> Any:
    round_key, question, found, counts, suppressed = _answer_scope(args, context, "question")
    question_spec, option_spec = REGISTRY["AssessmentQuestion"], REGISTRY["AssessmentOption"]
    parts: list[ColumnElement[Any] | str] = []
    assert node.selection_set is not None
    for field in fields(node.selection_set, "AnswerDistribution", context):
        parts.append(key((field.alias or field.name).value, not parts))
        match field.name.value:
            case "__typename":
                parts.append('"AnswerDistribution"')
            case "round":
                parts.append(json(round_key))
            case "suppressed":
                parts.append(json(suppressed))
            case "question":
                assert field.selection_set is not None
                parts.append(object_(question_spec, question, field.selection_set, context))
            case "counts":
                assert field.selection_set is not None
                option, count, option_rows = _per_option(question, counts, context)
                item: list[ColumnElement[Any] | str] = []
                for sub in fields(field.selection_set, "AnswerCount", context):
                    item.append(key((sub.alias or sub.name).value, not item))
                    match sub.name.value:
                        case "__typename":
                            item.append('"AnswerCount"')
                        case "count":
                            item.append(json(case((suppressed, None), else_=count)))
                        case "option":
                            assert sub.selection_set is not None
                            item.append(object_(option_spec, option, sub.selection_set, context))
                        case other:
                            raise NotCompilable(f"AnswerCount.{other}")
                item.append("}")
                rows = option_rows(item)
                parts.append(json_array(rows.c.item, None, rows))
            case other:
                raise NotCompilable(f"AnswerDistribution.{other}")
    parts.append("}")
    body = select(concat(*parts)).select_from(question).where(*found).scalar_subquery()
    return func.coalesce(body, text("null"))


ROOTS: dict[str, RootBuilder] = {
    "municipalities": _municipalities,
    "municipality": _by_code("Municipality"),
    "prefecture": _by_code("Prefecture"),
    "regions": _all("Region"),
    "prefectures": _all("Prefecture"),
    "tiers": _all("Tier"),
    "standardDatasets": _all("StandardDataset"),
    "licenses": _all("License"),
    "datasetThemes": _all("DatasetTheme"),
    "datasets": catalog.datasets,
    "dataset": catalog.dataset,
    "openDataCoverage": catalog.coverage_cells,
    "openDataPublishersByYear": catalog.publishers_by_year,
    "overdueDatasets": catalog.overdue_datasets,
    "assessmentFrameworks": _all("AssessmentFramework"),
    "assessmentFramework": _framework,
    "publishedStatistics": _statistics,
    "node": _node,
    "experts": _experts,
    "dispatchRequests": _dispatch_requests,
    "assignments": _assignments,
    "dispatchAssignments": _assignment_list,
    "dispatchProgrammes": _all("DispatchProgramme"),
    "dispatchProgramme": _programme,
    "auditLog": _audit_log,
    "viewer": _viewer,
    "tierDistribution": _tier_distribution,
    "tierTransitions": _tier_transitions,
    "kpiProgress": _kpi_progress,
    "assessmentAnswerCounts": _answer_counts,
    "assessmentAggregate": _assessment_aggregate,
    "dxGoals": wg.dx_goals,
    "dxGoal": wg.dx_goal,
    "workingGroups": wg.working_groups,
    "workingGroup": wg.working_group,
    "participationCoverage": wg.participation_coverage,
}

# The tables each root's answer depends on beyond what its statement reads directly: those its
# definer functions count. A document is cached (service/result_cache.py) only when every root
# field is here and its statement reads no table but public reference data; every table named
# here and every public table has the statement-level trigger announcing its changes (migration
# c6d7e8f9a0b1, `WATCHED_TABLES`).
_TIERS = frozenset({"tier_assignment", "support_tier"})
_ANSWERS = frozenset(
    {
        "assessment_round",
        "assessment_question",
        "assessment_option",
        "assessment_response",
        "assessment_answer",
        "assessment_answer_option",
    }
)
ROOT_TABLES: dict[str, frozenset[str]] = {
    "tierDistribution": _TIERS,  # dxlink_tier_counts, dxlink_latest_tier_snapshot
    "tierTransitions": _TIERS,  # dxlink_tier_transitions
    "kpiProgress": _TIERS | {"municipality", "region"},  # dxlink_kpi_by_region
    "assessmentAnswerCounts": _ANSWERS,  # dxlink_answer_counts
    "assessmentAggregate": _ANSWERS,
    "publishedStatistics": frozenset({"published_statistic"}),
    "tiers": frozenset({"support_tier"}),
}
