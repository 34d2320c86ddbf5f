"""Reference facts that are not in the CSV files of seeds/data/ (see seeds/data/README.md)."""

from __future__ import annotations

from datetime import date

PREFECTURE = {
    "code": "300004",
    "name": "和歌山県",
    "kana": "わかやまけん",
    "romaji": "Wakayama-ken",
}

# 振興局 in the prefecture's usual order: short name, kana, romaji.
REGIONS = [
    ("海草", "かいそう", "Kaiso"),
    ("那賀", "なが", "Naga"),
    ("伊都", "いと", "Ito"),
    ("有田", "ありだ", "Arida"),
    ("日高", "ひだか", "Hidaka"),
    ("西牟婁", "にしむろ", "Nishimuro"),
    ("東牟婁", "ひがしむろ", "Higashimuro"),
]

POPULATION_YEAR = 2020  # the census year of municipalities.csv's population_2020

# level, name, English label, description, KPI target (every municipality in 協働 or 共創).
TIERS = [
    (
        1,
        "関与",
        "involvement",
        "Needs the prefecture's closest involvement to start and sustain its DX.",
        False,
    ),
    (
        2,
        "支援",
        "support",
        "Needs active support from the prefecture to judge and tackle its problems.",
        False,
    ),
    (
        3,
        "協働",
        "collaboration",
        "Judges its problems itself and makes use of outside support.",
        True,
    ),
    (4, "共創", "co-creation", "Solves its own problems and leads other municipalities.", True),
]

FRAMEWORK = {
    "version": "2024",
    "title": "市町村DX推進状況調査 2024",
    "description": (
        "66 questions on steps 0-3 of the national 自治体DX全体手順書, prefectural support, "
        "three focus areas and respondent information."
    ),
    "published_on": date(2024, 4, 22),
}

# Rounds of the framework, each a key of the round it re-checks or None; a re-check round's
# responses start as copies of the submissions to the round it re-checks.
ROUNDS = [
    {
        "key": "2024-04",
        "title": "2024年度 市町村DX推進状況調査",
        "opens_on": date(2024, 4, 22),
        "closes_on": date(2024, 5, 7),
        "rechecks": None,
    },
    {
        # The report (../shared/data/README.md: "changes re-checked with each municipality in
        # Nov-Dec 2024") names the months, not the days: the round spans both months.
        "key": "2024-11",
        "title": "2024年度 市町村DX推進状況 再確認",
        "opens_on": date(2024, 11, 1),
        "closes_on": date(2024, 12, 31),
        "rechecks": "2024-04",
    },
]

# Follow-up questions (asked only after the named question); the question text says so.
FOLLOW_UPS = {"0-2": "0-1", "0-4": "0-3", "2-2": "2-1", "2-4": "2-3", "3-10": "3-9"}

# The answers to the question followed up that open a follow-up (its text names them); a
# follow-up not listed opens with any answer (0-3's and 2-1's options were not published).
FOLLOW_UP_OPTIONS = {
    "0-2": ("定義している",),
    "2-4": ("設置済み", "設置する予定がある"),
    "3-10": ("実施している", "実施する予定がある"),
}

# Questions a submission must answer (a follow-up only when it is open): those whose options
# the report published, the others' options being unknown here; but not 2-3 and 2-4, which
# the 2024 web form left optional: the report counts one municipality without an answer to
# 2-3, and 17 answers to 2-4 of the 21 municipalities it was asked of.
REQUIRED = ("0-1", "1-1", "3-4", "3-9", "3-12", "4-1", "4-2")

# Bounds of number answers (minimum, maximum; None: unbounded).
NUMBER_BOUNDS = {"7-3": (0, None)}  # datasets published: a count
