"""Experts' profiles, the programme, and municipalities' requests."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from auth.policy import Action, Scope
from service.database import RequestSession
from service.dispatch.repository import (
    DispatchRepository,
    expert_t,
    first_month_over,
    programme_t,
    request_t,
)
from service.models.dispatch import AssignmentStatus, RequestStatus
from service.writes import Code, Write, refusals

UNSET: Any = object()  # a field an update leaves as it is

_LIMITS = {
    "name": 100,
    "affiliation": 200,
    "main_job": 200,
    "contact": 200,
    "theme": 80,
    "skill": 80,
    "adviser_registration": 120,
    "note": 200,
    "goals": 5000,
    "required_profile": 5000,
    "programme_name": 200,
}


@dataclass
class Window:
    starts_on: date
    ends_on: date
    note: str | None = None


def _set(fields_of: Any) -> dict[str, Any]:
    """A create's or an update's fields that are not UNSET."""
    return {k: v for k, v in vars(fields_of).items() if v is not UNSET}


@dataclass
class ExpertProfile:
    """The fields of an expert a create sets, or an update changes (UNSET: unchanged)."""

    name: Any = UNSET
    affiliation: Any = UNSET
    main_job: Any = UNSET
    themes: Any = UNSET
    skills: Any = UNSET
    adviser_registrations: Any = UNSET
    contact: Any = UNSET
    monthly_capacity: Any = UNSET
    availability: Any = UNSET

    def given(self) -> dict[str, Any]:
        """The profile's columns that are set (the windows are rows of their own)."""
        return {k: v for k, v in _set(self).items() if k != "availability"}


@dataclass
class ProgrammeRules:
    name: Any = UNSET
    starts_on: Any = UNSET
    ends_on: Any = UNSET
    themes: Any = UNSET
    sessions_per_month_target: Any = UNSET
    sessions_per_month_max: Any = UNSET
    first_session_on_site: Any = UNSET
    confirmation_required: Any = UNSET

    def given(self) -> dict[str, Any]:
        return _set(self)


refusals(
    {
        "uq_dispatch_programme_fiscal_year": (
            ("input", "fiscalYear"),
            Code.CONFLICT,
            "a programme of that fiscal year exists already",
        ),
    }
)
refusals(
    {
        "uq_dispatch_request_programme_id_municipality_id_theme": (
            ("input", "theme"),
            Code.CONFLICT,
            "the municipality has asked for this theme already",
        ),
    }
)


# What a programme cannot be without: every rule it has.
_PROGRAMME_REQUIRED = tuple(f.name for f in fields(ProgrammeRules))


