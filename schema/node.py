"""The Relay `Node` interface and its opaque global ids."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import strawberry

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
    if not sep or spec is None or not spec.node:
        raise InvalidArgument(argument, "malformed id")
    try:
        return spec, spec.key.type.python_type(key)
    except ValueError as exc:
        raise InvalidArgument(argument, "malformed id") from exc


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    sql_row: strawberry.Private[Mapping[str, Any]]

    @strawberry.field(description="Opaque global id; stable across releases.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id(sql_type_of(self).name, self.sql_row[KEY]))
