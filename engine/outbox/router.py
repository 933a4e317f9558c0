"""Which journeys an event concerns: entries (a workflow start), audience entries (evaluated now),
and running enrollments of the person that wait for it, have it as goal or as exit criterion (signal)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from engine.db.models import Event
from engine.enrollments.contracts import EventEnvelope, ProfileInput
from engine.enrollments.repository import EnrollmentRepository
from engine.enrollments.service import EnrollmentService
from engine.events.names import event_key
from engine.identity.repository import IdentityRepository
from engine.journeys.conditions import Condition
from engine.journeys.context import condition_context, profile_context
from engine.journeys.dsl import EventEntry, JourneyDefinition, WaitForEventNode
from engine.journeys.evaluate import evaluate, needs_profile, signals_used
from engine.journeys.repository import JourneyRef, JourneyRepository
from engine.outcomes.service import OutcomeService
from engine.profiles.snapshot import read_snapshot
from engine.segments import membership
from engine.segments.membership import SEGMENT_EVENTS
from engine.segments.repository import LiveSegment, SegmentRepository
from engine.settings import Settings

ANY_EVENT = "*"
LIVE_CACHE_SECONDS = 2.0  # a journey (or segment) published or paused is seen by routing within this delay


def interesting_events(definition: JourneyDefinition) -> set[str]:
    """Events a running enrollment of this definition must hear about, by key (engine.events.names)."""
    names = {definition.entry.event} if isinstance(definition.entry, EventEntry) else set()
    if definition.goal is not None:
        names.add(definition.goal.event)
    for criterion in definition.exit_when:
        names.add(criterion.event or ANY_EVENT)  # a profile-only criterion is checked on every event
    names |= {node.event for node in definition.nodes.values() if isinstance(node, WaitForEventNode)}
    return {name if name == ANY_EVENT else event_key(name) for name in names}


@dataclass
class RouteResult:
    entered: list[str] = field(default_factory=list)
    signalled: list[str] = field(default_factory=list)


@dataclass
class RoutingCache:
    """Definitions by (journey, version) never change; the list of live journeys is refreshed often."""

    definitions: dict[tuple[int, int], JourneyDefinition] = field(default_factory=dict)
    interests: dict[tuple[int, int], set[str]] = field(default_factory=dict)  # interesting_events, by key
    live: list[tuple[JourneyRef, int, JourneyDefinition]] = field(default_factory=list)
    live_loaded_at: float = -1e9
    goal_events: set[str] = field(default_factory=set)
    goals_loaded_at: float = -1e9
    segments: list[LiveSegment] = field(default_factory=list)
    segments_loaded_at: float = -1e9


class EventRouter:
    def __init__(
        self, session: AsyncSession, temporal: Client, settings: Settings, cache: RoutingCache
    ) -> None:
        self.session = session
        self.temporal = temporal
        self.settings = settings
        self.cache = cache
        self.journeys = JourneyRepository(session)
        self.enrollments = EnrollmentService(session, temporal, settings)
        self._profiles: dict[frozenset[str], dict[str, Any]] = {}  # this event's person, by signals read

    async def _interest(self, journey_id: int, version: int) -> set[str]:
        """Computed once per version: every routed event asks it of each of the person's enrollments."""
        found = self.cache.interests.get((journey_id, version))
        if found is None:
            found = interesting_events(await self._definition(journey_id, version))
            self.cache.interests[(journey_id, version)] = found
        return found

    async def _definition(self, journey_id: int, version: int) -> JourneyDefinition:
        key = (journey_id, version)
        if key not in self.cache.definitions:
            row = await self.journeys.version_by_id(journey_id, version)
            self.cache.definitions[key] = JourneyDefinition.model_validate(row.definition)
        return self.cache.definitions[key]

    async def _live(self) -> list[tuple[JourneyRef, int, JourneyDefinition]]:
        if time.monotonic() - self.cache.live_loaded_at > LIVE_CACHE_SECONDS:
            live = []
            for journey, version in await self.journeys.live_with_latest_version():
                ref = JourneyRef(journey.id, journey.key)
                live.append((ref, version, await self._definition(journey.id, version)))
            self.cache.live, self.cache.live_loaded_at = live, time.monotonic()
        return self.cache.live

    async def _holds(self, condition: Condition, envelope: EventEnvelope) -> bool:
        profile = await self._profile(envelope, signals_used(condition)) if needs_profile(condition) else None
        context = condition_context(entry=envelope, event=envelope, profile=profile)
        return evaluate(condition, context, envelope.timestamp)

    async def _profile(self, envelope: EventEnvelope, names: set[str]) -> dict[str, Any]:
        """The person as the condition sees them (traits, the signals it reads, segments), in the one
        statement a branch's snapshot uses; read once per event for each set of signals asked for."""
        key = frozenset(names)
        if key not in self._profiles:
            snapshot = await read_snapshot(
                self.session,
                ProfileInput(profile_id=envelope.profile_id, signals=sorted(names), as_of=envelope.timestamp),
                self.settings.default_timezone,
                explain=False,
            )
            self._profiles[key] = profile_context(
                envelope.profile_id, snapshot.traits, snapshot.signals, snapshot.segments
            )
        return self._profiles[key]

    async def route(self, event: Event) -> RouteResult:
        envelope = EventEnvelope(
            id=event.message_id,
            name=event.name or event.type,
            profile_id=event.profile_id,
            properties=event.properties,
            context=event.context,
            timestamp=event.timestamp,
        )
        result, key = RouteResult(), envelope.key  # the name as journeys compare it, computed once
        self._profiles = {}
        # The person's running enrollments, including those begun under ids since merged into this one.
        running = await EnrollmentRepository(self.session).active_for_person(event.profile_id)
        enrolled_journeys = {enrollment.journey_id for enrollment in running}
        for enrollment in running:
            interest = await self._interest(enrollment.journey_id, enrollment.version)
            if not (key in interest or ANY_EVENT in interest):
                continue
            # A workflow gone meanwhile has nothing left to be told (goal credit comes from
            # _credit_goals); any other failure is retried.
            if await self.enrollments.signal_running(enrollment, envelope, datetime.now(UTC)):
                result.signalled.append(enrollment.workflow_id)
        for journey, version, definition in await self._live():
            entry = definition.entry
            if isinstance(entry, EventEntry):
                if event_key(entry.event) == key and (
                    entry.when is None or await self._holds(entry.when, envelope)
                ):
                    started = await self.enrollments.enroll_into(journey, version, definition, envelope)
                    result.entered.append(started.workflow_id)
            elif journey.id not in enrolled_journeys and await self._holds(entry.audience, envelope):
                # Audience entries: "starts matching", checked whenever the person's events arrive.
                matched = envelope.model_copy(
                    update={"id": f"audience:{journey.key}:{envelope.id}", "name": "audience_matched"}
                )
                started = await self.enrollments.enroll_into(journey, version, definition, matched)
                result.entered.append(started.workflow_id)
        if key in await self._goal_events():
            await self._credit_goals(
                envelope, await IdentityRepository(self.session).aliases(event.profile_id)
            )
        if key not in SEGMENT_EVENTS.values():  # what a segment event changes is already recorded
            await membership.update(
                self.session,
                event.profile_id,
                datetime.now(UTC),
                event.message_id,
                self.settings.default_timezone,
                await self._segments(),
            )
        return result

    async def _segments(self) -> list[LiveSegment]:
        """The live segments, read at most every LIVE_CACHE_SECONDS: not a query for every routed event."""
        if time.monotonic() - self.cache.segments_loaded_at > LIVE_CACHE_SECONDS:
            self.cache.segments = await SegmentRepository(self.session).live()
            self.cache.segments_loaded_at = time.monotonic()
        return self.cache.segments

    async def _goal_events(self) -> set[str]:
        """Every event any journey version counts as its goal: the rest need no attribution query."""
        if time.monotonic() - self.cache.goals_loaded_at > LIVE_CACHE_SECONDS:
            self.cache.goal_events = {event_key(name) for name in await self.journeys.goal_events()}
            self.cache.goals_loaded_at = time.monotonic()
        return self.cache.goal_events

    async def _credit_goals(self, envelope: EventEnvelope, profiles: list[str]) -> None:
        outcomes = OutcomeService(self.session)
        versions = await outcomes.repo.exposed_versions(profiles)
        definitions = {key: await self._definition(*key) for key in versions}
        await outcomes.credit_goal_event(envelope, profiles, definitions)
