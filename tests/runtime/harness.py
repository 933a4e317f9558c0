"""Drives enrollments on the time-skipping server through the real services, worker and database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from engine.db.experiment_tables import Exposure, Outcome
from engine.db.models import Delivery, EnrollmentStep, Event, Profile
from engine.enrollments.contracts import EnrollmentResult, EnrollmentView, EventEnvelope
from engine.enrollments.schemas import EnrollmentDetail, EnrollmentStarted
from engine.enrollments.service import EnrollmentService
from engine.journeys.bundled import EXAMPLES, example_templates
from engine.journeys.service import JourneyService
from engine.profiles.repository import ProfileRepository
from engine.settings import Settings
from engine.templates.service import TemplateService, TemplateUpdate
from workflows.journey import JourneyWorkflow


@dataclass(frozen=True)
class Enrolled:
    workflow_id: str
    enrollment_id: str
    started: bool


HISTORIES = Path(__file__).parent.parent / "fixtures" / "histories"


@dataclass
class Harness:
    env: WorkflowEnvironment
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    crm_url: str
    started: list[str] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    async def publish(self, name: str, *, replace: dict[str, str] | None = None) -> int:
        """A reference journey (with its templates), its CRM webhooks pointed at the local stand-in."""
        text = (EXAMPLES / f"{name}.yaml").read_text().replace("https://crm.example.com", self.crm_url)
        for old, new in (replace or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        return await self.publish_text(name, text)

    async def publish_text(self, key: str, text: str) -> int:
        import yaml

        async with self.sessionmaker() as session, session.begin():
            templates = TemplateService(session)
            for template_name, template in example_templates().items():
                await templates.put(template_name, TemplateUpdate(**template))
        async with self.sessionmaker() as session, session.begin():
            result = await JourneyService(session).publish(key, yaml.safe_load(text), "test")
        return result.version

    async def profile(
        self, profile_id: str, traits: dict[str, Any] | None = None, timezone: str | None = None
    ) -> None:
        async with self.sessionmaker() as session, session.begin():
            await ProfileRepository(session).upsert(profile_id, traits or {}, timezone)

    async def past_events(
        self,
        profile_id: str,
        name: str,
        count: int = 1,
        *,
        age: timedelta = timedelta(0),
        properties: dict[str, Any] | None = None,
    ) -> None:
        """Events already in the profile's history (what live signals are computed from), dated by the
        test server's clock, which earlier tests have moved forward."""
        await self.profile(profile_id)
        now = await self.env.get_current_time()
        async with self.sessionmaker() as session, session.begin():
            for _ in range(count):
                session.add(
                    Event(
                        message_id=uuid.uuid4().hex,
                        profile_id=profile_id,
                        type="track",
                        name=name,
                        properties=properties or {},
                        context={},
                        timestamp=now - age,
                    )
                )

    def event(
        self, profile_id: str, name: str, message_id: str | None = None, **properties: Any
    ) -> EventEnvelope:
        return EventEnvelope(
            id=message_id or uuid.uuid4().hex,
            name=name,
            profile_id=profile_id,
            properties=properties,
            timestamp=datetime.now(UTC),
        )

    async def _enroll(self, key: str, event: EventEnvelope) -> EnrollmentStarted:
        await self.profile(event.profile_id)
        async with self.sessionmaker() as session, session.begin():
            service = EnrollmentService(session, self.client, self.settings)
            # Admission uses the test server's clock, which earlier tests moved forward.
            started = await service.enroll(key, event, now=await self.env.get_current_time())
        self.started.append(started.workflow_id)
        return started

    async def enroll(self, key: str, event: EventEnvelope) -> Enrolled:
        started = await self._enroll(key, event)
        assert started.enrollment_id is not None, started.refused
        return Enrolled(started.workflow_id, started.enrollment_id, started.started)

    async def refusal(self, key: str, event: EventEnvelope) -> str | None:
        return (await self._enroll(key, event)).refused

    async def keep_history(self, workflow_id: str, name: str) -> None:
        """With JOURNEYS_RECORD_HISTORIES=1, saves the finished run's history as a replay fixture."""
        if os.environ.get("JOURNEYS_RECORD_HISTORIES") != "1":
            return
        history = await self.handle(workflow_id).fetch_history()
        HISTORIES.mkdir(parents=True, exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())

    async def local_activities(self, workflow_id: str) -> list[str]:
        """The local activities the run recorded in its history, in order."""
        history = await self.handle(workflow_id).fetch_history()
        return [
            json.loads(event.marker_recorded_event_attributes.details["data"].payloads[0].data)[
                "activity_type"
            ]
            for event in history.events
            if event.marker_recorded_event_attributes.marker_name == "core_local_activity"
        ]

    async def terminate_leftovers(self) -> None:
        """A workflow left waiting would, once the shared test server skips past its timer, need a
        workflow task on this test's task queue after its worker is gone, and time would stop for all."""
        for workflow_id in set(self.started):
            handle = self.client.get_workflow_handle(workflow_id)
            status = (await handle.describe()).status
            if status is not None and status.name == "RUNNING":
                await handle.terminate("test finished")

    async def signal(self, workflow_id: str, event: EventEnvelope) -> None:
        await self.client.get_workflow_handle(workflow_id).signal(JourneyWorkflow.event, event)

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(workflow_id, result_type=EnrollmentResult)

    async def at_node(self, workflow_id: str, node: str, patience: float = 15) -> EnrollmentView:
        """Waits (in real time, without skipping) until the enrollment waits at `node`."""
        deadline = asyncio.get_running_loop().time() + patience
        view = None
        while asyncio.get_running_loop().time() < deadline:
            view = await self.handle(workflow_id).query(JourneyWorkflow.view)
            if view.node == node and view.waiting_for is not None:
                return view
            await asyncio.sleep(0.05)
        raise AssertionError(f"{workflow_id} never waited at {node}; last view: {view}")

    async def skip(self, duration: timedelta) -> None:
        await self.env.sleep(duration)

    async def closed(self, workflow_id: str, patience: float = 15) -> str:
        """Waits in real time (no skipping) for the workflow to close; returns its status name.
        Unlike result(), this cannot let the test server leap ahead while nothing else is pending."""
        deadline = asyncio.get_running_loop().time() + patience
        while asyncio.get_running_loop().time() < deadline:
            status = (await self.handle(workflow_id).describe()).status
            if status is not None and status.name != "RUNNING":
                return status.name
            await asyncio.sleep(0.05)
        raise AssertionError(f"{workflow_id} still running")

    async def closed_result(self, workflow_id: str) -> EnrollmentResult:
        await self.closed(workflow_id)
        result: EnrollmentResult = await self.handle(workflow_id).result()  # closed: nothing to skip
        return result

    async def result(self, workflow_id: str) -> EnrollmentResult:
        """Awaits the end, letting the server skip time over timers (as a handle from start_workflow
        would). The test server's long poll can give up early, so this polls in short rounds."""
        deadline = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < deadline:
            status = (await self.handle(workflow_id).describe()).status
            if status is not None and status.name != "RUNNING":
                result: EnrollmentResult = await self.handle(workflow_id).result()
                return result
            unlocked = (
                self.env.time_skipping_unlocked()  # type: ignore[attr-defined]
                if self.env.supports_time_skipping
                else contextlib.nullcontext()
            )
            async with unlocked:
                with contextlib.suppress(TimeoutError, RuntimeError):
                    return await asyncio.wait_for(self.handle(workflow_id).result(), 2)
        raise AssertionError(f"{workflow_id} did not finish")

    async def detail(self, enrollment_id: str) -> EnrollmentDetail:
        async with self.sessionmaker() as session:
            return await EnrollmentService(session, self.client, self.settings).detail(enrollment_id)

    async def count(self, model: Any, **where: Any) -> int:
        async with self.sessionmaker() as session:
            query = select(func.count()).select_from(model)
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return int((await session.execute(query)).scalar_one())

    async def traits(self, profile_id: str) -> dict[str, Any]:
        async with self.sessionmaker() as session:
            profile = await session.get(Profile, profile_id)
            assert profile is not None
            return dict(profile.traits)

    async def outcomes(self, enrollment_id: str) -> list[tuple[str, str, float]]:
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(Exposure.node_id, Exposure.variant, Outcome.value)
                .join(Outcome, Outcome.exposure_id == Exposure.id)
                .where(Exposure.enrollment_id == enrollment_id)
                .order_by(Exposure.node_id)
            )
            return [(r[0], r[1], float(r[2])) for r in rows]


__all__ = ["Delivery", "EnrollmentStep", "Exposure", "Harness"]
