"""Runtime guarantees beyond the reference journeys: de-duplication, pinned versions, re-entry,
operator control, worker crashes, idempotent deliveries, search attributes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine import search_attributes
from engine.audiences.sweep import sweep
from engine.db.models import Enrollment as EnrollmentModel
from engine.db.models import Event
from engine.enrollments.pseudonyms import person_key
from engine.enrollments.repository import EnrollmentRepository
from engine.enrollments.service import EnrollmentService
from engine.errors import Conflict
from engine.journeys.service import JourneyService
from engine.outbox.router import EventRouter, RoutingCache
from engine.reports.service import ReportService
from runtime.worker import build_worker
from tests.runtime.harness import Delivery, Enrolled, EnrollmentStep, Harness
from tests.support.crm import CrmStandIn

TWO_TICKS = """
key: ticks
name: Two ticks
entry: {event: start, reentry: {mode: always}}
start: first
nodes:
  first: {type: wait_for_event, event: tick, timeout: 1d, on_event: second, on_timeout: none}
  second: {type: wait_for_event, event: tick, timeout: 1d, on_event: two, on_timeout: one}
  none: {type: exit}
  one: {type: exit}
  two: {type: exit}
"""


async def test_a_signal_delivered_twice_advances_once(harness: Harness) -> None:
    await harness.publish_text("ticks", TWO_TICKS)
    started = await harness.enroll("ticks", harness.event("dup", "start"))
    await harness.at_node(started.workflow_id, "first")
    tick = harness.event("dup", "tick", message_id="tick-1")
    await harness.signal(started.workflow_id, tick)
    await harness.signal(started.workflow_id, tick)  # a dispatcher retry: same event id
    result = await harness.result(started.workflow_id)
    assert result.path == ["first", "second", "one"]
    await harness.keep_history(started.workflow_id, "ticks-duplicate-signal")


async def test_two_distinct_events_advance_twice(harness: Harness) -> None:
    await harness.publish_text("ticks", TWO_TICKS)
    started = await harness.enroll("ticks", harness.event("two", "start"))
    await harness.at_node(started.workflow_id, "first")
    await harness.signal(started.workflow_id, harness.event("two", "tick"))
    await harness.signal(started.workflow_id, harness.event("two", "tick"))
    assert (await harness.result(started.workflow_id)).path == ["first", "second", "two"]


async def test_reentry_always_admits_a_new_enrollment_after_the_last(harness: Harness) -> None:
    await harness.publish_text("ticks", TWO_TICKS)
    first = await harness.enroll("ticks", harness.event("loop", "start"))
    await harness.result(first.workflow_id)
    second = await harness.enroll("ticks", harness.event("loop", "start"))
    assert second.enrollment_id != first.enrollment_id
    assert (await harness.result(second.workflow_id)).status == "completed"


async def enrolled_then_terminated(harness: Harness, profile_id: str) -> Enrolled:
    """An enrollment waiting in `ticks` whose workflow is then terminated from outside journeys (as
    Temporal's UI or CLI would): its row still says active."""
    await harness.publish_text("ticks", TWO_TICKS)
    enrolled = await harness.enroll("ticks", harness.event(profile_id, "start"))
    await harness.at_node(enrolled.workflow_id, "first")
    await harness.handle(enrolled.workflow_id).terminate("from the Temporal UI")
    return enrolled


async def enrollment_status(sessionmaker: async_sessionmaker[AsyncSession], enrollment_id: str) -> str | None:
    async with sessionmaker() as session:
        enrollment = await EnrollmentRepository(session).get(enrollment_id)
    return enrollment.status if enrollment else None


async def test_an_enrollment_terminated_in_temporal_is_closed_and_does_not_block_the_person(
    harness: Harness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Terminated from Temporal's UI, the workflow is gone while its row still says active. The
    person's next event for it (as the dispatcher routes it) closes the row instead of signalling a
    workflow that is not there, and their next entry is admitted as usual."""
    first = await enrolled_then_terminated(harness, "gone")
    async with sessionmaker() as session, session.begin():
        tick = Event(
            message_id="tick-after-terminate",
            profile_id="gone",
            type="track",
            name="tick",
            properties={},
            context={},
            timestamp=datetime.now(UTC),
        )
        session.add(tick)
        await session.flush()
        routed = await EventRouter(session, harness.client, harness.settings, RoutingCache()).route(tick)
    assert routed.signalled == []
    assert await enrollment_status(sessionmaker, first.enrollment_id) == "exited:operator"

    second = await harness.enroll("ticks", harness.event("gone", "start"))
    assert second.started
    assert second.enrollment_id != first.enrollment_id
    await harness.at_node(second.workflow_id, "first")
    assert await enrollment_status(sessionmaker, second.enrollment_id) == "active"


async def test_an_entry_for_an_enrollment_terminated_in_temporal_is_admitted(
    harness: Harness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The same when the next event is the entry event itself: the stale row is closed and the entry
    decided by the re-entry rule, instead of failing with NOT_FOUND on every retry."""
    first = await enrolled_then_terminated(harness, "gone-entry")
    second = await harness.enroll("ticks", harness.event("gone-entry", "start"))
    assert second.started
    assert second.enrollment_id != first.enrollment_id
    await harness.at_node(second.workflow_id, "first")
    assert [await enrollment_status(sessionmaker, e.enrollment_id) for e in (first, second)] == [
        "exited:operator",
        "active",
    ]


async def mark_ended(sessionmaker: async_sessionmaker[AsyncSession], enrollment_id: str) -> None:
    """The row as finish_enrollment leaves it (the same repository call), an instant before its run ends."""
    async with sessionmaker() as session, session.begin():
        await EnrollmentRepository(session).finish(enrollment_id, "completed", "first", datetime.now(UTC))


async def test_an_entry_is_not_handed_to_an_open_run_that_is_not_its_own(
    harness: Harness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """No active enrollment, yet a run with the enrollment's workflow id is still open: the previous
    enrollment between recording its end and ending. The entry is refused for a retry and leaves no row,
    instead of being handed to that run and lost; retried once that run has ended, it runs."""
    await harness.publish_text("ticks", TWO_TICKS)
    first = await harness.enroll("ticks", harness.event("closing", "start"))
    await harness.at_node(first.workflow_id, "first")
    await mark_ended(sessionmaker, first.enrollment_id)
    with pytest.raises(Conflict, match="still closing"):
        await harness.enroll("ticks", harness.event("closing", "start"))
    assert await harness.count(EnrollmentModel, profile_id="closing") == 1
    for _ in range(2):
        await harness.signal(first.workflow_id, harness.event("closing", "tick"))
    await harness.result(first.workflow_id)
    retried = await harness.enroll("ticks", harness.event("closing", "start"))
    assert retried.enrollment_id != first.enrollment_id
    await harness.at_node(retried.workflow_id, "first")
    assert await enrollment_status(sessionmaker, retried.enrollment_id) == "active"


LOYAL = """
key: loyal
name: Loyal customers
entry: {audience: {field: profile.traits.plan, op: eq, value: pro}, reentry: {mode: always}}
start: first
nodes:
  first: {type: wait_for_event, event: tick, timeout: 1d, on_event: done, on_timeout: done}
  done: {type: exit}
"""


async def test_the_sweep_defers_a_person_whose_previous_run_is_closing(
    harness: Harness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The audience sweep meets the same closing run: that person is left to the next sweep, and the
    others after them are still enrolled."""
    await harness.publish_text("loyal", LOYAL)
    for pid in ("a-closing", "b-next"):
        await harness.profile(pid, {"plan": "pro"})
    first = await harness.enroll("loyal", harness.event("a-closing", "audience_matched"))
    await harness.at_node(first.workflow_id, "first")
    await mark_ended(sessionmaker, first.enrollment_id)
    now = await harness.env.get_current_time()
    totals = await sweep(sessionmaker, harness.client, harness.settings, now)
    assert (totals.enrolled, totals.deferred) == (1, 1)
    assert await harness.count(EnrollmentModel, profile_id="a-closing") == 1
    async with sessionmaker() as session:
        [enrolled] = await EnrollmentRepository(session).active_for_person("b-next")
    harness.started.append(enrolled.workflow_id)  # terminated after the test, as the harness's own
    await harness.at_node(enrolled.workflow_id, "first")


async def test_running_enrollments_keep_their_version(harness: Harness) -> None:
    await harness.publish("abandoned-cart")
    started = await harness.enroll(
        "abandoned-cart", harness.event("pinned", "cart_updated", cart_id="p", total=5)
    )
    await harness.at_node(started.workflow_id, "wait_purchase")
    # Version 2 waits three hours for the purchase instead of one.
    v2 = await harness.publish("abandoned-cart", replace={"timeout: 1h": "timeout: 3h"})
    assert v2 == 2
    newcomer = await harness.enroll(
        "abandoned-cart", harness.event("pinned2", "cart_updated", cart_id="q", total=5)
    )
    for enrollment, version, waited in ((started, 1, "1h"), (newcomer, 2, "3h")):
        await harness.result(enrollment.workflow_id)
        detail = await harness.detail(enrollment.enrollment_id)
        wait = next(s for s in detail.steps if s.node_id == "wait_purchase")
        assert (detail.version, wait.decision) == (version, {"outcome": "timeout", "after": waited})


async def test_operator_exit_ends_a_waiting_enrollment(harness: Harness) -> None:
    await harness.publish("onboarding")
    started = await harness.enroll("onboarding", harness.event("op", "signed_up"))
    await harness.at_node(started.workflow_id, "wait_project")
    async with harness.sessionmaker() as session:
        await EnrollmentService(session, harness.client, harness.settings).exit(started.enrollment_id)
    result = await harness.result(started.workflow_id)
    assert (result.status, result.reason) == ("exited:operator", "operator")
    assert (await harness.detail(started.enrollment_id)).status == "exited:operator"
    await harness.keep_history(started.workflow_id, "onboarding-operator-exit")


async def test_pause_stops_new_entries_and_archive_exits_running_ones(harness: Harness) -> None:
    await harness.publish("onboarding")
    running = await harness.enroll("onboarding", harness.event("stay", "signed_up"))
    await harness.at_node(running.workflow_id, "wait_project")
    async with harness.sessionmaker() as session, session.begin():
        await JourneyService(session).transition("onboarding", "pause")
    with pytest.raises(Conflict, match="journey 'onboarding' is paused: it takes no new entries"):
        await harness.enroll("onboarding", harness.event("late", "signed_up"))
    view = await harness.at_node(running.workflow_id, "wait_project")  # paused: the running one carries on
    assert view.waiting_for == "event: project_created"

    async with harness.sessionmaker() as session, session.begin():
        await JourneyService(session).transition("onboarding", "archive")
    async with harness.sessionmaker() as session:
        exited = await EnrollmentService(session, harness.client, harness.settings).exit_all(
            "onboarding", "journey archived"
        )
    assert exited == 1
    result = await harness.result(running.workflow_id)
    assert (result.status, result.reason) == ("exited:operator", "journey archived")


async def test_enrollments_carry_search_attributes(harness: Harness) -> None:
    await harness.publish("onboarding")
    started = await harness.enroll("onboarding", harness.event("sa", "signed_up"))
    await harness.at_node(started.workflow_id, "wait_project")
    attributes = (await harness.handle(started.workflow_id).describe()).typed_search_attributes
    assert attributes.get(search_attributes.JOURNEY_KEY) == "onboarding"
    assert attributes.get(search_attributes.JOURNEY_VERSION) == 1
    # The person, by a keyed hash only: Temporal keeps it beyond an erasure.
    assert attributes.get(search_attributes.PERSON_KEY) == person_key(harness.settings.link_secret, "sa")
    assert "sa" not in started.workflow_id.split(":")
    assert attributes.get(search_attributes.CURRENT_NODE) == "wait_project"
    # Each upsert is a history event and a billed action on Temporal Cloud, a patch two events: `welcome`,
    # the start node, was shown at start; the enrollment stops at wait_project, shown once; no patch asked.
    events = (await harness.handle(started.workflow_id).fetch_history()).events
    shown = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields[
            "CurrentNode"
        ].data
        for e in events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in events
        if e.HasField("marker_recorded_event_attributes")
    ]
    assert shown == [b'"wait_project"']
    assert "core_patch" not in markers


async def test_worker_crash_mid_journey_neither_loses_nor_repeats_anything(
    harness: Harness, sessionmaker: async_sessionmaker[AsyncSession], crm: CrmStandIn
) -> None:
    """A worker runs the enrollment into its wait and is stopped; a new worker (empty cache, so it
    replays the history first) takes over, and the journey ends with every step and message once."""
    await harness.publish("abandoned-cart")
    pid = "crashy"
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    settings = harness.settings.model_copy(update={"task_queue": queue})
    crash_harness = Harness(harness.env, sessionmaker, settings, harness.crm_url)
    await harness.past_events(pid, "cart_updated", properties={"cart_id": "z", "total": 300})
    async with httpx.AsyncClient() as http:
        # No workflow cache on the first worker: the time-skipping server cannot move a cached
        # workflow's next task off a dead worker's sticky queue (a real server does, after 5 s).
        uncached = settings.model_copy(update={"worker_max_cached_workflows": 0})
        async with build_worker(harness.client, uncached, sessionmaker, http):
            started = await crash_harness.enroll(
                "abandoned-cart", harness.event(pid, "cart_updated", cart_id="z", total=300)
            )
            await crash_harness.at_node(started.workflow_id, "wait_purchase")
        async with build_worker(harness.client, settings, sessionmaker, http):
            # The test server cannot skip time while a workflow task waits for a missing worker, so the
            # hour passes once the new worker is up.
            await harness.skip(timedelta(hours=2))
            await crash_harness.at_node(started.workflow_id, "await_order")
            await crash_harness.signal(
                started.workflow_id, harness.event(pid, "order_completed", cart_id="z")
            )
            result = await crash_harness.result(started.workflow_id)
    assert result.status == "exited:goal"
    assert result.path == ["wait_purchase", "check_value", "reminder_high_value", "notify_crm", "await_order"]
    assert await harness.count(EnrollmentStep, enrollment_id=started.enrollment_id) == 5
    assert await harness.count(Delivery, enrollment_id=started.enrollment_id) == 2
    assert len(crm.received) == 1


RENEWAL = """
key: renewal
name: Renewal reminder
entry: {event: subscribed}
start: before_renewal
nodes:
  before_renewal: {type: wait, until_trait: renews_on, offset: -1d, next: remind}
  remind: {type: send, template: welcome, next: done}
  done: {type: exit}
"""


async def test_wait_until_a_date_in_a_profile_trait(harness: Harness) -> None:
    """The day before the renewal date held in the profile, at the customer's midnight."""
    await harness.publish_text("renewal", RENEWAL)
    now = await harness.env.get_current_time()
    renews_on = (now + timedelta(days=10)).date().isoformat()
    await harness.profile("renewer", {"renews_on": renews_on}, "Asia/Tokyo")
    started = await harness.enroll("renewal", harness.event("renewer", "subscribed"))
    view = await harness.at_node(started.workflow_id, "before_renewal")
    assert view.wake_at is not None
    local = view.wake_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.date().isoformat(), local.hour, local.minute) == (
        (now + timedelta(days=9)).date().isoformat(),
        0,
        0,
    )
    assert (await harness.result(started.workflow_id)).path == ["before_renewal", "remind", "done"]


async def test_funnel_counts_entries_waits_and_exits(harness: Harness) -> None:
    await harness.publish("abandoned-cart")
    buyer = await harness.enroll("abandoned-cart", harness.event("f1", "cart_updated", cart_id="a", total=5))
    waiter = await harness.enroll("abandoned-cart", harness.event("f2", "cart_updated", cart_id="b", total=5))
    for started in (buyer, waiter):
        await harness.at_node(started.workflow_id, "wait_purchase")
    await harness.signal(buyer.workflow_id, harness.event("f1", "order_completed", cart_id="a"))
    await harness.closed(buyer.workflow_id)
    async with harness.sessionmaker() as session:
        report = await ReportService(session).report("abandoned-cart")
    [step] = [s for s in report.funnel if s.node == "wait_purchase"]
    assert (step.entered, step.waiting, step.ended) == (2, 1, {"exited:goal": 1})
