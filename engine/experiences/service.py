"""Experience definitions: validated with paths, versioned like journeys."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from engine.errors import InvalidInput, Problem
from engine.experiences.dsl import ExperienceDefinition
from engine.experiences.repository import ExperienceRepository
from engine.journeys.documents import checksum
from engine.journeys.validator import problem_path


class ExperienceOut(BaseModel):
    key: str
    placement: str
    version: int
    created: bool = True
    definition: dict[str, Any]


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

    async def listed(self) -> list[ExperienceOut]:
        return [
            ExperienceOut(key=x.key, placement=x.placement, version=v.version, definition=v.definition)
            for x, v in await self.repo.listed()
        ]
