"""One-click unsubscribe links (RFC 8058): the token names the person and the channel and is signed,
so nobody can unsubscribe someone else by guessing ids."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from engine.errors import NotFound


def _mac(secret: str, payload: bytes) -> str:
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unsubscribe_token(secret: str, profile_id: str, channel: str) -> str:
    payload = json.dumps([profile_id, channel], separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{encoded}.{_mac(secret, payload)}"


def read_token(secret: str, token: str) -> tuple[str, str]:
    """(profile id, channel) of a genuine token; NotFound for anything else (no hint why)."""
    encoded, _, mac = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        profile_id, channel = json.loads(payload)
    except (ValueError, TypeError) as error:
        raise NotFound("unknown unsubscribe link") from error
    if not isinstance(profile_id, str) or not isinstance(channel, str):
        raise NotFound("unknown unsubscribe link")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise NotFound("unknown unsubscribe link")
    return profile_id, channel


def unsubscribe_url(base_url: str, secret: str, profile_id: str, channel: str) -> str:
    return f"{base_url}/unsubscribe/{unsubscribe_token(secret, profile_id, channel)}"
