"""Console sign-in: a staff token exchanged for an httpOnly, SameSite=Strict session cookie and a CSRF
cookie the page echoes as `X-CSRF-Token` on every change (engine.staff.sessions). Bearer tokens keep
working everywhere; this is for browsers, which should not hold the token in script-readable storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from api.auth import CSRF_COOKIE, SESSION_COOKIE
from api.deps import SettingsDep
from engine.errors import Unauthorized
from engine.staff import sessions
from engine.staff.sessions import Role

router = APIRouter(prefix="/api/session", tags=["console sign-in"])
SIGN_IN_ERRORS: dict[int | str, dict[str, str]] = {403: {"description": "The token is not a staff token"}}


class SignIn(BaseModel):
    token: str = Field(min_length=1, max_length=500, description="the admin token or an analyst token")


class SessionView(BaseModel):
    role: Role
    expires_at: datetime


@router.post("", responses=SIGN_IN_ERRORS)
async def sign_in(body: SignIn, request: Request, response: Response, settings: SettingsDep) -> SessionView:
    """Open a console session: sets the `journeys_session` cookie (httpOnly) and `journeys_csrf`."""
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.console_session_seconds)
    value, session = sessions.open_session(settings, body.token, expires_at)
    secure = request.url.scheme == "https"
    for name, content, http_only in (
        (SESSION_COOKIE, value, True),
        (CSRF_COOKIE, sessions.csrf_token(settings, value), False),  # the page reads it to echo it
    ):
        response.set_cookie(
            name,
            content,
            max_age=settings.console_session_seconds,
            path="/",
            httponly=http_only,
            samesite="strict",
            secure=secure,
        )
    return SessionView(role=session.role, expires_at=datetime.fromtimestamp(session.expires_at, UTC))


@router.get("", responses={401: {"description": "Not signed in"}})
async def current(request: Request, settings: SettingsDep) -> SessionView:
    """Who this browser is signed in as."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise Unauthorized("not signed in")
    session = sessions.read_session(settings, cookie, datetime.now(UTC))
    return SessionView(role=session.role, expires_at=datetime.fromtimestamp(session.expires_at, UTC))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(response: Response) -> None:
    """Sign out: the browser forgets both cookies."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", samesite="strict")
