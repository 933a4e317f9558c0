"""Deterministic, sticky assignment: hashing (journey, node, profile) gives the same answer on every
re-entry, on every replay, and in any process, with no stored state needed to decide."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

BUCKETS = 10_000
HOLDOUT_NODE = "__holdout__"


def bucket(journey_key: str, salt: str, profile_id: str) -> int:
    digest = hashlib.sha256(f"{journey_key}\x1f{salt}\x1f{profile_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose(weights: Sequence[tuple[str, float]], point: int) -> str:
    """The variant whose cumulative weight range contains `point` (0 ≤ point < BUCKETS)."""
    total = sum(weight for _, weight in weights)
    cumulative = 0.0
    for name, weight in weights:
        cumulative += weight / total * BUCKETS
        if point < cumulative:
            return name
    return weights[-1][0]


def variant_for(journey_key: str, node_id: str, profile_id: str, weights: Sequence[tuple[str, float]]) -> str:
    return choose(weights, bucket(journey_key, node_id, profile_id))


def in_holdout(journey_key: str, profile_id: str, percent: int) -> bool:
    return percent > 0 and bucket(journey_key, HOLDOUT_NODE, profile_id) < percent * BUCKETS // 100
