"""Anonymised aggregates: counts of municipalities per group, with small groups withheld."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class Counts(Generic[K]):
    counts: dict[K, int | None]  # group -> municipalities (None: withheld)
    suppressed: bool


def anonymise(exact: Mapping[K, int], *, exact_for_viewer: bool, threshold: int) -> Counts[K]:
    """Withhold every count when a non-empty group is smaller than ``threshold``.

    Withholding only the small groups would not do: the others and the total give them away.
    """
    if exact_for_viewer or not any(0 < n < threshold for n in exact.values()):
        return Counts(dict(exact), suppressed=False)
    return Counts(dict.fromkeys(exact), suppressed=True)
