"""Who may call what. Bearer tokens (401 without one, 403 if it does not allow the call):

- the admin token (`JOURNEYS_ADMIN_TOKEN`): every `/api/*` call;
- analyst tokens (`JOURNEYS_ANALYST_TOKENS`): every `/api/*` read (`GET`), no change;
- a per-person token (engine.profiles.tokens): that person's inbox and live signals, nothing else;
- write keys (`JOURNEYS_WRITE_KEYS`) are for ingestion (`/v1/*`, api/routes/ingest.py) only."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep
from engine.errors import Forbidden, Unauthorized
from engine.profiles import tokens
from engine.settings import Settings

_bearer = HTTPBearer(
    auto_error=False, description="JOURNEYS_ADMIN_TOKEN, an analyst token (reads), or a per-person token"
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
READS = ("GET", "HEAD")


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send a token as `Authorization: Bearer <token>`")
    return credentials.credentials


def _staff(settings: Settings, token: str, method: str) -> None:
    """The admin token for anything; an analyst token for reads."""
    if secrets.compare_digest(token.encode(), settings.admin_token.encode()):
        return
    if any(secrets.compare_digest(token.encode(), key.encode()) for key in settings.analyst_tokens):
        if method in READS:
            return
        raise Forbidden("an analyst token only reads; this call changes data and needs the admin token")
    raise Forbidden("the token is not valid for /api")


async def require_admin(request: Request, settings: SettingsDep, credentials: Credentials) -> None:
    _staff(settings, _token(credentials), request.method)


async def require_person(key: str, request: Request, settings: SettingsDep, credentials: Credentials) -> None:
    """The person named `key` with their own token, or staff as for any /api call."""
    token = _token(credentials)
    if token.startswith(tokens.PREFIX):
        if tokens.subject_of(settings.link_secret, token, datetime.now(UTC)) != key:
            raise Forbidden("this person token is for someone else")
        return
    _staff(settings, token, request.method)


AdminDep = Depends(require_admin)
PersonDep = Depends(require_person)
