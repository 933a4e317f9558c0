"""Who may call what. Bearer tokens (401 without one, 403 if it does not allow the call):

- the admin token (`JOURNEYS_ADMIN_TOKEN`): every `/api/*` call;
- analyst tokens (`JOURNEYS_ANALYST_TOKENS`): every `/api/*` read (`GET`), no change;
- a per-person token (engine.profiles.tokens): that person's inbox and live signals, nothing else;
- write keys (`JOURNEYS_WRITE_KEYS`) are for ingestion (`/v1/*`, api/routes/ingest.py) only.

The console signs in once (api/routes/session.py) and then sends a session cookie instead of a bearer
token, with its CSRF header on every change (engine.staff.sessions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep
from engine.errors import Forbidden, Unauthorized
from engine.profiles import tokens
from engine.settings import Settings
from engine.staff import sessions
from engine.staff.sessions import Role

_bearer = HTTPBearer(
    auto_error=False, description="JOURNEYS_ADMIN_TOKEN, an analyst token (reads), or a per-person token"
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
READS = ("GET", "HEAD")
SESSION_COOKIE = "journeys_session"
CSRF_COOKIE = "journeys_csrf"
CSRF_HEADER = "X-CSRF-Token"
PERSON_TOKEN_HEADER = "X-Person-Token"


def _allow(role: Role, method: str) -> None:
    if role == "analyst" and method not in READS:
        raise Forbidden("an analyst token only reads; this call changes data and needs the admin token")


def _staff(request: Request, settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> None:
    """The admin token (or its session) for anything; an analyst's for reads."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        _allow(sessions.role_of_token(settings, credentials.credentials), request.method)
        return
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise Unauthorized("send a token as `Authorization: Bearer <token>`")
    session = sessions.read_session(settings, cookie, datetime.now(UTC))
    if request.method not in READS:
        sessions.check_csrf(settings, cookie, request.headers.get(CSRF_HEADER))
    _allow(session.role, request.method)


async def require_admin(request: Request, settings: SettingsDep, credentials: Credentials) -> None:
    _staff(request, settings, credentials)


async def require_person(key: str, request: Request, settings: SettingsDep, credentials: Credentials) -> None:
    """The person named `key` with their own token, or staff as for any /api call."""
    if credentials is not None and credentials.credentials.startswith(tokens.PREFIX):
        if tokens.subject_of(settings.link_secret, credentials.credentials, datetime.now(UTC)) != key:
            raise Forbidden("this person token is for someone else")
        return
    _staff(request, settings, credentials)


def require_own_visitor(request: Request, settings: Settings, user_id: str | None) -> None:
    """A website's public client key speaks for its anonymous visitors (each holds their own random id);
    what a signed-in user sees (their traits rendered in it) also needs that user's own person token, in
    PERSON_TOKEN_HEADER: a public key alone must not read anyone's content by naming their user id."""
    if user_id is None:
        return
    token = request.headers.get(PERSON_TOKEN_HEADER)
    if token is None:
        raise Forbidden(
            f"with a client write key, a userId needs that user's person token in {PERSON_TOKEN_HEADER}"
        )
    if tokens.subject_of(settings.link_secret, token, datetime.now(UTC)) != user_id:
        raise Forbidden("this person token is for someone else")


AdminDep = Depends(require_admin)
PersonDep = Depends(require_person)
