"""The one declaration of how GraphQL types and fields map to tables, columns and relations.

Every GraphQL object type backed by a table is declared with `sql_type(...)` next to its strawberry
class. The declaration is the single source both executors read:
- the resolver path (`service/reads.py`, `resolvers/loaders.py`) builds its SQLAlchemy Core
  selects and DataLoader batches from it;
- the compiled read path (performance issue) turns a validated operation into one SQL statement
  from the same fields, so a field added here is served by both.

Scalar fields map to SQL expressions over the type's table (a column, or an expression such as a
label computed in SQL, so both executors serialise it identically). Object fields map to `ToOne`
(a reference held by this table) or `ToMany` (rows of the target table that point back here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, null

T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class Column:
    """A scalar field read from a SQL expression over the type's own table."""

    expr: ColumnElement[Any]


@dataclass(frozen=True)
class ToOne:
    """An object field: the row of ``target`` whose ``remote`` equals this row's ``local``.

    With ``order_by``, several rows may match and the field is the first of them in that order
    (a municipality's latest tier: the first of its tier history, newest first).
    """

    target: str
    local: ColumnElement[Any]
    remote: ColumnElement[Any]
    order_by: tuple[ColumnElement[Any], ...] = ()


@dataclass(frozen=True)
class ToMany:
    """A list field: the rows of ``target`` whose ``remote`` equals this row's ``local``.

    With ``through`` (an association table and its join condition with the target), ``remote``
    is a column of the association table: a many-to-many relation.
    """

    target: str
    local: ColumnElement[Any]
    remote: ColumnElement[Any]
    order_by: tuple[ColumnElement[Any], ...] = ()
    through: tuple[Table, ColumnElement[bool]] | None = None


FieldMap = Column | ToOne | ToMany

KEY = "__key"  # label of the node key in every select


@dataclass
class SqlType:
    """How one GraphQL object type is read from its table."""

    name: str
    cls: type
    table: Table
    key: ColumnElement[Any]
    fields: Mapping[str, FieldMap]
    order_by: tuple[ColumnElement[Any], ...]
    node: bool = True
    _columns: dict[frozenset[str], list[ColumnElement[Any]]] = field(
        default_factory=dict, repr=False
    )

    def reference_label(self, local: ColumnElement[Any]) -> str:
        """Label under which a relation's local column is selected (``__ref_region_id``)."""
        return f"__ref_{local.key}"

    def select_columns(self, hidden: frozenset[str] = frozenset()) -> list[ColumnElement[Any]]:
        """Every column the resolver path selects: scalars, the node key, references.

        A ``hidden`` field is selected as NULL: the policy hides it in SQL, so any executor
        reading this declaration hides it the same way.
        """
        cached = self._columns.get(hidden)
        if cached is None:
            cols: list[ColumnElement[Any]] = [self.key.label(KEY)]
            references: dict[str, ColumnElement[Any]] = {}
            for name, spec in self.fields.items():
                if isinstance(spec, Column):
                    expr = null() if name in hidden else spec.expr
                    cols.append(expr.label(name))
                else:
                    references[self.reference_label(spec.local)] = spec.local
            cols.extend(expr.label(label) for label, expr in references.items())
            cached = self._columns[hidden] = cols
        return cached

    def build(self, row: Mapping[str, Any]) -> Any:
        """Construct the strawberry object for one selected row."""
        values = {name: row[name] for name, spec in self.fields.items() if isinstance(spec, Column)}
        return self.cls(sql_row=row, **values)

    def relation(self, name: str) -> ToOne | ToMany:
        spec = self.fields[name]
        if isinstance(spec, Column):
            raise TypeError(f"{self.name}.{name} is a scalar field, not a relation")
        return spec


REGISTRY: dict[str, SqlType] = {}


def sql_type(
    table: Table,
    *,
    key: ColumnElement[Any],
    fields: Mapping[str, FieldMap],
    order_by: Sequence[ColumnElement[Any]] = (),
    node: bool = True,
) -> Callable[[T], T]:
    """Class decorator declaring how a strawberry type is read (see module docstring)."""

    def register(cls: T) -> T:
        definition = getattr(cls, "__strawberry_definition__", None)
        name = definition.name if definition is not None else cls.__name__
        spec = SqlType(
            name=name,
            cls=cls,
            table=table,
            key=key,
            fields=fields,
            order_by=tuple(order_by) or (key,),
            node=node,
        )
        REGISTRY[name] = spec
        cls.__sql__ = spec  # type: ignore[attr-defined]
        return cls

    return register


def sql_type_of(obj_or_cls: Any) -> SqlType:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    spec: SqlType = cls.__sql__
    return spec
