"""全国地方公共団体コード: six digits, the last a check digit over the first five."""

from __future__ import annotations

import re

from service.errors import InvalidArgument

_CODE = re.compile(r"[0-9]{6}")
_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> int:
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, first_five, strict=True))
    return (11 - total % 11) % 10


def is_valid_code(code: str) -> bool:
    return bool(_CODE.fullmatch(code)) and check_digit(code[:5]) == int(code[5])


def require_valid_code(code: str, argument: str = "code") -> str:
    if not _CODE.fullmatch(code):
        raise InvalidArgument(argument, f"{code!r} is not a 6-digit local government code")
    if check_digit(code[:5]) != int(code[5]):
        raise InvalidArgument(argument, f"{code!r} fails the check digit of local government codes")
    return code
