"""The write rules PostgreSQL enforces are those of auth/policy.py, cell for cell."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.policy import POLICY, Rows
from service.models import WriteRule


async def test_the_database_holds_the_policys_write_rules(connection: AsyncConnection) -> None:
    stored = {
        (r.entity, r.operation, r.action, r.role): (r.rows, frozenset(r.columns))
        for r in (await connection.execute(select(WriteRule.__table__))).all()
    }
    declared = {
        (entity, operation, action.value, role.value): (
            rows.name.lower(),
            frozenset(rule.columns) if action.value == "update" else frozenset(),
        )
        for entity, policy in POLICY.items()
        for operation, rule in policy.writes.items()
        for action in rule.actions
        for role, rows in rule.rows.items()
        if rows is not Rows.NONE
    }
    assert stored == declared, (
        "auth/policy.py and dxlink_write_rule differ: a migration must write the new rules "
        f"(missing: {sorted(set(declared) - set(stored))}, extra: "
        f"{sorted(set(stored) - set(declared))})"
    )
