"""One interface for every channel: an adapter takes a rendered message and either hands it to its
provider or raises. A transient failure is retried by Temporal with the same idempotency key; a
permanent one is recorded and the send node's `on_failure` decides what the journey does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str  # (enrollment, node, visit): the same on every retry
    channel: str
    to: str | None  # email address, phone number, push token; None for stored and in_app
    subject: str | None
    text: str
    html: str | None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe for email


@dataclass(frozen=True)
class Receipt:
    adapter: str
    detail: str | None = None


class TransientDeliveryError(Exception):
    """The provider may accept it later (timeout, 5xx, 429, greylisting): retry."""


class PermanentDeliveryError(Exception):
    """The provider will never accept it (bad address, 4xx): do not retry. `reason` is what the delivery
    row records (the message by default)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class Channel(Protocol):
    name: str

    async def deliver(self, message: OutgoingMessage) -> Receipt: ...


class StoredOnly:
    """`stored` and `in_app`: the delivery row in PostgreSQL is the message (listed by the API, and for
    in_app served from the person's inbox); nothing leaves the building."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def deliver(self, message: OutgoingMessage) -> Receipt:
        return Receipt(adapter=self.name)
