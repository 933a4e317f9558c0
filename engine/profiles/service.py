"""A profile as people look at it (traits, live signals, identities, journeys, recent events), and erasure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from engine.enrollments.repository import EnrollmentRepository
from engine.enrollments.schemas import EnrollmentSummary
from engine.enrollments.service import EnrollmentService
from engine.errors import InvalidInput, Problem, UnknownPerson
from engine.events.repository import EventRepository
from engine.identity.repository import IdentityRepository
from engine.predictions import live
from engine.predictions.scoring import PREDICTIVE_SIGNALS
from engine.profiles.repository import ERASED_ID, ErasureRepository, ProfileRepository
from engine.settings import Settings
from engine.signals.catalog import BUILTIN_SIGNALS
from engine.signals.repository import SignalRepository
from engine.signals.service import SignalService


class EventOut(BaseModel):
    message_id: str
    type: str
    name: str | None
    properties: dict[str, Any]
    timestamp: datetime


class ProfileView(BaseModel):
    id: str
    traits: dict[str, Any]
    timezone: str | None
    signals: dict[str, Any]
    identities: list[dict[str, str]]
    merged_profiles: list[str]
    enrollments: list[EnrollmentSummary]
    recent_events: list[EventOut]


async def find_profile(session: AsyncSession, key: str) -> str:
    """A profile id, a user id or an anonymous id; merged profiles answer for their survivor."""
    profile_id = await ProfileRepository(session).resolve(key)
    if profile_id is None:
        raise UnknownPerson(key)
    return profile_id


class SignalsView(BaseModel):
    profile_id: str
    as_of: datetime
    signals: dict[str, Any]


class PredictionsView(BaseModel):
    profile_id: str
    as_of: datetime
    model_id: int | None  # None: no model trained yet
    signals: dict[str, Any]
    explanations: dict[str, Any]


async def live_predictions(session: AsyncSession, key: str) -> PredictionsView:
    """A person's predictive signals scored now, each with the features that moved it most."""
    as_of = datetime.now(UTC)
    read = await SignalRepository(session).read_by_key(key, [], as_of, predictive=True)
    if read.profile_id is None or read.prediction is None:
        raise UnknownPerson(key)
    scored, explanations = await live.predictive(
        session, read.prediction.model_key, read.prediction.features, as_of, list(PREDICTIVE_SIGNALS)
    )
    return PredictionsView(
        profile_id=read.profile_id,
        as_of=as_of,
        model_id=read.prediction.model_id,
        signals=scored,
        explanations=explanations,
    )


async def live_signals(session: AsyncSession, key: str, names: list[str] | None) -> SignalsView:
    """A person's live signals (all, or the ones named), computed now over their events: the person and
    the built-in signals (and the features predictive ones are scored on) in one statement; custom ones
    asked for cost two more (their definitions, then their values). Predictive signals are listed among
    all only once a model is trained."""
    as_of = datetime.now(UTC)
    signals = SignalRepository(session)
    wanted = list(BUILTIN_SIGNALS) if names is None else [n for n in names if n in BUILTIN_SIGNALS]
    predictive = list(PREDICTIVE_SIGNALS) if names is None else [n for n in names if n in PREDICTIVE_SIGNALS]
    read = await signals.read_by_key(key, wanted, as_of, predictive=bool(predictive))
    if read.profile_id is None:
        raise UnknownPerson(key)
    known = set(BUILTIN_SIGNALS) | set(PREDICTIVE_SIGNALS) | set(read.custom_names)
    unknown = sorted(set(names or []) - known)
    if unknown:
        raise InvalidInput(
            f"unknown signal {unknown[0]!r}",
            [Problem("query.names", f"unknown signal {n!r}") for n in unknown],
        )
    custom = read.custom_names if names is None else [n for n in names if n in read.custom_names]
    values = read.values
    if custom:
        values |= await signals.compute(read.profile_id, custom, as_of)
    if read.prediction is not None and (names is not None or read.prediction.model_id is not None):
        scored, _ = await live.predictive(
            session, read.prediction.model_key, read.prediction.features, as_of, predictive, explain=False
        )
        values |= scored
    return SignalsView(profile_id=read.profile_id, as_of=as_of, signals=dict(sorted(values.items())))


class ProfileService:
    def __init__(self, session: AsyncSession, temporal: Client, settings: Settings) -> None:
        self.session = session
        self.temporal = temporal
        self.settings = settings
        self.identity = IdentityRepository(session)
        self.profiles = ProfileRepository(session)

    async def find(self, key: str) -> str:
        return await find_profile(self.session, key)

    async def view(self, key: str) -> ProfileView:
        profile_id = await self.find(key)
        profile = await self.profiles.get(profile_id)
        assert profile is not None
        names = list(await SignalService(self.session).known())
        signals = await SignalRepository(self.session).compute(profile_id, names, datetime.now(UTC))
        aliases = await self.identity.aliases(profile_id)
        service = EnrollmentService(self.session, self.temporal, self.settings)
        enrollments = await service.list(profile_ids=aliases, status="active")
        return ProfileView(
            id=profile_id,
            traits=dict(profile.traits),
            timezone=profile.timezone,
            signals=dict(sorted(signals.items())),
            identities=[
                {"kind": kind, "value": value} for kind, value in await self.identity.identities(profile_id)
            ],
            merged_profiles=[alias for alias in aliases if alias != profile_id],
            enrollments=enrollments,
            recent_events=[
                EventOut(
                    message_id=e.message_id,
                    type=e.type,
                    name=e.name,
                    properties=e.properties,
                    timestamp=e.timestamp,
                )
                for e in await EventRepository(self.session).recent(profile_id)
            ],
        )

    async def erase(self, key: str) -> int:
        """Returns how many running enrollments were ended. The caller commits.

        In this order: the person's events not yet routed are dropped (waiting for one being routed);
        their profiles are locked, so that no event, entry or merge for them goes on until the erasure
        commits; their enrollments, running or ended, then known, are ended and their Temporal histories
        deleted; last, every row that names them. Temporal before the commit: should it be away, nothing
        is erased and the caller can ask again."""
        profile_id = await self.find(key)
        erasure = ErasureRepository(self.session)
        await erasure.stop_routing(await self.identity.aliases(profile_id))
        await erasure.lock([profile_id])
        aliases = await self.identity.aliases(profile_id)  # a merge into theirs committed meanwhile
        await erasure.lock(aliases)
        enrollments = await EnrollmentRepository(self.session).of_profiles(aliases)
        service = EnrollmentService(self.session, self.temporal, self.settings)
        await service.delete_histories(e.workflow_id for e in enrollments if e.workflow_id != ERASED_ID)
        running = [e for e in enrollments if e.status == "active"]
        now = datetime.now(UTC)
        for enrollment in running:
            await service.repo.finish(enrollment.id, "exited:operator", enrollment.current_node, now)
        await erasure.erase(aliases)
        return len(running)
