"""Profiles (with their live signals) and the custom signals they are computed with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.auth import AdminDep, PersonDep
from api.deps import ReadSessionDep, SessionDep, SettingsDep, TemporalDep
from engine.consent.service import ConsentChannel, ConsentService, ConsentView
from engine.delivery.inbox import InboxMessage, InboxService
from engine.errors import InvalidInput, Problem
from engine.profiles import tokens
from engine.profiles.service import (
    PredictionsView,
    ProfileService,
    ProfileView,
    SignalsView,
    find_profile,
    live_predictions,
    live_signals,
)
from engine.signals.custom import CustomSignal, CustomSignalCreate
from engine.signals.service import SignalService

router = APIRouter(tags=["profiles"], dependencies=[AdminDep])
# What a person's own token also opens (api/auth.py): their signals and inbox.
own = APIRouter(tags=["profiles"], dependencies=[PersonDep])


async def service(session: SessionDep, temporal: TemporalDep, settings: SettingsDep) -> ProfileService:
    return ProfileService(session, temporal, settings)


ServiceDep = Annotated[ProfileService, Depends(service)]
SignalName = Path(pattern=r"^[a-z][a-z0-9_]{0,99}$")


@router.get("/api/profiles/{key}")
async def get_profile(key: str, profiles: ServiceDep) -> ProfileView:
    """A profile by id, user id or anonymous id: traits, live signals, identities, journeys, recent events."""
    return await profiles.view(key)


class PersonTokenRequest(BaseModel):
    ttl_seconds: int = Field(default=86400, ge=60, description="how long the token is valid (default a day)")


class PersonToken(BaseModel):
    token: str
    expires_at: datetime


@router.post("/api/profiles/{key}/token")
async def person_token(
    key: str, session: ReadSessionDep, settings: SettingsDep, request: PersonTokenRequest | None = None
) -> PersonToken:
    """A token for this person's own website or app: it reads their live signals and inbox and marks
    their messages read (`Authorization: Bearer <token>` on `/api/profiles/{key}/signals` and
    `/inbox`, with the same `{key}`), and nothing else. Signed, not stored: it lives until it expires."""
    await find_profile(session, key)
    ttl = (request or PersonTokenRequest()).ttl_seconds
    if ttl > settings.person_token_max_seconds:
        raise InvalidInput(
            f"ttl_seconds: at most {settings.person_token_max_seconds}",
            [
                Problem(
                    "ttl_seconds",
                    f"at most {settings.person_token_max_seconds} (JOURNEYS_PERSON_TOKEN_MAX_SECONDS)",
                )
            ],
        )
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
    return PersonToken(token=tokens.mint(settings.link_secret, key, expires_at), expires_at=expires_at)


@router.delete("/api/profiles/{key}")
async def erase_profile(key: str, profiles: ServiceDep) -> dict[str, int]:
    """Erase a person: events, traits and identities go; running enrollments exit; experiment counts stay,
    anonymised."""
    return {"enrollments_exited": await profiles.erase(key)}


@own.get("/api/profiles/{key}/signals")
async def get_signals(
    key: str,
    session: ReadSessionDep,
    names: str | None = Query(default=None, description="comma-separated signal names; all if unset"),
) -> SignalsView:
    """A person's live signals, correct the instant their last event was committed (the fast read)."""
    wanted = [name.strip() for name in names.split(",") if name.strip()] if names else None
    return await live_signals(session, key, wanted)


@router.get("/api/profiles/{key}/predictions")
async def get_predictions(key: str, session: ReadSessionDep) -> PredictionsView:
    """A person's predictive signals scored now (churn risk, expected orders, lifetime value, RFM, cluster)
    with the features that moved churn risk and expected orders most, and in which direction."""
    return await live_predictions(session, key)


class ConsentChange(BaseModel):
    subscribed: bool


@router.get("/api/profiles/{key}/consent")
async def get_consent(key: str, session: ReadSessionDep) -> ConsentView:
    """Which channels may reach the person, and what they said."""
    return await ConsentService(session).view(await find_profile(session, key))


@router.put("/api/profiles/{key}/consent/{channel}")
async def set_consent(
    key: str, channel: ConsentChannel, change: ConsentChange, session: SessionDep
) -> ConsentView:
    """Subscribe or unsubscribe a person from one channel, or from `all`."""
    profile_id = await find_profile(session, key)
    return await ConsentService(session).set(profile_id, channel, change.subscribed, "api")


@own.get("/api/profiles/{key}/inbox")
async def inbox(
    key: str,
    session: ReadSessionDep,
    limit: int = Query(default=20, ge=1, le=100),
    unread: bool = Query(default=False, description="only messages not yet read"),
) -> list[InboxMessage]:
    """The person's in-app messages, newest first."""
    return await InboxService(session).messages(key, limit, unread)


@own.post("/api/profiles/{key}/inbox/{message_id}/read", status_code=204)
async def mark_read(key: str, message_id: int, session: SessionDep) -> None:
    """Mark an in-app message read (again is fine)."""
    await InboxService(session).mark_read(await find_profile(session, key), message_id)


@router.get("/api/signals")
async def list_signals(session: ReadSessionDep) -> list[CustomSignal]:
    """Custom signals (the built-ins are listed in docs/api.md)."""
    return await SignalService(session).list()


@router.put("/api/signals/{name}")
async def declare_signal(
    request: CustomSignalCreate, session: SessionDep, name: str = SignalName
) -> CustomSignal:
    """Declare or change a custom signal, usable in journey conditions as `profile.signals.<name>`."""
    return await SignalService(session).declare(name, request)
