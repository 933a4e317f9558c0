"""JourneyWorkflow: one customer's pass through one pinned journey version.

Deterministic by construction: time comes from `workflow.now()`, chance from hashing (assignment.py),
and everything read from the outside world (live signals, traits, timezones) arrives through
activities, so it is recorded in history and a replay decides exactly as the original run did.
Goal and exit criteria are checked for every event the enrollment receives, in every node, so they
interrupt any wait at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.bookkeeping import BookkeepingActivities
    from activities.profiles import ProfileActivities
    from engine import search_attributes
    from engine.enrollments.contracts import (
        EVENT_SIGNAL,
        EXIT_SIGNAL,
        JOURNEY_WORKFLOW,
        REVISION,
        VIEW_QUERY,
        Admission,
        BeginInput,
        CarriedState,
        EnrollmentInput,
        EnrollmentResult,
        EnrollmentView,
        EventEnvelope,
        ExitRequest,
        FinishInput,
        ProfileInput,
        ProfileSnapshot,
        StepInput,
        UpdateProfileInput,
    )
    from engine.journeys.dsl import (
        BranchNode,
        ExitNode,
        JourneyDefinition,
        SendNode,
        SplitNode,
        UpdateProfileNode,
        WaitForEventNode,
        WaitNode,
        WebhookNode,
    )

    # Deterministic and stateless: shared, not re-imported into the sandbox of every workflow run.
    from workflows.activity_calls import Interrupted, local
    from workflows.compat import shows_every_node
    from workflows.nodes import NodeHandlers

MAX_SEEN_EVENT_IDS = 1_000  # enough to absorb any redelivery burst; bounded so history stays small
MAX_PATH = 200
# Nodes where an enrollment stops (a timer, an event, a delivery in flight end the workflow task): the only
# ones anyone can see it at. The others are passed and left within one workflow task.
STOPS = (WaitNode, WaitForEventNode, SendNode, WebhookNode)


@workflow.defn(name=JOURNEY_WORKFLOW)
class JourneyWorkflow(NodeHandlers):
    @workflow.init
    def __init__(self, input: EnrollmentInput) -> None:
        self.input = input
        self.journey = JourneyDefinition.model_validate(input.definition)
        self.state = input.carried or CarriedState(node=self.journey.start)
        self.seen: dict[str, None] = dict.fromkeys(self.state.seen_event_ids or [input.entry.id])
        self.inbox: list[EventEnvelope] = []
        self.exit_request: ExitRequest | None = None
        self.waiting_for: str | None = None
        self.wake_at: datetime | None = None
        # Traits and signals as last read (by a branch): stored with exposures, for breakdowns.
        self.last_profile: dict[str, Any] | None = None
        self.unwritten_steps: list[StepInput] = []
        # The start branch's profile, read by begin_enrollment with the admission; taken by that branch.
        self.first_read: ProfileSnapshot | None = None
        # CurrentNode as last set: at start, the start node (EnrollmentService._start).
        self.shown_node: str | None = None if input.carried else self.journey.start
        self.revision = 1  # until begin_enrollment hands back the one this run follows
        self.closed = False  # the last send recorded the end (contracts.Closing)

    # ── signals and queries ──────────────────────────────────────────────────────────────────────────

    @workflow.signal(name=EVENT_SIGNAL)
    def event(self, envelope: EventEnvelope) -> None:
        # Temporal may deliver a signal twice when the dispatcher retries: the event id decides.
        if envelope.id in self.seen:
            return
        self.seen[envelope.id] = None
        while len(self.seen) > MAX_SEEN_EVENT_IDS:
            del self.seen[next(iter(self.seen))]
        self.inbox.append(envelope)

    @workflow.signal(name=EXIT_SIGNAL)
    def exit(self, request: ExitRequest) -> None:
        self.exit_request = request

    @workflow.query(name=VIEW_QUERY)
    def view(self) -> EnrollmentView:
        return EnrollmentView(
            enrollment_id=self.input.enrollment_id,
            node=self.state.node,
            path=self.state.path,
            assignments=self.state.assignments,
            holdout=self.state.holdout,
            waiting_for=self.waiting_for,
            wake_at=self.wake_at,
        )

    # ── run ──────────────────────────────────────────────────────────────────────────────────────────

    @workflow.run
    async def run(self, input: EnrollmentInput) -> EnrollmentResult:
        if input.carried is None:
            admission = Admission.for_entry(
                self.journey,
                enrollment_id=input.enrollment_id,
                workflow_id=workflow.info().workflow_id,
                journey_key=input.journey_key,
                journey_id=input.journey_id,
                version=input.version,
                profile_id=input.profile_id,
                correlation=input.correlation,
                now=workflow.now(),
            )
            self.state.holdout = admission.holdout
            begin = await local(
                BookkeepingActivities.begin_enrollment,
                BeginInput(
                    **admission.model_dump(),
                    journey_key=input.journey_key,
                    read=self._start_read(),
                    revision=REVISION,
                ),
            )
            if not begin.admitted:
                return EnrollmentResult(status="rejected", reason=begin.reason)
            self.first_read = begin.profile
            self.revision = begin.revision
        try:
            status, reason = await self._interpret(), None
        except Interrupted as stop:
            status, reason = stop.status, stop.reason
        if not self.closed:
            await local(
                BookkeepingActivities.finish_enrollment,
                FinishInput(
                    enrollment_id=input.enrollment_id,
                    status=status,
                    node=self.state.node,
                    ended_at=workflow.now(),
                    steps=self.unwritten_steps,
                ),
            )
        return EnrollmentResult(status=status, reason=reason, path=self.state.path)

    async def _interpret(self) -> str:
        while True:
            await self._process_inbox(accept=None)
            if workflow.info().is_continue_as_new_suggested():
                await self._write_steps()
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.input.model_copy(update={"carried": self._carry()}))
            node_id = self.state.node
            node = self.journey.nodes[node_id]
            visit = self._enter(node_id)
            self._show(node_id, node)
            entered_at = workflow.now()
            if isinstance(node, WaitNode | WaitForEventNode):
                # Record the wait as it starts, so "where is Ann now?" has an answer while she waits.
                await self._record(node_id, visit, node.type, {"waiting": True}, entered_at)
            decision, next_id = await self._step(node_id, node, visit, entered_at)
            await self._record(node_id, visit, node.type, decision, entered_at)
            if next_id is None:
                return "completed"
            self.state.node = next_id
            if self.closed:  # the send recorded its step, the exit's and the end: follow it there
                self.unwritten_steps = []
                self._enter(next_id)
                # Events that came while it was sent find the enrollment ended, but a goal still counts.
                for event in self.inbox:
                    await self._credit_goal(event)
                return "completed"

    def _enter(self, node_id: str) -> int:
        """Counts a visit of the node; returns which one it is."""
        visit = self.state.visits.get(node_id, 0) + 1
        self.state.visits[node_id] = visit
        self.state.path = [*self.state.path, node_id][-MAX_PATH:]
        return visit

    def _show(self, node_id: str, node: Any) -> None:
        """The CurrentNode search attribute. Every upsert is a history event: from revision 2 it is set
        only where the enrollment stops and not already shown, as the value a workflow task leaves is all
        Temporal's visibility ever holds. A finished run keeps the last node it stopped at (the
        enrollment's row has the exit node)."""
        if shows_every_node(self.revision) or (isinstance(node, STOPS) and node_id != self.shown_node):
            workflow.upsert_search_attributes([search_attributes.CURRENT_NODE.value_set(node_id)])
            self.shown_node = node_id

    async def _step(
        self, node_id: str, node: Any, visit: int, entered_at: datetime
    ) -> tuple[dict[str, Any], str | None]:
        if isinstance(node, ExitNode):
            return {}, None
        if isinstance(node, WaitNode):
            return await self._wait(node)
        if isinstance(node, WaitForEventNode):
            return await self._wait_for_event(node)
        if isinstance(node, BranchNode):
            return await self._branch(node)
        if isinstance(node, SplitNode):
            return await self._split(node_id, node)
        if isinstance(node, SendNode | WebhookNode):
            return await self._deliver(node_id, node, visit, entered_at)
        if isinstance(node, UpdateProfileNode):
            await local(
                ProfileActivities.update_profile,
                UpdateProfileInput(profile_id=self.input.profile_id, set=node.set, unset=node.unset),
            )
            return {"set": node.set, "unset": node.unset}, node.next
        raise ApplicationError(f"unknown node type {type(node).__name__}", non_retryable=True)

    # ── continuing ───────────────────────────────────────────────────────────────────────────────────

    def _start_read(self) -> ProfileInput | None:
        """What a start node that branches on the profile reads, asked of begin_enrollment. No patch: a
        history from before this replays begin's recorded result (no profile) and a read_profile after it."""
        node = self.journey.nodes[self.journey.start]
        return self._branch_read(node) if isinstance(node, BranchNode) else None

    def _carry(self) -> CarriedState:
        return self.state.model_copy(
            update={"seen_event_ids": list(self.seen), "buffered": [*self.state.buffered, *self.inbox]}
        )
