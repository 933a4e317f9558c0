"""Per-person tokens: what a website or app holds to read one person's inbox and live signals (and mark
their messages read), and nothing else. Minted by the admin API for a person's id, signed with the link
secret, with an expiry; nothing is stored, so a token lives until it expires (keep lifetimes short)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from engine.errors import Forbidden

PREFIX = "pt."


def _signature(secret: str, subject: str, expires: int) -> str:
    message = f"person-token\x1f{subject}\x1f{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def mint(secret: str, subject: str, expires_at: datetime) -> str:
    """A token for `subject` (the id the caller named the person by) until `expires_at`."""
    expires = int(expires_at.timestamp())
    encoded = base64.urlsafe_b64encode(subject.encode()).decode().rstrip("=")
    return f"{PREFIX}{encoded}.{expires}.{_signature(secret, subject, expires)}"


def subject_of(secret: str, token: str, now: datetime) -> str:
    """The person a valid token names; Forbidden if it is malformed, forged or expired."""
    try:
        encoded, expires_text, signature = token.removeprefix(PREFIX).split(".")
        subject = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        expires = int(expires_text)
    except ValueError as error:  # binascii.Error and UnicodeDecodeError among them
        raise Forbidden("the person token is malformed") from error
    if not hmac.compare_digest(signature, _signature(secret, subject, expires)):
        raise Forbidden("the person token is not valid")
    if now.timestamp() >= expires:
        raise Forbidden("the person token has expired")
    return subject
