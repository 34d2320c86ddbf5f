"""Bearer JWTs: verification with keys bound to one algorithm each, and development minting.

Every key is bound to exactly one algorithm, and a token is checked only against the keys of the
algorithm its header names, after that algorithm was found in the accepted list. A public key
therefore never reaches the HMAC path: python-jose up to 3.5.0 would accept a DER-encoded public
key as an HMAC secret, which lets anyone holding the public key forge HS256 tokens.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jose import ExpiredSignatureError, JWTError, jwk, jwt
from jose.backends.base import Key
from jose.exceptions import JWKError, JWTClaimsError

from auth.principal import SCOPE_CLAIMS, Role
from service.settings import Settings, writable_data_dir

HMAC_ALGORITHMS = {"HS256", "HS384", "HS512"}
ASYMMETRIC_ALGORITHMS = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}
REQUIRED_CLAIMS = ("sub", "role", "exp", "iat", "iss", "aud")


class AuthenticationError(Exception):
    """A token was presented and refused; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigurationError(Exception):
    """The token settings cannot work (an unknown algorithm, a key missing for one)."""


@dataclass(frozen=True)
class BoundKey:
    algorithm: str
    key: Key
    kid: str | None = None


def _read(value: str) -> str:
    """PEM or JSON given inline, or the path of a file holding it."""
    if value.lstrip().startswith(("-----BEGIN", "{")):
        return value
    return Path(value).read_text(encoding="utf-8")


def _jwks(source: str) -> list[dict[str, Any]]:
    if source.startswith(("https://", "http://")):
        with urllib.request.urlopen(source, timeout=10) as response:
            document = json.load(response)
    else:
        document = json.loads(_read(source))
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ConfigurationError("the JWK Set has no 'keys' list")
    return keys


def _family(algorithm: str) -> str:
    return algorithm[:2]  # HS, RS or ES


def dev_secret(settings: Settings) -> str:
    """The HMAC secret: DXLINK_JWT_SECRET, or a random one kept in the data directory."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = writable_data_dir(settings) / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def load_keys(settings: Settings) -> list[BoundKey]:
    algorithms = settings.accepted_algorithms
    unknown = set(algorithms) - HMAC_ALGORITHMS - ASYMMETRIC_ALGORITHMS
    if unknown or not algorithms:
        raise ConfigurationError(f"unsupported JWT algorithms: {sorted(unknown) or 'none'}")
    keys: list[BoundKey] = []
    for algorithm in algorithms:
        if algorithm in HMAC_ALGORITHMS:
            keys.append(BoundKey(algorithm, jwk.construct(dev_secret(settings), algorithm)))
            continue
        if settings.jwt_public_key:
            # An RSA key is no EC key: a key serves only the algorithms of its own type.
            with contextlib.suppress(JWKError):
                key = jwk.construct(_read(settings.jwt_public_key), algorithm)
                keys.append(BoundKey(algorithm, key))
        for entry in _jwks(settings.jwt_jwks) if settings.jwt_jwks else []:
            if entry.get("alg", algorithm) != algorithm:
                continue
            if {"RS": "RSA", "ES": "EC"}[_family(algorithm)] != entry.get("kty"):
                continue
            keys.append(BoundKey(algorithm, jwk.construct(entry, algorithm), entry.get("kid")))
    missing = [a for a in algorithms if not any(k.algorithm == a for k in keys)]
    if missing:
        raise ConfigurationError(f"no key configured for JWT algorithms {missing}")
    return keys


class TokenVerifier:
    def __init__(self, settings: Settings, keys: list[BoundKey] | None = None) -> None:
        self.keys = keys if keys is not None else load_keys(settings)
        self.algorithms = settings.accepted_algorithms
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or AuthenticationError naming the failed check."""
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise AuthenticationError("malformed token") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm.lower() == "none":
            raise AuthenticationError("unsigned tokens (alg none) are not accepted")
        if algorithm not in self.algorithms:
            raise AuthenticationError(f"algorithm {algorithm} is not accepted")
        kid = header.get("kid")
        candidates = [
            k
            for k in self.keys
            if k.algorithm == algorithm and (kid is None or k.kid in (None, kid))
        ]
        if not candidates:
            raise AuthenticationError(f"no key for algorithm {algorithm} and key id {kid!r}")
        options = {f"require_{claim}": True for claim in ("exp", "iat", "iss", "aud", "sub")}
        options["leeway"] = self.leeway  # type: ignore[assignment]
        last: Exception | None = None
        for candidate in candidates:
            try:
                claims = jwt.decode(
                    token,
                    candidate.key,
                    algorithms=[algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    options=options,
                )
                break
            except ExpiredSignatureError as exc:
                raise AuthenticationError("token has expired") from exc
            except JWTClaimsError as exc:
                raise AuthenticationError(_claims_reason(str(exc))) from exc
            except JWTError as exc:
                last = exc
        else:
            message = str(last)
            if "missing required key" in message:
                raise AuthenticationError(f"token is missing a required claim ({message})")
            raise AuthenticationError("signature verification failed") from last
        return _check_role_claims(claims)


def _claims_reason(message: str) -> str:
    lowered = message.lower()
    if "nbf" in lowered:
        return "token is not yet valid (nbf)"
    if "audience" in lowered or '"aud"' in lowered:
        return "wrong audience"
    if "issuer" in lowered or '"iss"' in lowered:
        return "wrong issuer"
    return f"invalid claims: {message}"


def _check_role_claims(claims: dict[str, Any]) -> dict[str, Any]:
    if "role" not in claims:
        raise AuthenticationError("token is missing a required claim (role)")
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise AuthenticationError(f"unknown role {claims['role']!r}") from exc
    if role is Role.public:
        raise AuthenticationError("the public role needs no token")
    scope_claim = SCOPE_CLAIMS.get(role)
    if scope_claim is not None and claims.get(scope_claim) in (None, ""):
        raise AuthenticationError(
            f"token is missing a required claim ({scope_claim}, needed by role {role.value})"
        )
    return claims


def mint_token(
    settings: Settings,
    *,
    role: Role,
    subject: str,
    ttl_seconds: int = 3600,
    scope: dict[str, Any] | None = None,
) -> str:
    """A development token signed with the HMAC secret; refused when keys are asymmetric."""
    hmac = [a for a in settings.accepted_algorithms if a in HMAC_ALGORITHMS]
    if not hmac or settings.jwt_public_key or settings.jwt_jwks:
        raise ConfigurationError(
            "the service is configured for asymmetric keys: tokens come from the identity "
            "provider, not from `dxlink token`"
        )
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
        **(scope or {}),
    }
    return str(jwt.encode(claims, dev_secret(settings), algorithm=hmac[0]))
