"""Declarative base, naming convention and column helpers shared by every model."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, Integer, MetaData, false, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic migrations can refer to them and autogenerate stays quiet.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def str_enum(enum_class: type[enum.Enum], name: str, length: int) -> Enum:
    """An enumeration stored as its member names in VARCHAR with a CHECK constraint.

    Easier to extend than a native PostgreSQL enum (a migration changes one constraint).
    """
    return Enum(enum_class, name=name, native_enum=False, create_constraint=True, length=length)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def version_column() -> Mapped[int]:
    """The row's version for optimistic concurrency: updates name the version they read."""
    return mapped_column(Integer, default=1, server_default="1", nullable=False)


def synthetic_column() -> Mapped[bool]:
    """True for demo data (`dxlink seed --demo`), never for reference or real data."""
    return mapped_column(Boolean, default=False, server_default=false(), nullable=False)
