"""The typed per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from auth.principal import Principal
from resolvers.loaders import Loaders
from service.database import RequestSession
from service.settings import Settings


@dataclass
class Context:
    request: Request
    response: Response | None
    settings: Settings
    principal: Principal
    db: RequestSession
    request_id: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)


Info = StrawberryInfo[Context, None]
