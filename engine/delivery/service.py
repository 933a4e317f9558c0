"""Sending one message, in two steps around the provider call. `prepare` (inside `claiming`) checks the
policies, renders, and claims the delivery row by its idempotency key; the caller hands the message
to the channel; `finish` records what the provider said. A retry after a lost reply finds the claimed
row and re-sends the same rendered message with the same key, which providers de-duplicate on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession

from engine.consent.links import unsubscribe_url
from engine.consent.service import allows
from engine.db.models import Delivery, Profile
from engine.db.session import autocommit
from engine.delivery.channels.base import OutgoingMessage
from engine.delivery.channels.registry import RECIPIENT_TRAIT
from engine.delivery.context import step_context
from engine.delivery.policies import Hold, quiet_hours_end, rate_limit_release
from engine.delivery.repository import DeliveryRepository, idempotency_key
from engine.delivery.send_repository import SendRepository
from engine.durations import format_duration
from engine.enrollments.contracts import DeliveryResult, SendInput
from engine.errors import JourneysError, NotFound
from engine.profiles.zone import profile_zone
from engine.settings import Settings
from engine.templates.rendering import render_parts

QUIET_CHANNELS = ("email", "sms", "push")  # the ones that buzz or ping; an inbox waits quietly anyway


@dataclass(frozen=True)
class Prepared:
    delivery_id: int
    message: OutgoingMessage


def message_of(delivery: Delivery) -> OutgoingMessage:
    payload = delivery.payload
    return OutgoingMessage(
        idempotency_key=delivery.idempotency_key,
        channel=delivery.channel,
        to=payload.get("to"),
        subject=payload.get("subject"),
        text=payload.get("body") or "",
        html=payload.get("html"),
        headers=payload.get("headers") or {},
    )


RENDER_FAILED = "render failed"


class MessageService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.deliveries = DeliveryRepository(session)

    @asynccontextmanager
    async def claiming(self, input: SendInput) -> AsyncIterator[None]:
        """What `prepare` runs in. Only the rate limit and the frequency cap lock (a scope, until the claim
        commits); without them each statement stands alone (READ COMMITTED gives each its own snapshot in
        a transaction too, and the claim is one INSERT), so autocommit saves the BEGIN and COMMIT round
        trips: a third of a stored send's."""
        capped = not input.transactional and input.channel in self.settings.caps
        if input.rate_limit is not None or capped:
            async with self.session.begin():
                yield
        else:
            await autocommit(self.session)
            yield

    async def prepare(self, input: SendInput, claim: str = "pending") -> Prepared | DeliveryResult:
        """`claim` is the status the row is claimed with: "sent" for a channel whose row is the message
        (nothing is left to do then: the answer is the result). The claim comes first and an earlier
        attempt's row is read only when the key turns out to be owned: retries are rare, sends are not."""
        key = idempotency_key(input.enrollment_id, input.node_id, input.visit)
        try:
            return await self._claim(input, key, claim)
        except JourneysError:
            # A template deleted or broken since an earlier attempt of this step delivered it.
            earlier = await self._claimed_before(key)
            if earlier is None:
                raise
            return earlier

    async def _claim(self, input: SendInput, key: str, claim: str) -> Prepared | DeliveryResult:
        facts = await SendRepository(self.session).facts(input.template, input.profile_id)
        if facts is None:
            raise NotFound(f"template {input.template!r} does not exist")
        template, profile = facts.template, facts.profile
        if profile is None:
            return DeliveryResult(status="skipped", detail="profile erased")
        row = {
            "enrollment_id": input.enrollment_id,
            "profile_id": profile.id,
            "journey_key": input.journey_key,
            "channel": input.channel,
            "template": input.template,
            "template_version": template.version,
            "scheduled_at": input.as_of,
        }
        recipient = profile.traits.get(RECIPIENT_TRAIT.get(input.channel, ""))
        hold = await self._hold(input, profile, facts.consents, recipient)
        if hold is not None:
            delivery_id = await self.deliveries.save(
                key, {**row, "status": hold.status, "reason": hold.reason, "payload": {}}
            )
            if delivery_id is None:
                return await self._owned(key)
            return DeliveryResult(
                status=hold.status, delivery_id=delivery_id, detail=hold.reason, until=hold.until
            )
        sources = [template.subject, template.body, template.html]
        context = await step_context(self.session, self.settings, profile, input, input.channel, sources)
        try:
            rendered = render_parts(template.subject, template.body, template.html, context)
        except (TemplateError, ValueError) as error:
            # Recorded, not only raised: the enrollment, the report and the metrics show who got nothing.
            reason = f"{RENDER_FAILED}: template {input.template!r}: {error}"
            delivery_id = await self.deliveries.save(
                key, {**row, "status": "failed", "reason": reason[:1000], "payload": {}}
            )
            if delivery_id is None:
                return await self._owned(key)
            return DeliveryResult(status="failed", delivery_id=delivery_id, detail=reason)
        headers = {}
        if input.channel == "email":
            # RFC 8058 one-click unsubscribe: mail clients show an "Unsubscribe" button that POSTs here.
            link = unsubscribe_url(
                self.settings.link_base_url, self.settings.link_secret, profile.id, "email"
            )
            headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        payload: dict[str, Any] = {**rendered, "to": recipient, "headers": headers}
        claimed = {**row, "status": claim, "reason": None, "payload": payload}
        delivery_id = await self.deliveries.save(key, claimed)
        if delivery_id is None:
            return await self._owned(key)
        if claim == "sent":
            return DeliveryResult(status="sent", delivery_id=delivery_id)
        return Prepared(
            delivery_id,
            OutgoingMessage(
                idempotency_key=key,
                channel=input.channel,
                to=recipient if isinstance(recipient, str) else None,
                subject=rendered["subject"],
                text=rendered["body"] or "",
                html=rendered["html"],
                headers=headers,
            ),
        )

    async def _owned(self, key: str) -> Prepared | DeliveryResult:
        """The key was owned when we claimed it: by an earlier attempt of this step (or a concurrent one)."""
        earlier = await self._claimed_before(key)
        assert earlier is not None, f"delivery {key} owned, then gone"
        return earlier

    async def _claimed_before(self, key: str) -> Prepared | DeliveryResult | None:
        existing = await self.deliveries.by_key(key)
        if existing is None or existing.status == "deferred":
            return None
        if existing.status == "pending":
            return Prepared(existing.id, message_of(existing))  # claimed before; the provider call failed
        return DeliveryResult(status=existing.status, delivery_id=existing.id, detail="already delivered")

    async def _hold(
        self, input: SendInput, profile: Profile, consents: dict[str, bool], recipient: Any
    ) -> Hold | None:
        channel = input.channel
        if channel in RECIPIENT_TRAIT and not (isinstance(recipient, str) and recipient):
            return Hold("skipped", f"no {RECIPIENT_TRAIT[channel]} on the profile")
        if not allows(consents, channel):
            return Hold("skipped", f"unsubscribed from {channel}")
        window = input.quiet_hours or self.settings.quiet_hours
        if not input.transactional and channel in QUIET_CHANNELS and window and window != "off":
            zone = profile_zone(profile, self.settings.default_timezone)
            until = quiet_hours_end(input.as_of, zone, window)
            if until is not None:
                return Hold("deferred", f"quiet hours {window} ({zone.key})", until)
        if input.rate_limit is not None:
            limit, seconds = input.rate_limit
            per = timedelta(seconds=seconds)
            await self.deliveries.lock(f"journey-rate:{input.journey_key}")
            count, oldest = await self.deliveries.journey_window(
                input.journey_key, input.as_of - per, input.as_of
            )
            until = rate_limit_release(count, oldest, limit, per)
            if until is not None:
                return Hold(
                    "deferred", f"rate limit {limit} per {format_duration(per)} for this journey", until
                )
        rule = self.settings.caps.get(channel)
        if rule is not None and not input.transactional:
            cap, window_length = rule
            await self.deliveries.lock(f"frequency:{profile.id}:{channel}")
            sent = await self.deliveries.count_to(
                profile.id, channel, input.as_of - window_length, input.as_of
            )
            if sent >= cap:
                return Hold(
                    "skipped",
                    f"frequency cap: {cap} {channel} per {format_duration(window_length)}"
                    " across journeys reached",
                )
        return None

    async def finish(self, prepared: Prepared, status: str, reason: str | None) -> DeliveryResult:
        await self.deliveries.mark(prepared.delivery_id, status, reason)
        return DeliveryResult(status=status, delivery_id=prepared.delivery_id, detail=reason)
