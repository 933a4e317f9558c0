"""SMS and push through a generic HTTP provider (JSON over httpx). The delivery key goes in the
`Idempotency-Key` header, so a retry after a timeout is recognised by the provider and sent once."""

from __future__ import annotations

import httpx

from engine.delivery.channels.base import (
    OutgoingMessage,
    PermanentDeliveryError,
    Receipt,
    TransientDeliveryError,
)

RETRYABLE_STATUS = frozenset({408, 425, 429})


def is_retryable(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_STATUS


class HttpProviderChannel:
    def __init__(
        self, name: str, url: str, http: httpx.AsyncClient, token: str | None, timeout: float
    ) -> None:
        self.name = name
        self._url = url
        self._http = http
        self._token = token
        self._timeout = timeout

    async def deliver(self, message: OutgoingMessage) -> Receipt:
        headers = {"Idempotency-Key": message.idempotency_key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"channel": self.name, "to": message.to, "text": message.text, "title": message.subject}
        try:
            response = await self._http.post(self._url, json=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as error:
            raise TransientDeliveryError(f"{self.name} provider: {type(error).__name__}: {error}") from error
        if is_retryable(response.status_code):
            raise TransientDeliveryError(f"{self.name} provider: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentDeliveryError(
                f"{self.name} provider: HTTP {response.status_code} {response.text[:200]}"
            )
        return Receipt(adapter="http", detail=f"HTTP {response.status_code}")
