"""Building and sending bearer tokens in tests: claims, hand-made JWTs, refusal checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from service.settings import Settings

VIEWER = "{ viewer { role subject municipality { code } expert { id } region { name } } }"
SECRET = "test-secret-of-at-least-32-bytes-length"


def claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """A valid admin token's claims; an override of None leaves the claim out."""
    now = int(time.time())
    base = {
        "sub": "user-1",
        "role": "prefecture_admin",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(payload: dict[str, Any]) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(payload).encode())}."


def signed_text(payload: str, header: dict[str, Any] | None = None, secret: str = SECRET) -> str:
    """An HS256 token over ``payload`` exactly as written: JSON no encoder would produce
    (NaN, 1e400, a lone surrogate) or no JSON object at all."""
    head = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(payload.encode("utf-8", "surrogatepass"))
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def with_raw_claim(settings: Settings, name: str, raw_json: str, **overrides: Any) -> str:
    """A signed token whose claim ``name`` holds ``raw_json`` verbatim."""
    payload = json.dumps(claims(settings, **{name: "@raw@"}, **overrides), ensure_ascii=False)
    return signed_text(payload.replace('"@raw@"', raw_json))


async def ask(client: httpx.AsyncClient, token: str | None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await client.post("/graphql", json={"query": VIEWER}, headers=headers)


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert reason in error["extensions"]["reason"], error
    assert reason in error["message"]
