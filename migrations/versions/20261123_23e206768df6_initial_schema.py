"""Initial schema: every domain table of the platform (see service/models/).

Revision ID: 23e206768df6
Revises:
Create Date: 2026-11-23 13:01:50.361323
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "23e206768df6"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Generated from the models by Alembic autogenerate, then reviewed.
    op.create_table(
        "assessment_framework",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_framework")),
        sa.UniqueConstraint("version", name=op.f("uq_assessment_framework_version")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor_subject", sa.String(length=200), nullable=True),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=80), nullable=False),
        sa.Column("entity_key", sa.String(length=200), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_occurred_at"), "audit_log", ["occurred_at"], unique=False)
    op.create_table(
        "dispatch_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("themes", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column("sessions_per_month_target", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_dispatch_programme_period_ordered")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_programme")),
        sa.UniqueConstraint("fiscal_year", name=op.f("uq_dispatch_programme_fiscal_year")),
    )
    op.create_table(
        "expert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("affiliation", sa.String(length=200), nullable=True),
        sa.Column("main_job", sa.String(length=200), nullable=True),
        sa.Column("themes", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column("monthly_capacity", sa.SmallInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("monthly_capacity >= 0", name=op.f("ck_expert_capacity_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert")),
    )
    op.create_table(
        "prefecture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("kana", sa.String(length=40), nullable=False),
        sa.Column("romaji", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "code ~ '^[0-9]{6}$' AND (11 - (6 * substr(code, 1, 1)::int + 5 * substr(code, 2, 1)::int + 4 * substr(code, 3, 1)::int + 3 * substr(code, 4, 1)::int + 2 * substr(code, 5, 1)::int) % 11) % 10 = substr(code, 6, 1)::int",
            name=op.f("ck_prefecture_code_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prefecture")),
        sa.UniqueConstraint("code", name=op.f("uq_prefecture_code")),
    )
    op.create_table(
        "published_statistic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=300), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_statistic")),
        sa.UniqueConstraint(
            "survey",
            "subject",
            "category",
            name=op.f("uq_published_statistic_survey_subject_category"),
        ),
    )
    op.create_table(
        "standard_dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("file_name_convention", sa.String(length=200), nullable=True),
        sa.Column("legacy_number", sa.String(length=4), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_dataset")),
        sa.UniqueConstraint("key", name=op.f("uq_standard_dataset_key")),
    )
    op.create_table(
        "support_tier",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("label_en", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kpi_target", sa.Boolean(), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name=op.f("ck_support_tier_level_range")),
        sa.PrimaryKeyConstraint("level", name=op.f("pk_support_tier")),
        sa.UniqueConstraint("name", name=op.f("uq_support_tier_name")),
    )
    op.create_table(
        "assessment_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on",
            name=op.f("ck_assessment_round_period_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["assessment_framework.id"],
            name=op.f("fk_assessment_round_framework_id_assessment_framework"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_round")),
        sa.UniqueConstraint("key", name=op.f("uq_assessment_round_key")),
    )
    op.create_index(
        op.f("ix_assessment_round_framework_id"), "assessment_round", ["framework_id"], unique=False
    )
    op.create_table(
        "assessment_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["assessment_framework.id"],
            name=op.f("fk_assessment_section_framework_id_assessment_framework"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_section")),
        sa.UniqueConstraint(
            "framework_id", "key", name=op.f("uq_assessment_section_framework_id_key")
        ),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("keywords", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "PUBLISHED",
                "UNPUBLISHED",
                name="dataset_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("standard_dataset_id", sa.Integer(), nullable=True),
        sa.Column("license", sa.String(length=200), nullable=False),
        sa.Column("update_frequency", sa.String(length=40), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("modified_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["standard_dataset_id"],
            ["standard_dataset.id"],
            name=op.f("fk_dataset_standard_dataset_id_standard_dataset"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("identifier", name=op.f("uq_dataset_identifier")),
    )
    op.create_index(
        op.f("ix_dataset_standard_dataset_id"), "dataset", ["standard_dataset_id"], unique=False
    )
    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefecture_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("short_name", sa.String(length=20), nullable=False),
        sa.Column("kana", sa.String(length=60), nullable=False),
        sa.Column("romaji", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["prefecture_id"],
            ["prefecture.id"],
            name=op.f("fk_region_prefecture_id_prefecture"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region")),
        sa.UniqueConstraint("prefecture_id", "name", name=op.f("uq_region_prefecture_id_name")),
        sa.UniqueConstraint(
            "prefecture_id", "short_name", name=op.f("uq_region_prefecture_id_short_name")
        ),
    )
    op.create_table(
        "assessment_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=10), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SINGLE",
                "MULTIPLE",
                "TEXT",
                "NUMBER",
                name="question_kind",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("follow_up_of_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "key ~ '^[0-9]+-[0-9]+$'", name=op.f("ck_assessment_question_key_format")
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_of_id"],
            ["assessment_question.id"],
            name=op.f("fk_assessment_question_follow_up_of_id_assessment_question"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["assessment_framework.id"],
            name=op.f("fk_assessment_question_framework_id_assessment_framework"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["assessment_section.id"],
            name=op.f("fk_assessment_question_section_id_assessment_section"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_question")),
        sa.UniqueConstraint(
            "framework_id", "key", name=op.f("uq_assessment_question_framework_id_key")
        ),
    )
    op.create_index(
        op.f("ix_assessment_question_section_id"),
        "assessment_question",
        ["section_id"],
        unique=False,
    )
    op.create_table(
        "distribution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("access_url", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("format", sa.String(length=40), nullable=True),
        sa.Column("byte_size", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.String(length=200), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_distribution_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution")),
    )
    op.create_index(
        op.f("ix_distribution_dataset_id"), "distribution", ["dataset_id"], unique=False
    )
    op.create_table(
        "municipality",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("prefecture_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("kana", sa.String(length=80), nullable=False),
        sa.Column("romaji", sa.String(length=80), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CITY",
                "TOWN",
                "VILLAGE",
                "WARD",
                name="municipality_kind",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_year", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "code ~ '^[0-9]{6}$' AND (11 - (6 * substr(code, 1, 1)::int + 5 * substr(code, 2, 1)::int + 4 * substr(code, 3, 1)::int + 3 * substr(code, 4, 1)::int + 2 * substr(code, 5, 1)::int) % 11) % 10 = substr(code, 6, 1)::int",
            name=op.f("ck_municipality_code_valid"),
        ),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0",
            name=op.f("ck_municipality_population_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["prefecture_id"],
            ["prefecture.id"],
            name=op.f("fk_municipality_prefecture_id_prefecture"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
            name=op.f("fk_municipality_region_id_region"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipality")),
        sa.UniqueConstraint("code", name=op.f("uq_municipality_code")),
    )
    op.create_index(
        op.f("ix_municipality_prefecture_id"), "municipality", ["prefecture_id"], unique=False
    )
    op.create_index(op.f("ix_municipality_region_id"), "municipality", ["region_id"], unique=False)
    op.create_table(
        "assessment_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["assessment_question.id"],
            name=op.f("fk_assessment_option_question_id_assessment_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_option")),
        sa.UniqueConstraint(
            "question_id", "label", name=op.f("uq_assessment_option_question_id_label")
        ),
    )
    op.create_table(
        "assessment_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "SUBMITTED",
                "REOPENED",
                name="response_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name=op.f("fk_assessment_response_municipality_id_municipality"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assessment_round.id"],
            name=op.f("fk_assessment_response_round_id_assessment_round"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_response")),
        sa.UniqueConstraint(
            "round_id",
            "municipality_id",
            name=op.f("uq_assessment_response_round_id_municipality_id"),
        ),
    )
    op.create_index(
        op.f("ix_assessment_response_municipality_id"),
        "assessment_response",
        ["municipality_id"],
        unique=False,
    )
    op.create_table(
        "dataset_publisher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("prefecture_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(municipality_id IS NULL) <> (prefecture_id IS NULL)",
            name=op.f("ck_dataset_publisher_one_publisher"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_publisher_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name=op.f("fk_dataset_publisher_municipality_id_municipality"),
        ),
        sa.ForeignKeyConstraint(
            ["prefecture_id"],
            ["prefecture.id"],
            name=op.f("fk_dataset_publisher_prefecture_id_prefecture"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_publisher")),
        sa.UniqueConstraint(
            "dataset_id",
            "municipality_id",
            "prefecture_id",
            name=op.f("uq_dataset_publisher_dataset_id_municipality_id_prefecture_id"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        op.f("ix_dataset_publisher_municipality_id"),
        "dataset_publisher",
        ["municipality_id"],
        unique=False,
    )
    op.create_table(
        "dispatch_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=80), nullable=False),
        sa.Column("goals", sa.Text(), nullable=True),
        sa.Column("required_profile", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name=op.f("fk_dispatch_request_municipality_id_municipality"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["dispatch_programme.id"],
            name=op.f("fk_dispatch_request_programme_id_dispatch_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_request")),
        sa.UniqueConstraint(
            "programme_id",
            "municipality_id",
            "theme",
            name=op.f("uq_dispatch_request_programme_id_municipality_id_theme"),
        ),
    )
    op.create_index(
        op.f("ix_dispatch_request_municipality_id"),
        "dispatch_request",
        ["municipality_id"],
        unique=False,
    )
    op.create_table(
        "tier_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_on", sa.Date(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("computed_level", sa.SmallInteger(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "NOT overridden OR reason IS NOT NULL",
            name=op.f("ck_tier_assignment_override_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["computed_level"],
            ["support_tier.level"],
            name=op.f("fk_tier_assignment_computed_level_support_tier"),
        ),
        sa.ForeignKeyConstraint(
            ["level"], ["support_tier.level"], name=op.f("fk_tier_assignment_level_support_tier")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name=op.f("fk_tier_assignment_municipality_id_municipality"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["assessment_round.id"],
            name=op.f("fk_tier_assignment_round_id_assessment_round"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_assignment")),
        sa.UniqueConstraint(
            "municipality_id",
            "snapshot_on",
            name=op.f("uq_tier_assignment_municipality_id_snapshot_on"),
        ),
    )
    op.create_index(
        op.f("ix_tier_assignment_round_id"), "tier_assignment", ["round_id"], unique=False
    )
    op.create_table(
        "working_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "BUSINESS_CREATION",
                "REGIONAL",
                name="working_group_kind",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PROPOSED",
                "ACTIVE",
                "CLOSED",
                "DECLINED",
                name="working_group_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("public_summary", sa.Text(), nullable=True),
        sa.Column("lead_municipality_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lead_municipality_id"],
            ["municipality.id"],
            name=op.f("fk_working_group_lead_municipality_id_municipality"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
            name=op.f("fk_working_group_region_id_region"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_group")),
        sa.UniqueConstraint("slug", name=op.f("uq_working_group_slug")),
    )
    op.create_index(
        op.f("ix_working_group_lead_municipality_id"),
        "working_group",
        ["lead_municipality_id"],
        unique=False,
    )
    op.create_table(
        "assessment_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("text_value", sa.Text(), nullable=True),
        sa.Column("number_value", sa.Numeric(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["assessment_question.id"],
            name=op.f("fk_assessment_answer_question_id_assessment_question"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["assessment_response.id"],
            name=op.f("fk_assessment_answer_response_id_assessment_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_answer")),
        sa.UniqueConstraint(
            "response_id", "question_id", name=op.f("uq_assessment_answer_response_id_question_id")
        ),
    )
    op.create_index(
        op.f("ix_assessment_answer_question_id"), "assessment_answer", ["question_id"], unique=False
    )
    op.create_table(
        "dispatch_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=80), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PLANNED",
                "ACTIVE",
                "ENDED",
                name="assignment_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("ended_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_dispatch_assignment_period_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["expert.id"], name=op.f("fk_dispatch_assignment_expert_id_expert")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name=op.f("fk_dispatch_assignment_municipality_id_municipality"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dispatch_request.id"],
            name=op.f("fk_dispatch_assignment_request_id_dispatch_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_assignment")),
    )
    op.create_index(
        op.f("ix_dispatch_assignment_expert_id"), "dispatch_assignment", ["expert_id"], unique=False
    )
    op.create_index(
        op.f("ix_dispatch_assignment_municipality_id"),
        "dispatch_assignment",
        ["municipality_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_dispatch_assignment_request_id"),
        "dispatch_assignment",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "working_group_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("working_group_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "REQUESTED",
                "ACTIVE",
                "LEFT",
                name="membership_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name=op.f("fk_working_group_membership_municipality_id_municipality"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["working_group_id"],
            ["working_group.id"],
            name=op.f("fk_working_group_membership_working_group_id_working_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_group_membership")),
        sa.UniqueConstraint(
            "working_group_id",
            "municipality_id",
            name=op.f("uq_working_group_membership_working_group_id_municipality_id"),
        ),
    )
    op.create_index(
        op.f("ix_working_group_membership_municipality_id"),
        "working_group_membership",
        ["municipality_id"],
        unique=False,
    )
    op.create_table(
        "assessment_answer_option",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["assessment_answer.id"],
            name=op.f("fk_assessment_answer_option_answer_id_assessment_answer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["assessment_option.id"],
            name=op.f("fk_assessment_answer_option_option_id_assessment_option"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("answer_id", "option_id", name=op.f("pk_assessment_answer_option")),
    )
    op.create_index(
        op.f("ix_assessment_answer_option_option_id"),
        "assessment_answer_option",
        ["option_id"],
        unique=False,
    )
    op.create_table(
        "dispatch_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(
                "ON_SITE",
                "ONLINE",
                name="visit_mode",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PLANNED",
                "HELD",
                "CANCELLED",
                name="visit_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("theme", sa.String(length=200), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_dispatch_visit_time_ordered")),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["dispatch_assignment.id"],
            name=op.f("fk_dispatch_visit_assignment_id_dispatch_assignment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_visit")),
    )
    op.create_index(
        op.f("ix_dispatch_visit_assignment_id"), "dispatch_visit", ["assignment_id"], unique=False
    )


def downgrade() -> None:
    # Generated from the models by Alembic autogenerate, then reviewed.
    op.drop_index(op.f("ix_dispatch_visit_assignment_id"), table_name="dispatch_visit")
    op.drop_table("dispatch_visit")
    op.drop_index(
        op.f("ix_assessment_answer_option_option_id"), table_name="assessment_answer_option"
    )
    op.drop_table("assessment_answer_option")
    op.drop_index(
        op.f("ix_working_group_membership_municipality_id"), table_name="working_group_membership"
    )
    op.drop_table("working_group_membership")
    op.drop_index(op.f("ix_dispatch_assignment_request_id"), table_name="dispatch_assignment")
    op.drop_index(op.f("ix_dispatch_assignment_municipality_id"), table_name="dispatch_assignment")
    op.drop_index(op.f("ix_dispatch_assignment_expert_id"), table_name="dispatch_assignment")
    op.drop_table("dispatch_assignment")
    op.drop_index(op.f("ix_assessment_answer_question_id"), table_name="assessment_answer")
    op.drop_table("assessment_answer")
    op.drop_index(op.f("ix_working_group_lead_municipality_id"), table_name="working_group")
    op.drop_table("working_group")
    op.drop_index(op.f("ix_tier_assignment_round_id"), table_name="tier_assignment")
    op.drop_table("tier_assignment")
    op.drop_index(op.f("ix_dispatch_request_municipality_id"), table_name="dispatch_request")
    op.drop_table("dispatch_request")
    op.drop_index(op.f("ix_dataset_publisher_municipality_id"), table_name="dataset_publisher")
    op.drop_table("dataset_publisher")
    op.drop_index(op.f("ix_assessment_response_municipality_id"), table_name="assessment_response")
    op.drop_table("assessment_response")
    op.drop_table("assessment_option")
    op.drop_index(op.f("ix_municipality_region_id"), table_name="municipality")
    op.drop_index(op.f("ix_municipality_prefecture_id"), table_name="municipality")
    op.drop_table("municipality")
    op.drop_index(op.f("ix_distribution_dataset_id"), table_name="distribution")
    op.drop_table("distribution")
    op.drop_index(op.f("ix_assessment_question_section_id"), table_name="assessment_question")
    op.drop_table("assessment_question")
    op.drop_table("region")
    op.drop_index(op.f("ix_dataset_standard_dataset_id"), table_name="dataset")
    op.drop_table("dataset")
    op.drop_table("assessment_section")
    op.drop_index(op.f("ix_assessment_round_framework_id"), table_name="assessment_round")
    op.drop_table("assessment_round")
    op.drop_table("support_tier")
    op.drop_table("standard_dataset")
    op.drop_table("published_statistic")
    op.drop_table("prefecture")
    op.drop_table("expert")
    op.drop_table("dispatch_programme")
    op.drop_index(op.f("ix_audit_log_occurred_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("assessment_framework")
