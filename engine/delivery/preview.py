"""`POST /api/templates/{name}/preview`: a template rendered for a real person, before any journey
sends it, with exactly the context a send would have."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import TemplateError
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from engine.delivery.context import message_context
from engine.errors import InvalidInput, NotFound, Problem
from engine.profiles.repository import ProfileRepository
from engine.profiles.service import find_profile
from engine.settings import Settings
from engine.templates.rendering import render_parts
from engine.templates.repository import TemplateRepository


class SampleEvent(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class PreviewRequest(BaseModel):
    profile: str = Field(min_length=1, max_length=200, description="profile id, user id or anonymous id")
    channel: str = Field(default="email", pattern=r"^(stored|outbox|email|sms|push|in_app)$")
    entry: SampleEvent | None = Field(default=None, description="the event that started the journey")
    event: SampleEvent | None = Field(default=None, description="the latest event; the entry if unset")
    journey: str | None = None
    variant: dict[str, str] = Field(default_factory=dict)


class Preview(BaseModel):
    template: str
    version: int
    profile_id: str
    subject: str | None
    body: str | None
    html: str | None


def _sample(event: SampleEvent, now: datetime) -> dict[str, Any]:
    return {
        "id": "preview",
        "event": event.name,
        "name": event.name,
        "properties": event.properties,
        "timestamp": now.isoformat(),
    }


async def preview(session: AsyncSession, settings: Settings, name: str, request: PreviewRequest) -> Preview:
    template = await TemplateRepository(session).get(name)
    if template is None:
        raise NotFound(f"no template named {name!r}")
    profile_id = await find_profile(session, request.profile)
    profile = await ProfileRepository(session).get(profile_id)
    assert profile is not None
    now = datetime.now(UTC)
    context = await message_context(
        session,
        settings,
        profile,
        channel=request.channel,
        sources=[template.subject, template.body, template.html],
        as_of=now,
        journey_key=request.journey,
        variant=request.variant,
        entry=_sample(request.entry or SampleEvent(name="preview"), now),
        event=_sample(request.event, now) if request.event else None,
    )
    try:
        rendered = render_parts(template.subject, template.body, template.html, context)
    except (TemplateError, ValueError) as error:
        # Usually a sample event without the property the template reads: say which.
        raise InvalidInput(
            f"template {name!r} cannot render for this input: {error}", [Problem("entry", str(error))]
        ) from error
    return Preview(template=name, version=template.version, profile_id=profile_id, **rendered)
