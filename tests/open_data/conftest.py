"""A catalog world for the mutation tests: three municipalities, tokens, and GraphQL helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of

WAKAYAMA, KAINAN, KITAYAMA = "302015", "302023", "304271"
PREFECTURE = "300004"

DATASET = """
  id identifier title description keywords themes status license updateFrequency issuedOn
  modifiedOn contactName contactEmail contactUrl landingPage spatial version publishedAt
  unpublishedReason standardDataset { key } publishers { code } publishingPrefectures { code }
  publisherApprovals { approvedVersion municipality { code } prefecture { code } }
  distributions { title accessUrl mediaType byteSize columns }
"""


def mutation(name: str, selection: str = f"dataset {{ {DATASET} }}") -> str:
    input_type = name[0].upper() + name[1:] + "Input"
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) "
        f"{{ {selection} userErrors {{ field code message }} }} }}"
    )


@dataclass
class Catalog:
    settings: Settings
    gql: GraphQL
    municipality: dict[str, int]

    def token(self, role: Role, **scope: Any) -> str:
        subject = f"{role.value}-{'-'.join(map(str, scope.values())) or 'x'}"
        return mint_token(self.settings, role=role, subject=subject, scope=scope)

    @property
    def admin(self) -> str:
        return self.token(Role.prefecture_admin)

    def staff(self, code: str) -> str:
        return self.token(Role.municipal_staff, municipality=code)

    async def call(self, name: str, token: str | None, **values: Any) -> dict[str, Any]:
        """Run mutation ``name`` with ``values`` as its input; its payload."""
        selection = f"dataset {{ {DATASET} }}"
        if name == "addDistribution":
            selection = f"distribution {{ id title columns }} dataset {{ {DATASET} }}"
        body = await self.gql(mutation(name, selection), {"input": values}, token=token)
        return data_of(body)[name]

    async def ok(self, name: str, token: str | None, **values: Any) -> dict[str, Any]:
        """Run a mutation that must succeed; its dataset."""
        payload = await self.call(name, token, **values)
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload["dataset"]

    async def draft(self, token: str, **values: Any) -> dict[str, Any]:
        """A dataset ready to publish: described, with one distribution."""
        values = {"title": "AED設置箇所一覧", "description": "市内のAED設置場所", **values}
        dataset = await self.ok("createDataset", token, **values)
        return await self.ok(
            "addDistribution",
            token,
            datasetId=dataset["id"],
            version=dataset["version"],
            accessUrl="https://example.jp/opendata/aed.csv",
            mediaType="text/csv",
        )

    def id(self, type_name: str, key: Any) -> str:
        return encode_global_id(type_name, key)


@pytest.fixture
async def catalog(connection: AsyncConnection, settings: Settings, gql: GraphQL) -> Catalog:
    codes = (WAKAYAMA, KAINAN, KITAYAMA)
    return Catalog(
        settings, gql, {code: await f.municipality_id(connection, code) for code in codes}
    )


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]
