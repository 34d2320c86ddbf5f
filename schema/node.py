"""The Relay `Node` interface and its opaque global ids."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import strawberry
from sqlalchemy import BigInteger, Integer, SmallInteger

from schema.mapping import KEY, REGISTRY, SqlType, sql_type_of
from service.errors import InvalidArgument


def encode_global_id(type_name: str, key: Any) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def decode_global_id(global_id: str, argument: str = "id") -> tuple[SqlType, Any]:
    """The declared type and key an id stands for; InvalidArgument when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode((global_id + "=" * (-len(global_id) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgument(argument, "malformed id") from exc
    type_name, sep, key = raw.partition(":")
    spec = REGISTRY.get(type_name)
    if not sep or spec is None or not spec.node or not _is_canonical_key(spec, key):
        raise InvalidArgument(argument, "malformed id")
    return spec, spec.key.type.python_type(key)


def _is_canonical_key(spec: SqlType, key: str) -> bool:
    """Only ids this API could have issued: no NUL, integers in canonical form and in range."""
    if not key or "\x00" in key:
        return False
    if spec.key.type.python_type is not int:
        return True
    if not key.isascii() or not key.isdigit() or str(int(key)) != key:
        return False
    bits = {SmallInteger: 15, Integer: 31, BigInteger: 63}.get(type(spec.key.type), 31)
    return int(key) < 2**bits


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    sql_row: strawberry.Private[Mapping[str, Any]]

    @strawberry.field(
        description="Opaque global id, stable for the life of the object in this deployment."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id(sql_type_of(self).name, self.sql_row[KEY]))
