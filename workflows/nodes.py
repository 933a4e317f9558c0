"""What each node of a journey does inside JourneyWorkflow: waiting (timers, events, and the goal and exit
criteria checked on every event), deciding (branches, splits) and acting (sends, webhooks), and the
bookkeeping of the steps taken. Deterministic: all outside facts come through activities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.bookkeeping import BookkeepingActivities
    from activities.messaging import MessagingActivities
    from activities.profiles import ProfileActivities
    from engine.durations import parse_duration
    from engine.enrollments.contracts import (
        CarriedState,
        Closing,
        EnrollmentInput,
        EventEnvelope,
        ExitRequest,
        ExposureInput,
        OutcomeInput,
        ProfileInput,
        ProfileSnapshot,
        SendInput,
        SplitWeightsInput,
        StepInput,
        StepsInput,
        WaitUntilInput,
        WebhookInput,
    )
    from engine.events.names import event_key
    from engine.journeys.assignment import variant_for
    from engine.journeys.conditions import Condition
    from engine.journeys.context import condition_context, profile_context
    from engine.journeys.dsl import (
        BranchNode,
        ExitNode,
        Goal,
        JourneyDefinition,
        SendNode,
        SplitNode,
        WaitForEventNode,
        WaitNode,
        WebhookNode,
    )
    from engine.journeys.evaluate import evaluate, matches, needs_profile, signals_used
    from engine.outcomes.goals import goal_value
    from workflows.activity_calls import Interrupted, local, remote
    from workflows.compat import batches_steps, last_send_closes

MAX_BUFFERED_EVENTS = 50


class NodeHandlers:
    """The node handlers JourneyWorkflow inherits; the state they share is set up by its __init__."""

    input: EnrollmentInput
    journey: JourneyDefinition
    state: CarriedState
    inbox: list[EventEnvelope]
    exit_request: ExitRequest | None
    waiting_for: str | None
    wake_at: datetime | None
    last_profile: dict[str, Any] | None
    unwritten_steps: list[StepInput]
    first_read: ProfileSnapshot | None
    revision: int
    closed: bool

    # ── waiting ──────────────────────────────────────────────────────────────────────────────────────

    async def _wait(self, node: WaitNode) -> tuple[dict[str, Any], str]:
        if node.duration is not None:
            wake_at, detail = workflow.now() + parse_duration(node.duration), f"for {node.duration}"
        else:
            resolved = await local(
                ProfileActivities.resolve_wait_until,
                WaitUntilInput(
                    profile_id=self.input.profile_id,
                    until_time=node.until_time,
                    until_trait=node.until_trait,
                    offset=node.offset,
                    now=workflow.now(),
                ),
            )
            wake_at, detail = resolved.wake_at, resolved.detail
        await self._sleep_until(wake_at, f"time: {detail}", accept=None)
        return {"until": wake_at.isoformat(), "detail": detail}, node.next

    async def _wait_for_event(self, node: WaitForEventNode) -> tuple[dict[str, Any], str]:
        def awaited(event: EventEnvelope) -> bool:
            return event.key == event_key(node.event) and matches(
                node.match, event.properties, self.input.entry.as_context()
            )

        # An event that arrived before the journey reached this wait still counts.
        for early in self.state.buffered:
            if awaited(early):
                self.state.buffered = [e for e in self.state.buffered if e.id != early.id]
                self.state.last_event = early
                return {"outcome": "event", "event_id": early.id, "early": True}, node.on_event
        wake_at = workflow.now() + parse_duration(node.timeout)
        event = await self._sleep_until(wake_at, f"event: {node.event}", accept=awaited)
        if event is None:
            return {"outcome": "timeout", "after": node.timeout}, node.on_timeout
        return {"outcome": "event", "event_id": event.id}, node.on_event

    async def _sleep_until(
        self, wake_at: datetime, waiting_for: str, accept: Callable[[EventEnvelope], bool] | None
    ) -> EventEnvelope | None:
        self.waiting_for, self.wake_at = waiting_for, wake_at
        await self._write_steps()  # so where the enrollment waits, and how it got there, can be seen
        try:
            while True:
                accepted = await self._process_inbox(accept)
                if accepted is not None:
                    return accepted
                remaining = (wake_at - workflow.now()).total_seconds()
                if remaining <= 0:
                    return None
                try:
                    await workflow.wait_condition(
                        lambda: bool(self.inbox) or self.exit_request is not None, timeout=remaining
                    )
                except TimeoutError:
                    continue  # loop once more: an event may have arrived together with the timer
        finally:
            self.waiting_for = self.wake_at = None

    async def _process_inbox(self, accept: Callable[[EventEnvelope], bool] | None) -> EventEnvelope | None:
        """Goal and exit criteria first, for every event, wherever the enrollment is."""
        if self.exit_request is not None:
            raise Interrupted("exited:operator", self.exit_request.reason)
        while self.inbox:
            event = self.inbox.pop(0)
            await self._check_goal_and_exits(event)
            if accept is not None and accept(event):
                self.state.last_event = event
                return event
            self.state.buffered = [*self.state.buffered, event][-MAX_BUFFERED_EVENTS:]
        return None

    async def _check_goal_and_exits(self, event: EventEnvelope) -> None:
        goal = await self._credit_goal(event)
        if goal is not None and goal.exit:
            raise Interrupted("exited:goal", f"goal event {goal.event} ({event.id})")
        for index, criterion in enumerate(self.journey.exit_when):
            if criterion.event is not None and event_key(criterion.event) != event.key:
                continue
            if criterion.when is None or await self._holds(criterion.when, event):
                raise Interrupted("exited:criteria", f"exit_when[{index}] on event {event.name} ({event.id})")

    async def _credit_goal(self, event: EventEnvelope) -> Goal | None:
        """Records the outcome when the event reaches the journey's goal; returns that goal."""
        goal = self.journey.goal
        if goal is None or event_key(goal.event) != event.key:
            return None
        if not matches(goal.match, event.properties, self.input.entry.as_context()):
            return None  # another cart's order: the goal of another enrollment
        if not await self._holds(goal.when, event):
            return None
        await local(
            BookkeepingActivities.record_outcome,
            OutcomeInput(
                enrollment_id=self.input.enrollment_id,
                goal=goal.event,
                value=goal_value(goal, event),
                within_seconds=parse_duration(goal.within).total_seconds(),
                occurred_at=workflow.now(),
                event_id=event.id,
            ),
        )
        return goal

    async def _holds(self, condition: Condition | None, event: EventEnvelope) -> bool:
        if condition is None:
            return True
        return evaluate(condition, await self._context(condition, event), workflow.now())

    async def _context(self, condition: Condition, event: EventEnvelope | None) -> dict[str, Any]:
        profile = await self._profile(sorted(signals_used(condition))) if needs_profile(condition) else None
        return self._condition_context(event, profile)

    def _condition_context(
        self, event: EventEnvelope | None, profile: ProfileSnapshot | None
    ) -> dict[str, Any]:
        return condition_context(
            entry=self.input.entry,
            event=event or self.state.last_event or self.input.entry,
            profile=profile_context(profile.profile_id, profile.traits, profile.signals, profile.segments)
            if profile
            else None,
        )

    async def _profile(self, signals: list[str]) -> ProfileSnapshot:
        snapshot = await local(
            ProfileActivities.read_profile,
            ProfileInput(profile_id=self.input.profile_id, signals=signals, as_of=workflow.now()),
        )
        self.last_profile = {"traits": snapshot.traits, "signals": snapshot.signals}
        return snapshot

    # ── deciding ─────────────────────────────────────────────────────────────────────────────────────

    def _branch_read(self, node: BranchNode) -> ProfileInput | None:
        if not any(needs_profile(case.when) for case in node.cases):
            return None
        signals = sorted({s for case in node.cases for s in signals_used(case.when)})
        return ProfileInput(profile_id=self.input.profile_id, signals=signals, as_of=workflow.now())

    async def _branch(self, node: BranchNode) -> tuple[dict[str, Any], str]:
        read, profile = self._branch_read(node), None
        if read is not None:
            # Live: read now (or with the admission, for the start node), recorded in history.
            profile, self.first_read = self.first_read, None
            if profile is None:
                profile = await self._profile(read.signals)
            self.last_profile = {"traits": profile.traits, "signals": profile.signals}
        context = self._condition_context(None, profile)
        used: dict[str, Any] = {"signals": profile.signals, "traits": profile.traits} if profile else {}
        if profile is not None and profile.explanations:  # why each predictive score is what it is
            used["explanations"] = profile.explanations
        now = workflow.now()
        for index, case in enumerate(node.cases):
            if evaluate(case.when, context, now):
                return {"case": index, "next": case.next, **used}, case.next
        return {"case": "default", "next": node.default, **used}, node.default

    async def _split(self, node_id: str, node: SplitNode) -> tuple[dict[str, Any], str]:
        weights = [(v.name, float(v.weight)) for v in node.variants]
        if node.adaptive is not None and node.adaptive.enabled and self.journey.goal is not None:
            current = await local(
                BookkeepingActivities.split_weights,
                SplitWeightsInput(
                    journey_id=self.input.journey_id,
                    version=self.input.version,
                    node_id=node_id,
                    goal=self.journey.goal.event,
                    configured=dict(weights),
                    floor_percent=node.adaptive.min_weight,
                    cadence_seconds=parse_duration(node.adaptive.update_every).total_seconds(),
                    min_exposures=node.adaptive.min_exposures,
                    now=workflow.now(),
                ),
            )
            weights = [(name, current.weights.get(name, 0.0)) for name, _ in weights]
        variant = self.state.assignments.get(node_id) or variant_for(
            self.input.journey_key, node_id, self.input.profile_id, weights
        )
        exposed_at = self.state.exposures.get(node_id) or workflow.now()
        self.state.assignments = {**self.state.assignments, node_id: variant}
        self.state.exposures = {**self.state.exposures, node_id: exposed_at}
        await local(
            BookkeepingActivities.record_exposure,
            ExposureInput(
                enrollment_id=self.input.enrollment_id,
                journey_id=self.input.journey_id,
                version=self.input.version,
                node_id=node_id,
                variant=variant,
                profile_id=self.input.profile_id,
                exposed_at=exposed_at,
                attributes=self.last_profile,
                goal=self.journey.goal.event if self.journey.goal else None,
                goal_value=self.journey.goal.value if self.journey.goal else None,
            ),
        )
        target = next(v.next for v in node.variants if v.name == variant)
        return {"variant": variant, "control": node.control_name, "weights": dict(weights)}, target

    # ── acting ───────────────────────────────────────────────────────────────────────────────────────

    async def _deliver(
        self, node_id: str, node: SendNode | WebhookNode, visit: int, entered_at: datetime
    ) -> tuple[dict[str, Any], str]:
        if self.state.holdout:
            # Holdout entrants follow the journey but receive nothing; they are still measured.
            return {"skipped": "holdout"}, node.next
        common = {
            "enrollment_id": self.input.enrollment_id,
            "journey_key": self.input.journey_key,
            "node_id": node_id,
            "visit": visit,
            "profile_id": self.input.profile_id,
            "variant": self.state.assignments,
            "entry": self.input.entry,
            "event": self.state.last_event,
            "as_of": workflow.now(),
        }
        held: list[dict[str, Any]] = []
        try:
            if isinstance(node, SendNode):
                template = next(
                    (node.content[v] for v in self.state.assignments.values() if v in node.content),
                    node.template,
                )
                send = SendInput(
                    **common,
                    channel=node.channel,
                    template=template,
                    transactional=node.transactional,
                    quiet_hours=self.journey.quiet_hours,
                    rate_limit=(
                        (limit.max, parse_duration(limit.per).total_seconds())
                        if (limit := self.journey.rate_limit)
                        else None
                    ),
                    closing=self._closing(node_id, node, visit, entered_at),
                )
                result = await remote(MessagingActivities.send_message, send)
                while result.status == "deferred" and result.until is not None:
                    # Held back (quiet hours, rate limit): wait, still open to goals and exits, then retry
                    # without a closing: the wait wrote the steps, so finish_enrollment records the end.
                    held.append({"until": result.until.isoformat(), "reason": result.detail})
                    await self._sleep_until(result.until, f"send: {result.detail}", accept=None)
                    send = send.model_copy(update={"as_of": workflow.now(), "closing": None})
                    result = await remote(MessagingActivities.send_message, send)
                self.closed = result.closed
            else:
                result = await remote(
                    MessagingActivities.call_webhook,
                    WebhookInput(
                        **common, method=node.method, url=node.url, headers=node.headers, body=node.body
                    ),
                )
        except ActivityError as error:
            cause = error.cause.message if isinstance(error.cause, ApplicationError) else str(error.cause)
            if node.on_failure == "exit":
                raise Interrupted("failed", f"{node_id}: {cause}") from error
            return {"status": "failed", "detail": cause}, node.next
        decision = result.decision()
        return ({**decision, "held": held} if held else decision), node.next

    def _closing(self, node_id: str, node: SendNode, visit: int, entered_at: datetime) -> Closing | None:
        """The end, for the send to record when an exit is all that follows it (from revision 3): one
        local activity fewer for every enrollment that ends with a message."""
        if not last_send_closes(self.revision) or not isinstance(self.journey.nodes[node.next], ExitNode):
            return None
        sent = StepInput(
            enrollment_id=self.input.enrollment_id,
            node_id=node_id,
            visit=visit,
            node_type=node.type,
            decision=None,
            entered_at=entered_at,
        )
        return Closing(
            steps=[*self.unwritten_steps, sent],
            exit_node=node.next,
            exit_visit=self.state.visits.get(node.next, 0) + 1,
        )

    # ── bookkeeping ──────────────────────────────────────────────────────────────────────────────────

    async def _record(
        self, node_id: str, visit: int, node_type: str, decision: dict[str, Any], entered_at: datetime
    ) -> None:
        step = StepInput(
            enrollment_id=self.input.enrollment_id,
            node_id=node_id,
            visit=visit,
            node_type=node_type,
            decision=decision,
            entered_at=entered_at,
        )
        if batches_steps(self.revision):
            self.unwritten_steps.append(step)
        else:
            await local(BookkeepingActivities.record_step, step)

    async def _write_steps(self) -> None:
        if self.unwritten_steps:
            steps, self.unwritten_steps = self.unwritten_steps, []
            await local(BookkeepingActivities.record_steps, StepsInput(steps=steps))
