"""Open-data catalog: licenses, standard datasets' columns, the DCAT core of datasets and
distributions, joint approval, the search index, and the write side of the catalog.

- ``license`` (the configured list) and ``standard_dataset_column`` are public reference data.
- ``dataset`` gains the DCAT core (themes, contact point, spatial coverage, landing page), its
  lead municipality (its write scope until it has publishers), ``version``, ``synthetic``,
  publication and unpublication; status ``PENDING_APPROVAL`` (a joint dataset waiting for its
  publishers). ``dataset_publisher`` records the version each publisher approved.
- Search (Japanese has no spaces, and the embedded PostgreSQL has no pg_trgm): a BEFORE trigger
  keeps ``search_title`` / ``search_text`` (``dxlink_search_normalize``: NFKC, lower case,
  katakana as hiragana) and ``search_grams``, the text's characters and character pairs, in a
  GIN-indexed array. Plain SQL functions, so every server (PostgreSQL 15, 16, 18) and every
  writer (API, seeds, benchmark loader) indexes the same way.
- Writes: rules of auth/policy.py in ``dxlink_write_rule`` (rows ``own_dataset``: rows of a
  dataset the principal's municipality publishes or leads), enforced by write policies calling
  ``dxlink_can_write_catalog`` and by the column guard, which now trusts the changes that
  triggers make (a dataset's state copied onto its links).

Revision ID: b9c0d1e2f3a4
Revises: a8b9c0d1e2f3
Create Date: 2026-12-01 15:10:12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b9c0d1e2f3a4"
down_revision: str | None = "a8b9c0d1e2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


API_ROLE = "dxlink_api"

# The rules of auth/policy.py at this revision (tests/auth/test_write_rules.py keeps them equal).
RULES = """
    ('Dataset', 'dataset', 'createDataset', 'insert', 'prefecture_admin', 'all', '{}'),
    ('Dataset', 'dataset', 'createDataset', 'insert', 'municipal_staff', 'own_municipality', '{}'),
    ('Dataset', 'dataset', 'updateDataset', 'update', 'prefecture_admin', 'all', '{contact_email,contact_name,contact_url,description,issued_on,keywords,landing_page,license,modified_on,published_at,spatial,standard_dataset_id,status,themes,title,update_frequency}'),
    ('Dataset', 'dataset', 'updateDataset', 'update', 'municipal_staff', 'own_dataset', '{contact_email,contact_name,contact_url,description,issued_on,keywords,landing_page,license,modified_on,published_at,spatial,standard_dataset_id,status,themes,title,update_frequency}'),
    ('Dataset', 'dataset', 'addDistribution', 'update', 'prefecture_admin', 'all', '{published_at,status}'),
    ('Dataset', 'dataset', 'addDistribution', 'update', 'municipal_staff', 'own_dataset', '{published_at,status}'),
    ('Dataset', 'dataset', 'publishDataset', 'update', 'prefecture_admin', 'all', '{published_at,status,unpublished_reason}'),
    ('Dataset', 'dataset', 'publishDataset', 'update', 'municipal_staff', 'own_dataset', '{published_at,status,unpublished_reason}'),
    ('Dataset', 'dataset', 'approveJointDataset', 'update', 'prefecture_admin', 'all', '{published_at,status}'),
    ('Dataset', 'dataset', 'approveJointDataset', 'update', 'municipal_staff', 'own_dataset', '{published_at,status}'),
    ('Dataset', 'dataset', 'unpublishDataset', 'update', 'prefecture_admin', 'all', '{status,unpublished_reason}'),
    ('DatasetPublisher', 'dataset_publisher', 'createDataset', 'insert', 'prefecture_admin', 'all', '{}'),
    ('DatasetPublisher', 'dataset_publisher', 'createDataset', 'insert', 'municipal_staff', 'own_dataset', '{}'),
    ('DatasetPublisher', 'dataset_publisher', 'updateDataset', 'insert', 'prefecture_admin', 'all', '{}'),
    ('DatasetPublisher', 'dataset_publisher', 'updateDataset', 'insert', 'municipal_staff', 'own_dataset', '{}'),
    ('DatasetPublisher', 'dataset_publisher', 'updateDataset', 'delete', 'prefecture_admin', 'all', '{}'),
    ('DatasetPublisher', 'dataset_publisher', 'updateDataset', 'delete', 'municipal_staff', 'own_dataset', '{}'),
    ('DatasetPublisher', 'dataset_publisher', 'updateDataset', 'update', 'prefecture_admin', 'all', '{approved_at,approved_by,approved_version,position}'),
    ('DatasetPublisher', 'dataset_publisher', 'updateDataset', 'update', 'municipal_staff', 'own_dataset', '{approved_at,approved_by,approved_version,position}'),
    ('DatasetPublisher', 'dataset_publisher', 'addDistribution', 'update', 'prefecture_admin', 'all', '{approved_at,approved_by,approved_version}'),
    ('DatasetPublisher', 'dataset_publisher', 'addDistribution', 'update', 'municipal_staff', 'own_municipality', '{approved_at,approved_by,approved_version}'),
    ('DatasetPublisher', 'dataset_publisher', 'publishDataset', 'update', 'prefecture_admin', 'all', '{approved_at,approved_by,approved_version}'),
    ('DatasetPublisher', 'dataset_publisher', 'publishDataset', 'update', 'municipal_staff', 'own_municipality', '{approved_at,approved_by,approved_version}'),
    ('DatasetPublisher', 'dataset_publisher', 'approveJointDataset', 'update', 'prefecture_admin', 'all', '{approved_at,approved_by,approved_version}'),
    ('DatasetPublisher', 'dataset_publisher', 'approveJointDataset', 'update', 'municipal_staff', 'own_municipality', '{approved_at,approved_by,approved_version}'),
    ('Distribution', 'distribution', 'addDistribution', 'insert', 'prefecture_admin', 'all', '{}'),
    ('Distribution', 'distribution', 'addDistribution', 'insert', 'municipal_staff', 'own_dataset', '{}')
