"""package_search's parameters as the catalog search's SQL: ``q``, ``fq``, ``sort``, facets.

``q`` is the catalog's own search (`search.parse`, `search.dataset_conditions`: Japanese partial
words, width and kana folding), not Solr syntax; ``*:*`` or nothing means every dataset.
``fq`` takes ``field:value`` terms joined by spaces or ``AND`` (values may be quoted), each
narrowing the result: ``organization:<code>`` (any publisher of a joint dataset),
``tags:<keyword>``, ``res_format:<format>`` (any distribution, case-insensitive) and
``license_id:<key>``; ``dataset_type:dataset``, which CKAN tools add, holds for every
package. At most 20 terms. ``sort`` is a comma-separated list of ``<field> asc|desc`` among
``score`` (relevance, with ``q``), ``metadata_modified``, ``metadata_created``,
``title_string`` and ``name``; ties are broken by id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, any_, cast, false, func, literal_column, select

from service.errors import InvalidArgument
from service.geography.codes import require_valid_code
from service.open_data import search
from service.open_data.catalog import checked_text

dataset_t = search.dataset_t

DEFAULT_SORT = "score desc, metadata_modified desc"
FQ_FIELDS = ("organization", "tags", "res_format", "license_id", "dataset_type")
MAX_FQ_TERMS = 20
# CKAN facet names and the catalog facets (service/open_data/search.py) that count them.
FACETS = {
    "organization": "publishers",
    "res_format": "formats",
    "license_id": "licenses",
    "tags": None,  # keywords: counted here, the catalog has no keyword facet
}


class ValidationError(Exception):
    """A parameter CKAN would refuse as a "Validation Error": ``{parameter: [reason]}``."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


@dataclass(frozen=True)
class Query:
    where: list[ColumnElement[bool]]
    text: search.Query | None


_TERM = re.compile(r'\s*(?:(AND)(?=\s|$)|\+?([A-Za-z_]+):(?:"((?:[^"\\]|\\.)*)"|([^\s"]+)))')


def parse_fq(fq: str) -> dict[str, list[str]]:
    """The filters of an ``fq``, by field; `ValidationError` for anything else."""
    filters: dict[str, list[str]] = {}
    position = 0
    fq = fq.strip()
    while position < len(fq):
        if fq.startswith("*:*", position):
            position += 3
            continue
        match = _TERM.match(fq, position)
        if match is None or match.end() == position:
            rest = fq[position:].strip()
            if not rest:
                break
            raise ValidationError(
                "fq",
                f"cannot read {rest[:40]!r}: use field:value terms ("
                + ", ".join(FQ_FIELDS)
                + ") joined by spaces or AND",
            )
        position = match.end()
        if match.group(1):
            continue
        name = match.group(2)
        value = match.group(3) if match.group(3) is not None else match.group(4)
        value = re.sub(r"\\(.)", r"\1", value).strip()
        if name not in FQ_FIELDS:
            raise ValidationError(
                "fq", f"unknown field {name!r}; the fields are " + ", ".join(FQ_FIELDS)
            )
        if not value:
            raise ValidationError("fq", f"{name} needs a value")
        filters.setdefault(name, []).append(value)
        if sum(map(len, filters.values())) > MAX_FQ_TERMS:
            raise ValidationError("fq", f"must hold at most {MAX_FQ_TERMS} terms")
    return filters


def _filter(argument: str, check: Callable[[str], str]) -> Callable[[str], str]:
    def run(value: str) -> str:
        try:
            return check(value)
        except InvalidArgument as exc:
            raise ValidationError("fq", f"{argument}: {exc.message}") from exc

    return run


def build(q: str | None, fq: str | None) -> Query:
    """The conditions of a search (without the policy's: the reads add it)."""
    text = None
    if q is not None and q.strip() not in ("", "*:*"):
        try:
            text = search.parse(q, "q")
        except InvalidArgument as exc:
            raise ValidationError("q", exc.message) from exc
    where = search.dataset_conditions(
        terms=search.term_values(text) if text else None, grams=text.grams if text else None
    )
    for name, values in parse_fq(fq or "").items():
        for value in values:
            match name:
                case "organization":
                    code = _filter(name, lambda v: require_valid_code(v, "organization"))(value)
                    where += search.dataset_conditions(publisher=code)
                case "res_format":
                    format_ = _filter(name, checked_text("res_format"))(value)
                    where += search.dataset_conditions(format=format_)
                case "license_id":
                    license_ = _filter(name, checked_text("license_id"))(value)
                    where += search.dataset_conditions(license=license_)
                case "tags":
                    tag = _filter(name, checked_text("tags"))(value)
                    where.append(tag == any_(dataset_t.c.keywords))
                case "dataset_type" if value != "dataset":
                    where.append(false())  # every package is a dataset
    return Query(where, text)


def order_by(sort: str, text: search.Query | None) -> list[ColumnElement[Any]]:
    """ORDER BY of a ``sort`` parameter; `ValidationError` for a field or order it lacks."""
    keys: list[ColumnElement[Any]] = []
    for clause in sort.split(","):
        parts = clause.split()
        if not parts:
            continue
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise ValidationError("sort", f"cannot read {clause.strip()!r}: use '<field> asc|desc'")
        field, descending = parts[0], len(parts) == 2 and parts[1].lower() == "desc"
        match field:
            case "score":
                if text is None:
                    continue  # without q every dataset scores alike
                expr: ColumnElement[Any] = search.relevance(search.term_values(text), text.whole)
            case "metadata_modified":
                expr = dataset_t.c.updated_at
            case "metadata_created":
                expr = dataset_t.c.created_at
            case "title_string":
                # By code point, as the catalog's title order (search.dataset_ordering).
                expr = dataset_t.c.title.collate("C")
            case "name":
                expr = dataset_t.c.identifier.collate("C")
            case _:
                raise ValidationError(
                    "sort",
                    f"unknown field {field!r}; the fields are score, metadata_modified, "
                    "metadata_created, title_string and name",
                )
        keys.append(expr.desc() if descending else expr.asc())
    return [*keys, dataset_t.c.id.desc()]


def facet_fields(value: Any) -> list[str]:
    """``facet.field``: a list of names, or that list as JSON text (CKAN takes both)."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValidationError("facet.field", "must be a JSON list of field names") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("facet.field", "must be a list of field names")
    unknown = [v for v in value if v not in FACETS]
    if unknown:
        raise ValidationError(
            "facet.field", f"cannot count {unknown[0]!r}; the fields are " + ", ".join(FACETS)
        )
    return list(dict.fromkeys(value))


def facet(name: str, conditions: list[ColumnElement[bool]], limit: int) -> Any:
    """`(value, label, count)` rows of a CKAN facet over the datasets matching ``conditions``
    (which must hold the policy's), the most frequent first."""
    catalog_facet = FACETS[name]
    if catalog_facet is not None:
        return search.facet(catalog_facet, dataset_t, conditions).limit(limit)
    keywords = (
        select(dataset_t.c.id, func.unnest(dataset_t.c.keywords).label("value"))
        .where(*conditions)
        .subquery("keywords")
    )
    return (
        select(
            keywords.c.value,
            cast(None, Text).label("label"),
            func.count(func.distinct(keywords.c.id)).label("count"),
        )
        .group_by(keywords.c.value)
        .order_by(literal_column("count").desc(), keywords.c.value)
        .limit(limit)
    )
