"""Catalog search: Japanese-aware matching, filters, orderings and facet counts as SQL.

Japanese has no spaces between words, so the index holds characters and character pairs rather
than words (migration b9c0d1e2f3a4: ``search_grams``, a GIN-indexed array, and
``search_text``, the text normalised by ``dxlink_search_normalize``). A query is normalised the
same way (`normalise`: NFKC, so ＡＥＤ is AED and ｱ is ア; lower case; katakana as hiragana) and
split on whitespace into terms. A dataset matches when, for every term,

- every character of the term is in its text (the index finds these: ``search_grams @> chars``),
- and the term is in the text as it is, or (for a term with Japanese characters) at least half
  of the term's character pairs are: `避難所` finds `指定緊急避難場所一覧` (避難 is there, 難所
  is not), while a Latin term such as `aed` must appear as written.

Relevance counts where the terms are (the title weighs more than description and keywords).
Every function here returns SQLAlchemy expressions whose values may be plain Python values (the
resolver path) or bind parameters (the compiled path), so both executors run the same SQL.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    Text,
    and_,
    any_,
    case,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from service.errors import InvalidArgument
from service.models import (
    Dataset,
    DatasetPublisher,
    DatasetTheme,
    Distribution,
    License,
    Municipality,
    Prefecture,
    Region,
    StandardDataset,
)
from service.pagination import Ordering, SortKey

dataset_t = Dataset.__table__
publisher_t = DatasetPublisher.__table__
distribution_t = Distribution.__table__
municipality_t = Municipality.__table__
prefecture_t = Prefecture.__table__
region_t = Region.__table__
standard_t = StandardDataset.__table__
theme_t = DatasetTheme.__table__
license_t = License.__table__

MAX_SEARCH_LENGTH = 200
MAX_TERMS = 10
FACET_LIMIT = 50  # values per facet, most frequent first

_KATAKANA_TO_HIRAGANA = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def normalise(value: str) -> str:
    """As ``dxlink_search_normalize`` in SQL: NFKC, ASCII lower case, katakana as hiragana."""
    folded = unicodedata.normalize("NFKC", value)
    return folded.translate(_ASCII_LOWER).translate(_KATAKANA_TO_HIRAGANA)


@dataclass(frozen=True)
class Term:
    """One word of a query: its normalised text, whether it is Latin (found only as written),
    and its character pairs (a Japanese word matches with at least one of them), as a regular
    expression matching any of them."""

    text: str
    latin: bool
    pairs: list[str]

    @property
    def pattern(self) -> str:
        return "|".join(_escape_regex(pair) for pair in self.pairs)


_REGEX_SPECIAL = set(".^$*+?()[]{}|\\-")


def _escape_regex(text: str) -> str:
    return "".join(f"\\{c}" if c in _REGEX_SPECIAL else c for c in text)


@dataclass(frozen=True)
class Query:
    """A search text as terms (normalised), the grams every match holds (each term's
    characters, and the pairs of Latin terms) and the whole normalised query."""

    terms: list[Term]
    grams: list[str]
    whole: str


def parse(search: str, argument: str = "search") -> Query | None:
    """The query of a search text; None when it holds nothing to search for."""
    if len(search) > MAX_SEARCH_LENGTH:
        raise InvalidArgument(argument, f"must be at most {MAX_SEARCH_LENGTH} characters")
    words = list(dict.fromkeys(normalise(search).split()))
    if len(words) > MAX_TERMS:
        raise InvalidArgument(argument, f"must hold at most {MAX_TERMS} words")
    if not words:
        return None
    terms = []
    grams: set[str] = set()
    for word in words:
        latin = all(" " <= c <= "~" for c in word)
        pairs = sorted({word[i : i + 2] for i in range(len(word) - 1)})
        terms.append(Term(word, latin, pairs))
        # A Latin word is found as written: its pairs are all there, and they find far fewer
        # candidates than its letters. A Japanese word holds every one of its characters.
        grams.update(pairs if latin and pairs else word)
    return Query(terms=terms, grams=sorted(grams), whole=" ".join(words))


@dataclass(frozen=True)
class TermValues:
    """A term's values in SQL: Python values, or the compiled path's bind parameters."""

    text: Any
    latin: Any
    pattern: Any


def term_values(query: Query) -> list[TermValues]:
    return [TermValues(t.text, t.latin, t.pattern) for t in query.terms]


def _texts(value: Any) -> Any:
    return value if isinstance(value, ColumnElement) else cast(value, ARRAY(Text))


def search_condition(
    terms: Sequence[TermValues], grams: Any, table: Any = dataset_t
) -> ColumnElement[bool]:
    """Datasets matching every term (see the module's docstring)."""
    candidates = found(grams)
    return and_(table.c.id.in_(select(candidates.c.id)), *term_conditions(terms, table))


def term_conditions(terms: Sequence[TermValues], table: Any) -> list[ColumnElement[bool]]:
    """Each term is in the text as written, or (a Japanese term) one of its pairs is."""
    return [
        or_(
            func.strpos(table.c.search_text, term.text) > 0,
            and_(
                ~cast(term.latin, Boolean),
                table.c.search_text.regexp_match(cast(term.pattern, Text)),
            ),
        )
        for term in terms
    ]


# What `dxlink_search_datasets` returns of each dataset (migration b9c0d1e2f3a4).
FOUND_COLUMNS = (
    "id", "title", "status", "standard_dataset_id", "license", "issued_on", "modified_on",
    "themes", "search_title", "search_text", "publisher_codes", "formats",
)  # fmt: skip


def found(grams: Any) -> Any:
    """The datasets holding every gram that the principal may read, as a row source with the
    dataset's columns by name. Row-level security keeps the planner from using the GIN index
    beneath its policy (array containment is not leakproof), so a SECURITY DEFINER function
    applying the read policy's own rule finds them by index."""
    columns = [dataset_t.c[name] for name in FOUND_COLUMNS]
    return (
        func.dxlink_search_datasets(_texts(grams))
        .table_valued(*[column(c.name, c.type) for c in columns])
        .alias("found")
    )


def relevance(terms: Sequence[TermValues], whole: Any, table: Any = dataset_t) -> Any:
    """A score: per term 4 in the title, 2 in the text as written, 1 otherwise; plus 4 for a
    title that is the whole query, 2 for one that starts with it."""
    score: Any = case(
        (table.c.search_title == whole, 4),
        (func.starts_with(table.c.search_title, whole), 2),
        else_=0,
    )
    for term in terms:
        score = score + case(
            (func.strpos(table.c.search_title, term.text) > 0, 4),
            (func.strpos(table.c.search_text, term.text) > 0, 2),
            else_=1,
        )
    return cast(score, Integer)


def dataset_conditions(
    *,
    terms: Sequence[TermValues] | None = None,
    grams: Any = None,
    publisher: Any = None,
    region: Any = None,
    theme: Any = None,
    standard_dataset: Any = None,
    format: Any = None,
    license: Any = None,
    modified_since: Any = None,
    table: Any = dataset_t,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a catalog search (None: that filter is not given)."""
    where: list[ColumnElement[bool]] = []
    if terms is not None:
        where.append(search_condition(terms, grams, table))
    if publisher is not None:
        # A municipality's or a prefecture's 全国地方公共団体コード: two index lookups (an OR of
        # the two, the planner estimated at most of the table, and scanned it).
        by_municipality = select(publisher_t.c.dataset_id).where(
            publisher_t.c.municipality_id.in_(
                select(municipality_t.c.id).where(municipality_t.c.code == publisher)
            )
        )
        by_prefecture = select(publisher_t.c.dataset_id).where(
            publisher_t.c.prefecture_id.in_(
                select(prefecture_t.c.id).where(prefecture_t.c.code == publisher)
            )
        )
        where.append(table.c.id.in_(by_municipality.union_all(by_prefecture)))
    if region is not None:
        where.append(
            table.c.id.in_(
                select(publisher_t.c.dataset_id)
                .join(municipality_t, municipality_t.c.id == publisher_t.c.municipality_id)
                .where(municipality_t.c.region_id.in_(region_named(region)))
            )
        )
    if theme is not None:
        where.append(theme == any_(table.c.themes))
    if standard_dataset is not None:
        where.append(
            table.c.standard_dataset_id.in_(
                select(standard_t.c.id).where(standard_t.c.key == standard_dataset)
            )
        )
    if format is not None:
        where.append(
            table.c.id.in_(
                select(distribution_t.c.dataset_id).where(
                    func.upper(distribution_t.c.format) == func.upper(format)
                )
            )
        )
    if license is not None:
        where.append(table.c.license == license)
    if modified_since is not None:
        where.append(table.c.modified_on >= modified_since)
    return where


def region_named(name: Any) -> Any:
    """The ids of the regions of that name (full, 海草振興局, or short, 海草)."""
    return select(region_t.c.id).where(or_(region_t.c.name == name, region_t.c.short_name == name))


# Before any dataset's date, for datasets without one (sort keys are NOT NULL); not date.min,
# which asyncpg sends as -infinity.
_EPOCH = date(1000, 1, 1)


def dataset_ordering(field: str, descending: bool, query: tuple[Any, Any] | None) -> Ordering:
    """Orderings of the catalog; ties broken by id. ``query`` (terms, whole) for relevance."""
    modified = func.coalesce(dataset_t.c.modified_on, cast(_EPOCH, Date))
    issued = func.coalesce(dataset_t.c.issued_on, cast(_EPOCH, Date))
    match field:
        case "relevance" if query is not None:
            score = relevance(query[0], query[1])
            return Ordering(
                "datasets:relevance",
                (
                    SortKey(score, True),
                    SortKey(modified, True),
                    SortKey(dataset_t.c.id, True),
                ),
            )
        case "relevance" | "modified":
            keys: tuple[SortKey, ...] = (SortKey(modified, descending),)
        case "issued":
            keys = (SortKey(issued, descending),)
        case "title":
            # By code point, so that every server's collation orders alike.
            keys = (SortKey(dataset_t.c.title.collate("C"), descending),)
        case _:
            raise InvalidArgument("orderBy", f"unknown field {field!r}")
    name = f"datasets:{'modified' if field == 'relevance' else field}:{int(descending)}"
    return Ordering(name, (*keys, SortKey(dataset_t.c.id, descending)))


# --- facets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetCount:
    value: str
    label: str | None
    count: int


FACETS = ("publishers", "themes", "formats", "licenses")


def facet(name: str, table: Any, conditions: Sequence[ColumnElement[bool]]) -> Any:
    """`(value, label, count)` rows of one facet over the datasets of ``table`` (the table, an
    alias of it, or a search's matches: anything with the dataset's columns by name) that
    satisfy ``conditions``: the most frequent first, then by value, at most FACET_LIMIT."""
    match name:
        case "publishers":
            values = func.unnest(table.c.publisher_codes)
        case "themes":
            values = func.unnest(table.c.themes)
        case "formats":
            values = func.unnest(table.c.formats)
        case "licenses":
            values = table.c.license
        case _:
            raise ValueError(name)
    rows = select(cast(values, Text).label("value")).where(*conditions, true()).subquery()
    top = (
        select(rows.c.value, func.count().label("count"))
        .group_by(rows.c.value)
        .order_by(literal_column("count").desc(), rows.c.value)
        .limit(FACET_LIMIT)
        .subquery()
    )
    label: Any
    match name:
        case "publishers":
            label = func.coalesce(
                select(municipality_t.c.name)
                .where(municipality_t.c.code == top.c.value)
                .scalar_subquery(),
                select(prefecture_t.c.name)
                .where(prefecture_t.c.code == top.c.value)
                .scalar_subquery(),
            )
        case "themes":
            label = select(theme_t.c.name).where(theme_t.c.code == top.c.value).scalar_subquery()
        case "licenses":
            label = select(license_t.c.name).where(license_t.c.key == top.c.value).scalar_subquery()
        case _:
            label = cast(None, Text)
    return select(top.c.value, label.label("label"), top.c.count).order_by(
        top.c.count.desc(), top.c.value
    )
