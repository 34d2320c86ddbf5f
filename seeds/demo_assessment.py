"""The demo's assessment data (`dxlink seed --demo`): each municipality's answers to the 2024-04
round and its tiers in the November 2023 and 2024 snapshots, invented so that their totals are
the report's (seeds/data/published_results.csv). Pure functions: seeds/demo_assessment_loader.py
writes the plan.

Only the totals are the report's; which municipality gave which answer or has which tier is made
up. The plan answers what the published results cover (0-1, 1-1, 2-3, 2-4, 3-4, 3-9, 3-12, 4-1,
4-2): the other questions' options are not in the seed data, and the two free-text "other"
answers to 4-2 have no option to choose (the second's wording is not even known), so they are
left out.

Answers: the municipalities in code order take a question's published options in the report's
order (the first ten 0-1 定義している, the next twenty 定義していない, ...). That keeps 2-4 within
its condition: the municipalities that set up or plan a department (2-3) come first, and the
first seventeen of them answer 2-4. 4-2 (several answers) hands each option to the next
``count`` municipalities after where the previous option stopped, round the thirty, so every
municipality chooses at least one (the question is required) and none an option twice.

Tiers: the municipalities are ranked once (cities first, then by population); each snapshot gives
the top of the ranking the highest tiers in the report's numbers. Ranked the same both years, no
municipality's tier drops from 2023-11 to 2024-11; the report's move from 6 関与 to none, with
only 2 支援 places in 2024, makes four of them rise two tiers (関与 to 協働), the others one or
none. Scores are invented too, within a band per tier (see `score`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
ROUND = "2024-04"
OPENS_ON, CLOSES_ON = date(2024, 4, 22), date(2024, 5, 7)
SURVEY = "2024-04 assessment"
# Snapshot survey in published_results.csv -> the snapshot's date (the month's last day).
SNAPSHOTS = {"tiers 2023-11": date(2023, 11, 30), "tiers 2024-11": date(2024, 11, 30)}
MULTIPLE = frozenset({"4-2"})
PUBLISHED = Path(__file__).resolve().parent / "data" / "published_results.csv"


@dataclass(frozen=True)
class Municipality:
    code: str
    kind: str  # CITY, TOWN, VILLAGE (MunicipalityKind names)
    population: int


@dataclass(frozen=True)
class Response:
    code: str
    answers: dict[str, tuple[str, ...]]  # question -> chosen options
    submitted_at: datetime  # in Japan, within the round


@dataclass(frozen=True)
class Tier:
    code: str
    snapshot_on: date
    level: int
    score: float


def published(path: Path = PUBLISHED) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def answerable(rows: Sequence[dict[str, str]]) -> dict[str, list[tuple[str, int]]]:
    """The published counts of the round that an option of the question stands for, per
    question in the report's order ("(no answer)" and the free-text "other" answers left out)."""
    counts: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        if row["survey"] == SURVEY and not row["option"].startswith("("):
            counts.setdefault(row["question_id"], []).append((row["option"], int(row["count"])))
    return counts


def responses(codes: Sequence[str], rows: Sequence[dict[str, str]]) -> list[Response]:
    codes = sorted(codes)
    n = len(codes)
    chosen: list[dict[str, list[str]]] = [{} for _ in codes]
    for question, options in answerable(rows).items():
        start = 0
        for option, count in options:
            if count > n:
                raise ValueError(f"{question} {option}: {count} of {n} municipalities")
            for k in range(start, start + count):
                if question not in MULTIPLE and k >= n:
                    raise ValueError(f"{question}: more answers than municipalities")
                chosen[k % n].setdefault(question, []).append(option)
            start += count
    days = (CLOSES_ON - OPENS_ON).days + 1
    return [
        Response(
            code,
            {q: tuple(o) for q, o in answers.items()},
            datetime.combine(OPENS_ON + timedelta(days=i % days), time(9 + i % 8, 7 * i % 60), JST),
        )
        for i, (code, answers) in enumerate(zip(codes, chosen, strict=True))
    ]


def ranking(municipalities: Sequence[Municipality]) -> list[str]:
    """Cities first, then towns and villages, each by population (largest first), then code."""
    kinds = {"CITY": 0, "TOWN": 1, "VILLAGE": 2}
    ordered = sorted(municipalities, key=lambda m: (kinds.get(m.kind, 3), -m.population, m.code))
    return [m.code for m in ordered]


def tiers(municipalities: Sequence[Municipality], rows: Sequence[dict[str, str]]) -> list[Tier]:
    ranked = ranking(municipalities)
    planned = []
    for survey, snapshot_on in SNAPSHOTS.items():
        levels = sorted(
            (
                (int(row["option"].split()[0]), int(row["count"]))
                for row in rows
                if row["survey"] == survey and row["question_id"] == "tier"
            ),
            reverse=True,
        )
        if sum(count for _, count in levels) != len(ranked):
            raise ValueError(f"{survey}: the counts do not add up to {len(ranked)}")
        at = 0
        for level, count in levels:
            for k in range(count):
                code = ranked[at]
                planned.append(Tier(code, snapshot_on, level, score(level, k, count)))
                at += 1
    return planned


def score(level: int, k: int, count: int) -> float:
    """An invented score within the tier's band (関与 below 25, 支援 25-50, 協働 50-75, 共創 75
    and above), higher for the higher ranked of the tier."""
    low = 25.0 * (level - 1)
    return round(low + 24.0 * (count - k) / max(count, 1), 2)


# The demo's scoring rubric (invented, flagged synthetic): the maturity questions whose options
# run from the most advanced to none, each its section's only scored question, every section
# weighted 1; points fall evenly from 10 (first option) to 0 (last). Tier minimums at 0, 25%,
# 50% and 75% of the most a response can earn.
RUBRIC_KEY = "demo-2024-v1"
RUBRIC_TITLE = "デモ採点基準 2024 (架空) / demo rubric 2024 (invented)"
RUBRIC_ROUNDS = ("2024-04", "2024-11")
RUBRIC_QUESTIONS = ("0-1", "1-1", "2-3", "3-4", "3-9", "3-12")
RUBRIC_MAXIMUM = 10.0


@dataclass(frozen=True)
class Rubric:
    weights: dict[str, float]  # section key -> weight
    points: dict[tuple[str, str], float]  # (question key, option label) -> points
    thresholds: dict[int, float]  # tier level -> minimum total


@dataclass(frozen=True)
class Question:
    section: str  # the section's key
    kind: str  # QuestionKind name
    labels: tuple[str, ...]  # the options in order


def rubric(questions: dict[str, Question]) -> Rubric:
    """The demo rubric over the framework's questions (by question key)."""
    weights: dict[str, float] = {}
    points: dict[tuple[str, str], float] = {}
    for key in RUBRIC_QUESTIONS:
        question = questions[key]
        if question.kind != "SINGLE" or len(question.labels) < 2:
            raise ValueError(f"{key}: the demo rubric scores single-choice questions")
        weights[question.section] = 1.0
        last = len(question.labels) - 1
        for n, label in enumerate(question.labels):
            points[(key, label)] = round(RUBRIC_MAXIMUM * (last - n) / last, 2)
    top = RUBRIC_MAXIMUM * len(RUBRIC_QUESTIONS)
    thresholds = {level: round(top * (level - 1) / 4, 2) for level in range(1, 5)}
    return Rubric(weights, points, thresholds)
