"""The write path every mutation follows (ARCHITECTURE.md, "Writes").

A mutation is one *operation* (its name, e.g. ``assignExpert``) that runs in a savepoint of the
request's transaction:

    async with Write(db, "assignExpert") as write:
        request = await repository.request(...)            # reads see the principal's rows
        write.authorize("DispatchAssignment", Action.INSERT, Scope(...))
        write.error(("input", "endsOn"), Code.INVALID_PERIOD, "...")   # rule violations
        write.check()                                      # raises with the errors so far
        await db.all(insert(...).returning(...))            # the writes

- ``dxlink.operation`` names the operation for PostgreSQL's write policies and column guard
  (migration f7a8b9c0d1e2), which repeat the policy's checks;
- a rule violation is a `UserError` (input field path, stable code, message): raising
  `UserErrors` (``check``, ``fail``) undoes every statement of the mutation, and the resolver
  returns the errors in its payload;
- database errors a user can cause (a unique key, a check, a write policy) become user errors
  too (`Write.__aexit__`); anything else is a bug and stays an exception (masked, logged);
- the audit trigger writes one row per changed record, with the principal and request id.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc

from auth import policy
from auth.policy import Action, Scope
from service.database import RequestSession


class Code(Enum):
    """Stable codes of user errors (GraphQL enum `UserErrorCode`)."""

    FORBIDDEN = "the principal may not do this"
    NOT_FOUND = "no such object, or not visible to the principal"
    STALE = "the object changed since it was read (version)"
    INVALID = "a value is malformed or out of range"
    REQUIRED = "a value is missing"
    TOO_LONG = "a text is too long"
    CONFLICT = "the change conflicts with another object"
    INVALID_PERIOD = "a period ends before it starts"
    OUTSIDE_PROGRAMME = "the period is not inside the programme's"
    THEME_NOT_OFFERED = "the theme is not on the programme's menu"
    THEME_NOT_COVERED = "the expert does not cover the theme"
    CAPACITY_EXCEEDED = "the expert's monthly capacity would be exceeded"
    REQUEST_ALREADY_ASSIGNED = "an active assignment already serves the request"
    REQUEST_NOT_OPEN = "the request is matched or withdrawn"
    ASSIGNMENT_ENDED = "the assignment has ended"
    OUTSIDE_ASSIGNMENT = "the time is not inside the assignment's period"
    FIRST_SESSION_NOT_ON_SITE = "the first session of an assignment is on site"
    OVERLAPPING_SESSION = "the expert has another session at that time"
    MONTHLY_MAXIMUM = "the month already holds the programme's maximum of sessions"
    SESSION_NOT_HELD_YET = "the session has not started yet"
    SESSION_CANCELLED = "the session was cancelled"
    SESSION_ALREADY_HELD = "the session was held"
    REPORT_MISSING = "the session has no report to confirm"
    ALREADY_CONFIRMED = "the report is confirmed already"
    INVALID_URL = "not an absolute http:// or https:// URL with a host"
    INVALID_EMAIL = "not an e-mail address"
    INVALID_MEDIA_TYPE = "not an IANA media type (type/subtype, e.g. text/csv)"
    INVALID_CHECKSUM = "the checksum is not hexadecimal of its algorithm's length"
    NOT_IN_LIST = (
        "not one of the configured values (licenses, data themes, update frequencies, "
        "standard datasets, checksum algorithms)"
    )
    MODIFIED_BEFORE_ISSUED = "the dataset would be modified before it was issued"
    MISSING_COLUMN = "a column the standard dataset requires is missing"
    NO_DISTRIBUTION = "the dataset has no distribution to publish"
    DESCRIPTION_MISSING = "the dataset has no description (DCAT-AP requires one)"
    ALREADY_PUBLISHED = "the dataset is published already"
    ALREADY_APPROVED = "the publisher approved the current version already"
    NOT_PENDING_APPROVAL = "the dataset is not waiting for its publishers' approval"
    NOT_PUBLISHED = "the dataset is neither published nor waiting for approval"
    ROUND_CLOSED = "the assessment round is not open today (in Japan)"
    RESPONSE_SUBMITTED = "the response is submitted: only the prefecture can reopen it"
    NOT_SUBMITTED = "the response is not submitted"
    UNKNOWN_QUESTION = "no such question in the round's framework"
    DUPLICATE_ANSWER = "the question is answered twice in one save"
    WRONG_ANSWER_KIND = "the answer does not fit the question's kind"
    NOT_AN_OPTION = "not an option of the question"
    ONE_OPTION = "a single-choice question takes exactly one option"
    DUPLICATE_OPTION = "an option is chosen twice"
    OUT_OF_RANGE = "the number is outside the question's bounds"
    CONDITION_NOT_MET = "a follow-up question whose condition the answers do not meet"
    NO_RUBRIC = "the assessment round has no scoring rubric"
    UNMAPPED_COLUMN = "a CSV column names no question of the round's framework"
    DUPLICATE_COLUMN = "two CSV columns name the same question"
    DUPLICATE_MUNICIPALITY = "a municipality has two rows in the CSV"
    NOT_PROPOSED = "the working group is not a proposal waiting for a decision"
    GROUP_NOT_OPEN = "the working group is not active"
    NOT_REQUESTED = "the membership is not a request waiting for a decision"
    NOT_A_MEMBER = "the municipality is not an active member of the working group"


@dataclass(frozen=True)
class UserError:
    field: tuple[str, ...]
    code: Code
    message: str


class UserErrors(Exception):
    """Raised inside a mutation: nothing it wrote stays; the payload carries the errors."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


