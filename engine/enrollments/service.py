"""Starting, listing, inspecting and exiting enrollments."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from engine import search_attributes
from engine.db.models import Enrollment, Journey
from engine.enrollments.admission import ERASED, admit
from engine.enrollments.contracts import (
    EVENT_SIGNAL,
    EXIT_SIGNAL,
    JOURNEY_WORKFLOW,
    VIEW_QUERY,
    Admission,
    EnrollmentInput,
    EnrollmentView,
    EventEnvelope,
    ExitRequest,
)
from engine.enrollments.pseudonyms import person_key, workflow_id_for
from engine.enrollments.repository import EnrollmentRepository
from engine.enrollments.schemas import (
    DeliveryOut,
    EnrollmentCreate,
    EnrollmentDetail,
    EnrollmentStarted,
    EnrollmentSummary,
    ExposureOut,
    StepOut,
)
from engine.errors import Conflict, InvalidInput, NotFound, Problem, UnknownPerson
from engine.events.names import same_event
from engine.identity.repository import IdentityRepository
from engine.journeys.context import condition_context
from engine.journeys.dsl import EventEntry, JourneyDefinition
from engine.journeys.evaluate import MISSING, evaluate, lookup
from engine.journeys.repository import JourneyRef, JourneyRepository
from engine.profiles.repository import ProfileRepository
from engine.settings import Settings

log = logging.getLogger(__name__)
RPC_TIMEOUT = timedelta(seconds=5)  # Temporal down: fail fast, the outbox row is retried later
AUDIENCE_EVENT = "audience_matched"


def entry_correlation(definition: JourneyDefinition, event: EventEnvelope) -> str | None:
    """The correlation value (e.g. the cart id) an entry event carries, if the journey declares one."""
    entry = definition.entry
    if not isinstance(entry, EventEntry) or entry.correlate is None:
        return None
    value = lookup({"properties": event.properties}, entry.correlate)
    return None if value is MISSING or value is None else str(value)


def _summary(enrollment: Enrollment, journey_key: str) -> EnrollmentSummary:
    return EnrollmentSummary(
        id=enrollment.id,
        journey=journey_key,
        version=enrollment.version,
        profile_id=enrollment.profile_id,
        correlation=enrollment.correlation,
        status=enrollment.status,
        current_node=enrollment.current_node,
        holdout=enrollment.holdout,
        started_at=enrollment.started_at,
        ended_at=enrollment.ended_at,
    )


class EnrollmentService:
    def __init__(self, session: AsyncSession, temporal: Client, settings: Settings) -> None:
        self.session = session
        self.temporal = temporal
        self.settings = settings
        self.repo = EnrollmentRepository(session)
        self.journeys = JourneyRepository(session)

    async def _live_journey(self, key: str) -> tuple[Journey, int, JourneyDefinition]:
        journey = await self.journeys.get(key)
        if journey is None:
            raise NotFound(f"no journey with key {key!r}")
        if journey.status != "live":
            raise Conflict(f"journey {key!r} is {journey.status}: it takes no new entries")
        version = await self.journeys.latest_version(journey.id)
        assert version is not None, "a live journey has a published version"
        return journey, version.version, JourneyDefinition.model_validate(version.definition)

    async def enroll(self, key: str, event: EventEnvelope, now: datetime | None = None) -> EnrollmentStarted:
        journey, version, definition = await self._live_journey(key)
        return await self.enroll_into(journey, version, definition, event, now)

    async def enroll_into(
        self,
        journey: Journey | JourneyRef,
        version: int,
        definition: JourneyDefinition,
        event: EventEnvelope,
        now: datetime | None = None,
    ) -> EnrollmentStarted:
        """An entry event: delivered to the person's running enrollment here, or a new enrollment,
        admitted and recorded in the caller's transaction before Temporal is asked to start it. The
        caller commits after this returns (and rolls back if Temporal could not be reached, or on Conflict:
        the person's previous run of the journey is still closing)."""
        now = now or datetime.now(UTC)
        if not await ProfileRepository(self.session).lock_present(event.profile_id):
            return EnrollmentStarted(workflow_id="", enrollment_id=None, started=False, refused=ERASED)
        correlation = entry_correlation(definition, event)
        # At most one enrollment of (journey, profile, correlation) is active, and it is the latest.
        previous = await self.repo.lock_entry(journey.id, event.profile_id, correlation)
        if previous is not None and previous.status == "active":
            if await self.signal_running(previous, event, now):
                return EnrollmentStarted(
                    workflow_id=previous.workflow_id, enrollment_id=previous.id, started=False
                )
            previous = await self.repo.previous(journey.id, event.profile_id, correlation)
        candidate = Admission.for_entry(
            definition,
            enrollment_id=uuid.uuid4().hex,
            workflow_id=workflow_id_for(
                self.settings.link_secret, journey.key, event.profile_id, correlation
            ),
            journey_key=journey.key,
            journey_id=journey.id,
            version=version,
            profile_id=event.profile_id,
            correlation=correlation,
            now=now,
        )
        refused = await admit(self.repo, candidate, previous)
        if refused is not None:
            return EnrollmentStarted(
                workflow_id=candidate.workflow_id, enrollment_id=None, started=False, refused=refused
            )
        try:
            await self._start(journey, version, definition, event, candidate)
        except WorkflowAlreadyStartedError as error:
            # No active row, yet a run with this id is open: the previous enrollment between recording
            # its end and ending, or a run whose enrolling transaction rolled back, not yet admitted by its
            # own begin_enrollment. Attached to it (signal-with-start, USE_EXISTING), this entry was lost.
            # Refused, the caller retries (the outbox does within a second) once that run ended or recorded
            # itself; the API answers 409.
            raise Conflict(
                f"an earlier run of journey {journey.key!r} for {event.profile_id!r} is still closing;"
                " retry the entry"
            ) from error
        return EnrollmentStarted(
            workflow_id=candidate.workflow_id, enrollment_id=candidate.enrollment_id, started=True
        )

    async def _start(
        self,
        journey: Journey | JourneyRef,
        version: int,
        definition: JourneyDefinition,
        event: EventEnvelope,
        candidate: Admission,
    ) -> None:
        # A plain start: the entry event travels in the input (the workflow counts it as seen). Eager:
        # where a worker shares this client (the dispatcher and audience sweeps run in the worker
        # process), the server hands the first workflow task back in this call's response instead of
        # queueing it for a poll, which saves Temporal a matching round; elsewhere (the API) the SDK does
        # not ask.
        await self.temporal.start_workflow(
            JOURNEY_WORKFLOW,
            EnrollmentInput(
                enrollment_id=candidate.enrollment_id,
                journey_key=journey.key,
                journey_id=journey.id,
                version=version,
                definition=definition.model_dump(mode="json", by_alias=True),
                profile_id=event.profile_id,
                correlation=candidate.correlation,
                entry=event,
            ),
            id=candidate.workflow_id,
            task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            rpc_timeout=RPC_TIMEOUT,
            request_eager_start=True,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search_attributes.JOURNEY_KEY, journey.key),
                    SearchAttributePair(search_attributes.JOURNEY_VERSION, version),
                    SearchAttributePair(
                        search_attributes.PERSON_KEY, person_key(self.settings.link_secret, event.profile_id)
                    ),
                    SearchAttributePair(search_attributes.CURRENT_NODE, definition.start),
                ]
            ),
        )

    async def signal_running(self, enrollment: Enrollment, event: EventEnvelope, now: datetime) -> bool:
        """Hands the event to an active enrollment's workflow. False if that workflow is gone: it ended
        between our read and the signal (its row is closed already), or it was terminated from Temporal's
        UI or CLI and its row still says active. Such a row is closed as exited:operator, so the person's
        events stop going to it and their next entry is decided afresh, instead of failing forever."""
        try:
            handle = self.temporal.get_workflow_handle(enrollment.workflow_id)
            await handle.signal(EVENT_SIGNAL, event, rpc_timeout=RPC_TIMEOUT)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            log.warning("enrollment %s: its workflow is gone; closing it", enrollment.id)
            await self.repo.close_gone(enrollment, now)
            return False
        return True

    async def manual_entry(self, key: str, request: EnrollmentCreate) -> EventEnvelope:
        """The entry event for enrolling a profile by hand, checked against the journey's trigger; the
        profile is created if new (the caller commits before `enroll`, so activities can read it)."""
        _, _, definition = await self._live_journey(key)
        entry = definition.entry
        name = request.event or (entry.event if isinstance(entry, EventEntry) else AUDIENCE_EVENT)
        event = EventEnvelope(
            id=request.message_id or f"manual-{uuid.uuid4().hex}",
            name=name,
            profile_id=request.profile_id,
            properties=request.properties,
            timestamp=datetime.now(UTC),
        )
        if isinstance(entry, EventEntry):
            if not same_event(name, entry.event):
                raise InvalidInput(
                    f"event: this journey is entered by {entry.event!r}",
                    [Problem("event", f"expected {entry.event!r}")],
                )
            context = condition_context(entry=event, event=event)
            if entry.when is not None and not evaluate(entry.when, context, event.timestamp):
                raise InvalidInput(
                    "properties: the entry condition does not hold for this event",
                    [Problem("properties", "entry.when is false")],
                )
        await ProfileRepository(self.session).upsert(request.profile_id)
        return event

    async def of_person(
        self, key: str, status: str | None, limit: int, journey: str | None = None, node: str | None = None
    ) -> list[EnrollmentSummary]:
        """A person's enrollments by profile id, user id or anonymous id, including those begun under
        profiles since merged into theirs."""
        profile_id = await ProfileRepository(self.session).resolve(key)
        if profile_id is None:
            raise UnknownPerson(key)
        aliases = await IdentityRepository(self.session).aliases(profile_id)
        return await self.list(journey=journey, profile_ids=aliases, status=status, node=node, limit=limit)

    async def list(
        self,
        *,
        journey: str | None = None,
        profile_ids: Sequence[str] | None = None,
        status: str | None = None,
        node: str | None = None,
        limit: int = 100,
    ) -> list[EnrollmentSummary]:
        journey_id = None
        if journey is not None:
            found = await self.journeys.get(journey)
            if found is None:
                raise NotFound(f"no journey with key {journey!r}")
            journey_id = found.id
        rows = await self.repo.list(
            journey_id=journey_id, profile_ids=profile_ids, status=status, node=node, limit=limit
        )
        return [_summary(enrollment, key) for enrollment, key in rows]

    async def detail(self, enrollment_id: str) -> EnrollmentDetail:
        found = await self.repo.detail(enrollment_id)
        if found is None:
            raise NotFound(f"no enrollment {enrollment_id!r}")
        enrollment, key = found
        live = None
        if enrollment.status == "active":
            try:
                live = await self.temporal.get_workflow_handle(enrollment.workflow_id).query(
                    VIEW_QUERY, result_type=EnrollmentView
                )
            except RPCError as error:  # Temporal unreachable: the stored picture is still useful
                log.warning("cannot query %s: %s", enrollment.workflow_id, error)
        steps = await self.repo.steps(enrollment_id)
        deliveries = await self.repo.deliveries(enrollment_id)
        exposures = await self.repo.exposures(enrollment_id)
        return EnrollmentDetail(
            **_summary(enrollment, key).model_dump(),
            workflow_id=enrollment.workflow_id,
            steps=[
                StepOut(
                    node_id=s.node_id,
                    visit=s.visit,
                    node_type=s.node_type,
                    decision=s.decision,
                    entered_at=s.entered_at,
                )
                for s in steps
            ],
            deliveries=[
                DeliveryOut(
                    id=d.id,
                    node_key=d.idempotency_key,
                    channel=d.channel,
                    template=d.template,
                    template_version=d.template_version,
                    status=d.status,
                    reason=d.reason,
                    payload=d.payload,
                    created_at=d.created_at,
                    scheduled_at=d.scheduled_at,
                    sent_at=d.sent_at,
                )
                for d in deliveries
            ],
            exposures=[
                ExposureOut(node_id=e.node_id, variant=e.variant, exposed_at=e.exposed_at) for e in exposures
            ],
            live=live if isinstance(live, EnrollmentView) else None,
        )

    async def exit(self, enrollment_id: str, reason: str = "operator") -> None:
        enrollment = await self.repo.get(enrollment_id)
        if enrollment is None:
            raise NotFound(f"no enrollment {enrollment_id!r}")
        if enrollment.status != "active":
            raise Conflict(f"enrollment {enrollment_id!r} is already {enrollment.status}")
        await self.signal_exit(enrollment.workflow_id, reason)

    async def signal_exit(self, workflow_id: str, reason: str) -> None:
        """Asks a running enrollment to end now; it ends as exited:operator with this reason."""
        await self.temporal.get_workflow_handle(workflow_id).signal(
            EXIT_SIGNAL, ExitRequest(reason=reason), rpc_timeout=RPC_TIMEOUT
        )

    async def delete_histories(self, workflow_ids: Iterable[str]) -> None:
        """Every run of these workflows, running or closed, deleted with its history (a running one is
        terminated by its deletion; a closed one goes once the server has processed its closing, which
        takes the dev server half a minute): for an erasure, since a history holds the entry event and
        the profile reads of the enrollment."""
        for workflow_id in sorted(set(workflow_ids)):
            # The latest run by name too: a re-entry's new run may not be listed yet beside the older ones.
            runs = [""]
            if "'" not in workflow_id:  # ids are pseudonyms; a quote could only come from an id of before
                query = f"WorkflowId = '{workflow_id}'"
                runs += [run.run_id async for run in self.temporal.list_workflows(query)]
            for run_id in runs:
                request = DeleteWorkflowExecutionRequest(
                    namespace=self.temporal.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                )
                try:
                    await self.temporal.workflow_service.delete_workflow_execution(
                        request, timeout=RPC_TIMEOUT
                    )
                except RPCError as error:
                    if error.status != RPCStatusCode.NOT_FOUND:  # gone already, or asked twice
                        raise

    async def exit_all(self, journey_key: str, reason: str) -> int:
        """Archiving a journey ends its running enrollments (each ends as exited:operator)."""
        journey = await self.journeys.get(journey_key)
        if journey is None:
            return 0
        active = await self.repo.active_workflow_ids(journey.id)
        for _, workflow_id in active:
            await self.signal_exit(workflow_id, reason)
        return len(active)
