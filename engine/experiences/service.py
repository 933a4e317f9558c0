"""Experience definitions: validated with paths, versioned like journeys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.insight_tables import Experience, ExperienceVersion
from engine.durations import parse_duration
from engine.errors import Conflict, InvalidInput, NotFound, Problem
from engine.events.names import event_key
from engine.experiences.dsl import ExperienceDefinition
from engine.experiences.repository import ExperienceRepository
from engine.journeys.documents import checksum
from engine.journeys.validator import problem_path
from engine.reports.schemas import SplitResult
from engine.reports.splits import Options, adjust, split_result, verdict


class ExperienceOut(BaseModel):
    key: str
    placement: str
    version: int
    created: bool = True
    definition: dict[str, Any]


class ExperienceDetail(ExperienceOut):
    decisions_24h: dict[str, int]


class ExperienceReport(BaseModel):
    experience: str
    version: int
    split: SplitResult | None = Field(description="the split's variations against its control")
    holdout: SplitResult | None = Field(description="everyone else against the holdout, who saw the default")


class ExperienceService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = ExperienceRepository(session)

    async def save(self, key: str, document: Any) -> ExperienceOut:
        try:
            definition = ExperienceDefinition.model_validate(document)
        except ValidationError as error:
            problems = [Problem(problem_path(tuple(e["loc"])), e["msg"]) for e in error.errors()]
            raise InvalidInput(f"{problems[0].path}: {problems[0].message}", problems) from error
        if definition.key != key:
            message = f"{definition.key!r} does not match the key in the URL ({key!r})"
            raise InvalidInput(f"key: {message}", [Problem("key", message)])
        normalized = definition.model_dump(mode="json", by_alias=True, exclude_none=True)
        digest = checksum(normalized)
        experience = await self.repo.create_locked(key, definition.placement)
        latest = await self.repo.latest(experience.id)
        if latest is not None and latest.checksum == digest:
            return ExperienceOut(
                key=key,
                placement=definition.placement,
                version=latest.version,
                created=False,
                definition=normalized,
            )
        version = (latest.version if latest else 0) + 1
        await self.repo.add_version(experience, version, normalized, digest)
        return ExperienceOut(key=key, placement=definition.placement, version=version, definition=normalized)

    async def found(self, key: str) -> tuple[Experience, ExperienceVersion]:
        """The experience and its latest version; NotFound without them."""
        experience = await self.repo.get(key)
        latest = await self.repo.latest(experience.id) if experience else None
        if experience is None or latest is None:
            raise NotFound(f"no experience with key {key!r}")
        return experience, latest

    async def report(self, key: str, alpha: float = 0.05) -> ExperienceReport:
        """The split's variations, and the holdout against everyone else, compared on the goal with the
        journeys' report statistics."""
        experience, latest = await self.found(key)
        definition = ExperienceDefinition.model_validate(latest.definition)
        goal = definition.goal
        if goal is None or (definition.split is None and not definition.holdout):
            raise Conflict(f"experience {key!r} has no goal with a split or a holdout to report on")
        within = parse_duration(goal.within).total_seconds()
        arms: dict[str, SplitResult] = {}
        if definition.split is not None:
            rows = await self.repo.totals(experience.id, "split", event_key(goal.event), within)
            weights = {name: float(weight) for name, weight in definition.split.weights.items()}
            arms["split"] = split_result(
                "split", goal.event, definition.split.control, weights, rows, Options(alpha)
            )
        if definition.holdout:
            rows = await self.repo.totals(experience.id, "holdout", event_key(goal.event), within)
            weights = {"holdout": float(definition.holdout), "treatment": float(100 - definition.holdout)}
            arms["holdout"] = split_result("holdout", goal.event, "holdout", weights, rows, Options(alpha))
        adjust(list(arms.values()))  # Holm's correction across the report's comparisons, as for journeys
        for result in arms.values():
            result.verdict = verdict(result, alpha)
        return ExperienceReport(
            experience=key, version=latest.version, split=arms.get("split"), holdout=arms.get("holdout")
        )

    async def detail(self, key: str) -> ExperienceDetail:
        experience, latest = await self.found(key)
        counts = await self.repo.counts(experience.id, datetime.now(UTC) - timedelta(days=1))
        return ExperienceDetail(
            key=key,
            placement=experience.placement,
            version=latest.version,
            definition=latest.definition,
            decisions_24h=counts,
        )

    async def listed(self) -> list[ExperienceOut]:
        return [
            ExperienceOut(key=x.key, placement=x.placement, version=v.version, definition=v.definition)
            for x, v in await self.repo.listed()
        ]
