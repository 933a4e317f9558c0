"""Consent per channel: changed through the API, by `Unsubscribed` / `Subscribed` track events (with an
optional `channel` property, else every channel) and by the one-click link in messages."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from engine.consent.links import read_token
from engine.consent.repository import ConsentRepository
from engine.errors import InvalidInput, NotFound, Problem
from engine.events.names import event_key
from engine.profiles.repository import ProfileRepository

ConsentChannel = Literal["all", "email", "sms", "push", "in_app"]
CHANNELS: tuple[str, ...] = get_args(ConsentChannel)
CONSENT_EVENTS = {"unsubscribed": False, "subscribed": True}


class ConsentView(BaseModel):
    profile_id: str
    channels: dict[str, bool]  # every channel: may it be used now?
    recorded: dict[str, bool]  # what the person said (no entry = never said anything)


class ConsentService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = ConsentRepository(session)
        self.profiles = ProfileRepository(session)

    async def view(self, profile_id: str) -> ConsentView:
        recorded = await self.repo.of(profile_id)
        return ConsentView(
            profile_id=profile_id,
            channels={channel: allows(recorded, channel) for channel in CHANNELS if channel != "all"},
            recorded=recorded,
        )

    async def set(self, profile_id: str, channel: str, subscribed: bool, source: str) -> ConsentView:
        if channel not in CHANNELS:
            raise InvalidInput(
                f"unknown channel {channel!r}", [Problem("channel", f"expected one of {', '.join(CHANNELS)}")]
            )
        await self.repo.set(profile_id, channel, subscribed, source)
        return await self.view(profile_id)

    async def from_event(self, profile_id: str, name: str, properties: dict[str, Any]) -> None:
        """Apply a consent event; an unknown `channel` property changes nothing (the event is kept)."""
        subscribed = CONSENT_EVENTS.get(event_key(name))
        channel = properties.get("channel", "all")
        if subscribed is not None and channel in CHANNELS:
            await self.repo.set(profile_id, channel, subscribed, "event")

    async def unsubscribe_by_token(self, secret: str, token: str) -> tuple[str, str]:
        profile_id, channel = read_token(secret, token)
        current = await self.profiles.get_current(profile_id)
        if current is None:
            raise NotFound("unknown unsubscribe link")  # erased meanwhile: nothing left to unsubscribe
        await self.repo.set(current.id, channel, False, "link")
        return current.id, channel


def allows(consents: dict[str, bool], channel: str) -> bool:
    """A channel is allowed unless unsubscribed from it, or from everything without opting back in."""
    if channel in consents:
        return consents[channel]
    return consents.get("all", True)
