"""The committed SDL (schema/schema.graphql) is what the code serves."""

from __future__ import annotations

from service.cli import SCHEMA_FILE, schema_sdl


def test_committed_schema_is_up_to_date() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == schema_sdl(), (
        "schema/schema.graphql is stale: run `dxlink export-schema` and commit the result"
    )


def test_public_names_frontends_rely_on() -> None:
    sdl = schema_sdl()
    for line in (
        "municipalities(first: Int = null, after: String = null, region: String = null, "
        "kind: MunicipalityKind = null",
        "municipality(code: String!): Municipality",
        "node(id: ID!): Node",
        "tiers: [Tier!]!",
        "regions: [Region!]!",
        "totalCount: Int!",
    ):
        assert line in sdl, line
