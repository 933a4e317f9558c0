"""Profiles (with their live signals) and the custom signals they are computed with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.auth import AdminDep
from api.deps import SessionDep, SettingsDep, TemporalDep
from engine.profiles.service import ProfileService, ProfileView
from engine.signals.custom import CustomSignal, CustomSignalCreate
from engine.signals.service import SignalService

router = APIRouter(tags=["profiles"], dependencies=[AdminDep])


def service(session: SessionDep, temporal: TemporalDep, settings: SettingsDep) -> ProfileService:
    return ProfileService(session, temporal, settings.task_queue)


ServiceDep = Annotated[ProfileService, Depends(service)]
SignalName = Path(pattern=r"^[a-z][a-z0-9_]{0,99}$")


@router.get("/api/profiles/{key}")
async def get_profile(key: str, profiles: ServiceDep) -> ProfileView:
    """A profile by id, user id or anonymous id: traits, live signals, identities, journeys, recent events."""
    return await profiles.view(key)


@router.delete("/api/profiles/{key}")
async def erase_profile(key: str, profiles: ServiceDep) -> dict[str, int]:
    """Erase a person: events, traits and identities go; running enrollments exit; experiment counts stay,
    anonymised."""
    return {"enrollments_exited": await profiles.erase(key)}


@router.get("/api/signals")
async def list_signals(session: SessionDep) -> list[CustomSignal]:
    """Custom signals (the built-ins are listed in the README)."""
    return await SignalService(session).list()


@router.put("/api/signals/{name}")
async def declare_signal(
    request: CustomSignalCreate, session: SessionDep, name: str = SignalName
) -> CustomSignal:
    """Declare or change a custom signal, usable in journey conditions as `profile.signals.<name>`."""
    return await SignalService(session).declare(name, request)
