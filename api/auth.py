"""Admin authentication: `Authorization: Bearer <JOURNEYS_ADMIN_TOKEN>` (401 without it, 403 if wrong)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep
from engine.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="JOURNEYS_ADMIN_TOKEN")


async def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send the admin token as `Authorization: Bearer <token>`")
    if not secrets.compare_digest(credentials.credentials.encode(), settings.admin_token.encode()):
        raise Forbidden("the admin token is not valid")


AdminDep = Depends(require_admin)
