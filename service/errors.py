"""Errors a client can act on. Each carries a stable ``extensions.code`` for the GraphQL response.

Anything else raised while resolving is a bug: the API masks it and logs it with the request id.
"""

from __future__ import annotations

from typing import Any


class DxlinkError(Exception):
    """Base of every error shown to clients as is; ``extensions`` goes into the response."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class InvalidArgument(DxlinkError):
    """An argument's value is malformed or out of range; the message names the argument."""

    code = "BAD_USER_INPUT"

    def __init__(self, argument: str, reason: str) -> None:
        super().__init__(f"Invalid argument '{argument}': {reason}", argument=argument)
        self.argument = argument
