"""Named segments: define once, use in any journey condition, and watch who is in them."""

from __future__ import annotations

from fastapi import APIRouter, Header, Path, Query, Response, status

from api.auth import AdminDep
from api.deps import ReadSessionDep, SessionDep
from engine.segments.schemas import KEY_PATTERN, Change, Member, SegmentDefinition, SegmentOut, SegmentSaved
from engine.segments.service import SegmentService

router = APIRouter(prefix="/api/segments", tags=["segments"], dependencies=[AdminDep])
Key = Path(pattern=KEY_PATTERN, description="e.g. vip, potential-churn")


@router.get("")
async def list_segments(session: ReadSessionDep) -> list[SegmentOut]:
    """Every segment with its latest version and how many people are in it now."""
    return await SegmentService(session).listed()


@router.put("/{key}")
async def save_segment(
    definition: SegmentDefinition,
    response: Response,
    session: SessionDep,
    key: str = Key,
    author: str = Header(default="api", alias="X-Author", max_length=200),
) -> SegmentSaved:
    """Create a segment or change it: a new version when its condition changed. Members follow as people's
    events arrive and at the next sweep; entering or leaving posts `segment_entered` / `segment_exited`."""
    saved = await SegmentService(session).save(key, definition, author)
    response.status_code = status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK
    return saved


@router.get("/{key}")
async def get_segment(session: ReadSessionDep, key: str = Key) -> SegmentOut:
    return await SegmentService(session).get(key)


@router.get("/{key}/members")
async def segment_members(
    session: ReadSessionDep,
    key: str = Key,
    after: str = Query(default="", description="the last profile id of the previous page"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[Member]:
    """Who is in the segment now, by profile id, a page at a time."""
    return await SegmentService(session).members(key, after, limit)


@router.get("/{key}/history")
async def segment_history(
    session: ReadSessionDep,
    key: str = Key,
    before: int | None = Query(default=None, description="the last change id of the previous page"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[Change]:
    """Entries and exits, newest first."""
    return await SegmentService(session).history(key, before, limit)
