"""What a message template sees (docs/journeys.md, Templates): the person (traits, live signals, timezone),
the entry and current events, the journey, the variants, and the person's one-click unsubscribe link."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from engine.consent.links import unsubscribe_url
from engine.db.models import Profile
from engine.enrollments.contracts import SendInput, WebhookInput
from engine.profiles.zone import profile_zone
from engine.settings import Settings
from engine.signals.repository import SignalRepository

SIGNAL_REFERENCE = re.compile(r"signals\.([A-Za-z_][A-Za-z0-9_]*)")


async def message_context(
    session: AsyncSession,
    settings: Settings,
    profile: Profile,
    *,
    channel: str,
    sources: Any,
    as_of: datetime,
    journey_key: str | None,
    variant: dict[str, str],
    entry: dict[str, Any] | None,
    event: dict[str, Any] | None,
) -> dict[str, Any]:
    # Only the signals the template mentions: each is an aggregate over the person's events.
    wanted = sorted(set(SIGNAL_REFERENCE.findall(json.dumps(sources, default=str))))
    signals = await SignalRepository(session).compute(profile.id, wanted, as_of) if wanted else {}
    return {
        "profile": {
            "id": profile.id,
            "traits": dict(profile.traits),
            "signals": signals,
            "timezone": profile_zone(profile, settings.default_timezone).key,
        },
        "entry": entry or {},
        "event": event or entry or {},
        "journey": {"key": journey_key},
        "variant": variant,
        "unsubscribe_url": unsubscribe_url(settings.link_base_url, settings.link_secret, profile.id, channel),
    }


async def step_context(
    session: AsyncSession,
    settings: Settings,
    profile: Profile,
    step: SendInput | WebhookInput,
    channel: str,
    sources: Any,
) -> dict[str, Any]:
    """The context of a send or webhook node, from what the workflow passed to the activity."""
    return await message_context(
        session,
        settings,
        profile,
        channel=channel,
        sources=sources,
        as_of=step.as_of,
        journey_key=step.journey_key,
        variant=step.variant,
        entry=step.entry.as_context(),
        event=(step.event or step.entry).as_context(),
    )
