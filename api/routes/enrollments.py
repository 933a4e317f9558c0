"""Enrollments: who is in which journey, where they are, what happened to them; exit one by hand."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from api.auth import AdminDep
from api.deps import SessionDep, SettingsDep, TemporalDep
from engine.enrollments.schemas import (
    EnrollmentCreate,
    EnrollmentDetail,
    EnrollmentStarted,
    EnrollmentSummary,
)
from engine.enrollments.service import EnrollmentService

router = APIRouter(tags=["enrollments"], dependencies=[AdminDep])
Status = Literal["active", "completed", "exited:goal", "exited:criteria", "exited:operator", "failed"]


async def service(session: SessionDep, temporal: TemporalDep, settings: SettingsDep) -> EnrollmentService:
    return EnrollmentService(session, temporal, settings)


ServiceDep = Annotated[EnrollmentService, Depends(service)]
Limit = Query(default=100, ge=1, le=1000)


@router.post("/api/journeys/{key}/enrollments", status_code=status.HTTP_202_ACCEPTED)
async def enroll(
    key: str, request: EnrollmentCreate, enrollments: ServiceDep, session: SessionDep
) -> EnrollmentStarted:
    """Enroll a profile by hand, as if it had sent the entry event (for trying a journey out)."""
    event = await enrollments.manual_entry(key, request)
    await session.commit()  # the profile must be visible to the workflow's first activity
    return await enrollments.enroll(key, event)


@router.get("/api/journeys/{key}/enrollments")
async def journey_enrollments(
    key: str,
    enrollments: ServiceDep,
    status: Status | None = None,
    node: str | None = Query(default=None, description="only those at (or ended at) this node"),
    profile: str | None = Query(
        default=None, description="only this person's: profile, user or anonymous id"
    ),
    limit: int = Limit,
) -> list[EnrollmentSummary]:
    """Enrollments of a journey, newest first."""
    if profile is not None:
        return await enrollments.of_person(profile, status, limit, journey=key, node=node)
    return await enrollments.list(journey=key, status=status, node=node, limit=limit)


@router.get("/api/profiles/{key}/enrollments")
async def profile_enrollments(
    key: str, enrollments: ServiceDep, status: Status | None = None, limit: int = Limit
) -> list[EnrollmentSummary]:
    """A person's enrollments across journeys, newest first: by profile id, user id or anonymous id, with
    those begun under profiles since merged into theirs."""
    return await enrollments.of_person(key, status, limit)


@router.get("/api/enrollments/{enrollment_id}")
async def get_enrollment(enrollment_id: str, enrollments: ServiceDep) -> EnrollmentDetail:
    """One enrollment: path, decisions with the signal values they used, deliveries, and what it waits for."""
    return await enrollments.detail(enrollment_id)


@router.post("/api/enrollments/{enrollment_id}/exit", status_code=status.HTTP_202_ACCEPTED)
async def exit_enrollment(enrollment_id: str, enrollments: ServiceDep) -> dict[str, str]:
    """Ask a running enrollment to end now (it ends as `exited:operator`)."""
    await enrollments.exit(enrollment_id)
    return {"status": "exit requested"}
