"""CORS for the ingestion API (/v1/*) only: browsers on the origins of JOURNEYS_CORS_ORIGINS may send
events (analytics.js, RudderStack's SDK) and read the answers; the admin API (/api/*) stays closed to
other origins. A preflight (OPTIONS) is answered here, before routing: the routes take POST only."""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/v1/"
METHODS = "GET, POST, OPTIONS"
HEADERS = "Authorization, Content-Type, Content-Encoding"
TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")  # an HTTP header name (RFC 9110 token)


def _requested(headers: Headers) -> str:
    """The headers the preflight asks for, as long as they are header names, with ours: the SDKs send
    their own (RudderStack's AnonymousId, RSA-Request-Attempt…)."""
    asked = [h.strip() for h in headers.get("access-control-request-headers", "").split(",")]
    return ", ".join([HEADERS, *(h for h in asked if TOKEN.fullmatch(h))])


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    return origin is not None and ("*" in allowed or origin in allowed)


class IngestionCors:
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers_in = Headers(scope=scope)
        origin = headers_in.get("origin")
        allowed = origin_allowed(origin, self.origins)
        if scope["method"] == "OPTIONS" and origin is not None:
            # Refused: no CORS headers, so the browser does not send the request.
            headers = [(b"vary", b"Origin")]
            if allowed:
                headers += [
                    (b"access-control-allow-origin", str(origin).encode()),
                    (b"access-control-allow-methods", METHODS.encode()),
                    (b"access-control-allow-headers", _requested(headers_in).encode()),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-max-age", b"600"),
                ]
            await send({"type": "http.response.start", "status": 204 if allowed else 403, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", str(origin).encode()),
                    (b"access-control-allow-credentials", b"true"),
                    (b"vary", b"Origin"),
                ]
            await send(message)

        await self.app(scope, receive, with_cors)
