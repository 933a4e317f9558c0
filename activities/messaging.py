"""Messages and webhooks. The delivery row, unique by (enrollment, node, visit), is the proof of sending:
a retried activity finds it and sends nothing twice; when the provider call itself is retried (a lost
reply), the provider gets the same idempotency key (the `Idempotency-Key` header, or the email's
Message-ID) and de-duplicates it.

Channels are adapters (`engine/channels`): outbox and in_app store the message, email goes over SMTP,
SMS and push to HTTP providers; a channel without a configured provider falls back to the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from engine.channels.base import PermanentDeliveryError, StoredOnly, TransientDeliveryError
from engine.channels.http_provider import is_retryable
from engine.channels.registry import build_channels
from engine.db.session import autocommit
from engine.deliveries.egress import refusal
from engine.deliveries.repository import DeliveryRepository, idempotency_key
from engine.enrollments.contracts import Closing, DeliveryResult, SendInput, StepInput, WebhookInput
from engine.enrollments.repository import EnrollmentRepository
from engine.errors import JourneysError
from engine.messaging.context import step_context
from engine.messaging.service import MessageService
from engine.profiles.repository import ProfileRepository
from engine.settings import Settings
from engine.templates.rendering import render_value

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
        self._channels = build_channels(settings, http)

    @activity.defn
    async def send_message(self, input: SendInput) -> DeliveryResult:
        result = await self._send(input)
        if input.closing is None or result.status == "deferred":
            return result
        # Also on a retry that finds the delivery done: an attempt may have crashed in between.
        await self._close(input.enrollment_id, input.closing, result)
        return result.model_copy(update={"closed": True})

    async def _close(self, enrollment_id: str, closing: Closing, result: DeliveryResult) -> None:
        """Ends the enrollment as completed at its exit, with its unwritten steps (contracts.Closing)."""
        # The server's clock, as workflow.now() is (this attempt's start): the steps' times stay in order.
        now = activity.info().started_time
        *before, sent = closing.steps
        steps = [
            *before,
            sent.model_copy(update={"decision": result.decision()}),
            StepInput(
                enrollment_id=enrollment_id,
                node_id=closing.exit_node,
                visit=closing.exit_visit,
                node_type="exit",
                decision={},
                entered_at=now,
            ),
        ]
        async with self._sessionmaker() as session:
            await autocommit(session)  # one statement, atomic on its own; a no-op once ended
            await EnrollmentRepository(session).finish(
                enrollment_id, "completed", closing.exit_node, now, [step.model_dump() for step in steps]
            )

    async def _send(self, input: SendInput) -> DeliveryResult:
        channel = self._channels[input.channel]
        # Nothing leaves the building for a stored channel: the row is the message, claimed as sent.
        stored = isinstance(channel, StoredOnly)
        async with self._sessionmaker() as session:
            service = MessageService(session, self._settings)
            async with service.claiming(input):
                try:
                    prepared = await service.prepare(input, claim="sent" if stored else "pending")
                except JourneysError as error:  # missing or broken template: retrying cannot help
                    raise ApplicationError(error.message, non_retryable=True) from error
                if isinstance(prepared, DeliveryResult):
                    return prepared
                if stored:  # a row claimed as pending before stored channels were claimed as sent
                    return await service.finish(prepared, "sent", None)
        try:
            receipt = await channel.deliver(prepared.message)
        except TransientDeliveryError as error:
            raise ApplicationError(str(error)) from error  # retried with backoff, same key
        except PermanentDeliveryError as error:
            async with self._sessionmaker() as session, session.begin():
                await MessageService(session, self._settings).finish(prepared, "failed", str(error))
            raise ApplicationError(str(error), non_retryable=True) from error
        async with self._sessionmaker() as session, session.begin():
            return await MessageService(session, self._settings).finish(prepared, "sent", receipt.detail)

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
            profile = await ProfileRepository(session).get_current(input.profile_id)
            if profile is None:
                return ERASED
            sources = [input.url, input.headers, input.body]
            context = await step_context(session, self._settings, profile, input, "webhook", sources)
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
                else await deliveries.save(
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
        if is_retryable(response.status_code):
            raise ApplicationError(f"webhook {url}: HTTP {response.status_code}")  # retried with backoff
        async with self._sessionmaker() as session, session.begin():
            if response.status_code >= 400:
                await DeliveryRepository(session).mark(delivery_id, "failed", f"HTTP {response.status_code}")
            else:
                await DeliveryRepository(session).mark(delivery_id, "sent")
        if response.status_code >= 400:
            raise ApplicationError(f"webhook {url}: HTTP {response.status_code}", non_retryable=True)
        return DeliveryResult(status="sent", delivery_id=delivery_id, detail=f"HTTP {response.status_code}")
