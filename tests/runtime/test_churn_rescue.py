"""Every path of the churn-rescue reference journey (audience entry: enrolled when the churn model says
so; here enrolled by hand, as the audience would)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from engine.journeys.assignment import in_holdout, variant_for
from tests.runtime.harness import Harness
from tests.support.crm import CrmStandIn

WEIGHTS = [("no_offer", 50.0), ("offer_20", 50.0)]


def profile_in(variant: str, prefix: str) -> str:
    """A profile id in `variant` of the winback split, and outside the journey's 10% holdout."""
    return next(
        f"{prefix}-{n}"
        for n in range(1000)
        if variant_for("churn-rescue", "winback", f"{prefix}-{n}", WEIGHTS) == variant
        and not in_holdout("churn-rescue", f"{prefix}-{n}", 10)
    )


async def at_risk(harness: Harness, pid: str, *, open_ticket: bool = False, tz: str | None = None) -> None:
    await harness.profile(pid, {"first_name": "Kim"}, tz)
    await harness.past_events(pid, "order_completed", age=timedelta(days=75), properties={"revenue": 40})
    if open_ticket:
        await harness.past_events(pid, "ticket_opened", age=timedelta(days=2))


async def test_open_ticket_gets_help_and_recovers(harness: Harness, crm: CrmStandIn) -> None:
    await harness.publish("churn-rescue")
    pid = "ticket-holder"
    await at_risk(harness, pid, open_ticket=True)
    started = await harness.enroll("churn-rescue", harness.event(pid, "audience_matched"))
    await harness.at_node(started.workflow_id, "give_help_time")
    await harness.past_events(pid, "logged_in", 2)  # back in the product during the three days
    result = await harness.result(started.workflow_id)
    assert result.path == [
        "triage",
        "adoption_help",
        "alert_success_team",
        "give_help_time",
        "check_recovered",
        "done",
    ]
    [call] = crm.received
    assert call.json() == {"profile_id": pid, "open_tickets": "1"}
    # The start branch decided on the live signal read with the admission, not by a read of its own;
    # the later branch reads when it is reached (three days on).
    triage = next(
        step for step in (await harness.detail(started.enrollment_id)).steps if step.node_id == "triage"
    )
    assert triage.decision == {
        "case": 0,
        "next": "adoption_help",
        "signals": {"open_tickets": 1},
        "traits": {"first_name": "Kim"},
    }
    assert await harness.local_activities(started.workflow_id) == [
        "begin_enrollment",
        "record_steps",
        "read_profile",
        "finish_enrollment",
    ]
    await harness.keep_history(started.workflow_id, "churn-rescue-help")


async def test_no_recovery_goes_to_winback_and_last_chance_at_10_local(harness: Harness) -> None:
    await harness.publish("churn-rescue")
    pid = profile_in("offer_20", "lapsed")
    await at_risk(harness, pid, tz="America/New_York")
    started = await harness.enroll("churn-rescue", harness.event(pid, "audience_matched"))
    result = await harness.result(started.workflow_id)
    assert result.status == "completed"
    assert result.path == [
        "triage",
        "winback",
        "winback_offer",
        "wait_order",
        "last_chance",
        "last_chance_sms",
        "done",
    ]
    detail = await harness.detail(started.enrollment_id)
    # The offer variant's content override picked its own template.
    assert [(d.channel, d.template) for d in detail.deliveries] == [
        ("email", "winback_offer_20"),
        ("sms", "winback_last_chance"),
    ]
    wait = next(s for s in detail.steps if s.node_id == "last_chance")
    assert wait.decision is not None
    wake = datetime.fromisoformat(wait.decision["until"]).astimezone(ZoneInfo("America/New_York"))
    assert (wake.hour, wake.minute) == (10, 0)
    assert wake - wait.entered_at.astimezone(ZoneInfo("America/New_York")) <= timedelta(days=1)
    await harness.keep_history(started.workflow_id, "churn-rescue-last-chance")


async def test_control_variant_gets_the_plain_winback(harness: Harness) -> None:
    await harness.publish("churn-rescue")
    pid = profile_in("no_offer", "lapsed")
    await at_risk(harness, pid)
    started = await harness.enroll("churn-rescue", harness.event(pid, "audience_matched"))
    await harness.at_node(started.workflow_id, "wait_order")
    await harness.signal(started.workflow_id, harness.event(pid, "order_completed", revenue=99))
    result = await harness.result(started.workflow_id)
    assert result.status == "exited:goal"
    # Credited to the split's arm and, as a treated customer, to the journey's holdout comparison.
    assert sorted(await harness.outcomes(started.enrollment_id)) == [
        ("__holdout__", "treatment", 99.0),
        ("winback", "no_offer", 99.0),
    ]


async def test_reengaging_on_their_own_exits_the_journey(harness: Harness) -> None:
    """A profile-only exit criterion (logins_7d ≥ 3), checked when the customer's events arrive."""
    await harness.publish("churn-rescue")
    pid = profile_in("no_offer", "back")
    await at_risk(harness, pid)
    started = await harness.enroll("churn-rescue", harness.event(pid, "audience_matched"))
    await harness.at_node(started.workflow_id, "wait_order")
    await harness.past_events(pid, "logged_in", 3)
    await harness.signal(started.workflow_id, harness.event(pid, "logged_in"))
    result = await harness.result(started.workflow_id)
    assert (result.status, result.reason) == ("exited:criteria", result.reason)
    assert result.reason is not None
    assert result.reason.startswith("exit_when[0]")
    await harness.keep_history(started.workflow_id, "churn-rescue-reengaged")
