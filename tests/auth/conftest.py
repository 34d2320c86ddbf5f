"""Fixtures of the authentication tests."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from service.app import create_app
from service.database import Database
from service.settings import Settings


@pytest.fixture
def client_for(
    connection: AsyncConnection, engine: AsyncEngine
) -> Callable[[Settings], httpx.AsyncClient]:
    """An API client on the test transaction, for an app built with other settings."""

    def make(settings: Settings) -> httpx.AsyncClient:
        sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        app = create_app(settings, database=Database(engine, sessionmaker))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make
