"""Who is calling: the role and the scope (municipality, expert, region) a token grants."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(Enum):
    """Roles of the platform; GraphQL and tokens use the lower-case names."""

    prefecture_admin = "prefecture_admin"  # prefecture DX staff: everything
    dispatch_coordinator = "dispatch_coordinator"  # experts, assignments, visits, tiers
    regional_office = "regional_office"  # the municipalities of one region
    municipal_staff = "municipal_staff"  # one municipality
    expert = "expert"  # a dispatched expert: own assignments and visits
    producer = "producer"  # a producer of the programme: public data and the WGs it advises
    public = "public"  # no token: published data only


# The claim naming the scope each role needs, and what it holds.
SCOPE_CLAIMS: dict[Role, str] = {
    Role.municipal_staff: "municipality",
    Role.expert: "expert",
    Role.regional_office: "region",
    Role.producer: "producer",
}


@dataclass(frozen=True)
class Principal:
    role: Role
    subject: str | None = None
    municipality_id: int | None = None
    municipality_code: str | None = None
    expert_id: int | None = None
    region_id: int | None = None
    producer_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Staff roles see exact aggregate counts; others see suppressed small groups."""
        return self.role in (
            Role.prefecture_admin,
            Role.dispatch_coordinator,
            Role.regional_office,
        )


PUBLIC = Principal(Role.public)
