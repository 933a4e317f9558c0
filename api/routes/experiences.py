"""Real-time experiences: define what placements show (admin), and decide for a visitor (/v1/decide)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from api.auth import AdminDep, require_own_visitor
from api.deps import ReadSessionDep, SessionDep, StateDep
from api.routes.ingest import write_key_dependency
from engine.experiences.decide import Decider
from engine.experiences.schemas import DecideRequest, DecideResponse
from engine.experiences.service import ExperienceDetail, ExperienceOut, ExperienceReport, ExperienceService
from engine.journeys.documents import parse_document

admin = APIRouter(prefix="/api/experiences", tags=["experiences"], dependencies=[AdminDep])
decide = APIRouter(prefix="/v1", tags=["experiences"])


@admin.put("/{key}")
async def save_experience(
    key: str, request: Request, response: Response, session: SessionDep, state: StateDep
) -> ExperienceOut:
    """Create or change an experience (JSON or YAML): a new version when it changed. Decisions use it within
    two seconds."""
    saved = await ExperienceService(session).save(
        key, parse_document(await request.body(), request.headers.get("content-type"))
    )
    state.decisions.live.forget()
    response.status_code = status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK
    return saved


@admin.get("")
async def list_experiences(session: ReadSessionDep) -> list[ExperienceOut]:
    """Every experience with its latest version."""
    return await ExperienceService(session).listed()


@admin.get("/{key}")
async def get_experience(key: str, session: ReadSessionDep) -> ExperienceDetail:
    """An experience's latest version and its decisions in the last 24 hours by variation."""
    return await ExperienceService(session).detail(key)


class PreviewRequest(BaseModel):
    profile: str = Field(min_length=1, max_length=200, description="profile, user or anonymous id")
    context: dict[str, Any] = Field(default_factory=dict, description="the page, as /v1/decide takes it")


@admin.post("/{key}/preview")
async def preview_experience(key: str, body: PreviewRequest, session: ReadSessionDep) -> dict[str, Any]:
    """Every variation rendered for a real person, and what they match now (nothing recorded)."""
    return await Decider(session).preview(key, body.profile, body.context)


@admin.get("/{key}/report")
async def experience_report(
    key: str, session: ReadSessionDep, alpha: float = Query(default=0.05, gt=0, lt=0.5)
) -> ExperienceReport:
    """The split's variations, and the holdout against everyone else, on the goal: exposures (people, from
    their first decision), conversions in the goal's window, rates with intervals, lift, p-values, chance
    to beat control, SRM, verdict. 409 without a goal, or with neither a split nor a holdout."""
    return await ExperienceService(session).report(key, alpha)


@decide.post("/decide")
async def decide_placements(
    body: DecideRequest,
    request: Request,
    session: ReadSessionDep,
    state: StateDep,
    client_key: Annotated[bool, write_key_dependency],
) -> DecideResponse:
    """What this visitor sees in each placement now: the variation, its rendered content (or JSON
    payload), a decision id, and with `explain` the rule that held and the signal values read. Signals
    are read as of this request, so an event posted a moment ago counts.

    A server write key decides for anyone. A client write key (a website's, from its allowed origins)
    decides for an `anonymousId`; with a `userId`, only with that user's person token in `X-Person-Token`
    (`POST /api/profiles/{userId}/token`)."""
    if client_key:
        require_own_visitor(request, state.settings, body.userId)
    return await Decider(session, state.decisions).decide(body)
