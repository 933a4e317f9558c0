"""The audience sweep: conditions that become true with time alone ("no order in 60 days") are found by
re-evaluating every live audience journey over the profiles not already in it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from engine.enrollments.contracts import EventEnvelope
from engine.enrollments.service import AUDIENCE_EVENT, EnrollmentService
from engine.errors import Conflict
from engine.journeys.context import condition_context, profile_context
from engine.journeys.dsl import AudienceEntry, JourneyDefinition
from engine.journeys.evaluate import evaluate, signals_used
from engine.journeys.repository import JourneyRef, JourneyRepository
from engine.profiles.repository import ProfileRepository
from engine.segments.repository import SegmentRepository
from engine.settings import Settings
from engine.signals.service import SignalService

log = logging.getLogger(__name__)
PAGE = 500


@dataclass
class SweepTotals:
    checked: int = 0
    enrolled: int = 0
    deferred: int = 0


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    temporal: Client,
    settings: Settings,
    now: datetime,
    progress: Callable[[str], None] = lambda _: None,
) -> SweepTotals:
    totals = SweepTotals()
    async with sessionmaker() as session:
        journeys = JourneyRepository(session)
        live = []
        for journey, version in await journeys.live_with_latest_version():
            definition = JourneyDefinition.model_validate(
                (await journeys.version_by_id(journey.id, version)).definition
            )
            if isinstance(definition.entry, AudienceEntry):
                live.append((JourneyRef(journey.id, journey.key), version, definition, definition.entry))
    for ref, version, definition, entry in live:
        signals = sorted(signals_used(entry.audience))
        after = ""
        while True:
            async with sessionmaker() as session:
                page = await ProfileRepository(session).page_outside_journey(ref.id, after, PAGE)
            if not page:
                break
            after = page[-1].id
            for profile in page:
                totals.checked += 1
                try:
                    async with sessionmaker() as session, session.begin():
                        values = await SignalService(session).values(profile.id, signals, now)
                        segments = await SegmentRepository(session).keys_of(profile.id)
                        context = condition_context(
                            profile=profile_context(profile.id, dict(profile.traits), values, segments)
                        )
                        if not evaluate(entry.audience, context, now):
                            continue
                        event = EventEnvelope(
                            id=f"audience-sweep:{ref.key}:{profile.id}:{now.date().isoformat()}",
                            name=AUDIENCE_EVENT,
                            profile_id=profile.id,
                            timestamp=now,
                        )
                        started = await EnrollmentService(session, temporal, settings).enroll_into(
                            ref, version, definition, event, now
                        )
                        totals.enrolled += int(started.started)
                except Conflict as error:
                    # Their previous run of the journey is still closing: the next sweep decides, rather
                    # than failing this one for everybody after them.
                    log.info("audience sweep: %s", error)
                    totals.deferred += 1
            progress(f"{ref.key}: {totals.checked} profiles checked, {totals.enrolled} enrolled")
    return totals
