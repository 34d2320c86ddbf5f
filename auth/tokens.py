"""Bearer JWTs: verification with keys bound to one algorithm each, and development minting.

Every key is bound to exactly one algorithm, and a token is checked only against the keys of the
algorithm its header names, after that algorithm was found in the accepted list. A public key
therefore never reaches the HMAC path: python-jose up to 3.5.0 would accept a DER-encoded public
key as an HMAC secret, which lets anyone holding the public key forge HS256 tokens.

python-jose checks only the signature here; the claims are checked by `auth.claims`.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jose import JWTError, jwk, jws, jwt
from jose.backends.base import Key
from jose.exceptions import JWKError, JWSError

from auth.claims import AuthenticationError, ClaimRules, check_claims, shown
from auth.principal import Role
from service.settings import Settings, kept_secret

HMAC_ALGORITHMS = {"HS256", "HS384", "HS512"}
ASYMMETRIC_ALGORITHMS = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}
# RFC 7518, section 3.2: an HMAC key at least as long as the hash's output.
MIN_HMAC_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
# NIST SP 800-131A: RSA keys below 2048 bits are disallowed for signatures.
MIN_RSA_KEY_BITS = 2048
_ALGORITHM_NAME = re.compile(r"[A-Za-z0-9]{1,10}")  # shown as it is in a refusal, else quoted
# A compact JWS: three base64url segments (the last empty only for alg none, refused by name).
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class ConfigurationError(Exception):
    """The token settings cannot work (an unknown algorithm, a key missing or too weak)."""


@dataclass(frozen=True)
class BoundKey:
    algorithm: str
    key: Key
    kid: str | None = None


def _read(value: str, setting: str) -> str:
    """PEM or JSON given inline, or the path of a file holding it."""
    if value.lstrip().startswith(("-----BEGIN", "{")):
        return value
    try:
        return Path(value).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{setting}: cannot read {shown(value, 80)}: {exc}") from exc


def _jwks(source: str) -> list[dict[str, Any]]:
    try:
        if source.startswith(("https://", "http://")):
            with urllib.request.urlopen(source, timeout=10) as response:
                document = json.load(response)
        else:
            document = json.loads(_read(source, "DXLINK_JWT_JWKS"))
    except (OSError, ValueError) as exc:  # URLError and JSONDecodeError included
        raise ConfigurationError(f"DXLINK_JWT_JWKS: cannot load a JWK Set: {exc}") from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise ConfigurationError("DXLINK_JWT_JWKS: the JWK Set has no 'keys' list of objects")
    return keys


def _family(algorithm: str) -> str:
    return algorithm[:2]  # HS, RS or ES


def dev_secret(settings: Settings) -> str:
    """The HMAC secret: DXLINK_JWT_SECRET, or a random one kept in the data directory.

    Refused (ConfigurationError) when shorter than the strongest accepted HMAC algorithm needs:
    a short secret can be guessed offline from any one token.
    """
    hmac = [a for a in settings.accepted_algorithms if a in HMAC_ALGORITHMS] or ["HS256"]
    algorithm = max(hmac, key=MIN_HMAC_SECRET_BYTES.__getitem__)
    needed = MIN_HMAC_SECRET_BYTES[algorithm]
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
        source = "DXLINK_JWT_SECRET"
        remedy = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))' makes one"
    else:
        path = settings.data_dir / "jwt-secret"
        try:
            secret = kept_secret(settings, "jwt-secret")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"cannot keep the HS256 secret in {path} ({exc}): make DXLINK_DATA_DIR "
                "writable, or set DXLINK_JWT_SECRET"
            ) from exc
        source = f"the secret in {path}"
        remedy = "delete the file to have a random one made, or set DXLINK_JWT_SECRET"
    size = len(secret.encode("utf-8"))
    if size < needed:
        raise ConfigurationError(
            f"{source} is {_bytes(size)} long; {algorithm} needs at least {needed} random bytes "
            f"(RFC 7518, section 3.2): {remedy}"
        )
    return secret


def _bytes(size: int) -> str:
    return "1 byte" if size == 1 else f"{size} bytes"


def _checked_rsa(key: Key, algorithm: str, setting: str, kid: str | None = None) -> Key:
    """``key``, unless it is an RSA key too short to resist factoring."""
    bits = getattr(getattr(key, "prepared_key", None), "key_size", None)
    if _family(algorithm) == "RS" and bits is not None and bits < MIN_RSA_KEY_BITS:
        name = f"the RSA key {kid!r}" if kid else "the RSA key"
        raise ConfigurationError(
            f"{setting}: {name} has {bits} bits; at least {MIN_RSA_KEY_BITS} are needed"
        )
    return key


def load_keys(settings: Settings) -> list[BoundKey]:
    algorithms = settings.accepted_algorithms
    unknown = set(algorithms) - HMAC_ALGORITHMS - ASYMMETRIC_ALGORITHMS
    if unknown or not algorithms:
        raise ConfigurationError(
            f"DXLINK_JWT_ALGORITHMS: unsupported JWT algorithms: {sorted(unknown) or 'none'}"
        )
    keys: list[BoundKey] = []
    for algorithm in algorithms:
        if algorithm in HMAC_ALGORITHMS:
            try:
                keys.append(BoundKey(algorithm, jwk.construct(dev_secret(settings), algorithm)))
            except JWKError as exc:  # e.g. a PEM key given as the secret
                raise ConfigurationError(
                    f"DXLINK_JWT_SECRET: not usable as an {algorithm} secret: {exc}"
                ) from exc
            continue
        if settings.jwt_public_key:
            # An RSA key is no EC key: a key serves only the algorithms of its own type.
            pem = _read(settings.jwt_public_key, "DXLINK_JWT_PUBLIC_KEY")
            with contextlib.suppress(JWKError):
                key = jwk.construct(pem, algorithm)
                keys.append(
                    BoundKey(algorithm, _checked_rsa(key, algorithm, "DXLINK_JWT_PUBLIC_KEY"))
                )
        for entry in _jwks(settings.jwt_jwks) if settings.jwt_jwks else []:
            if entry.get("alg", algorithm) != algorithm:
                continue
            if {"RS": "RSA", "ES": "EC"}[_family(algorithm)] != entry.get("kty"):
                continue
            kid = entry.get("kid")
            try:
                key = jwk.construct(entry, algorithm)
            except JWKError as exc:
                raise ConfigurationError(
                    f"DXLINK_JWT_JWKS: key {kid!r} is unusable: {exc}"
                ) from exc
            keys.append(
                BoundKey(algorithm, _checked_rsa(key, algorithm, "DXLINK_JWT_JWKS", kid), kid)
            )
    missing = [a for a in algorithms if not any(k.algorithm == a for k in keys)]
    if missing:
        raise ConfigurationError(f"no key configured for JWT algorithms {missing}")
    return keys


def claim_rules(settings: Settings) -> ClaimRules:
    return ClaimRules(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_seconds=settings.jwt_leeway_seconds,
        max_lifetime_seconds=settings.jwt_max_lifetime_seconds,
    )


# Tokens whose signature was verified, kept by their exact text (a client sends the same token
# with every request until it expires): each costs ~35 µs of signature and JSON work otherwise.
VERIFIED_CACHE_SIZE = 1024


class TokenVerifier:
    def __init__(self, settings: Settings, keys: list[BoundKey] | None = None) -> None:
        self.keys = keys if keys is not None else load_keys(settings)
        self.algorithms = settings.accepted_algorithms
        self.rules = claim_rules(settings)
        self.max_token_bytes = settings.jwt_max_token_bytes
        # token -> its claims, least recently used first; only tokens that passed every check.
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or AuthenticationError naming the failed check.

        A token verified before is not verified again: its claims (the signature covers them,
        and the keys do not change for the verifier's life) are kept by the token's exact text,
        at most VERIFIED_CACHE_SIZE of them, and their times are checked again against the
        clock on every use, so that an expired token is refused (and forgotten) as before."""
        claims = self._verified.get(token)
        if claims is not None:
            try:
                check_claims(claims, self.rules, time.time())
            except AuthenticationError:
                self._verified.pop(token, None)
                raise
            self._verified.move_to_end(token)
            return dict(claims)
        claims = self._verify(token)
        self._verified[token] = dict(claims)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        # Bounded before any decoding: a header of nested arrays would exhaust the JSON
        # decoder's recursion, and a large one costs time on the event loop.
        if len(token) > self.max_token_bytes:
            raise AuthenticationError(f"token is longer than {self.max_token_bytes} bytes")
        if not _COMPACT.fullmatch(token):
            raise AuthenticationError("malformed token (not three base64url segments)")
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise AuthenticationError("malformed token (unreadable header)") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str):
            raise AuthenticationError("the alg header must be a string")
        if algorithm.lower() == "none":
            raise AuthenticationError("unsigned tokens (alg none) are not accepted")
        if algorithm not in self.algorithms:
            named = algorithm if _ALGORITHM_NAME.fullmatch(algorithm) else shown(algorithm)
            raise AuthenticationError(f"algorithm {named} is not accepted")
        if "crit" in header:
            # RFC 7515, section 4.1.11: extensions named critical must be understood or refused.
            raise AuthenticationError("the crit header is not accepted (no JWS extension is)")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError("the kid header must be a string")
        candidates = [
            k
            for k in self.keys
            if k.algorithm == algorithm and (kid is None or k.kid in (None, kid))
        ]
        if not candidates:
            raise AuthenticationError(f"no key for algorithm {algorithm} and key id {shown(kid)}")
        for candidate in candidates:
            try:
                payload = jws.verify(token, candidate.key, [algorithm])
                break
            except JWSError:
                continue
        else:
            raise AuthenticationError("signature verification failed")
        try:
            # RFC 7519: UTF-8 (json.loads would also guess UTF-16 and UTF-32 from bytes).
            claims = json.loads(payload.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise AuthenticationError("malformed token (the payload is not JSON)") from exc
        if not isinstance(claims, dict):
            raise AuthenticationError("malformed token (the payload is not a JSON object)")
        return check_claims(claims, self.rules, time.time())


def mint_token(
    settings: Settings,
    *,
    role: Role,
    subject: str,
    ttl_seconds: int = 3600,
    scope: dict[str, Any] | None = None,
) -> str:
    """A development token signed with the HMAC secret; refused when keys are asymmetric.

    ValueError when the token would be refused: a lifetime over the maximum, a malformed claim.
    """
    hmac = [a for a in settings.accepted_algorithms if a in HMAC_ALGORITHMS]
    if not hmac or settings.jwt_public_key or settings.jwt_jwks:
        raise ConfigurationError(
            "the service is configured for asymmetric keys: tokens come from the identity "
            "provider, not from `dxlink token`"
        )
    maximum = settings.jwt_max_lifetime_seconds
    if not 1 <= ttl_seconds <= maximum:
        raise ValueError(
            f"a lifetime of {ttl_seconds} s is outside 1 to {maximum} s "
            "(the maximum is DXLINK_JWT_MAX_LIFETIME_SECONDS)"
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
    try:
        check_claims(claims, claim_rules(settings), now)
    except AuthenticationError as exc:
        raise ValueError(f"the service would refuse this token: {exc.reason}") from exc
    return str(jwt.encode(claims, dev_secret(settings), algorithm=hmac[0]))
