"""Prefectures, their regional offices (振興局) and municipalities.

A prefecture level sits above municipalities so the same schema can hold every prefecture of
Japan; Wakayama is 300004. Municipalities are identified by their 6-digit 全国地方公共団体コード.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, created_at_column, str_enum, updated_at_column


def _check_digit_rule(column: str) -> str:
    """SQL for the check digit of a local-government code (weights 6..2, (11 - s % 11) % 10)."""
    digits = [f"substr({column}, {i}, 1)::int" for i in range(1, 7)]
    weighted = " + ".join(f"{w} * {d}" for w, d in zip((6, 5, 4, 3, 2), digits[:5], strict=True))
    return f"(11 - ({weighted}) % 11) % 10 = {digits[5]}"


CODE_RULE = "code ~ '^[0-9]{6}$' AND " + _check_digit_rule("code")


class MunicipalityKind(enum.Enum):
    CITY = "市"
    TOWN = "町"
    VILLAGE = "村"
    WARD = "区"  # special wards of Tokyo, for national scale


class Prefecture(Base):
    __tablename__ = "prefecture"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(20))
    kana: Mapped[str] = mapped_column(String(40))
    romaji: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    regions: Mapped[list[Region]] = relationship(back_populates="prefecture", lazy="raise")

    __table_args__ = (CheckConstraint(CODE_RULE, name="code_valid"),)


class Region(Base):
    """A regional office (振興局) of a prefecture and the municipalities it covers."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefecture_id: Mapped[int] = mapped_column(ForeignKey("prefecture.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(40))
    short_name: Mapped[str] = mapped_column(String(20))
    kana: Mapped[str] = mapped_column(String(60))
    romaji: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    prefecture: Mapped[Prefecture] = relationship(back_populates="regions", lazy="raise")

    __table_args__ = (
        UniqueConstraint("prefecture_id", "name"),
        UniqueConstraint("prefecture_id", "short_name"),
    )


class Municipality(Base):
    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    prefecture_id: Mapped[int] = mapped_column(
        ForeignKey("prefecture.id", ondelete="RESTRICT"), index=True
    )
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    kana: Mapped[str] = mapped_column(String(80))
    romaji: Mapped[str] = mapped_column(String(80))
    kind: Mapped[MunicipalityKind] = mapped_column(
        str_enum(MunicipalityKind, "municipality_kind", 10)
    )
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    prefecture: Mapped[Prefecture] = relationship(lazy="raise")
    region: Mapped[Region | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(CODE_RULE, name="code_valid"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_non_negative"),
    )
