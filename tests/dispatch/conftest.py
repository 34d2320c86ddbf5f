"""A dispatch world for the mutation tests: the FY2026 programme, experts, requests, tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of

WAKAYAMA, KAINAN = "302015", "302023"


@dataclass
class Dispatch:
    settings: Settings
    programme: int
    municipality: dict[str, int]
    experts: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    def token(self, role: Role, **scope: Any) -> str:
        subject = f"{role.value}-{'-'.join(map(str, scope.values())) or 'x'}"
        return mint_token(self.settings, role=role, subject=subject, scope=scope)

    @property
    def coordinator(self) -> str:
        return self.token(Role.dispatch_coordinator)

    @property
    def admin(self) -> str:
        return self.token(Role.prefecture_admin)

    def staff(self, code: str) -> str:
        return self.token(Role.municipal_staff, municipality=code)

    def expert(self, name: str) -> str:
        return self.token(Role.expert, expert=str(self.experts[name]))

    def id(self, type_name: str, key: Any) -> str:
        return encode_global_id(type_name, key)


@pytest.fixture
async def dispatch(connection: AsyncConnection, settings: Settings) -> Dispatch:
    world = Dispatch(
        settings,
        programme=await f.create_programme(connection),
        municipality={c: await f.municipality_id(connection, c) for c in (WAKAYAMA, KAINAN)},
    )
    for name, themes, capacity in (
        ("生成AI専門家", ["生成AI", "DX推進計画"], 8),
        ("標準化専門家", ["情報システム標準化"], 4),
    ):
        world.experts[name] = await f.create_expert(
            connection, name=name, themes=themes, monthly_capacity=capacity
        )
    for code in (WAKAYAMA, KAINAN):
        world.requests[code] = await f.create_request(
            connection, programme_id=world.programme, municipality_id=world.municipality[code]
        )
    return world


ASSIGN = """
mutation($input: AssignExpertInput!) {
  assignExpert(input: $input) {
    assignment { id theme startsOn endsOn status version expert { name } municipality { code } }
    userErrors { field code message }
  }
}
"""


async def assign(
    gql: GraphQL, dispatch: Dispatch, code: str, expert: str, token: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = await gql(
        ASSIGN,
        {
            "input": {
                "requestId": dispatch.id("DispatchRequest", dispatch.requests[code]),
                "expertId": dispatch.id("Expert", dispatch.experts[expert]),
                **extra,
            }
        },
        token=token or dispatch.coordinator,
    )
    return data_of(body)["assignExpert"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]