@dataclass
class ProfileService:
    db: RequestSession
    repository: DispatchRepository = field(init=False)

    def __post_init__(self) -> None:
        self.repository = DispatchRepository(self.db)

    # --- experts -------------------------------------------------------------------------

    async def create_expert(self, profile: ExpertProfile) -> int:
        async with Write(self.db, "createExpert") as write:
            write.authorize("Expert", Action.INSERT, Scope())
            values = _expert_values(write, profile, creating=True)
            windows = _windows(write, profile.availability)
            write.check()
            expert_id = await self.repository.insert(expert_t, values)
            await self.repository.replace_availability(expert_id, windows)
        return expert_id

    async def update_expert(
        self, expert_id: int | None, version: int, profile: ExpertProfile
    ) -> int:
        async with Write(self.db, "updateExpert") as write:
            expert = await self.repository.expert(expert_id)
            if expert is None:
                write.fail(("input", "id"), Code.NOT_FOUND, "no such expert")
            write.authorize("Expert", Action.UPDATE, Scope(None, expert.id), ("input", "id"))
            values = _expert_values(write, profile, creating=False)
            windows = _windows(write, profile.availability)
            write.check()
            # The expert's assignments rely on its themes and capacity: judge a change against
            # them with no assignment of the expert's being made meanwhile.
            await self.repository.lock_experts(expert.id)
            await self._check_expert_commitments(write, expert.id, values)
            write.check()
            await self.repository.update(expert_t, expert.id, values, version=version)
            if profile.availability is not UNSET:
                await self.repository.replace_availability(expert.id, windows)
        return int(expert.id)

    async def _check_expert_commitments(
        self, write: Write, expert_id: int, values: dict[str, Any]
    ) -> None:
        if "themes" in values:
            dropped = await self.repository.running_themes(expert_id) - set(values["themes"])
            if dropped:
                write.error(
                    ("input", "themes"),
                    Code.THEME_NOT_COVERED,
                    "running assignments need " + ", ".join(sorted(dropped)),
                )
        capacity = values.get("monthly_capacity")
        if capacity is not None:
            running = await self.repository.open_assignments(expert_id, date.min, date.max)
            over = first_month_over([(a.starts_on, a.ends_on, a.target) for a in running], capacity)
            if over is not None:
                write.error(
                    ("input", "monthlyCapacity"),
                    Code.CAPACITY_EXCEEDED,
                    f"{over[0]:%Y-%m}: the expert's assignments aim at {over[1]} sessions",
                )

    # --- the programme -------------------------------------------------------------------

    async def create_programme(self, fiscal_year: int, rules: ProgrammeRules) -> int:
        async with Write(self.db, "createDispatchProgramme") as write:
            write.authorize("DispatchProgramme", Action.INSERT, Scope())
            if not 2000 <= fiscal_year <= 2100:
                write.fail(("input", "fiscalYear"), Code.INVALID, "a fiscal year such as 2026")
            # By default from June to February, the pilot's shape (the prefecture's plan for
            # FY2026), four sessions a month aimed at and six at most.
            values = {
                "fiscal_year": fiscal_year,
                "starts_on": date(fiscal_year, 6, 1),
                "ends_on": date(fiscal_year + 1, 3, 1) - timedelta(days=1),
                "themes": [],
                "sessions_per_month_target": 4,
                "sessions_per_month_max": 6,
                "first_session_on_site": True,
                "confirmation_required": True,
                **{k: v for k, v in rules.given().items() if v is not None},
            }
            _check_programme(write, values)
            write.check()
            return await self.repository.insert(programme_t, values)

    async def update_programme(self, fiscal_year: int, version: int, rules: ProgrammeRules) -> int:
        async with Write(self.db, "updateDispatchProgramme") as write:
            programme = await self.repository.programme(fiscal_year=fiscal_year)
            if programme is None:
                write.fail(("input", "fiscalYear"), Code.NOT_FOUND, "no programme of that year")
            write.authorize("DispatchProgramme", Action.UPDATE, Scope(), ("input", "fiscalYear"))
            values = rules.given()
            for name in _PROGRAMME_REQUIRED:
                if name in values and values[name] is None:
                    write.error(_field(name), Code.REQUIRED)
            write.check()
            merged = {**programme._mapping, **values}
            _check_programme(write, merged)
            write.check()
            # The rules the programme's assignments and sessions were judged by change: no
            # write that applies them runs meanwhile.
            await self.repository.lock_programme(programme.id, exclusive=True)
            await self._check_programme_commitments(write, programme.id, merged)
            write.check()
            await self.repository.update(programme_t, programme.id, values, version=version)
        return int(programme.id)

    async def _check_programme_commitments(
        self, write: Write, programme_id: int, rules: dict[str, Any]
    ) -> None:
        """What the programme holds already must still fit: its assignments' periods, the
        themes in use, each expert's capacity at the new target, each month's sessions."""
        assignments = await self.repository.programme_assignments(programme_id)
        if any(a.starts_on < rules["starts_on"] for a in assignments):
            write.error(
                _field("starts_on"),
                Code.OUTSIDE_PROGRAMME,
                f"assignments start on {min(a.starts_on for a in assignments)}",
            )
        if any(a.ends_on > rules["ends_on"] for a in assignments):
            write.error(
                _field("ends_on"),
                Code.OUTSIDE_PROGRAMME,
                f"assignments run until {max(a.ends_on for a in assignments)}",
            )
        dropped = await self.repository.themes_in_use(programme_id) - set(rules["themes"])
        if dropped:
            write.error(
                _field("themes"),
                Code.THEME_NOT_OFFERED,
                "requests or assignments name " + ", ".join(sorted(dropped)),
            )
        running = {a.expert_id for a in assignments if a.status is not AssignmentStatus.ENDED}
        await self.repository.lock_experts(*running)
        ours = {a.id for a in assignments}
        target = rules["sessions_per_month_target"]
        for expert_id in sorted(running):
            expert = await self.repository.expert(expert_id)
            bookings = [
                (a.starts_on, a.ends_on, target if a.id in ours else a.target)
                for a in await self.repository.open_assignments(expert_id, date.min, date.max)
            ]
            if expert is not None and first_month_over(bookings, expert.monthly_capacity):
                write.error(
                    _field("sessions_per_month_target"),
                    Code.CAPACITY_EXCEEDED,
                    f"{expert.name} could not give that many sessions a month",
                )
                break
        busiest = await self.repository.busiest_month(programme_id)
        if busiest > rules["sessions_per_month_max"]:
            write.error(
                _field("sessions_per_month_max"),
                Code.MONTHLY_MAXIMUM,
                f"an assignment holds {busiest} sessions in a month already",
            )

    # --- requests ------------------------------------------------------------------------

    async def file_request(
        self,
        *,
        fiscal_year: int,
        municipality_code: str | None,
        theme: str,
        goals: str | None,
        required_profile: str | None,
    ) -> int:
        async with Write(self.db, "fileDispatchRequest") as write:
            principal = self.db.principal
            code = municipality_code or principal.municipality_code
            municipality_id = await self.repository.municipality_id(code) if code else None
            if municipality_id is None:
                write.fail(("input", "municipalityCode"), Code.NOT_FOUND, "no such municipality")
            write.authorize(
                "DispatchRequest",
                Action.INSERT,
                Scope(municipality_id, None),
                ("input", "municipalityCode"),
            )
            programme = await self.repository.programme(fiscal_year=fiscal_year)
            if programme is None:
                write.fail(("input", "fiscalYear"), Code.NOT_FOUND, "no programme of that year")
            if theme not in programme.themes:
                write.error(
                    ("input", "theme"),
                    Code.THEME_NOT_OFFERED,
                    "the menu: " + ", ".join(programme.themes),
                )
            _check_text(write, "goals", goals)
            _check_text(write, "required_profile", required_profile)
            write.check()
            return await self.repository.insert(
                request_t,
                {
                    "programme_id": programme.id,
                    "municipality_id": municipality_id,
                    "theme": theme,
                    "goals": (goals or "").strip() or None,
                    "required_profile": (required_profile or "").strip() or None,
                    "status": RequestStatus.OPEN,
                },
            )

    async def withdraw_request(self, request_id: int | None, version: int) -> int:
        async with Write(self.db, "withdrawDispatchRequest") as write:
            request = await self.repository.request(request_id)
            if request is None:
                write.fail(("input", "id"), Code.NOT_FOUND, "no such request")
            write.authorize(
                "DispatchRequest", Action.UPDATE, Scope(request.municipality_id), ("input", "id")
            )
            if request.status is not RequestStatus.OPEN:
                write.fail(
                    ("input", "id"),
                    Code.REQUEST_NOT_OPEN,
                    f"the request is {request.status.name}: end its assignment first",
                )
            await self.repository.update(
                request_t, request.id, {"status": RequestStatus.WITHDRAWN}, version=version
            )
        return int(request.id)


