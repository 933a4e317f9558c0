"""Messages and webhooks. The delivery row, unique by (enrollment, node, visit), is the proof of sending:
a retried activity finds it and sends nothing twice; when the provider call itself is retried (a lost
reply), the provider gets the same idempotency key (the `Idempotency-Key` header, or the email's
Message-ID) and de-duplicates it.

Channels are adapters (engine.delivery.channels): `stored` and `in_app` keep the message, email goes
over SMTP, SMS and push to HTTP providers; a channel without a configured provider falls back to
`stored`.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from engine.db.session import autocommit
from engine.delivery.channels.base import PermanentDeliveryError, StoredOnly, TransientDeliveryError
from engine.delivery.channels.registry import build_channels
from engine.delivery.repository import DeliveryRepository
from engine.delivery.service import RENDER_FAILED, MessageService
from engine.delivery.webhooks import call_webhook, prepare_webhook
from engine.enrollments.contracts import Closing, DeliveryResult, SendInput, StepInput, WebhookInput
from engine.enrollments.repository import EnrollmentRepository
from engine.errors import JourneysError
from engine.settings import Settings


def render_failures(channel: str, template: str) -> None:
    """Counted on the worker's metrics endpoint (the SDK's Prometheus registry), beside Temporal's own."""
    activity.metric_meter().create_counter(
        "journeys_render_failures", "messages that could not be rendered for their person"
    ).add(1, {"channel": channel, "template": template})


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
                    if prepared.status == "failed":  # it cannot render for this person: no retry helps
                        if (prepared.detail or "").startswith(RENDER_FAILED):
                            render_failures(input.channel, input.template)
                        raise ApplicationError(prepared.detail or "failed", non_retryable=True)
                    return prepared
                if stored:  # a row claimed as pending before stored channels were claimed as sent
                    return await service.finish(prepared, "sent", None)
        try:
            receipt = await channel.deliver(prepared.message)
        except TransientDeliveryError as error:
            raise ApplicationError(str(error)) from error  # retried with backoff, same key
        except PermanentDeliveryError as error:
            async with self._sessionmaker() as session, session.begin():
                await MessageService(session, self._settings).finish(prepared, "failed", error.reason)
            raise ApplicationError(str(error), non_retryable=True) from error
        async with self._sessionmaker() as session, session.begin():
            return await MessageService(session, self._settings).finish(prepared, "sent", receipt.detail)

    @activity.defn
    async def call_webhook(self, input: WebhookInput) -> DeliveryResult:
        async with self._sessionmaker() as session, session.begin():
            try:
                call = await prepare_webhook(session, self._settings, input)
            except JourneysError as error:  # a template that cannot render: retrying cannot help
                raise ApplicationError(error.message, non_retryable=True) from error
        if isinstance(call, DeliveryResult):
            return call
        try:
            status = await call_webhook(self._http, self._settings, call)
        except TransientDeliveryError as error:
            raise ApplicationError(str(error)) from error  # retried with backoff, same key
        except PermanentDeliveryError as error:
            await self._mark(call.delivery_id, "failed", error.reason)
            raise ApplicationError(str(error), non_retryable=True) from error
        await self._mark(call.delivery_id, "sent", None)
        return DeliveryResult(status="sent", delivery_id=call.delivery_id, detail=status)

    async def _mark(self, delivery_id: int, status: str, reason: str | None) -> None:
        async with self._sessionmaker() as session, session.begin():
            await DeliveryRepository(session).mark(delivery_id, status, reason)
