"""Every path of the onboarding reference journey."""

from __future__ import annotations

from datetime import timedelta

from tests.runtime.harness import Harness


async def test_success_path_activates_and_celebrates(harness: Harness) -> None:
    await harness.publish("onboarding")
    started = await harness.enroll("onboarding", harness.event("ona", "signed_up"))
    await harness.at_node(started.workflow_id, "wait_project")
    await harness.signal(started.workflow_id, harness.event("ona", "project_created"))
    await harness.at_node(started.workflow_id, "wait_invite")
    await harness.signal(started.workflow_id, harness.event("ona", "teammate_invited"))
    result = await harness.result(started.workflow_id)
    # The goal (teammate_invited) does not exit this journey: it goes on to celebrate.
    assert result.status == "completed"
    assert result.path == ["welcome", "wait_project", "wait_invite", "activated", "celebrate", "done"]
    assert (await harness.traits("ona"))["onboarding_stage"] == "activated"
    detail = await harness.detail(started.enrollment_id)
    assert [d.template for d in detail.deliveries] == ["welcome", "onboarding_success"]
    await harness.keep_history(started.workflow_id, "onboarding-success")


async def test_active_but_stuck_user_gets_the_in_app_nudge(harness: Harness) -> None:
    await harness.publish("onboarding")
    await harness.past_events("obi", "logged_in", 3)
    started = await harness.enroll("onboarding", harness.event("obi", "signed_up"))
    await harness.at_node(started.workflow_id, "wait_project")
    await harness.skip(timedelta(days=2, minutes=1))
    await harness.at_node(started.workflow_id, "wait_project_again")
    await harness.signal(started.workflow_id, harness.event("obi", "project_created"))
    result = await harness.result(started.workflow_id)  # no invite: nudged, then gives up
    assert result.path == [
        "welcome",
        "wait_project",
        "check_activity",
        "nudge_project",
        "wait_project_again",
        "wait_invite",
        "nudge_invite",
        "wait_invite_last",
        "done",
    ]
    detail = await harness.detail(started.enrollment_id)
    nudge = next(d for d in detail.deliveries if d.template == "nudge_create_project")
    assert nudge.channel == "in_app"
    assert nudge.payload["body"].startswith("You have logged in 3 times this week")
    check = next(s for s in detail.steps if s.node_id == "check_activity")
    assert check.decision is not None
    assert (check.decision["case"], check.decision["signals"]) == (0, {"logins_7d": 3})
    await harness.keep_history(started.workflow_id, "onboarding-nudged")


async def test_silent_user_gets_the_rescue_path(harness: Harness) -> None:
    await harness.publish("onboarding")
    started = await harness.enroll("onboarding", harness.event("oli", "signed_up"))
    result = await harness.result(started.workflow_id)
    assert result.path == [
        "welcome",
        "wait_project",
        "check_activity",
        "rescue_email",
        "mark_needs_help",
        "done",
    ]
    assert (await harness.traits("oli"))["onboarding_stage"] == "needs_help"


async def test_an_event_before_the_wait_still_counts(harness: Harness) -> None:
    """A project created while the welcome email was being sent is not missed by the wait after it."""
    await harness.publish("onboarding")
    started = await harness.enroll("onboarding", harness.event("oz", "signed_up"))
    await harness.signal(started.workflow_id, harness.event("oz", "project_created"))
    await harness.at_node(started.workflow_id, "wait_invite")
    detail = await harness.detail(started.enrollment_id)
    wait = next(s for s in detail.steps if s.node_id == "wait_project")
    assert wait.decision is not None
    assert wait.decision["outcome"] == "event"


async def test_account_deleted_mid_wait_exits(harness: Harness) -> None:
    await harness.publish("onboarding")
    started = await harness.enroll("onboarding", harness.event("oxa", "signed_up"))
    await harness.at_node(started.workflow_id, "wait_project")
    await harness.signal(started.workflow_id, harness.event("oxa", "account_deleted"))
    assert (await harness.result(started.workflow_id)).status == "exited:criteria"


async def test_reentry_never(harness: Harness) -> None:
    await harness.publish("onboarding")
    first = await harness.enroll("onboarding", harness.event("once", "signed_up"))
    await harness.result(first.workflow_id)
    refused = await harness.refusal("onboarding", harness.event("once", "signed_up"))
    assert refused == "re-entry: never (already enrolled once)"