"""

_KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7))
_HIRAGANA = "".join(chr(c - 0x60) for c in range(0x30A1, 0x30F7))

FUNCTIONS = [
    # NFKC folds full-width and half-width forms (ＡＥＤ, ｱ) to one; lower case under "C" so
    # that every server's locale folds alike; katakana read as hiragana (ヒナン = ひなん).
    f"""
CREATE FUNCTION dxlink_search_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT translate(lower(normalize(coalesce(value, ''), NFKC) COLLATE "C"),
                   '{_KATAKANA}', '{_HIRAGANA}')
$$
""",
    # The characters and character pairs of a normalised text (no whitespace), distinct.
    r"""
CREATE FUNCTION dxlink_search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT g ORDER BY g), '{}') FROM (
    SELECT substr(value, i, 1) AS g FROM generate_series(1, length(value)) AS i
    UNION ALL
    SELECT substr(value, i, 2) FROM generate_series(1, length(value) - 1) AS i
  ) AS grams WHERE g !~ '\s'
$$
""",
    """
CREATE FUNCTION dxlink_index_dataset() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_title := dxlink_search_normalize(NEW.title);
  NEW.search_text := dxlink_search_normalize(
    concat_ws(' ', NEW.title, NEW.description, array_to_string(NEW.keywords, ' ')));
  NEW.search_grams := dxlink_search_grams(NEW.search_text);
  RETURN NEW;
END $$
""",
    # The datasets whose text holds every character (the GIN index) that the principal may
    # read (the read policy's own rule), with what a search filters, ranks and counts facets
    # by. A definer function because the planner may not use the index beneath a policy (array
    # containment is not leakproof); the page's rows are then read under the policy again.
    """
