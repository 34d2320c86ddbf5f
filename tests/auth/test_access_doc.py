"""docs/ACCESS.md is generated from the policy table and must not go stale."""

from __future__ import annotations

from auth.access_doc import DOC, render
from auth.policy import POLICY


def test_access_doc_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/ACCESS.md is stale: run `python -m auth.access_doc` and commit the result"
    )


def test_access_doc_names_every_type() -> None:
    text = render()
    for name in POLICY:
        assert f"`{name}`" in text
