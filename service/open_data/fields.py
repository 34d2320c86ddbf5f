"""The fields of a dataset and a distribution that mutations set, and their checks.

Each check records a user error naming the input field (``write.error``) and returns the
value as it will be stored (trimmed, normalised); nothing is written while any error stands.
Lengths follow the columns (service/models/open_data.py); texts the columns do not bound
(descriptions, URLs) get a bound of their own here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from service.open_data.vocabulary import CHECKSUM_ALGORITHMS, FREQUENCIES, MEDIA_TYPE_PATTERN
from service.writes import Code, Write, says_nothing

UNSET: Any = object()  # a field an update leaves as it is

LIMITS = {
    "identifier": 200,
    "title": 300,
    "description": 10_000,
    "keyword": 100,
    "contact_name": 200,
    "contact_email": 200,
    "url": 2_000,
    "media_type": 100,
    "format": 40,
    "column": 100,
    "reason": 2_000,
}

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MEDIA_TYPE = re.compile(MEDIA_TYPE_PATTERN)
# The shape HTML's <input type=email> accepts (WHATWG), ASCII only.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_HEX = re.compile(r"[0-9a-f]+")
_EARLIEST, _LATEST = date(1900, 1, 1), date(2100, 12, 31)


@dataclass
class DatasetFields:
    """The fields of a dataset a create sets, or an update changes (UNSET: unchanged).
    ``standard_dataset`` is a key ("A-08"), ``joint_publishers`` local government codes."""

    identifier: Any = UNSET
    title: Any = UNSET
    description: Any = UNSET
    keywords: Any = UNSET
    themes: Any = UNSET
    license: Any = UNSET
    update_frequency: Any = UNSET
    issued_on: Any = UNSET
    modified_on: Any = UNSET
    contact_name: Any = UNSET
    contact_email: Any = UNSET
    contact_url: Any = UNSET
    landing_page: Any = UNSET
    spatial: Any = UNSET
    standard_dataset: Any = UNSET
    joint_publishers: Any = UNSET

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not UNSET}


@dataclass
class DistributionFields:
    access_url: str
    title: str | None = None
    download_url: str | None = None
    media_type: str | None = None
    format: str | None = None
    byte_size: int | None = None
    checksum: str | None = None
    checksum_algorithm: str | None = None
    columns: list[str] | None = None


def field(name: str, *rest: str) -> tuple[str, ...]:
    """The input path of a field: ``("input", "camelCase", *rest)``."""
    head, *tail = name.split("_")
    return ("input", head + "".join(part.title() for part in tail), *rest)


def text(write: Write, name: str, value: str | None, *, limit: str | None = None) -> str | None:
    """A trimmed text (None when empty), at most its limit."""
    if value is None:
        return None
    value = value.strip()
    bound = LIMITS[limit or name]
    if len(value) > bound:
        write.error(field(name), Code.TOO_LONG, f"at most {bound} characters")
    return value or None


def required_text(write: Write, name: str, value: str | None, what: str) -> str | None:
    cleaned = text(write, name, value)
    if cleaned is None or says_nothing(cleaned):
        write.error(field(name), Code.REQUIRED, what)
    return cleaned


def identifier(write: Write, value: str) -> str | None:
    value = value.strip()
    if not value:
        write.error(field("identifier"), Code.REQUIRED, "an identifier, or leave it out")
    elif len(value) > LIMITS["identifier"]:
        write.error(field("identifier"), Code.TOO_LONG, f"at most {LIMITS['identifier']}")
    elif not _IDENTIFIER.fullmatch(value):
        write.error(
            field("identifier"),
            Code.INVALID,
            "letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return value


def slug(title: str) -> str:
    """A title's words, lower case, joined by '-'; empty unless the title is ASCII (the ASCII
    fragments of a Japanese title, "AED" of AED設置箇所一覧, say too little)."""
    folded = unicodedata.normalize("NFKC", title).lower()
    if not folded.isascii():
        return ""
    return "-".join(re.findall(r"[a-z0-9]+", folded))[:60].strip("-")


def url(write: Write, name: str, value: str | None, *, required: bool = False) -> str | None:
    """An absolute http(s) URL with a host; javascript:, data:, ftp: ... are refused."""
    if value is None or not value.strip():
        if required:
            write.error(field(name), Code.REQUIRED, "an http(s) URL")
        return None
    value = value.strip()
    if len(value) > LIMITS["url"]:
        write.error(field(name), Code.TOO_LONG, f"at most {LIMITS['url']} characters")
    elif not is_http_url(value):
        write.error(field(name), Code.INVALID_URL, "an http:// or https:// URL with a host")
    return value


def is_http_url(value: str) -> bool:
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises for a port out of range or not a number)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def email(write: Write, value: str | None) -> str | None:
    value = text(write, "contact_email", value)
    if value is not None and not _EMAIL.fullmatch(value):
        write.error(field("contact_email"), Code.INVALID_EMAIL, "e.g. opendata@example.jp")
    return value


def day(write: Write, name: str, value: date | None) -> date | None:
    if value is not None and not _EARLIEST <= value <= _LATEST:
        write.error(field(name), Code.INVALID, f"a date from {_EARLIEST} to {_LATEST}")
    return value


def issued_before_modified(write: Write, issued: date | None, modified: date | None) -> None:
    if issued is not None and modified is not None and modified < issued:
        write.error(
            field("modified_on"),
            Code.MODIFIED_BEFORE_ISSUED,
            f"modified on {modified}, before it was issued on {issued}",
        )


def words(write: Write, name: str, values: list[str] | None, *, limit: str) -> list[str]:
    """A list of trimmed texts, empty ones and repeats dropped, each at most its limit."""
    out: list[str] = []
    for i, value in enumerate(values or []):
        value = value.strip()
        if len(value) > LIMITS[limit]:
            write.error(field(name, str(i)), Code.TOO_LONG, f"at most {LIMITS[limit]} characters")
        if value and value not in out:
            out.append(value)
    return out


def listed(write: Write, name: str, values: list[str], known: set[str], what: str) -> list[str]:
    for i, value in enumerate(values):
        if value not in known:
            write.error(
                field(name, str(i)), Code.NOT_IN_LIST, f"{value!r} is not {what}: {_few(known)}"
            )
    return values


def frequency(write: Write, value: str | None) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        return None
    if value not in FREQUENCIES:
        write.error(field("update_frequency"), Code.NOT_IN_LIST, "one of " + ", ".join(FREQUENCIES))
    return value


def media_type(write: Write, value: str | None) -> str | None:
    value = text(write, "media_type", value)
    if value is not None and not _MEDIA_TYPE.fullmatch(value):
        write.error(field("media_type"), Code.INVALID_MEDIA_TYPE, "type/subtype, e.g. text/csv")
    return value


def checksum(
    write: Write, value: str | None, algorithm: str | None
) -> tuple[str | None, str | None]:
    """A hexadecimal checksum of the algorithm's length, and the algorithm (both or neither)."""
    value = (value or "").strip().lower() or None
    algorithm = (algorithm or "").strip().lower() or None
    if value is None and algorithm is None:
        return None, None
    if algorithm is None:
        write.error(field("checksum_algorithm"), Code.REQUIRED, "sha256, sha1 or md5")
        return value, None
    if algorithm not in CHECKSUM_ALGORITHMS:
        write.error(field("checksum_algorithm"), Code.NOT_IN_LIST, "sha256, sha1 or md5")
        return value, algorithm
    if value is None:
        write.error(field("checksum"), Code.REQUIRED, f"the file's {algorithm} checksum")
        return None, algorithm
    digits = CHECKSUM_ALGORITHMS[algorithm]
    if len(value) != digits or not _HEX.fullmatch(value):
        write.error(
            field("checksum"), Code.INVALID_CHECKSUM, f"{digits} hexadecimal digits for {algorithm}"
        )
    return value, algorithm


def column_key(name: str) -> str:
    """Column names compared as a reader would: full-width and half-width forms alike."""
    return unicodedata.normalize("NFKC", name).strip()


def _few(values: set[str]) -> str:
    shown = sorted(values)
    return ", ".join(shown[:20]) + (" ..." if len(shown) > 20 else "")