CREATE FUNCTION dxlink_search_datasets(grams text[])
RETURNS TABLE (id integer, title varchar, status varchar, standard_dataset_id integer,
               license varchar, issued_on date, modified_on date, themes varchar[],
               search_title text, search_text text, publisher_codes varchar[],
               formats varchar[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 1000 AS $$
  SELECT d.id, d.title, d.status, d.standard_dataset_id, d.license, d.issued_on, d.modified_on,
         d.themes, d.search_title, d.search_text, d.publisher_codes, d.formats
  FROM dataset d
  WHERE d.search_grams @> grams
    -- The read policy's rule (dxlink_can_read_dataset, dxlink_can_read_draft), as the
    -- principal: its checks of current_user would refuse a definer function.
    AND (d.status = 'PUBLISHED' OR dxlink_principal_role() = 'prefecture_admin'
         OR (dxlink_principal_role() = 'municipal_staff' AND EXISTS (
               SELECT 1 FROM dataset_publisher p WHERE p.dataset_id = d.id
                 AND p.municipality_id = dxlink_setting('municipality_id')::integer)))
$$
""",
    # A dataset's copies of its publishers' codes and its distributions' formats.
    """
CREATE FUNCTION dxlink_copy_dataset_links() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  target integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.dataset_id ELSE NEW.dataset_id END;
BEGIN
  IF TG_TABLE_NAME = 'dataset_publisher' THEN
    UPDATE dataset d SET publisher_codes = coalesce((
      SELECT array_agg(coalesce(m.code, p.code) ORDER BY l.position, l.id)
      FROM dataset_publisher l
      LEFT JOIN municipality m ON m.id = l.municipality_id
      LEFT JOIN prefecture p ON p.id = l.prefecture_id
      WHERE l.dataset_id = target), '{}')
    WHERE d.id = target;
  ELSE
    UPDATE dataset d SET formats = coalesce((
      SELECT array_agg(DISTINCT upper(x.format) ORDER BY upper(x.format))
      FROM distribution x WHERE x.dataset_id = target AND x.format IS NOT NULL), '{}')
    WHERE d.id = target;
  END IF;
  RETURN NULL;
END $$
""",
    """
CREATE FUNCTION dxlink_can_write_catalog(entity text, action text, dataset integer,
                                         municipality integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  rule text;
  mine integer := dxlink_setting('municipality_id')::integer;
BEGIN
  SELECT w.rows INTO rule FROM dxlink_write_rule w
  WHERE w.entity = dxlink_can_write_catalog.entity AND w.operation = dxlink_setting('operation')
    AND w.action = dxlink_can_write_catalog.action AND w.role = dxlink_principal_role();
  RETURN CASE rule
    WHEN 'all' THEN true
    WHEN 'own_municipality' THEN municipality = mine
    WHEN 'own_dataset' THEN
      EXISTS (SELECT 1 FROM dataset d WHERE d.id = dataset AND d.lead_municipality_id = mine)
      OR EXISTS (SELECT 1 FROM dataset_publisher p
                 WHERE p.dataset_id = dataset AND p.municipality_id = mine)
    ELSE false
  END;
END $$
""",
]

# The column guard of f7a8b9c0d1e2, trusting the changes triggers make (a dataset's state
# copied onto its links by dxlink_spread_dataset_published, a definer function of our own).
GUARD = """
CREATE OR REPLACE FUNCTION dxlink_guard_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  allowed text[];
  changed text[];
BEGIN
  IF current_setting('role') IS DISTINCT FROM 'dxlink_api' OR pg_trigger_depth() > 1 THEN
    RETURN NEW;
  END IF;
  SELECT w.columns INTO allowed FROM dxlink_write_rule w
  WHERE w.tablename = TG_TABLE_NAME AND w.operation = dxlink_setting('operation')
    AND w.action = 'update' AND w.role = dxlink_principal_role();
  SELECT coalesce(array_agg(n.key), '{}') INTO changed
  FROM jsonb_each(to_jsonb(NEW)) n
  WHERE n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
  IF allowed IS NULL OR NOT changed <@ (allowed || ARRAY['version', 'updated_at']) THEN
    RAISE EXCEPTION 'operation % may not change % of %', dxlink_setting('operation'),
      array_to_string(changed, ', '), TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$
"""
PREVIOUS_GUARD = GUARD.replace(" OR pg_trigger_depth() > 1", "")

# The audit trigger of b7c1d2e3f4a5 without the search index (derived, and large).
AUDIT = """
CREATE OR REPLACE FUNCTION dxlink_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  before_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END
    - '{search_title,search_text,search_grams,publisher_codes,formats}'::text[];
  after_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END
    - '{search_title,search_text,search_grams,publisher_codes,formats}'::text[];
  row_key jsonb := coalesce(after_row, before_row);
BEGIN
  -- An update of derived columns alone (the search index, the links' copies) is no change.
  IF dxlink_setting('role') IS NULL OR (TG_OP = 'UPDATE' AND before_row = after_row) THEN
    RETURN NULL;
  END IF;
  INSERT INTO audit_log (actor_subject, actor_role, action, entity, entity_key, before, after,
                         request_id)
  VALUES (dxlink_setting('subject'), dxlink_principal_role(), lower(TG_OP), TG_TABLE_NAME,
          coalesce(row_key ->> 'id', row_key::text), before_row, after_row,
          dxlink_setting('request_id'));
  RETURN NULL;
END $$
"""
# b7c1d2e3f4a5's.
PREVIOUS_AUDIT = """
CREATE OR REPLACE FUNCTION dxlink_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  before_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  after_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
  row_key jsonb := coalesce(after_row, before_row);
BEGIN
  IF dxlink_setting('role') IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO audit_log (actor_subject, actor_role, action, entity, entity_key, before, after,
                         request_id)
  VALUES (dxlink_setting('subject'), dxlink_principal_role(), lower(TG_OP), TG_TABLE_NAME,
          coalesce(row_key ->> 'id', row_key::text), before_row, after_row,
          dxlink_setting('request_id'));
  RETURN NULL;
END $$
"""

# table -> (entity, actions, the row's dataset, the row's municipality)
WRITTEN = {
    "dataset": ("Dataset", ("insert", "update"), "id", "lead_municipality_id"),
    "dataset_publisher": (
        "DatasetPublisher", ("insert", "update", "delete"), "dataset_id", "municipality_id"
    ),
    "distribution": ("Distribution", ("insert",), "dataset_id", "NULL"),
}
LICENSES = """
    ('CC-BY-4.0', 'クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)',
     'https://creativecommons.org/licenses/by/4.0/', 1),
    ('PDL-1.0', '公共データ利用規約 第1.0版 (PDL 1.0)',
     'https://www.digital.go.jp/resources/open_data/public-data-license-v1.0', 2),
    ('CC0-1.0', 'CC0 1.0 全世界 パブリック・ドメイン提供 (CC0)',
     'https://creativecommons.org/publicdomain/zero/1.0/', 3)
"""
# Coverage, as each viewer may read it (security_invoker), of published datasets only.
# Fiscal years run April to March: a date's fiscal year is the calendar year three months
# before it.
VIEWS = {
    "catalog_coverage": """
SELECT l.municipality_id, d.standard_dataset_id, count(*)::integer AS datasets,
       max(d.modified_on) AS last_modified_on
FROM dataset_publisher l JOIN dataset d ON d.id = l.dataset_id
WHERE d.status = 'PUBLISHED' AND d.standard_dataset_id IS NOT NULL
  AND l.municipality_id IS NOT NULL
GROUP BY l.municipality_id, d.standard_dataset_id
""",
    "catalog_publishers_by_year": """
WITH firsts AS (
  SELECT m.prefecture_id, l.municipality_id,
         min(extract(year FROM d.issued_on - interval '3 months'))::integer AS first_year
  FROM dataset_publisher l
  JOIN dataset d ON d.id = l.dataset_id
  JOIN municipality m ON m.id = l.municipality_id
  WHERE d.status = 'PUBLISHED' AND d.issued_on IS NOT NULL
  GROUP BY m.prefecture_id, l.municipality_id
), years AS (
  SELECT f.prefecture_id, y.fiscal_year
  FROM (SELECT prefecture_id, min(first_year) AS since FROM firsts GROUP BY prefecture_id) f
  CROSS JOIN LATERAL generate_series(
    f.since,
    extract(year FROM (now() AT TIME ZONE 'Asia/Tokyo') - interval '3 months')::integer
  ) AS y(fiscal_year)
)
SELECT y.prefecture_id, y.fiscal_year,
       count(f.municipality_id)::integer AS municipalities,
       count(f.municipality_id) FILTER (WHERE f.first_year = y.fiscal_year)::integer
         AS new_municipalities
FROM years y
LEFT JOIN firsts f ON f.prefecture_id = y.prefecture_id AND f.first_year <= y.fiscal_year
GROUP BY y.prefecture_id, y.fiscal_year
""",
}
STATUSES_BEFORE = "'DRAFT', 'PUBLISHED', 'UNPUBLISHED'"
STATUSES = "'DRAFT', 'PENDING_APPROVAL', 'PUBLISHED', 'UNPUBLISHED'"


def upgrade() -> None:
    # ### commands auto generated by Alembic, reviewed ###
    op.create_table('license',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_license')),
    sa.UniqueConstraint('key', name=op.f('uq_license_key'))
    )
    op.create_table('dataset_theme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('label_en', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_theme')),
    sa.UniqueConstraint('code', name=op.f('uq_dataset_theme_code'))
    )
    op.create_table('standard_dataset_column',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('standard_dataset_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('required', sa.Boolean(), nullable=True),
    sa.Column('format_generation', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['standard_dataset_id'], ['standard_dataset.id'], name=op.f('fk_standard_dataset_column_standard_dataset_id_standard_dataset'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_dataset_column')),
    sa.UniqueConstraint('standard_dataset_id', 'name', name=op.f('uq_standard_dataset_column_standard_dataset_id_name'))
    )
    op.add_column('dataset', sa.Column('themes', postgresql.ARRAY(sa.String(length=20)), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('dataset', sa.Column('contact_name', sa.String(length=200), nullable=True))
    op.add_column('dataset', sa.Column('contact_email', sa.String(length=200), nullable=True))
    op.add_column('dataset', sa.Column('contact_url', sa.Text(), nullable=True))
    op.add_column('dataset', sa.Column('landing_page', sa.Text(), nullable=True))
    op.add_column('dataset', sa.Column('spatial', postgresql.ARRAY(sa.String(length=6)), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('dataset', sa.Column('lead_municipality_id', sa.Integer(), nullable=True))
    op.add_column('dataset', sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('dataset', sa.Column('unpublished_reason', sa.Text(), nullable=True))
    op.add_column('dataset', sa.Column('search_title', sa.Text(), server_default='', nullable=False))
    op.add_column('dataset', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    op.add_column('dataset', sa.Column('search_grams', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('dataset', sa.Column('publisher_codes', postgresql.ARRAY(sa.String(length=6)), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('dataset', sa.Column('formats', postgresql.ARRAY(sa.String(length=40)), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('dataset', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('dataset', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.alter_column('dataset', 'license',
               existing_type=sa.VARCHAR(length=200),
               server_default='CC-BY-4.0',
               type_=sa.String(length=40),
               existing_nullable=False)
    op.create_index('ix_dataset_modified', 'dataset', [sa.literal_column('modified_on DESC NULLS LAST'), 'id'], unique=False)
    op.create_index('ix_dataset_search_grams', 'dataset', ['search_grams'], unique=False, postgresql_using='gin')
    op.create_foreign_key(op.f('fk_dataset_lead_municipality_id_municipality'), 'dataset', 'municipality', ['lead_municipality_id'], ['id'])
    # The configured list's first entries (seeds/data/licenses.csv keeps them up to date), so
    # that datasets already here keep their license.
    op.execute(f"INSERT INTO license (key, name, url, position) VALUES {LICENSES}")
    op.create_foreign_key(op.f('fk_dataset_license_license'), 'dataset', 'license', ['license'], ['key'])
    op.add_column('dataset_publisher', sa.Column('approved_version', sa.Integer(), nullable=True))
    op.add_column('dataset_publisher', sa.Column('approved_by', sa.String(length=200), nullable=True))
    op.add_column('dataset_publisher', sa.Column('position', sa.Integer(), server_default='0', nullable=False))
    op.add_column('dataset_publisher', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('distribution', sa.Column('checksum_algorithm', sa.String(length=20), nullable=True))
    op.add_column('distribution', sa.Column('columns', postgresql.ARRAY(sa.String(length=100)), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('distribution', sa.Column('download_url', sa.Text(), nullable=True))
    op.add_column('distribution', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    # ### end Alembic commands ###
    op.drop_constraint(op.f("ck_dataset_dataset_status"), "dataset", type_="check")
    op.create_check_constraint(op.f("ck_dataset_dataset_status"), "dataset", f"status IN ({STATUSES})")
    op.create_check_constraint(
        op.f("ck_dataset_themes_known"), "dataset", "themes <@ ARRAY['AGRI','ECON','EDUC','ENER','ENVI','GOVE',"
        "'HEAL','INTR','JUST','OP_DATPRO','REGI','SOCI','TECH','TRAN']::varchar[]",
    )
    op.execute(
        "ALTER TABLE dxlink_write_rule DROP CONSTRAINT ck_dxlink_write_rule_rows_known, "
        "ADD CONSTRAINT ck_dxlink_write_rule_rows_known "
        "CHECK (rows IN ('all', 'own_municipality', 'own_expert', 'own_dataset'))"
    )
    op.execute(f"INSERT INTO dxlink_write_rule VALUES {RULES}")
    for statement in FUNCTIONS:
        op.execute(statement)
    op.execute(GUARD)
    op.execute(AUDIT)
    op.execute(
        "CREATE TRIGGER search_index BEFORE INSERT OR UPDATE OF title, description, keywords "
        "ON dataset FOR EACH ROW EXECUTE FUNCTION dxlink_index_dataset()"
    )
    op.execute("UPDATE dataset SET title = title")  # index what is there
    for function in (
        "dxlink_search_normalize(text)",
        "dxlink_search_grams(text)",
        "dxlink_search_datasets(text[])",
        "dxlink_can_write_catalog(text, text, integer, integer)",
    ):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")
    op.execute("REVOKE EXECUTE ON FUNCTION dxlink_index_dataset() FROM PUBLIC")
    op.execute("REVOKE EXECUTE ON FUNCTION dxlink_copy_dataset_links() FROM PUBLIC")
    for table in ("dataset_publisher", "distribution"):
        op.execute(
            f"CREATE TRIGGER copy_dataset_links AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dxlink_copy_dataset_links()"
        )
    op.execute(
        "UPDATE dataset d SET publisher_codes = coalesce((SELECT array_agg(coalesce(m.code, "
        "p.code) ORDER BY l.position, l.id) FROM dataset_publisher l "
        "LEFT JOIN municipality m ON m.id = l.municipality_id "
        "LEFT JOIN prefecture p ON p.id = l.prefecture_id WHERE l.dataset_id = d.id), '{}'), "
        "formats = coalesce((SELECT array_agg(DISTINCT upper(x.format) ORDER BY upper(x.format)) "
        "FROM distribution x WHERE x.dataset_id = d.id AND x.format IS NOT NULL), '{}')"
    )
    op.execute(f"GRANT SELECT ON license, standard_dataset_column, dataset_theme TO {API_ROLE}")
    for table, (entity, actions, dataset, municipality) in WRITTEN.items():
        op.execute(f"GRANT {', '.join(a.upper() for a in actions)} ON {table} TO {API_ROLE}")
        for action in actions:
            rule = f"dxlink_can_write_catalog('{entity}', '{action}', {dataset}, {municipality})"
            if action == "insert":
                body = f"FOR INSERT TO {API_ROLE} WITH CHECK ({rule})"
            elif action == "update":
                body = f"FOR UPDATE TO {API_ROLE} USING ({rule}) WITH CHECK ({rule})"
            else:
                body = f"FOR DELETE TO {API_ROLE} USING ({rule})"
            op.execute(f"CREATE POLICY write_{action} ON {table} {body}")
        if "update" in actions:
            op.execute(
                f"CREATE TRIGGER guard_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION dxlink_guard_update()"
            )
    sequences = ", ".join(f"{table}_id_seq" for table in WRITTEN)
    op.execute(f"GRANT USAGE ON SEQUENCE {sequences} TO {API_ROLE}")
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} WITH (security_invoker = true) AS {body}")
        op.execute(f"GRANT SELECT ON {name} TO {API_ROLE}")
    for table in ("license", "standard_dataset_column", "dataset_theme"):
        op.execute(
            f"CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dxlink_audit()"
        )


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
    for table in ("license", "standard_dataset_column", "dataset_theme"):
        op.execute(f"DROP TRIGGER audit ON {table}")
    sequences = ", ".join(f"{table}_id_seq" for table in WRITTEN)
    op.execute(f"REVOKE USAGE ON SEQUENCE {sequences} FROM {API_ROLE}")
    for table, (_, actions, _, _) in WRITTEN.items():
        if "update" in actions:
            op.execute(f"DROP TRIGGER guard_update ON {table}")
        for action in actions:
            op.execute(f"DROP POLICY write_{action} ON {table}")
        op.execute(f"REVOKE {', '.join(a.upper() for a in actions)} ON {table} FROM {API_ROLE}")
    op.execute("DROP TRIGGER search_index ON dataset")
    for table in ("dataset_publisher", "distribution"):
        op.execute(f"DROP TRIGGER copy_dataset_links ON {table}")
    op.execute(PREVIOUS_AUDIT)
    op.execute(PREVIOUS_GUARD)
    for function in (
        "dxlink_can_write_catalog(text, text, integer, integer)",
        "dxlink_index_dataset()",
        "dxlink_copy_dataset_links()",
        "dxlink_search_datasets(text[])",
        "dxlink_search_grams(text)",
        "dxlink_search_normalize(text)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.execute(
        "DELETE FROM dxlink_write_rule "
        "WHERE tablename IN ('dataset', 'dataset_publisher', 'distribution')"
    )
    op.execute(
        "ALTER TABLE dxlink_write_rule DROP CONSTRAINT ck_dxlink_write_rule_rows_known, "
        "ADD CONSTRAINT ck_dxlink_write_rule_rows_known "
        "CHECK (rows IN ('all', 'own_municipality', 'own_expert'))"
    )
    op.drop_constraint(op.f("ck_dataset_themes_known"), "dataset", type_="check")
    op.drop_constraint(op.f("ck_dataset_dataset_status"), "dataset", type_="check")
    op.execute("UPDATE dataset SET status = 'DRAFT' WHERE status = 'PENDING_APPROVAL'")
    op.create_check_constraint(
        op.f("ck_dataset_dataset_status"), "dataset", f"status IN ({STATUSES_BEFORE})"
    )
    # ### commands auto generated by Alembic, reviewed ###
    op.drop_column('distribution', 'synthetic')
    op.drop_column('distribution', 'download_url')
    op.drop_column('distribution', 'columns')
    op.drop_column('distribution', 'checksum_algorithm')
    op.drop_column('dataset_publisher', 'synthetic')
    op.drop_column('dataset_publisher', 'position')
    op.drop_column('dataset_publisher', 'approved_by')
    op.drop_column('dataset_publisher', 'approved_version')
    op.drop_constraint(op.f('fk_dataset_license_license'), 'dataset', type_='foreignkey')
    op.drop_constraint(op.f('fk_dataset_lead_municipality_id_municipality'), 'dataset', type_='foreignkey')
    op.drop_index('ix_dataset_search_grams', table_name='dataset', postgresql_using='gin')
    op.drop_index('ix_dataset_modified', table_name='dataset')
    op.alter_column('dataset', 'license',
               existing_type=sa.String(length=40),
               server_default=None,
               type_=sa.VARCHAR(length=200),
               existing_nullable=False)
    op.drop_column('dataset', 'synthetic')
    op.drop_column('dataset', 'version')
    op.drop_column('dataset', 'formats')
    op.drop_column('dataset', 'publisher_codes')
    op.drop_column('dataset', 'search_grams')
    op.drop_column('dataset', 'search_text')
    op.drop_column('dataset', 'search_title')
    op.drop_column('dataset', 'unpublished_reason')
    op.drop_column('dataset', 'published_at')
    op.drop_column('dataset', 'lead_municipality_id')
    op.drop_column('dataset', 'spatial')
    op.drop_column('dataset', 'landing_page')
    op.drop_column('dataset', 'contact_url')
    op.drop_column('dataset', 'contact_email')
    op.drop_column('dataset', 'contact_name')
    op.drop_column('dataset', 'themes')
    op.drop_table('standard_dataset_column')
    op.drop_table('license')
    op.drop_table('dataset_theme')
    # ### end Alembic commands ###
