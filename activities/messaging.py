"""Messages and webhooks. The delivery row, unique by (enrollment, node, visit), is the proof of sending:
a retried activity finds it and sends nothing twice.

Every channel currently delivers through the `outbox` adapter: the rendered message is stored in
PostgreSQL (visible through the API). Real SMTP / SMS / push adapters plug in behind the same call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

import httpx
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from engine.deliveries.egress import refusal
from engine.deliveries.repository import DeliveryRepository, idempotency_key
from engine.enrollments.contracts import DeliveryResult, SendInput, WebhookInput
from engine.profiles.repository import ProfileRepository
from engine.settings import Settings
from engine.signals.repository import SignalRepository
from engine.templates.rendering import render_template, render_value
from engine.templates.repository import TemplateRepository

RETRYABLE_STATUS = {408, 425, 429}
SIGNAL_REFERENCE = re.compile(r"signals\.([A-Za-z_][A-Za-z0-9_]*)")
ERASED = DeliveryResult(status="skipped", detail="profile erased")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it and rejects replays."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class MessagingActivities:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, settings: Settings
    ):
        self._sessionmaker = sessionmaker
        self._http = http
        self._settings = settings

    async def _context(
        self, session: AsyncSession, input: SendInput | WebhookInput, sources: Any
    ) -> dict[str, Any] | None:
        """What templates see; None when the person was erased meanwhile (then nothing is sent)."""
        profiles = ProfileRepository(session)
        profile = await profiles.get_current(input.profile_id)
        if profile is None:
            return None
        profile_id = profile.id
        # Only the signals the message mentions: each is an aggregate over the person's events.
        wanted = sorted(set(SIGNAL_REFERENCE.findall(json.dumps(sources, default=str))))
        signals = await SignalRepository(session).compute(profile_id, wanted, input.as_of) if wanted else {}
        return {
            "profile": {
                "id": profile_id,
                "traits": dict(profile.traits),
                "signals": signals,
            },
            "entry": input.entry.as_context(),
            "event": (input.event or input.entry).as_context(),
            "journey": {"key": input.journey_key},
            "variant": input.variant,
        }

    @activity.defn
    async def send_message(self, input: SendInput) -> DeliveryResult:
        key = idempotency_key(input.enrollment_id, input.node_id, input.visit)
        async with self._sessionmaker() as session, session.begin():
            deliveries = DeliveryRepository(session)
            existing = await deliveries.by_key(key)
            if existing is not None:
                return DeliveryResult(
                    status=existing.status, delivery_id=existing.id, detail="already delivered"
                )
            template = await TemplateRepository(session).get(input.template)
            if template is None:
                raise ApplicationError(f"template {input.template!r} does not exist", non_retryable=True)
            context = await self._context(session, input, [template.subject, template.body, template.html])
            if context is None:
                return ERASED
            try:
                rendered = render_template(template, context)
            except TemplateError as error:
                raise ApplicationError(f"template {input.template!r}: {error}", non_retryable=True) from error
            delivery_id = await deliveries.claim(
                key,
                {
                    "enrollment_id": input.enrollment_id,
                    "profile_id": input.profile_id,
                    "channel": input.channel,
                    "template": input.template,
                    "status": "sent",
                    "payload": {**rendered, "adapter": "outbox"},
                },
            )
            if delivery_id is not None:
                await deliveries.mark(delivery_id, "sent")
        return DeliveryResult(status="sent", delivery_id=delivery_id)

    @activity.defn
    async def call_webhook(self, input: WebhookInput) -> DeliveryResult:
        key = idempotency_key(input.enrollment_id, input.node_id, input.visit)
        async with self._sessionmaker() as session, session.begin():
            deliveries = DeliveryRepository(session)
            existing = await deliveries.by_key(key)
            if existing is not None and existing.status in ("sent", "failed"):
                return DeliveryResult(
                    status=existing.status, delivery_id=existing.id, detail="already delivered"
                )
            context = await self._context(session, input, [input.url, input.headers, input.body])
            if context is None:
                return ERASED
            try:
                url = render_value(input.url, context)
                headers = render_value(input.headers, context)
                body = render_value(input.body, context)
            except TemplateError as error:
                raise ApplicationError(f"webhook template: {error}", non_retryable=True) from error
            payload = {"method": input.method, "url": url, "body": body}
            delivery_id = (
                existing.id
                if existing
                else await deliveries.claim(
                    key,
                    {
                        "enrollment_id": input.enrollment_id,
                        "profile_id": input.profile_id,
                        "channel": "webhook",
                        "status": "pending",
                        "payload": payload,
                    },
                )
            )
        assert delivery_id is not None
        refused = await refusal(url, [h.lower() for h in self._settings.webhook_allowed_hosts])
        if refused is not None:
            async with self._sessionmaker() as session, session.begin():
                await DeliveryRepository(session).mark(delivery_id, "failed", refused)
            raise ApplicationError(f"webhook refused: {refused}", non_retryable=True)
        content = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        timestamp = int(time.time())
        request_headers = {
            "Content-Type": "application/json" if not isinstance(body, str) else "text/plain",
            **headers,
            # The receiver de-duplicates on this key; it is the same on every retry of this step.
            "Idempotency-Key": key,
            "X-Journeys-Signature": sign(self._settings.webhook_secret, timestamp, content),
        }
        try:
            response = await self._http.request(
                input.method,
                url,
                content=content if input.body is not None else None,
                headers=request_headers,
                timeout=self._settings.webhook_timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise ApplicationError(f"webhook {url}: {type(error).__name__}: {error}") from error  # retried
        if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
            raise ApplicationError(f"webhook {url}: HTTP {response.status_code}")  # retried with backoff
        async with self._sessionmaker() as session, session.begin():
            if response.status_code >= 400:
                await DeliveryRepository(session).mark(delivery_id, "failed", f"HTTP {response.status_code}")
            else:
                await DeliveryRepository(session).mark(delivery_id, "sent")
        if response.status_code >= 400:
            raise ApplicationError(f"webhook {url}: HTTP {response.status_code}", non_retryable=True)
        return DeliveryResult(status="sent", delivery_id=delivery_id, detail=f"HTTP {response.status_code}")
