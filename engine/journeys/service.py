"""Journey definitions: drafts, dry-run validation, versioned publishing, lifecycle. Services never
commit; the request (or CLI) boundary does, so a rejected request leaves nothing behind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Journey, JourneyVersion
from engine.errors import Conflict, InvalidInput, NotFound, Problem
from engine.journeys import diff
from engine.journeys.activity import ActivityService
from engine.journeys.documents import checksum
from engine.journeys.dsl import JourneyDefinition
from engine.journeys.repository import JourneyRepository
from engine.journeys.schemas import (
    DraftSaved,
    JourneyDetail,
    JourneyOverview,
    JourneySummary,
    ProblemOut,
    PublishResult,
    ValidationResult,
    VersionDetail,
    VersionDiff,
    VersionSummary,
)
from engine.journeys.validator import template_warnings, validate
from engine.signals.service import SignalService
from engine.templates.service import TemplateService

# Which status each lifecycle action moves from → to.
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "pause": ({"live"}, "paused"),
    "resume": ({"paused"}, "live"),
    "archive": ({"draft", "live", "paused"}, "archived"),
}


def _out(problems: list[Problem]) -> list[ProblemOut]:
    return [ProblemOut(path=p.path, message=p.message) for p in problems]


class JourneyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = JourneyRepository(session)
        self.templates = TemplateService(session)
        self.signals = SignalService(session)

    async def check(self, document: Any) -> tuple[JourneyDefinition | None, list[Problem], list[Problem]]:
        """The definition (None if it has problems), its problems, and its warnings."""
        templates = await self.templates.catalog()
        definition, problems = validate(
            document, known_signals=await self.signals.known(), templates=templates
        )
        return definition, problems, template_warnings(document, templates)

    async def dry_run(self, document: Any) -> ValidationResult:
        _, problems, warnings = await self.check(document)
        return ValidationResult(valid=not problems, problems=_out(problems), warnings=_out(warnings))

    async def _require(self, key: str, *, for_update: bool = False) -> Journey:
        journey = await self.repo.get(key, for_update=for_update)
        if journey is None:
            raise NotFound(f"no journey with key {key!r}")
        return journey

    @staticmethod
    def _key_matches(key: str, document: Any) -> None:
        if not isinstance(document, Mapping):
            message = "a journey definition must be a mapping (an object) at the top level"
            raise InvalidInput(message, [Problem("(document)", message)])
        if document.get("key", key) != key:
            message = f"{document.get('key')!r} does not match the key in the URL ({key!r})"
            raise InvalidInput(f"key: {message}", [Problem("key", message)])

    async def save_draft(self, key: str, document: Any) -> DraftSaved:
        """Drafts may be work in progress: stored even with problems, which are returned."""
        self._key_matches(key, document)
        _, problems, warnings = await self.check(document)
        name = document.get("name") if isinstance(document.get("name"), str) else key
        journey = await self.repo.get_or_create_locked(key, name)
        if journey.status == "archived":
            raise Conflict(f"journey {key!r} is archived")
        journey.draft = dict(document)
        journey.name = name
        await self.repo.touch(journey)
        return DraftSaved(key=key, status=journey.status, problems=_out(problems), warnings=_out(warnings))

    async def publish(self, key: str, document: Any | None, author: str) -> PublishResult:
        if document is None:
            existing = await self._require(key)
            if existing.draft is None:
                raise Conflict(f"journey {key!r} has no draft to publish: send a definition in the body")
            document = existing.draft
        definition, warnings = await self._publishable(key, document)
        normalized = definition.model_dump(mode="json", by_alias=True)
        digest = checksum(normalized)
        journey = await self.repo.get_or_create_locked(key, definition.name)
        if journey.status == "archived":
            raise Conflict(f"journey {key!r} is archived; archived journeys cannot be published")
        latest = await self.repo.latest_version(journey.id)
        if latest is not None and latest.checksum == digest:
            return PublishResult(
                key=key, version=latest.version, created=False, status=journey.status, warnings=_out(warnings)
            )
        number = (latest.version if latest else 0) + 1
        await self.repo.add_version(journey, number, normalized, digest, author)
        journey.name = definition.name
        journey.draft = None  # the draft is now the published version
        if journey.status == "draft":
            journey.status = "live"
        await self.repo.touch(journey)
        return PublishResult(
            key=key, version=number, created=True, status=journey.status, warnings=_out(warnings)
        )

    async def _publishable(self, key: str, document: Any) -> tuple[JourneyDefinition, list[Problem]]:
        self._key_matches(key, document)
        definition, problems, warnings = await self.check(document)
        if definition is None:
            first = problems[0]
            raise InvalidInput(f"{len(problems)} problem(s); first: {first.path}: {first.message}", problems)
        return definition, warnings

    async def proposed_diff(self, key: str, document: Any) -> VersionDiff:
        """What publishing `document` would change against the latest version (all of it if new)."""
        definition, _ = await self._publishable(key, document)
        journey = await self.repo.get(key)
        latest = await self.repo.latest_version(journey.id) if journey else None
        before = latest.definition if latest else {}
        after = definition.model_dump(mode="json", by_alias=True)
        number = latest.version if latest else 0
        return VersionDiff(
            key=key,
            from_version=number,
            to_version=number + 1,
            changes=diff.changes(before, after),
            unified=diff.unified(before, after, f"{key} v{number}", f"{key} proposed"),
        )

    async def transition(self, key: str, action: str) -> JourneySummary:
        allowed_from, target = TRANSITIONS[action]
        journey = await self._require(key, for_update=True)
        if journey.status not in allowed_from:
            raise Conflict(f"cannot {action} journey {key!r}: it is {journey.status}")
        journey.status = target
        await self.repo.touch(journey)
        latest = await self.repo.latest_version(journey.id)
        return self._summary(journey, latest.version if latest else None)

    @staticmethod
    def _summary(journey: Journey, latest: int | None) -> JourneySummary:
        return JourneySummary(
            key=journey.key,
            name=journey.name,
            status=journey.status,
            latest_version=latest,
            updated_at=journey.updated_at,
        )

    async def overview(self, status: str | None = None) -> list[JourneyOverview]:
        """Every journey with what it is doing now (the console's list)."""
        rows = await self.repo.list(status)
        activity = await ActivityService(self.session).counts([journey.id for journey, _ in rows])
        return [
            JourneyOverview(**self._summary(journey, latest).model_dump(), activity=activity[journey.id])
            for journey, latest in rows
        ]

    async def list(self, status: str | None = None) -> list[JourneySummary]:
        return [self._summary(journey, latest) for journey, latest in await self.repo.list(status)]

    async def detail(self, key: str) -> JourneyDetail:
        journey = await self._require(key)
        versions = await self.repo.versions(journey.id)
        return JourneyDetail(
            **self._summary(journey, versions[-1].version if versions else None).model_dump(),
            draft=journey.draft,
            versions=[_version_summary(v) for v in versions],
            definition=versions[-1].definition if versions else None,
        )

    async def version(self, key: str, number: int) -> VersionDetail:
        journey = await self._require(key)
        version = await self.repo.version(journey.id, number)
        if version is None:
            raise NotFound(f"journey {key!r} has no version {number}")
        return VersionDetail(**_version_summary(version).model_dump(), definition=version.definition)

    async def diff(self, key: str, from_version: int, to_version: int) -> VersionDiff:
        before = await self.version(key, from_version)
        after = await self.version(key, to_version)
        return VersionDiff(
            key=key,
            from_version=from_version,
            to_version=to_version,
            changes=diff.changes(before.definition, after.definition),
            unified=diff.unified(
                before.definition, after.definition, f"{key} v{from_version}", f"{key} v{to_version}"
            ),
        )


def _version_summary(version: JourneyVersion) -> VersionSummary:
    return VersionSummary(
        version=version.version,
        checksum=version.checksum,
        author=version.author,
        published_at=version.published_at,
    )
