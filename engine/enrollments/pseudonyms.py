"""What Temporal is told about a person: keyed hashes, never their user id, anonymous id or cart id.

Workflow ids and search attributes outlive the database rows an erasure deletes (Temporal keeps them
until its retention ends, and in its visibility store), so they carry an HMAC of the ids, keyed with the
link secret; without that secret nobody can tell whose they are. The same person and cart always give
the same workflow id, which is what makes a second start of one enrollment collide in Temporal."""

from __future__ import annotations

import hashlib
import hmac

KEY_LENGTH = 24  # hex digits: 96 bits, no collision among any number of people a shop has


def _keyed(secret: str, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:KEY_LENGTH]


def person_key(secret: str, profile_id: str) -> str:
    """The PersonKey search attribute: finds a person's workflows without naming them."""
    return _keyed(secret, "person", profile_id)


def workflow_id_for(secret: str, journey_key: str, profile_id: str, correlation: str | None) -> str:
    """One active enrollment per person per journey (per correlation value, e.g. per cart)."""
    return f"journey:{journey_key}:{_keyed(secret, 'entry', profile_id, correlation or '')}"
