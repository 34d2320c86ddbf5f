"""The checks on a token's claims once its signature holds: every claim of the JSON type and shape
the service relies on, the times consistent with the clock, and a bounded lifetime.

python-jose's own claim checks are not used: they call ``int()`` on whatever a claim holds, so a
string ``exp`` passes, ``true`` counts as 1, and a list, ``null`` or ``1e400`` escapes as a
TypeError or OverflowError (a 500). They also bound nothing: an ``exp`` of 10^20 was accepted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from auth.principal import SCOPE_CLAIMS, Role

REQUIRED_CLAIMS = ("sub", "role", "exp", "iat", "iss", "aud")
# The largest NumericDate a datetime can hold (9999-12-31T23:59:59Z): a later one is no time.
MAX_NUMERIC_DATE = 253_402_300_799
# `audit_log.actor_subject` is VARCHAR(200): a longer subject could not be written to the audit.
SUBJECT_MAX_LENGTH = 200
# No scope value (a region name, a code) comes close; the bound keeps reasons and caches small.
SCOPE_MAX_LENGTH = 100
_INT4_MAX = 2**31 - 1  # expert.id and producer.id are PostgreSQL integers
_EXPERT_ID = re.compile(r"[1-9][0-9]{0,9}")  # ASCII only: str.isdigit() also takes '²' and '７'
_MUNICIPALITY_CODE = re.compile(r"[0-9]{6}")
# Control characters (NUL breaks PostgreSQL text) and lone surrogates (not encodable as UTF-8).
_BAD_CATEGORIES = {"Cc", "Cs"}


class AuthenticationError(Exception):
    """A token was presented and refused; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ClaimRules:
    issuer: str
    audience: str
    leeway_seconds: int
    max_lifetime_seconds: int


def check_claims(claims: dict[str, Any], rules: ClaimRules, now: float) -> dict[str, Any]:
    """``claims`` when every check passes, else AuthenticationError naming the failed one."""
    for name in REQUIRED_CLAIMS:
        if name not in claims:
            raise AuthenticationError(f"token is missing a required claim ({name})")
    if claims["iss"] != rules.issuer or not isinstance(claims["iss"], str):
        raise AuthenticationError("wrong issuer")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if not any(isinstance(a, str) and a == rules.audience for a in audiences):
        raise AuthenticationError("wrong audience")
    _check_times(claims, rules, now)
    _text(claims, "sub", SUBJECT_MAX_LENGTH)
    _check_role(claims)
    return claims


def _check_times(claims: dict[str, Any], rules: ClaimRules, now: float) -> None:
    exp = _numeric_date(claims, "exp")
    iat = _numeric_date(claims, "iat")
    nbf = _numeric_date(claims, "nbf") if "nbf" in claims else None
    leeway = rules.leeway_seconds
    if exp <= now - leeway:
        raise AuthenticationError("token has expired")
    if nbf is not None and nbf > now + leeway:
        raise AuthenticationError("token is not yet valid (nbf)")
    if iat > now + leeway:
        raise AuthenticationError("token was issued in the future (iat)")
    if exp <= iat:
        raise AuthenticationError("claim exp is not after iat")
    maximum = rules.max_lifetime_seconds
    if exp - iat > maximum:
        raise AuthenticationError(
            f"token lifetime (exp - iat) of {int(exp - iat)} s exceeds the maximum of {maximum} s"
        )
    # The time left is bounded too: iat is at most now + leeway, so exp - now <= maximum + leeway.


def _numeric_date(claims: dict[str, Any], name: str) -> int | float:
    value = claims[name]
    # bool is an int in Python, and JSON true must not pass as 1970-01-01T00:00:01Z.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthenticationError(
            f"claim {name} must be a number of seconds since 1970, not {_json_type(value)}"
        )
    # Chained comparisons refuse NaN and infinities too, and need no float conversion of a huge
    # integer (which would overflow).
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise AuthenticationError(f"claim {name} is out of range (before 1970 or after 9999)")
    return value


def _text(claims: dict[str, Any], name: str, max_length: int) -> str:
    value = claims[name]
    if not isinstance(value, str) or not value.strip():
        raise AuthenticationError(f"claim {name} must be a non-empty string")
    if len(value) > max_length:
        raise AuthenticationError(f"claim {name} is longer than {max_length} characters")
    if any(unicodedata.category(c) in _BAD_CATEGORIES for c in value):
        raise AuthenticationError(f"claim {name} contains control characters or invalid Unicode")
    return value


def _check_role(claims: dict[str, Any]) -> None:
    if not isinstance(claims["role"], str):
        raise AuthenticationError(f"claim role must be a string, not {_json_type(claims['role'])}")
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise AuthenticationError(f"unknown role {shown(claims['role'])}") from exc
    if role is Role.public:
        raise AuthenticationError("the public role needs no token")
    scope_claim = SCOPE_CLAIMS.get(role)
    if scope_claim is None:
        return
    if claims.get(scope_claim) in (None, ""):
        raise AuthenticationError(
            f"token is missing a required claim ({scope_claim}, needed by role {role.value})"
        )
    if scope_claim == "municipality":
        value = claims[scope_claim]
        if not isinstance(value, str) or not _MUNICIPALITY_CODE.fullmatch(value):
            raise AuthenticationError(
                "claim municipality must be a 6-digit local government code as a string"
            )
    elif scope_claim == "expert":
        if not is_expert_id(claims[scope_claim]):
            raise AuthenticationError(
                "claim expert must be an expert id (a positive integer, or its digits as a string)"
            )
    elif scope_claim == "producer":
        if not is_expert_id(claims[scope_claim]):
            raise AuthenticationError(
                "claim producer must be a producer id (a positive integer, or its digits as a "
                "string)"
            )
    else:
        _text(claims, scope_claim, SCOPE_MAX_LENGTH)


def is_expert_id(value: Any) -> bool:
    """An expert id (or a producer id: both are PostgreSQL integers) as a token may carry it: a
    JSON integer, or its canonical decimal string."""
    if isinstance(value, str) and _EXPERT_ID.fullmatch(value):
        value = int(value)
    return type(value) is int and 1 <= value <= _INT4_MAX


def shown(value: Any, limit: int = 40) -> str:
    """``value`` quoted for a refusal reason, cut short: reasons echo what a client sent."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a number"
