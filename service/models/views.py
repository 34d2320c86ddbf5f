"""Views the read path declares types over (migrations create them; Alembic does not manage
them: they live in a MetaData of their own)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
)

VIEWS = MetaData()


def _months(name: str, key: str) -> Table:
    return Table(
        name,
        VIEWS,
        Column(key, Integer, primary_key=True),
        Column("month", Date, primary_key=True),
        Column("planned", Integer),
        Column("held", Integer),
        Column("on_site", Integer),
        Column("target", Integer),
        Column("assignments", Integer),
    )


# Sessions per month (Japan's months) of an expert and of a municipality, over all their
# assignments, as far as the viewer may read them (security_invoker views).
expert_month = _months("dispatch_expert_month", "expert_id")
municipality_month = _months("dispatch_municipality_month", "municipality_id")

assignment_month = Table(
    "dispatch_assignment_month",
    VIEWS,
    Column("assignment_id", Integer, primary_key=True),
    Column("expert_id", Integer),
    Column("municipality_id", Integer),
    Column("programme_id", Integer),
    Column("month", Date, primary_key=True),
    Column("planned", Integer),
    Column("held", Integer),
    Column("on_site", Integer),
    Column("target", Integer),
    Column("maximum", Integer),
)

programme_progress = Table(
    "dispatch_programme_progress",
    VIEWS,
    Column("programme_id", Integer, primary_key=True),
    Column("requests", Integer),
    Column("matched", Integer),
    Column("open", Integer),
    Column("sessions_planned", Integer),
    Column("sessions_held", Integer),
    Column("sessions_held_on_site", Integer),
)

# The open-data catalog's coverage (migration b9c0d1e2f3a4): published datasets per
# municipality and standard dataset, and publishing municipalities per fiscal year.
catalog_coverage = Table(
    "catalog_coverage",
    VIEWS,
    Column("municipality_id", Integer, primary_key=True),
    Column("standard_dataset_id", Integer, primary_key=True),
    Column("datasets", Integer),
    Column("last_modified_on", Date),
)

catalog_publishers_by_year = Table(
    "catalog_publishers_by_year",
    VIEWS,
    Column("prefecture_id", Integer, primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("municipalities", Integer),
    Column("new_municipalities", Integer),
)

# Scores of submitted responses under their round's rubric (migration a5b6c7d8e9f0), as far as
# the viewer may read the response, its answers and the rubric (security_invoker views).
score_point = Table(
    "assessment_score_point",
    VIEWS,
    Column("response_id", Integer, primary_key=True),
    Column("municipality_id", Integer),
    Column("question_id", Integer),
    Column("option_id", Integer, primary_key=True),
    Column("section_id", Integer),
    Column("points", Numeric),
    Column("question_position", Integer),
    Column("option_position", Integer),
)

section_score = Table(
    "assessment_section_score",
    VIEWS,
    Column("response_id", Integer, primary_key=True),
    Column("municipality_id", Integer),
    Column("section_id", Integer, primary_key=True),
    Column("key", String),
    Column("title", String),
    Column("position", Integer),
    Column("weight", Numeric),
    Column("points", Numeric),
    Column("max_points", Numeric),
    Column("score", Numeric),
    Column("max_score", Numeric),
)

score = Table(
    "assessment_score",
    VIEWS,
    Column("response_id", Integer, primary_key=True),
    Column("municipality_id", Integer),
    Column("round_id", Integer),
    Column("rubric_id", Integer),
    Column("submitted_at", DateTime(timezone=True)),
    Column("total", Numeric),
    Column("max_total", Numeric),
    Column("computed_level", SmallInteger),
)
