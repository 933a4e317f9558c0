"""What reaching a journey's goal is worth: one rule for the workflow and for routing (pure, so the
workflow can use it)."""

from __future__ import annotations

from engine.enrollments.contracts import EventEnvelope
from engine.journeys.dsl import Goal
from engine.journeys.evaluate import lookup
from engine.signals.numbers import as_number


def goal_value(goal: Goal, event: EventEnvelope) -> float:
    """The number at the property `goal.value` names (revenue); 0 when it is absent or not a number
    (engine.signals.numbers: the rule lifetime_value sums by)."""
    if not goal.value:
        return 0.0
    return as_number(lookup({"properties": event.properties}, goal.value)) or 0.0
