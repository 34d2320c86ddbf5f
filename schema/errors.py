"""User errors of mutations: the input field at fault, a stable code and a message."""

from __future__ import annotations

import strawberry

from service.writes import Code
from service.writes import UserError as UserErrorModel

UserErrorCode = strawberry.enum(
    Code,
    name="UserErrorCode",
    description="Why a mutation refused its input / 変更が受け付けられなかった理由.",
)


@strawberry.type(
    description="A problem with a mutation's input that the user can fix; nothing was written "
    "/ 入力の問題（何も書き込まれていません）."
)
class UserError:
    field: list[str] = strawberry.field(
        description='Path of the input field at fault, e.g. ["input", "endsOn"].'
    )
    code: UserErrorCode  # type: ignore[valid-type]
    message: str

    @classmethod
    def from_model(cls, error: UserErrorModel) -> UserError:
        return cls(field=list(error.field), code=error.code, message=error.message)


def user_errors(errors: list[UserErrorModel]) -> list[UserError]:
    return [UserError.from_model(e) for e in errors]
