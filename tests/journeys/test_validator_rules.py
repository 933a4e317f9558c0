"""Each validator rule: a failing definition, and the exact path and message a marketer sees."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.errors import Problem
from engine.journeys.templates import TemplateCatalog
from engine.journeys.validator import validate
from engine.signals.catalog import BUILTIN_SIGNALS

SIGNALS = set(BUILTIN_SIGNALS)

BASE: dict[str, Any] = {
    "key": "demo",
    "name": "Demo",
    "entry": {"event": "cart_updated", "when": {"field": "event.properties.total", "op": "gt", "value": 0}},
    "start": "wait",
    "nodes": {
        "wait": {
            "type": "wait_for_event",
            "event": "order_completed",
            "timeout": "1h",
            "on_event": "done",
            "on_timeout": "check",
        },
        "check": {
            "type": "branch",
            "cases": [{"when": {"signal": "engagement_score", "op": "gte", "value": 60}, "next": "ab"}],
            "default": "remind",
        },
        "ab": {
            "type": "split",
            "variants": [
                {"name": "control", "weight": 50, "next": "remind"},
                {"name": "discount", "weight": 50, "next": "remind"},
            ],
        },
        "remind": {"type": "send", "channel": "email", "template": "reminder", "next": "done"},
        "done": {"type": "exit"},
    },
}


def with_changes(**paths: Any) -> dict[str, Any]:
    """A copy of BASE with dotted paths set (value None deletes)."""
    document = copy.deepcopy(BASE)
    for dotted, value in paths.items():
        *parents, last = dotted.split("__")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is None:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return document


def problems_of(document: Any, **kwargs: Any) -> list[Problem]:
    definition, problems = validate(document, known_signals=SIGNALS, **kwargs)
    assert (definition is None) == bool(problems)
    return problems


def test_the_base_definition_is_valid() -> None:
    assert problems_of(BASE) == []


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        pytest.param(
            with_changes(nodes__remind__type="carrier_pigeon"),
            "nodes.remind",
            "unknown node type 'carrier_pigeon' (expected one of: wait, wait_for_event, branch, split, send, "
            "webhook, update_profile, exit)",
            id="unknown node type",
        ),
        pytest.param(
            with_changes(nodes__remind__colour="red"),
            "nodes.remind.colour",
            "unknown field",
            id="unknown field",
        ),
        pytest.param(
            with_changes(entry__when__field="event.properties.total", entry__when__frequency=2),
            "entry.when.frequency",
            "unknown field",
            id="unknown field in a condition",
        ),
        pytest.param(
            with_changes(nodes__remind__next="nowhere"),
            "nodes.remind.next",
            "no node named 'nowhere'",
            id="dangling edge",
        ),
        pytest.param(
            with_changes(nodes__remind__next=None),
            "nodes.remind.next",
            "required field is missing",
            id="missing edge",
        ),
        pytest.param(with_changes(start="begin"), "start", "no node named 'begin'", id="dangling start"),
        pytest.param(
            with_changes(nodes__orphan={"type": "exit"}),
            "nodes.orphan",
            "unreachable: no path leads here from the start node 'wait'",
            id="unreachable node",
        ),
        pytest.param(
            with_changes(nodes__remind__next="check"),
            "nodes.remind",
            "cycle remind → check → remind has no wait: an enrollment would loop forever",
            id="cycle without a wait",
        ),
        pytest.param(
            with_changes(nodes__ab__variants__1__weight=40),
            "nodes.ab.variants",
            "weights add up to 90, not 100",
            id="split weights",
        ),
        pytest.param(
            with_changes(nodes__ab__variants__1__name="control"),
            "nodes.ab.variants[1].name",
            "duplicate variant name 'control'",
            id="duplicate variant",
        ),
        pytest.param(
            with_changes(nodes__ab__control="treatment"),
            "nodes.ab.control",
            "'treatment' is not one of the variants: control, discount",
            id="unknown control",
        ),
        pytest.param(
            with_changes(
                nodes__check__cases__0__when={"signal": "engagment_score", "op": "gte", "value": 60}
            ),
            "nodes.check.cases[0].when.signal",
            "unknown signal 'engagment_score' (known: " + ", ".join(sorted(SIGNALS)) + ")",
            id="unknown signal",
        ),
        pytest.param(
            with_changes(
                nodes__check__cases__0__when={
                    "all": [
                        {"field": "profile.traits.plan", "op": "eq", "value": "pro"},
                        {"field": "profile.signals.nps", "op": "gte", "value": 9},
                    ]
                }
            ),
            "nodes.check.cases[0].when.all[1].field",
            "unknown signal 'nps' (known: " + ", ".join(sorted(SIGNALS)) + ")",
            id="unknown signal by field",
        ),
        pytest.param(
            with_changes(nodes__wait__timeout="5x"),
            "nodes.wait.timeout",
            "'5x' is not a duration: write a whole number and a unit (s, m, h, d, w), e.g. 30m, 1h, 7d",
            id="bad duration",
        ),
        pytest.param(
            with_changes(entry__reentry={"mode": "after_exit", "cooldown": "0d"}),
            "entry.reentry.cooldown",
            "'0d' is zero: a duration must be positive",
            id="zero duration",
        ),
        pytest.param(
            with_changes(nodes__remind={"type": "wait", "until_time": "25:00", "next": "done"}),
            "nodes.remind.until_time",
            "'25:00' is not a time of day: write HH:MM on a 24-hour clock, e.g. 09:30",
            id="bad time of day",
        ),
        pytest.param(
            with_changes(
                nodes__remind={"type": "wait", "duration": "1h", "until_time": "09:00", "next": "done"}
            ),
            "nodes.remind",
            "give exactly one of `duration`, `until_time` or `until_trait`",
            id="wait with two targets",
        ),
        pytest.param(
            with_changes(
                entry__when={
                    "all": [
                        {"field": "event.properties.total", "op": "gt", "value": 10},
                        {"field": "event.properties.total", "op": "lt", "value": 5},
                    ]
                }
            ),
            "entry.when",
            "the entry can never match: no value of event.properties.total is above 10 and below 5 at once",
            id="entry can never match (range)",
        ),
        pytest.param(
            with_changes(entry__when={"field": "event.properties.country", "op": "in", "value": []}),
            "entry.when",
            "the entry can never match: event.properties.country in an empty list never holds",
            id="entry can never match (empty list)",
        ),
        pytest.param(
            with_changes(exit_when=[{"event": "cart_updated"}]),
            "exit_when[0].event",
            "the entry event is also an unconditional exit: every entrant would leave at once",
            id="entry is an exit",
        ),
        pytest.param(
            with_changes(entry={"audience": {"field": "event.properties.total", "op": "gt", "value": 1}}),
            "entry.audience.field",
            "'event.properties.total': this condition is about the profile; no event is in scope",
            id="audience condition over an event",
        ),
        pytest.param(
            with_changes(entry__when={"field": "cart.total", "op": "gt", "value": 0}),
            "entry.when",
            "field 'cart.total' must start with one of profile.traits., profile.signals., profile.segments.,"
            " event., entry.",
            id="condition field outside the namespaces",
        ),
        pytest.param(
            with_changes(entry__when={"field": "event.properties.total", "op": "exists", "value": 1}),
            "entry.when",
            "`exists` takes no value",
            id="unary operator with a value",
        ),
        pytest.param(
            with_changes(nodes__remind__content={"treatment": "reminder_b"}),
            "nodes.remind.content.treatment",
            "no split has a variant named 'treatment'",
            id="content for an unknown variant",
        ),
        pytest.param(
            with_changes(holdout=80),
            "holdout",
            "Input should be less than or equal to 50",
            id="holdout too large",
        ),
        pytest.param(
            with_changes(key="Abandoned Cart"),
            "key",
            "String should match pattern '^[a-z0-9][a-z0-9-]{0,99}$'",
            id="bad key",
        ),
        pytest.param(
            ["not", "a", "mapping"],
            "(document)",
            "a journey definition must be a mapping (an object) at the top level",
            id="not a mapping",
        ),
    ],
)
def test_rule(document: Any, path: str, message: str) -> None:
    assert Problem(path, message) in problems_of(document)


def test_cycle_through_a_wait_is_allowed() -> None:
    document = with_changes(nodes__remind__next="wait")
    assert problems_of(document) == []


def test_templates_are_checked_when_a_catalog_exists() -> None:
    catalog = TemplateCatalog({"reminder": "Hi {{ profile.traits.first_name }}, {{ coupon_code }} awaits"})
    assert problems_of(BASE, templates=catalog) == [
        Problem(
            "nodes.remind.template",
            "template 'reminder' uses undefined variable 'coupon_code' "
            "(available: entry, event, journey, profile, unsubscribe_url, variant)",
        )
    ]
    missing = TemplateCatalog({})
    assert problems_of(BASE, templates=missing) == [
        Problem("nodes.remind.template", "no template named 'reminder'")
    ]
    broken = TemplateCatalog({"reminder": "Hi {{ profile.traits.name "})
    [problem] = problems_of(BASE, templates=broken)
    assert problem.path == "nodes.remind.template"
    assert problem.message.startswith("template 'reminder' line 1: unexpected end of template")


def test_every_problem_is_reported_at_once() -> None:
    document = with_changes(
        nodes__remind__next="nowhere",
        nodes__wait__timeout="soon",
        nodes__ab__variants__1__weight=10,
        nodes__orphan={"type": "exit"},
        nodes__check__cases__0__when={"signal": "mood", "op": "eq", "value": "happy"},
    )
    paths = {problem.path for problem in problems_of(document)}
    assert paths == {
        "nodes.remind.next",
        "nodes.wait.timeout",
        "nodes.ab.variants",
        "nodes.orphan",
        "nodes.check.cases[0].when.signal",
    }


def test_adaptive_allocation_needs_a_goal() -> None:
    document = with_changes(nodes__ab__adaptive={"min_weight": 5})
    assert problems_of(document) == [
        Problem("nodes.ab.adaptive", "adaptive allocation learns from the goal: give the journey a `goal`")
    ]
    assert problems_of({**document, "goal": {"event": "order_completed"}}) == []


def test_the_stored_channel_keeps_its_old_name_outbox() -> None:
    # Definitions published before the rename (and the running enrollments pinned to them) say `outbox`.
    definition, problems = validate(with_changes(nodes__remind__channel="outbox"), known_signals=SIGNALS)
    assert problems == []
    assert definition is not None
    assert definition.nodes["remind"].channel == "stored"  # type: ignore[union-attr]
    assert problems_of(with_changes(nodes__remind__channel="fax")) != []


def test_a_goal_is_matched_to_the_entry_by_its_correlate_path_only() -> None:
    entry = {"event": "cart_updated", "correlate": "properties.cart_id"}
    ok = with_changes(
        entry=entry,
        goal={"event": "order_completed", "match": {"properties.cart_id": {"entry": "properties.cart_id"}}},
    )
    assert problems_of(ok) == []
    other = with_changes(
        entry=entry,
        goal={"event": "order_completed", "match": {"properties.sku": {"entry": "properties.sku"}}},
    )
    assert problems_of(other) == [
        Problem(
            "goal.match.properties.sku",
            "a goal can be matched to the entry's `correlate` path only (properties.cart_id)",
        )
    ]