_CAMEL = {
    "main_job": "mainJob",
    "adviser_registrations": "adviserRegistrations",
    "monthly_capacity": "monthlyCapacity",
    "required_profile": "requiredProfile",
    "starts_on": "startsOn",
    "ends_on": "endsOn",
    "sessions_per_month_target": "sessionsPerMonthTarget",
    "sessions_per_month_max": "sessionsPerMonthMax",
}


def _field(name: str) -> tuple[str, str]:
    return ("input", _CAMEL.get(name, name))


def _check_text(write: Write, name: str, value: str | None, limit_key: str | None = None) -> None:
    limit = _LIMITS[limit_key or name]
    if value is not None and len(value) > limit:
        write.error(_field(name), Code.TOO_LONG, f"at most {limit} characters")


def _expert_values(write: Write, profile: ExpertProfile, *, creating: bool) -> dict[str, Any]:
    values = profile.given()
    if creating or "name" in values:
        if not (values.get("name") or "").strip():
            write.error(_field("name"), Code.REQUIRED, "the expert's name")
        else:
            values["name"] = values["name"].strip()
    for name in ("name", "affiliation", "main_job", "contact"):
        _check_text(write, name, values.get(name))
    for name, limit_key in (
        ("themes", "theme"),
        ("skills", "skill"),
        ("adviser_registrations", "adviser_registration"),
    ):
        items = values.get(name)
        if items is None:
            if name in values:
                values[name] = []
            continue
        values[name] = [item.strip() for item in items if item.strip()]
        for item in values[name]:
            _check_text(write, name, item, limit_key)
    capacity = values.get("monthly_capacity")
    if capacity is not None and not 0 <= capacity <= 100:
        write.error(_field("monthly_capacity"), Code.INVALID, "between 0 and 100 sessions")
    if "monthly_capacity" in values and capacity is None:
        write.error(_field("monthly_capacity"), Code.REQUIRED, "sessions a month")
    return values


def _windows(write: Write, windows: Any) -> list[dict[str, Any]]:
    if windows is UNSET or windows is None:
        return []
    out = []
    for i, window in enumerate(windows):
        if window.ends_on < window.starts_on:
            write.error(
                ("input", "availability", str(i), "endsOn"),
                Code.INVALID_PERIOD,
                "ends before it starts",
            )
        if window.note is not None and len(window.note) > _LIMITS["note"]:
            write.error(("input", "availability", str(i), "note"), Code.TOO_LONG)
        out.append({"starts_on": window.starts_on, "ends_on": window.ends_on, "note": window.note})
    return out


def _check_programme(write: Write, values: dict[str, Any]) -> None:
    if values.get("name") is not None:
        if not values["name"].strip():
            write.error(_field("name"), Code.REQUIRED)
        _check_text(write, "name", values["name"], "programme_name")
    if values["ends_on"] < values["starts_on"]:
        write.error(_field("ends_on"), Code.INVALID_PERIOD, "ends before it starts")
    target, maximum = values["sessions_per_month_target"], values["sessions_per_month_max"]
    if target is not None and not 1 <= target <= 31:
        write.error(_field("sessions_per_month_target"), Code.INVALID, "between 1 and 31")
    if maximum is not None and target is not None and maximum < target:
        write.error(
            _field("sessions_per_month_max"), Code.INVALID, "at least the target's sessions"
        )
    for theme in values.get("themes") or []:
        if not theme.strip() or len(theme) > _LIMITS["theme"]:
            write.error(_field("themes"), Code.INVALID, f"a theme of 1 to {_LIMITS['theme']}")
