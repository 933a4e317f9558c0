"""Admin API for journey definitions. Bodies are journey definitions in JSON or YAML."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status

from api.auth import AdminDep
from api.deps import ReadSessionDep, SessionDep, SettingsDep, TemporalDep
from engine.enrollments.service import EnrollmentService
from engine.journeys.activity import ActivityService, JourneyActivity
from engine.journeys.documents import parse_document
from engine.journeys.schemas import (
    DraftSaved,
    JourneyDetail,
    JourneyOverview,
    JourneySummary,
    PublishResult,
    ValidationResult,
    VersionDetail,
    VersionDiff,
)
from engine.journeys.service import JourneyService

router = APIRouter(prefix="/api/journeys", tags=["journeys"], dependencies=[AdminDep])

DEFINITION_BODY: dict[str, Any] = {
    "requestBody": {
        "description": "A journey definition (see docs/journeys.md)",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/JourneyDefinition"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def _document(request: Request, *, optional: bool = False) -> Any:
    body = await request.body()
    if optional and not body.strip():
        return None
    return parse_document(body, request.headers.get("content-type"))


@router.get("")
async def list_journeys(
    session: ReadSessionDep,
    status: Literal["draft", "live", "paused", "archived"] | None = None,
    activity: bool = Query(
        default=False, description="also what each is doing: running, entered and converted (24 h, 7 d)"
    ),
) -> list[JourneyOverview] | list[JourneySummary]:
    """List journeys with their status and latest version."""
    if activity:
        return await JourneyService(session).overview(status)
    return await JourneyService(session).list(status)


@router.post("/validate", openapi_extra=DEFINITION_BODY)
async def validate_journey(request: Request, session: SessionDep) -> ValidationResult:
    """Dry run: every problem in a definition, each with its path. Writes nothing."""
    return await JourneyService(session).dry_run(await _document(request))


@router.put("/{key}/draft", openapi_extra=DEFINITION_BODY)
async def save_draft(key: str, request: Request, session: SessionDep) -> DraftSaved:
    """Create or replace the draft of a journey (kept even with problems, which are returned)."""
    return await JourneyService(session).save_draft(key, await _document(request))


@router.post("/{key}/publish", openapi_extra=DEFINITION_BODY)
async def publish(
    key: str,
    request: Request,
    response: Response,
    session: SessionDep,
    author: str = Header(default="api", alias="X-Author", max_length=200),
) -> PublishResult:
    """Publish the body (or the saved draft): a new immutable version, or nothing if unchanged."""
    result = await JourneyService(session).publish(key, await _document(request, optional=True), author)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return result


@router.get("/{key}")
async def get_journey(key: str, session: ReadSessionDep) -> JourneyDetail:
    """A journey with its draft, its versions and the latest definition."""
    return await JourneyService(session).detail(key)


@router.get("/{key}/activity")
async def journey_activity(
    key: str,
    session: ReadSessionDep,
    version: int | None = Query(
        default=None, ge=1, description="node counts of this version (default latest)"
    ),
) -> JourneyActivity:
    """What a journey is doing now: running, entered and converted enrollments, and per node of a version
    how many entered it, wait there now and ended there (cheap enough to poll every few seconds)."""
    return await ActivityService(session).of(key, version)


@router.get("/{key}/versions/{version}")
async def get_version(key: str, version: int, session: ReadSessionDep) -> VersionDetail:
    """One published version, exactly as it was published."""
    return await JourneyService(session).version(key, version)


@router.get("/{key}/diff")
async def diff_versions(
    key: str,
    session: ReadSessionDep,
    from_version: int = Query(alias="from", ge=1),
    to_version: int = Query(alias="to", ge=1),
) -> VersionDiff:
    """What changed between two versions: changed paths and a unified diff."""
    return await JourneyService(session).diff(key, from_version, to_version)


@router.post("/{key}/diff", openapi_extra=DEFINITION_BODY)
async def proposed_diff(key: str, request: Request, session: SessionDep) -> VersionDiff:
    """What publishing the body would change against the latest version: to show before publishing.
    Writes nothing; a definition with problems answers 422 as publishing would."""
    return await JourneyService(session).proposed_diff(key, await _document(request))


@router.post("/{key}/pause")
async def pause(key: str, session: SessionDep) -> JourneySummary:
    """Stop new entries; running enrollments carry on."""
    return await JourneyService(session).transition(key, "pause")


@router.post("/{key}/resume")
async def resume(key: str, session: SessionDep) -> JourneySummary:
    """Accept new entries again."""
    return await JourneyService(session).transition(key, "resume")


@router.post("/{key}/archive")
async def archive(
    key: str, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> JourneySummary:
    """Retire a journey for good: no entries, no publishing, running enrollments exit."""
    summary = await JourneyService(session).transition(key, "archive")
    await session.commit()  # archived before the exits go out, so no new entry slips in between
    await EnrollmentService(session, temporal, settings).exit_all(key, "journey archived")
    return summary
