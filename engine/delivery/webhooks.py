"""Webhook nodes: the request rendered for the person and recorded before it is made, checked against the
egress rule, signed, and sent with the step's idempotency key, so a retry is recognised by the receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession

from engine.delivery.channels.base import PermanentDeliveryError, TransientDeliveryError
from engine.delivery.channels.http_provider import is_retryable
from engine.delivery.context import step_context
from engine.delivery.egress import destination
from engine.delivery.repository import DeliveryRepository, idempotency_key
from engine.enrollments.contracts import DeliveryResult, WebhookInput
from engine.errors import InvalidInput
from engine.profiles.repository import ProfileRepository
from engine.settings import Settings
from engine.templates.rendering import render_value

ERASED = DeliveryResult(status="skipped", detail="profile erased")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it and rejects replays."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class WebhookCall:
    delivery_id: int
    key: str
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any] | str | None


async def prepare_webhook(
    session: AsyncSession, settings: Settings, input: WebhookInput
) -> WebhookCall | DeliveryResult:
    """The call to make, its delivery row recorded as pending; or the result when there is none to make
    (made already, or the person erased). A template that cannot render is InvalidInput: no retry helps."""
    key = idempotency_key(input.enrollment_id, input.node_id, input.visit)
    deliveries = DeliveryRepository(session)
    existing = await deliveries.by_key(key)
    if existing is not None and existing.status in ("sent", "failed"):
        return DeliveryResult(status=existing.status, delivery_id=existing.id, detail="already delivered")
    profile = await ProfileRepository(session).get_current(input.profile_id)
    if profile is None:
        return ERASED
    context = await step_context(
        session, settings, profile, input, "webhook", [input.url, input.headers, input.body]
    )
    try:
        url = render_value(input.url, context)
        headers = render_value(input.headers, context)
        body = render_value(input.body, context)
    except TemplateError as error:
        raise InvalidInput(f"webhook template: {error}") from error
    delivery_id = existing.id if existing else None
    if delivery_id is None:
        delivery_id = await deliveries.save(
            key,
            {
                "enrollment_id": input.enrollment_id,
                "profile_id": input.profile_id,
                "channel": "webhook",
                "status": "pending",
                "payload": {"method": input.method, "url": url, "body": body},
            },
        )
    assert delivery_id is not None
    return WebhookCall(delivery_id, key, input.method, url, headers, body)


async def call_webhook(http: httpx.AsyncClient, settings: Settings, call: WebhookCall) -> str:
    """Makes the call; returns its status line. TransientDeliveryError: retry with the same key;
    PermanentDeliveryError (refused by the egress rule, or a 4xx): never."""
    target = await destination(call.url, [host.lower() for host in settings.webhook_allowed_hosts])
    if isinstance(target, str):
        raise PermanentDeliveryError(f"webhook refused: {target}", target)
    is_text = isinstance(call.body, str)
    content = call.body.encode() if isinstance(call.body, str) else json.dumps(call.body).encode()
    headers = {
        "Content-Type": "text/plain" if is_text else "application/json",
        **call.headers,
        **target.headers,
        # The receiver de-duplicates on this key; it is the same on every retry of this step.
        "Idempotency-Key": call.key,
        "X-Journeys-Signature": sign(settings.webhook_secret, int(time.time()), content),
    }
    try:
        response = await http.request(
            call.method,
            target.url,
            content=content if call.body is not None else None,
            headers=headers,
            timeout=settings.webhook_timeout_seconds,
            extensions=target.extensions,
        )
    except httpx.HTTPError as error:
        raise TransientDeliveryError(f"webhook {call.url}: {type(error).__name__}: {error}") from error
    status = f"HTTP {response.status_code}"
    if is_retryable(response.status_code):
        raise TransientDeliveryError(f"webhook {call.url}: {status}")
    if response.status_code >= 400:
        raise PermanentDeliveryError(f"webhook {call.url}: {status}", status)
    return status
