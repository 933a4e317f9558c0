"""Console sign-in: a staff token (the admin token or an analyst token) exchanged for a session the
browser keeps in an httpOnly cookie, so the token itself never sits in page-readable storage.

A session is signed, not stored: `<role>.<token fingerprint>.<expiry>.<signature>`. The fingerprint
names which configured token it was opened with, so rotating that token (or the link secret) ends every
session opened with it. Its CSRF token is derived from it: a page must echo that value in a header on
every change, which another site's page can neither read nor forge (double submit, bound to the session)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.errors import Forbidden, Unauthorized
from engine.settings import Settings

Role = Literal["admin", "analyst"]
ROLES: dict[str, Role] = {"admin": "admin", "analyst": "analyst"}


@dataclass(frozen=True)
class StaffSession:
    role: Role
    expires_at: int  # unix seconds


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _sign(settings: Settings, message: str) -> str:
    return hmac.new(settings.link_secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def role_of_token(settings: Settings, token: str) -> Role:
    """Which staff role a bearer token carries; Forbidden if none."""
    if secrets.compare_digest(token.encode(), settings.admin_token.encode()):
        return "admin"
    if any(secrets.compare_digest(token.encode(), key.encode()) for key in settings.analyst_tokens):
        return "analyst"
    raise Forbidden("the token is not valid for /api")


def _tokens(settings: Settings, role: Role) -> list[str]:
    return [settings.admin_token] if role == "admin" else list(settings.analyst_tokens)


def open_session(settings: Settings, token: str, expires_at: datetime) -> tuple[str, StaffSession]:
    """The cookie value for a session opened with `token`, valid until `expires_at`."""
    role = role_of_token(settings, token)
    expires = int(expires_at.timestamp())
    body = f"{role}.{_fingerprint(token)}.{expires}"
    return f"{body}.{_sign(settings, 'staff-session.' + body)}", StaffSession(role, expires)


def read_session(settings: Settings, value: str, now: datetime) -> StaffSession:
    """The session a cookie carries; Unauthorized when it is forged, expired or its token was rotated."""
    try:
        role, fingerprint, expires_text, signature = value.split(".")
        expires = int(expires_text)
    except ValueError as error:
        raise Unauthorized("the session is malformed: sign in again") from error
    body = f"{role}.{fingerprint}.{expires}"
    checked = ROLES.get(role)
    if checked is None or not hmac.compare_digest(signature, _sign(settings, "staff-session." + body)):
        raise Unauthorized("the session is not valid: sign in again")
    if not any(_fingerprint(token) == fingerprint for token in _tokens(settings, checked)):
        raise Unauthorized("the token this session was opened with has changed: sign in again")
    if now.timestamp() >= expires:
        raise Unauthorized("the session has expired: sign in again")
    return StaffSession(checked, expires)


def csrf_token(settings: Settings, session_value: str) -> str:
    return _sign(settings, "csrf." + session_value)


def check_csrf(settings: Settings, session_value: str, header: str | None) -> None:
    if header is None or not hmac.compare_digest(header, csrf_token(settings, session_value)):
        raise Forbidden("a change made with a session cookie must carry its X-CSRF-Token header")
