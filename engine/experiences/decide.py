"""Deciding what a person sees in each placement, now: the person resolved as ingestion resolves them,
their traits, live (built-in, custom, predictive) signals and segments read, each placement's experience
judged (audience, rules in order, a sticky split, the default), the variation rendered, the decision
recorded (the frequency cap counts it; a split's decisions are its exposures)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import TemplateError
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.durations import parse_duration
from engine.enrollments.contracts import EventEnvelope
from engine.errors import InvalidInput, Problem, UnknownPerson
from engine.experiences.dsl import ExperienceDefinition
from engine.experiences.journal import DecisionJournal
from engine.experiences.live import LiveExperiences
from engine.experiences.repository import ExperienceRepository, LiveExperience
from engine.experiences.schemas import MAX_CONTEXT, DecideRequest, DecideResponse, PlacementDecision
from engine.experiences.service import ExperienceService
from engine.identity.repository import IdentityRepository
from engine.identity.service import ANONYMOUS, USER, IdentityService
from engine.journeys.assignment import in_holdout, variant_for
from engine.journeys.context import condition_context, profile_context
from engine.journeys.evaluate import evaluate, signals_used
from engine.predictions import live
from engine.predictions.scoring import PREDICTIVE_SIGNALS
from engine.profiles.repository import ProfileRepository
from engine.signals.repository import PersonRead, SignalRepository
from engine.templates.rendering import render_html

# A holdout's sides, stored as assignments; never variation names (which cannot hold "~").
HELD_OUT, TREATED = "~holdout", "~treatment"
SIDES = (HELD_OUT, TREATED)
_DEFINITION: TypeAdapter[ExperienceDefinition] = TypeAdapter(ExperienceDefinition)
# By checksum (a definition's content never changes): the definition and the signals it reads.
_PARSED: dict[str, tuple[ExperienceDefinition, frozenset[str]]] = {}


def _parsed(experience: LiveExperience) -> tuple[ExperienceDefinition, frozenset[str]]:
    """Validating a definition costs more than the rest of a decision: once per content per process."""
    found = _PARSED.get(experience.checksum)
    if found is None:
        definition = _DEFINITION.validate_python(experience.definition)
        found = _PARSED[experience.checksum] = (definition, _signals(definition))
    return found


def _signals(definition: ExperienceDefinition) -> frozenset[str]:
    conditions = [rule.when for rule in definition.rules] + (
        [definition.audience] if definition.audience else []
    )
    return frozenset(name for condition in conditions for name in signals_used(condition))


@dataclass(frozen=True)
class DecisionPath:
    """What deciding needs besides a session, one per process: new visitors' transactions, the cached
    definitions, and the journal that records decisions after the answer."""

    sessionmaker: async_sessionmaker[AsyncSession]
    live: LiveExperiences
    journal: DecisionJournal


class Decider:
    """`session` in autocommit: a known person's decision is reads only, each its own statement, with no
    BEGIN and COMMIT round trips; a visitor to create or link goes through a transaction of its own, as
    ingestion would. Decisions are journaled, and stored after the answer (engine.experiences.journal)."""

    def __init__(self, session: AsyncSession, path: DecisionPath | None = None) -> None:
        self.session = session
        self.path = path
        self.repo = ExperienceRepository(session)

    async def decide(self, request: DecideRequest) -> DecideResponse:
        if len(json.dumps(request.context)) > MAX_CONTEXT:
            raise InvalidInput(
                f"context: at most {MAX_CONTEXT} characters of JSON",
                [Problem("context", f"at most {MAX_CONTEXT} characters of JSON")],
            )
        assert self.path is not None
        now = datetime.now(UTC)
        experiences = await self.path.live.of(self.session, request.placements)
        loaded = [(experience, *_parsed(experience)) for experience in experiences]
        parsed = [(experience, definition) for experience, definition, _ in loaded]
        names = sorted({name for _, _, reads in loaded for name in reads})
        # A known visitor: found and read in one statement. Anyone else (new, or an anonymous visitor to
        # link to their user id) is resolved first, in a transaction of its own, as ingestion would.
        read = None
        if (request.userId is None) != (request.anonymousId is None):
            kind, value = (USER, request.userId) if request.userId else (ANONYMOUS, request.anonymousId)
            read = await SignalRepository(self.session).read_identity(kind, value or "", names, now)
        if read is None:
            async with self.path.sessionmaker.begin() as transaction:
                resolved = await IdentityService(transaction).resolve(request.userId, request.anonymousId)
            read = await SignalRepository(self.session).read_person(resolved, names, now)
        profile_id = read.survivor or ""
        context, signals = await self._context(profile_id, read, names, request.context, now)
        # The person's merged profiles: their split, holdout and cap count follow them through a login.
        sticky = any(d.split is not None or d.cap is not None or d.holdout for _, d in parsed)
        aliases = await IdentityRepository(self.session).aliases(profile_id) if sticky else [profile_id]
        decisions, recorded = [], []
        for placement in request.placements:
            found = next(
                (
                    (experience, definition)
                    for experience, definition in parsed
                    if definition.placement == placement
                    and (definition.audience is None or evaluate(definition.audience, context, now))
                ),
                None,
            )
            if found is None:
                decisions.append(
                    PlacementDecision(placement=placement, experience=None, variation=None, decision_id=None)
                )
                continue
            experience, definition = found
            decision, row = await self._one(
                experience, definition, placement, context, aliases, profile_id, now, request.explain, signals
            )
            decisions.append(decision)
            if row is not None:
                recorded.append(row)
        self.path.journal.write(recorded)
        return DecideResponse(profile_id=profile_id, decisions=decisions)

    async def _context(
        self, profile_id: str, read: PersonRead, names: list[str], page: dict[str, Any], now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What conditions and templates see: the person (traits, the signals the experiences read, their
        segments) and the page as `event.context`; and the signal values read."""
        signals = dict(read.values)
        if read.prediction is not None:
            wanted = [name for name in names if name in PREDICTIVE_SIGNALS]
            scored, _ = await live.predictive(
                self.session, read.prediction.model_key, read.prediction.features, now, wanted, explain=False
            )
            signals |= scored
        request = EventEnvelope(
            id="decide", name="decide", profile_id=profile_id, context=page, timestamp=now
        )
        person = profile_context(profile_id, dict(read.traits), signals, read.segments)
        return condition_context(event=request, profile=person), signals

    async def preview(self, key: str, person: str, page: dict[str, Any]) -> dict[str, Any]:
        """Every variation of an experience rendered for a real person, and the rule they match now;
        nothing is recorded or assigned."""
        experience, latest = await ExperienceService(self.session).found(key)
        profile_id = await ProfileRepository(self.session).resolve(person)
        if profile_id is None:
            raise UnknownPerson(person)
        definition = _DEFINITION.validate_python(latest.definition)  # a preview: no cache needed
        now = datetime.now(UTC)
        names = sorted(_signals(definition))
        read = await SignalRepository(self.session).read_person(profile_id, names, now)
        context, signals = await self._context(profile_id, read, names, page, now)
        matched = next(
            (
                f"rule:{i} → {rule.variation}"
                for i, rule in enumerate(definition.rules)
                if evaluate(rule.when, context, now)
            ),
            "split" if definition.split else f"default → {definition.default}",
        )
        if definition.holdout:
            sides = await self.repo.assignments(
                experience.id, await IdentityRepository(self.session).aliases(profile_id)
            )
            held_out = sides[0] == HELD_OUT if sides else in_holdout(key, profile_id, definition.holdout)
            if held_out:
                matched = f"holdout → {definition.default}"
        variations = {}
        for name in definition.variations:
            content, payload = self._render(definition, name, context)
            variations[name] = {
                "content": content,
                "payload": payload,
                "fails": content is None and payload is None,
            }
        return {"profile_id": profile_id, "matches": matched, "signals": signals, "variations": variations}

    async def _one(
        self,
        experience: LiveExperience,
        definition: ExperienceDefinition,
        placement: str,
        context: dict[str, Any],
        aliases: list[str],
        profile_id: str,
        now: datetime,
        explain: bool,
        signals: dict[str, Any],
    ) -> tuple[PlacementDecision, dict[str, Any] | None]:
        if definition.cap is not None:
            assert self.path is not None
            since = now - parse_duration(definition.cap.per)
            pending = self.path.journal.pending_since(experience.id, aliases, since)
            shown = await self.repo.shown_since(experience.id, aliases, since, besides=pending)
            if shown + len(pending) >= definition.cap.max:
                capped = PlacementDecision(
                    placement=placement,
                    experience=experience.key,
                    variation=None,
                    decision_id=None,
                    capped=True,
                )
                return capped, None
        assigned = await self.repo.assignments(experience.id, aliases) if definition.holdout else []
        if definition.holdout and not assigned:  # the first decision: their side stored, for every process
            side = HELD_OUT if in_holdout(experience.key, profile_id, definition.holdout) else TREATED
            await self.repo.assign(experience.id, profile_id, side, replacing=side)
            assigned = [side]
        if assigned[:1] == [HELD_OUT]:
            variation, reason = definition.default, "holdout"
        else:
            variation, reason = await self._choose(experience, definition, context, aliases, profile_id, now)
        content, payload = self._render(definition, variation, context)
        if content is None and payload is None and variation != definition.default:  # a template error
            variation, reason = definition.default, "default"
            content, payload = self._render(definition, variation, context)
        decision_id = str(uuid.uuid4())
        decision = PlacementDecision(
            placement=placement,
            experience=experience.key,
            variation=variation,
            decision_id=decision_id,
            content=content,
            payload=payload,
            explanation={"reason": reason, "version": experience.version, "signals": signals}
            if explain
            else None,
        )
        row = {
            "id": decision_id,
            "experience_id": experience.id,
            "version": experience.version,
            "profile_id": profile_id,
            "variation": variation,
            "reason": reason,
            "decided_at": now,
        }
        return decision, row

    async def _choose(
        self,
        experience: LiveExperience,
        definition: ExperienceDefinition,
        context: dict[str, Any],
        aliases: list[str],
        profile_id: str,
        now: datetime,
    ) -> tuple[str, str]:
        """The first rule that holds, else the person's split variation, else the default; and why."""
        for index, rule in enumerate(definition.rules):
            if evaluate(rule.when, context, now):
                return rule.variation, f"rule:{index}"
        if definition.split is None:
            return definition.default, "default"
        assigned = [a for a in await self.repo.assignments(experience.id, aliases) if a not in SIDES]
        if assigned:
            return assigned[0], "split"
        variation = variant_for(experience.key, "split", profile_id, list(definition.split.weights.items()))
        # The first split decision: stored before the answer, for every process (over their treated mark).
        await self.repo.assign(experience.id, profile_id, variation, replacing=TREATED)
        return variation, "split"

    @staticmethod
    def _render(
        definition: ExperienceDefinition, name: str, context: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any] | None]:
        """The variation's content rendered for this person and page (HTML-escaped values), or its payload;
        (None, None) when its template fails (an unknown variable: never half a sentence on a page)."""
        variation = definition.variations[name]
        if variation.payload is not None:
            return None, variation.payload
        try:
            return render_html(variation.content or "", context), None
        except TemplateError:
            return None, None
