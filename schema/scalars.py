"""Scalars serialised the same way by both executors.

The compiled path writes JSON in SQL (service/compiler/text.py); the resolver path writes it
with orjson. Where the two would write one value differently, the scalar here writes the text
PostgreSQL writes, and hands it to orjson as a `Fragment` (embedded as is):

- `Float`: as PostgreSQL writes a float8 (shortest round-trip digits, like Python's `repr`,
  but `60` where Python writes `60.0`, and exponents from 1e15 and below 1e-4, written with two
  digits at least: `1e+15`, `2.5e-07`). Columns are read as that text (`float_column`), on
  both paths; a float computed in Python is written the same way (`float_text`, checked
  against PostgreSQL's output for every magnitude below 2^53 in tests/test_scalars.py).
- `BigInt`: a 64-bit integer as a JSON number (GraphQL's `Int` is 32-bit); exact in JavaScript
  up to 2^53, beyond any byte size a dataset will have.
- `JSON`: a document the database holds (jsonb), as PostgreSQL writes it: the columns are read as
  text on both paths, so no decoding and re-encoding changes its spacing or key order.
"""

from __future__ import annotations

import math
from typing import Any, NewType

import orjson
import strawberry
from sqlalchemy import ColumnElement, Text, case, cast, func, literal_column
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

# PostgreSQL's float8out writes decimals for decimal exponents in [-4, 15) (DBL_DIG is 15).
_DECIMAL_EXPONENTS = range(-4, 15)


def float_text(value: float) -> str:
    """``value`` as PostgreSQL writes a float8 (extra_float_digits = 1, the default)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"Float cannot represent non-finite value: {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, magnitude = ("-", -value) if value < 0 else ("", value)
    if magnitude.is_integer() and magnitude < 2**53:
        # Ryu's small-integer case, as PostgreSQL has it: the integer's exact digits.
        whole = str(int(magnitude))
        digits, exp10 = whole.rstrip("0"), len(whole) - 1
    else:
        mantissa, _, exponent = repr(magnitude).partition("e")
        whole, _, fraction = mantissa.partition(".")
        digits = (whole + fraction).lstrip("0").rstrip("0") or "0"
        if whole.strip("0"):
            exp10 = len(whole.lstrip("0")) - 1
        else:
            exp10 = -(len(fraction) - len(fraction.lstrip("0")) + 1)
        exp10 += int(exponent or 0)
    if exp10 in _DECIMAL_EXPONENTS:
        if exp10 >= 0:
            integer = digits[: exp10 + 1].ljust(exp10 + 1, "0")
            decimals = digits[exp10 + 1 :]
        else:
            integer, decimals = "0", "0" * (-exp10 - 1) + digits
        return sign + integer + (f".{decimals}" if decimals else "")
    scientific = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
    return f"{sign}{scientific}e{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}"


def float_fragment(value: Any) -> orjson.Fragment:
    """A `Float` field's value as JSON text: the database's text (`float_column`), or a
    number written as PostgreSQL would write it. (graphql-core allows no second `Float`
    scalar: service/execution.py applies this to the built-in one.)"""
    if isinstance(value, str):
        return orjson.Fragment(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # Decimal
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Float cannot represent {value!r}") from exc
    return orjson.Fragment(float_text(float(value)))


def _serialize_bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"BigInt cannot represent {value!r}")
    if not -(2**63) <= value < 2**63:
        raise TypeError(f"BigInt cannot represent {value!r}: not a 64-bit integer")
    return value


def _serialize_json(value: Any) -> orjson.Fragment:
    if not isinstance(value, str):
        raise TypeError("JSON values are read as the database's text")
    return orjson.Fragment(value)


def _parse_json(value: Any) -> Any:
    return value


# The Python types of the fields; their GraphQL scalars are in SCALAR_MAP (strawberry's config).
BigInt = NewType("BigInt", int)
JSON = NewType("JSON", str)

SCALAR_MAP = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A 64-bit integer, as a JSON number (exact in JavaScript up to 2^53).",
        serialize=_serialize_bigint,
        parse_value=_serialize_bigint,
    ),
    JSON: strawberry.scalar(
        name="JSON",
        description="A JSON document as the database holds it (keys in its order).",
        serialize=_serialize_json,
        parse_value=_parse_json,
    ),
}


def float_column(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """A number column read as PostgreSQL writes it as a float8, for a `Float` field: both
    executors then send the database's text (a non-finite value, which JSON cannot hold, as
    null)."""
    as_float = cast(expr, DOUBLE_PRECISION)
    # PostgreSQL orders NaN above infinity: neither is below it.
    finite = func.abs(as_float) < literal_column("'Infinity'::float8")
    return case((finite, cast(as_float, Text)), else_=None)


def json_column(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """A json/jsonb column read as its text, for a `JSON` field (see the module's docstring)."""
    return cast(expr, Text)
