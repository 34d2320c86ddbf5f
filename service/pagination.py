"""Keyset (cursor) pagination: stable pages that stay fast however deep a client reads.

A cursor is opaque to clients: base64url of the ordering's name and the sort-key values of the
last row. Sort keys must be NOT NULL (wrap nullable columns in ``coalesce``) and end with a unique
column, so that each row has exactly one position.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, SmallInteger, and_, or_

from service.errors import InvalidArgument


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement[Any]
    descending: bool = False

    def order(self) -> ColumnElement[Any]:
        return self.expr.desc() if self.descending else self.expr.asc()


@dataclass(frozen=True)
class Ordering:
    name: str
    keys: tuple[SortKey, ...]

    def order_by(self) -> list[ColumnElement[Any]]:
        return [key.order() for key in self.keys]

    def labels(self) -> list[str]:
        return [f"__sort{i}" for i in range(len(self.keys))]

    def sort_columns(self) -> list[ColumnElement[Any]]:
        return [key.expr.label(label) for key, label in zip(self.keys, self.labels(), strict=True)]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after the row with these sort-key values."""
        alternatives = []
        for i, key in enumerate(self.keys):
            equal_prefix = [k.expr == v for k, v in zip(self.keys[:i], values[:i], strict=True)]
            beyond = key.expr < values[i] if key.descending else key.expr > values[i]
            alternatives.append(and_(*equal_prefix, beyond))
        return or_(*alternatives)

    def encode_cursor(self, values: Sequence[Any]) -> str:
        plain = [v.isoformat() if isinstance(v, date) else v for v in values]
        raw = json.dumps([self.name, *plain], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode_cursor(self, cursor: str, argument: str = "after") -> list[Any]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidArgument(argument, "malformed cursor") from exc
        if not isinstance(decoded, list) or not decoded:
            raise InvalidArgument(argument, "malformed cursor")
        if decoded[0] != self.name:
            raise InvalidArgument(
                argument, f"cursor belongs to ordering {decoded[0]!r}, not {self.name!r}"
            )
        values = decoded[1:]
        if len(values) != len(self.keys) or not all(
            _fits(key, value) for key, value in zip(self.keys, values, strict=True)
        ):
            raise InvalidArgument(argument, "malformed cursor")
        return [
            date.fromisoformat(v) if key.expr.type.python_type is date else v
            for key, v in zip(self.keys, values, strict=True)
        ]


def _fits(key: SortKey, value: Any) -> bool:
    """Whether a cursor value can be compared with the sort key in SQL (else: not ours)."""
    expected = key.expr.type.python_type
    if expected is int:
        bits = {SmallInteger: 15, BigInteger: 63}.get(type(key.expr.type), 31)
        return type(value) is int and -(2**bits) <= value < 2**bits
    if expected is str:
        return isinstance(value, str) and len(value) <= 1000 and is_storable_text(value)
    if expected is date:
        if not isinstance(value, str) or len(value) != 10:
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def is_storable_text(value: str) -> bool:
    """PostgreSQL text holds neither NUL nor lone UTF-16 surrogates."""
    return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)


def check_page_size(
    first: int | None, *, default: int, maximum: int, argument: str = "first"
) -> int:
    if first is None:
        return default
    if first < 0:
        raise InvalidArgument(argument, "must not be negative")
    if first > maximum:
        raise InvalidArgument(argument, f"must be at most {maximum}, got {first}")
    return first
