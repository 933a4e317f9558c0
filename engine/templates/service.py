from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from engine.errors import InvalidInput, NotFound, Problem
from engine.journeys.templates import TemplateCatalog
from engine.templates.repository import TemplateRepository


class TemplateUpdate(BaseModel):
    subject: str | None = Field(default=None, max_length=1000)
    body: str = Field(min_length=1, max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)


class TemplateOut(TemplateUpdate):
    name: str
    updated_at: datetime


def _source(subject: str | None, body: str, html: str | None) -> str:
    return "\n".join(part for part in (subject, body, html) if part)


class TemplateService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = TemplateRepository(session)

    async def catalog(self) -> TemplateCatalog | None:
        """What journey validation checks templates against; None while no template exists at all."""
        templates = await self.repo.all()
        if not templates:
            return None
        return TemplateCatalog({t.name: _source(t.subject, t.body, t.html) for t in templates})

    async def put(self, name: str, update: TemplateUpdate) -> TemplateOut:
        problems = TemplateCatalog({name: _source(update.subject, update.body, update.html)}).problems(name)
        if problems:
            raise InvalidInput(problems[0], [Problem("body", message) for message in problems])
        await self.repo.put(name, update.subject, update.body, update.html)
        return await self.get(name)

    async def get(self, name: str) -> TemplateOut:
        template = await self.repo.get(name)
        if template is None:
            raise NotFound(f"no template named {name!r}")
        return TemplateOut(
            name=template.name,
            subject=template.subject,
            body=template.body,
            html=template.html,
            updated_at=template.updated_at,
        )

    async def list(self) -> list[TemplateOut]:
        return [await self.get(t.name) for t in await self.repo.all()]