# PostgreSQL's refusals that a user's input causes, by constraint name: (field, code, message).
ConstraintErrors = dict[str, tuple[tuple[str, ...], Code, str]]

# Every such refusal of the write path, by constraint (or unique index) name. The service checks
# its rules first; a constraint still answers in a race (two writers at once) and stands for a
# rule the service may have missed. Modules add theirs with `refusals`;
# tests/auth/test_write_constraints.py checks that each name exists and that every constraint of
# a table the mutations write is here or named there as checked before the write.
CONSTRAINTS: ConstraintErrors = {}


def says_nothing(value: str | None) -> bool:
    """Whether a text a field requires is empty to a reader: nothing but separators and control
    or format characters (zero-width spaces and BOMs, which ``str.strip()`` keeps, included)."""
    return not any(unicodedata.category(c)[0] not in "CZ" for c in value or "")


def refusals(errors: ConstraintErrors) -> ConstraintErrors:
    """Register ``errors`` (see `CONSTRAINTS`)."""
    clash = {name for name in errors if name in CONSTRAINTS and CONSTRAINTS[name] != errors[name]}
    if clash:
        raise ValueError(f"constraints registered twice, differently: {sorted(clash)}")
    CONSTRAINTS.update(errors)
    return errors


@dataclass
class Write:
    """One mutation: its savepoint, its operation name, its user errors."""

    db: RequestSession
    operation: str
    errors: list[UserError] = field(default_factory=list)
    _savepoint: Any = None

    async def __aenter__(self) -> Write:
        self._savepoint = self.db.savepoint(self.operation)
        await self._savepoint.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        translated = _user_errors(error) if error is not None else None
        if translated is not None:
            error = translated
            kind = type(translated)
        # The savepoint is undone on any error (the request may hold other mutations).
        await self._savepoint.__aexit__(kind, error, traceback)
        if translated is not None:
            raise translated from None
        return False

    @property
    def principal(self) -> Any:
        return self.db.principal

    def error(self, field: Sequence[str], code: Code, message: str | None = None) -> None:
        self.errors.append(UserError(tuple(field), code, message or code.value))

    def check(self) -> None:
        """Stop here if any error was found so far."""
        if self.errors:
            raise UserErrors(self.errors)

    def fail(self, field: Sequence[str], code: Code, message: str | None = None) -> None:
        self.error(field, code, message)
        self.check()

    def authorize(
        self, entity: str, action: Action, scope: Scope, field: Sequence[str] = ("input",)
    ) -> None:
        """Refuse (`FORBIDDEN`) unless the policy lets the principal do this."""
        if not policy.can_write(entity, self.operation, action, self.principal, scope):
            self.fail(field, Code.FORBIDDEN, f"{self.principal.role.value} may not do this")


def _user_errors(error: BaseException) -> UserErrors | None:
    """The user errors a database error stands for, or None for a bug."""
    if isinstance(error, UserErrors):
        return error
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    cause = error.orig.__cause__ if error.orig is not None else None
    if isinstance(cause, asyncpg.exceptions.InsufficientPrivilegeError):
        # A write policy or the column guard refused it (the service's checks would have).
        return UserErrors([UserError(("input",), Code.FORBIDDEN, Code.FORBIDDEN.value)])
    if isinstance(cause, asyncpg.exceptions.IntegrityConstraintViolationError):
        known = CONSTRAINTS.get(getattr(cause, "constraint_name", None) or "")
        if known is not None:
            return UserErrors([UserError(*known)])
    return None


def stale_or_missing(found: bool, field: Sequence[str] = ("input", "version")) -> UserErrors:
    """The error of an update that changed nothing: the row changed (`STALE`) or is not there
    (`NOT_FOUND`, also for a row the principal may not read)."""
    if found:
        return UserErrors([UserError(tuple(field), Code.STALE, Code.STALE.value)])
    return UserErrors([UserError(("input", "id"), Code.NOT_FOUND, Code.NOT_FOUND.value)])
