"""Outcomes, the one road by which results are credited to exposures: a goal the running enrollment
judged reached, a goal event routed for a person (also after the enrollment ended, inside the window),
and offline feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.experiment_tables import Exposure
from engine.durations import parse_duration
from engine.enrollments.contracts import EventEnvelope
from engine.errors import InvalidInput, NotFound, Problem
from engine.events.names import event_key
from engine.identity.repository import IdentityRepository
from engine.journeys.context import condition_context
from engine.journeys.dsl import ATTRIBUTION_WINDOW, EntryRef, EventEntry, Goal, JourneyDefinition, Match
from engine.journeys.evaluate import MISSING, evaluate, lookup, matches, needs_profile
from engine.journeys.repository import JourneyRepository
from engine.outcomes.goals import goal_value
from engine.outcomes.repository import OutcomeRepository

PRE_EXPOSURE = timedelta(days=30)  # the window of CUPED's covariate, before each exposure


class OfflineOutcome(BaseModel):
    """Feedback the journey cannot see happen (a CRM deal won, a refund), credited to the person's
    exposures in that journey. Posting the same `external_id` again changes nothing."""

    journey: str = Field(min_length=1, max_length=100)
    profile: str = Field(min_length=1, max_length=200, description="profile, user or anonymous id")
    goal: str = Field(min_length=1, max_length=200, examples=["deal_won"])
    value: float = 0.0
    external_id: str = Field(min_length=1, max_length=200)
    occurred_at: datetime | None = None


class OutcomeRecorded(BaseModel):
    credited: int  # exposures credited now (0 when this external id was recorded before)


MISMATCH = object()


def goal_correlation(goal: Goal, definition: JourneyDefinition, event: EventEnvelope) -> object:
    """For a goal event after the enrollment ended, where only the enrollment's `correlation` is left of its
    entry: MISMATCH if the event fails the goal's literal `match` values, the correlation value its
    `{entry: <correlate path>}` asks for, or None when the goal is not correlated."""
    literal: Match = {path: want for path, want in goal.match.items() if not isinstance(want, EntryRef)}
    if not matches(literal, event.properties, {}):
        return MISMATCH
    entry = definition.entry
    for path, want in goal.match.items():
        if isinstance(want, EntryRef) and isinstance(entry, EventEntry) and want.entry == entry.correlate:
            value = lookup({"properties": event.properties}, path)
            return MISMATCH if value is MISSING or value is None else str(value)
    return None


class OutcomeService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = OutcomeRepository(session)
        self.identity = IdentityRepository(session)
        self.journeys = JourneyRepository(session)

    async def before_exposure(
        self, profile_id: str, goal: str, value_path: str | None, exposed_at: datetime
    ) -> tuple[float, float]:
        """The person's goal events and their summed value in the PRE_EXPOSURE days before an exposure:
        CUPED's covariates for the conversion and value metrics (docs/statistics.md)."""
        return await self.repo.before(
            profile_id, event_key(goal), value_path, exposed_at - PRE_EXPOSURE, exposed_at
        )

    async def offline(self, outcome: OfflineOutcome, profile_id: str) -> OutcomeRecorded:
        """Credited to the person's exposures in the journey inside its goal's attribution window, for a
        goal the journey declares (its `goal` or one of its `offline_goals`)."""
        journey = await self.journeys.get(outcome.journey)
        version = await self.journeys.latest_version(journey.id) if journey else None
        if journey is None or version is None:
            raise NotFound(f"no published journey with key {outcome.journey!r}")
        definition = JourneyDefinition.model_validate(version.definition)
        declared = ([definition.goal.event] if definition.goal else []) + definition.offline_goals
        if event_key(outcome.goal) not in {event_key(goal) for goal in declared}:
            raise InvalidInput(
                f"goal: journey {outcome.journey!r} declares no goal {outcome.goal!r}",
                [Problem("goal", f"one of {declared} (the journey's goal and offline_goals)")],
            )
        profiles = await self.identity.aliases(profile_id)
        credited = await self.repo.credit(
            exposures_of=[Exposure.journey_id == journey.id, Exposure.profile_id.in_(profiles)],
            goal=outcome.goal,
            value=outcome.value,
            occurred_at=outcome.occurred_at or datetime.now(UTC),
            within=parse_duration(definition.goal.within if definition.goal else ATTRIBUTION_WINDOW),
            external_id=outcome.external_id,
        )
        return OutcomeRecorded(credited=credited)

    async def credit_enrollment(
        self,
        enrollment_id: str,
        goal: str,
        value: float,
        within: timedelta,
        occurred_at: datetime,
        event_id: str | None,
    ) -> int:
        """A goal the running enrollment judged reached (its condition may read the live profile): every
        exposure of this enrollment inside the attribution window, once per goal event."""
        return await self.repo.credit(
            exposures_of=[Exposure.enrollment_id == enrollment_id],
            event_id=event_id,
            goal=goal,
            value=value,
            occurred_at=occurred_at,
            within=within,
        )

    async def credit_goal_event(
        self, event: EventEnvelope, profiles: list[str], definitions: dict[tuple[int, int], JourneyDefinition]
    ) -> int:
        """A goal event credits exposures inside the window even after the enrollment ended (a buyer who
        comes back two days after the last email still counts for the variant that emailed her)."""
        credited = 0
        for journey_id, version in await self.repo.exposed_versions(profiles):
            definition = definitions.get((journey_id, version))
            goal = definition.goal if definition is not None else None
            if definition is None or goal is None or event_key(goal.event) != event.key:
                continue
            correlated = goal_correlation(goal, definition, event)
            if correlated is MISMATCH:
                continue
            if goal.when is not None and (
                needs_profile(goal.when)
                or not evaluate(goal.when, condition_context(event=event), event.timestamp)
            ):
                continue  # conditions on the profile are judged by the running enrollment only
            credited += await self.repo.credit(
                exposures_of=[
                    Exposure.journey_id == journey_id,
                    Exposure.version == version,
                    Exposure.profile_id.in_(profiles),
                ],
                correlation=correlated if isinstance(correlated, str) else None,
                event_id=event.id,
                goal=goal.event,
                value=goal_value(goal, event),
                occurred_at=event.timestamp,
                within=parse_duration(goal.within),
            )
        return credited
