"""Core errors → CloudStack's `errorcode` (also the HTTP status) and `cserrorcode`."""

from __future__ import annotations

from core import errors

PARAM_ERROR = 431
UNSUPPORTED_ACTION = 432
UNAUTHORIZED = 401
INTERNAL_ERROR = 530

# CloudStack's ApiErrorCode and CSExceptionErrorCode numbers for the exception it would throw.
_CODES: list[tuple[type[Exception], int, int]] = [
    (errors.AuthenticationFailed, 401, 9999),
    (errors.NotFound, 431, 4350),
    (errors.InvalidParameter, 431, 4350),
    (errors.InvalidState, 431, 4350),
    (errors.ResourceInUse, 536, 4375),
    (errors.NetworkRuleConflict, 537, 4360),
    (errors.Conflict, 431, 4350),
    (errors.PermissionDenied, 531, 4365),
    (errors.LimitExceeded, 535, 4370),
    (errors.InsufficientCapacity, 533, 4325),
    (errors.ResourceUnavailable, 534, 4380),
    (errors.OperationFailed, 530, 4250),
]


class ApiError(Exception):
    """An error that is already in CloudStack's terms."""

    def __init__(self, errorcode: int, text: str, cserrorcode: int = 9999) -> None:
        super().__init__(text)
        self.errorcode = errorcode
        self.cserrorcode = cserrorcode
        self.text = text


def to_api_error(error: errors.CloudgateError) -> ApiError:
    for kind, code, cscode in _CODES:
        if isinstance(error, kind):
            return ApiError(code, error.message, cscode)
    return ApiError(INTERNAL_ERROR, error.message, 4250)


def codes_for_kind(kind_name: str) -> tuple[int, int]:
    """Codes for a job's stored error kind (the core error's class name)."""
    for kind, code, cscode in _CODES:
        if kind.__name__ == kind_name:
            return code, cscode
    return INTERNAL_ERROR, 4250
