"""What `entry.*`, `event.*` and `profile.*` mean in a condition (engine.journeys.evaluate), built in this
one place wherever a condition is judged: routing, the audience sweep, a manual entry, outcome crediting
and the journey workflow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.enrollments.contracts import EventEnvelope


def profile_context(
    profile_id: str, traits: dict[str, Any], signals: dict[str, Any], segments: Iterable[str] = ()
) -> dict[str, Any]:
    """`profile.segments.<key>` is true for each segment the person is in (absent otherwise)."""
    return {"id": profile_id, "traits": traits, "signals": signals, "segments": dict.fromkeys(segments, True)}


def condition_context(
    *,
    entry: EventEnvelope | None = None,
    event: EventEnvelope | None = None,
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Only what is given: a condition over something absent is false (evaluate's MISSING)."""
    context: dict[str, Any] = {}
    if entry is not None:
        context["entry"] = entry.as_context()
    if event is not None:
        context["event"] = event.as_context()
    if profile is not None:
        context["profile"] = profile
    return context
