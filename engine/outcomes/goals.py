"""What reaching a journey's goal is worth: one rule for the workflow and for routing (pure, so the
workflow can use it)."""

from __future__ import annotations

from engine.enrollments.contracts import EventEnvelope
from engine.journeys.dsl import Goal
from engine.journeys.evaluate import lookup


def goal_value(goal: Goal, event: EventEnvelope) -> float:
    """The number at the property `goal.value` names (revenue); 0 when it is absent or not a number."""
    value = lookup({"properties": event.properties}, goal.value) if goal.value else 0
    return float(value) if isinstance(value, int | float) else 0.0
