"""The models that cross the Temporal boundary: one input model per workflow, signal and activity
(Temporal samples' house style), so fields can be added without breaking running histories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from engine.durations import parse_duration
from engine.events.names import event_key
from engine.journeys.assignment import in_holdout
from engine.journeys.dsl import JourneyDefinition

# The journey workflow's names on the wire. The engine starts, signals and queries enrollments by these
# (it never imports the workflow code); workflows/journey.py declares itself under the same names.
JOURNEY_WORKFLOW = "JourneyWorkflow"
EVENT_SIGNAL = "event"
EXIT_SIGNAL = "exit"
VIEW_QUERY = "view"


class EventEnvelope(BaseModel):
    """An event as journeys see it. `id` is the Segment messageId: the key for de-duplication."""

    id: str
    name: str
    profile_id: str
    properties: dict[str, Any] = Field(default_factory=dict)
    # The sender's context (page, userAgent, campaign, ip…): conditions read it as event.context.*
    context: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime

    @property
    def key(self) -> str:
        """The name as compared with a journey's event names (engine.events.names)."""
        return event_key(self.name)

    def as_context(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.name,
            "name": self.name,
            "properties": self.properties,
            "context": self.context,
            "timestamp": self.timestamp.isoformat(),
        }


class CarriedState(BaseModel):
    """What continue-as-new carries into the next run of the same enrollment."""

    node: str
    visits: dict[str, int] = Field(default_factory=dict)
    path: list[str] = Field(default_factory=list)
    assignments: dict[str, str] = Field(default_factory=dict)
    exposures: dict[str, datetime] = Field(default_factory=dict)
    holdout: bool = False
    seen_event_ids: list[str] = Field(default_factory=list)
    buffered: list[EventEnvelope] = Field(default_factory=list)
    last_event: EventEnvelope | None = None


class EnrollmentInput(BaseModel):
    enrollment_id: str
    journey_key: str
    journey_id: int
    version: int
    definition: dict[str, Any]  # the pinned snapshot: publishing v2 never changes this run
    profile_id: str
    correlation: str | None = None
    entry: EventEnvelope
    carried: CarriedState | None = None


class EnrollmentResult(BaseModel):
    status: str
    reason: str | None = None
    path: list[str] = Field(default_factory=list)


class ExitRequest(BaseModel):
    reason: str = "operator"


class EnrollmentView(BaseModel):
    """The `state` query: where the enrollment is and what it waits for."""

    enrollment_id: str
    node: str
    path: list[str]
    assignments: dict[str, str]
    holdout: bool
    waiting_for: str | None
    wake_at: datetime | None


# ── activity inputs and results ─────────────────────────────────────────────────────────────────────


class StepInput(BaseModel):
    enrollment_id: str
    node_id: str
    visit: int
    node_type: str
    decision: dict[str, Any] | None
    entered_at: datetime


class StepsInput(BaseModel):
    """Steps written together (the workflow buffers them until it waits or ends)."""

    steps: list[StepInput] = Field(min_length=1)


class ProfileInput(BaseModel):
    profile_id: str
    signals: list[str]
    as_of: datetime


class ProfileSnapshot(BaseModel):
    profile_id: str
    traits: dict[str, Any]
    signals: dict[str, Any]
    timezone: str
    # Predictive signals read: the features that moved each score most (engine.predictions.scoring).
    explanations: dict[str, Any] = {}
    segments: list[str] = []  # keys of the named segments the person is in (profile.segments.<key>)


# Which command sequence a run follows. 1: CurrentNode upserted at every node, steps batched behind the
# `batched-steps` patch. 2: steps batched without asking the patch, CurrentNode upserted only where the
# enrollment stops (JourneyWorkflow._show): a branch → send → exit run records 14 history events instead of
# 18, and 5 Temporal Cloud actions instead of 7 (each upsert is one; a patch is a marker and a
# TemporalChangeVersion upsert). The workflow code chooses it and begin_enrollment hands it back, so the
# choice is in that local activity's marker: a replay follows the revision the run's first task ran,
# whichever worker's code that was (results recorded before the field read as 1), with no event of its
# own. Continued runs (continue-as-new) have no begin: they follow revision 1. 3: a send whose next node
# is an exit records the end itself (`Closing`), with no finish_enrollment after it.
REVISION = 3


