"""Controlled values of the catalog that are not rows: update frequencies and their periods.

Licenses, data themes and the standard datasets are reference rows (seeds/data/); the update
frequencies are the EU frequency vocabulary's codes that municipal catalogs use, each with the
period after which a dataset that declares it counts as overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"


@dataclass(frozen=True)
class Frequency:
    code: str
    name: str  # Japanese
    label_en: str
    overdue_after: timedelta | None  # None: no schedule to miss

    @property
    def uri(self) -> str:
        return EU_FREQUENCY + self.code


FREQUENCIES = {
    f.code: f
    for f in (
        Frequency("DAILY", "毎日", "daily", timedelta(days=2)),
        Frequency("WEEKLY", "毎週", "weekly", timedelta(days=8)),
        Frequency("MONTHLY", "毎月", "monthly", timedelta(days=32)),
        Frequency("QUARTERLY", "四半期ごと", "quarterly", timedelta(days=93)),
        Frequency("BIANNUAL", "半年ごと", "every six months", timedelta(days=184)),
        Frequency("ANNUAL", "毎年", "annual", timedelta(days=366)),
        Frequency("IRREGULAR", "不定期", "irregular", None),
        Frequency("NEVER", "更新なし", "never", None),
    )
}

# Media types are IANA-shaped: type "/" subtype (RFC 6838 restricted names), optional params.
MEDIA_TYPE_PATTERN = (
    r"^(application|audio|font|image|model|multipart|text|video|message)/"
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=[^;\s]+)*$"
)

CHECKSUM_ALGORITHMS = {"sha256": 64, "sha1": 40, "md5": 32}  # hex digits
