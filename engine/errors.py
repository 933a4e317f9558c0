"""One status-coded error hierarchy for the whole engine; `api/errors.py` renders it once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a JSON path like `nodes.offer.variants[1].weight`) and what."""

    path: str
    message: str


class JourneysError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class BadRequest(JourneysError):
    status_code = 400
    code = "bad_request"


class Unauthorized(JourneysError):
    status_code = 401
    code = "unauthorized"


class Forbidden(JourneysError):
    status_code = 403
    code = "forbidden"


class NotFound(JourneysError):
    status_code = 404
    code = "not_found"


class Conflict(JourneysError):
    status_code = 409
    code = "conflict"


class UnknownPerson(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"no profile, user id or anonymous id {key!r}")


class PayloadTooLarge(JourneysError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(JourneysError):
    status_code = 415
    code = "unsupported_media_type"


class TooManyRequests(JourneysError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(JourneysError):
    status_code = 422
    code = "invalid"


class StartupError(JourneysError):
    """Something `journeys dev` (or another command) cannot work around; shown as one line, no traceback."""