class Admission(BaseModel):
    """A person asking to enter a journey, with everything the admission rule (engine.enrollments.admission)
    decides by. Built by `for_entry` alone, whoever asks: the API's manual entry and the dispatcher (in the
    enrolling transaction) and the workflow's begin_enrollment (for runs that transaction did not record)."""

    enrollment_id: str
    workflow_id: str
    journey_id: int
    version: int
    profile_id: str
    correlation: str | None
    holdout: bool
    holdout_percent: int
    reentry_mode: str
    reentry_cooldown_seconds: float | None
    now: datetime

    @classmethod
    def for_entry(
        cls,
        definition: JourneyDefinition,
        *,
        enrollment_id: str,
        workflow_id: str,
        journey_key: str,
        journey_id: int,
        version: int,
        profile_id: str,
        correlation: str | None,
        now: datetime,
    ) -> Admission:
        reentry = definition.entry.reentry
        return cls(
            enrollment_id=enrollment_id,
            workflow_id=workflow_id,
            journey_id=journey_id,
            version=version,
            profile_id=profile_id,
            correlation=correlation,
            holdout=in_holdout(journey_key, profile_id, definition.holdout),
            holdout_percent=definition.holdout,
            reentry_mode=reentry.mode,
            reentry_cooldown_seconds=(
                parse_duration(reentry.cooldown).total_seconds() if reentry.cooldown else None
            ),
            now=now,
        )


class BeginInput(Admission):
    journey_key: str
    # The start node's live read (a branch on the profile), done with the admission at the same workflow
    # time: one local activity fewer per enrollment. None: the start node reads nothing.
    read: ProfileInput | None = None
    revision: int  # the workflow code's REVISION, handed back in the result


class BeginResult(BaseModel):
    admitted: bool
    reason: str | None = None
    profile: ProfileSnapshot | None = None  # the `read`, when admitted
    revision: int = 1  # see REVISION


class WaitUntilInput(BaseModel):
    profile_id: str
    until_time: str | None = None
    until_trait: str | None = None
    offset: str | None = None
    now: datetime


class WaitUntilResult(BaseModel):
    wake_at: datetime
    detail: str


class ExposureInput(BaseModel):
    enrollment_id: str
    journey_id: int
    version: int
    node_id: str
    variant: str
    profile_id: str
    exposed_at: datetime
    attributes: dict[str, Any] | None = None
    # The journey's goal (event and value path): the exposure records the person's own figures for it
    # before exposure, CUPED's covariate (engine.outcomes.service.before_exposure). None: not recorded.
    goal: str | None = None
    goal_value: str | None = None


class SplitWeightsInput(BaseModel):
    journey_id: int
    version: int
    node_id: str
    goal: str
    configured: dict[str, float]
    floor_percent: float
    cadence_seconds: float
    min_exposures: int
    now: datetime


class SplitWeightsResult(BaseModel):
    weights: dict[str, float]


class OutcomeInput(BaseModel):
    enrollment_id: str
    goal: str
    value: float
    within_seconds: float
    occurred_at: datetime
    event_id: str | None = None  # the goal event's id: each goal event credits once (None in old histories)


class Closing(BaseModel):
    """The end of an enrollment, carried by the send that is its last act (the node after it is an exit):
    the send activity records it, the steps and the exit once the send has an outcome (not while it is
    deferred), in place of a finish_enrollment local activity of its own after it (REVISION 3). The end's
    time is the activity's. Events that reach the workflow while the send runs find it ended: the
    workflow still credits a goal among them, and routing credits later goals without a profile
    condition, as after any end."""

    steps: list[StepInput]  # not yet written, the send's own last (its decision is the outcome's)
    exit_node: str
    exit_visit: int


class SendInput(BaseModel):
    enrollment_id: str
    journey_key: str
    node_id: str
    visit: int
    profile_id: str
    channel: str
    template: str
    variant: dict[str, str]
    entry: EventEnvelope
    event: EventEnvelope | None
    as_of: datetime  # the workflow's time: signals, quiet hours and caps are judged as of this step
    transactional: bool = False
    quiet_hours: str | None = None  # the journey's setting; None = the engine default
    rate_limit: tuple[int, float] | None = None  # (messages, per seconds) for the whole journey
    closing: Closing | None = None


class WebhookInput(BaseModel):
    enrollment_id: str
    journey_key: str
    node_id: str
    visit: int
    profile_id: str
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any] | str | None
    variant: dict[str, str]
    entry: EventEnvelope
    event: EventEnvelope | None
    as_of: datetime


class DeliveryResult(BaseModel):
    status: str  # sent | skipped | deferred | failed
    delivery_id: int | None = None
    detail: str | None = None
    until: datetime | None = None  # deferred: try again then
    # The activity recorded the enrollment's end (SendInput.closing). An activity from before revision 3
    # (a worker not yet upgraded, in a rolling deploy) ignores `closing` and leaves this False: the
    # workflow then finishes the enrollment itself.
    closed: bool = False

    def decision(self) -> dict[str, Any]:
        """What the send's step records."""
        return {"status": self.status, "delivery_id": self.delivery_id, "detail": self.detail}


class UpdateProfileInput(BaseModel):
    profile_id: str
    set: dict[str, Any]
    unset: list[str]


class FinishInput(BaseModel):
    enrollment_id: str
    status: str
    node: str | None
    ended_at: datetime
    steps: list[StepInput] = Field(default_factory=list)  # not yet written, written in the same transaction
