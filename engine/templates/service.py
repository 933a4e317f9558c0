"""Templates as named, versioned resources: saving changed content makes version n+1 (saving the same
content again changes nothing); each delivery records the version it was rendered from."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from engine.errors import InvalidInput, NotFound, Problem
from engine.journeys.templates import TemplateCatalog
from engine.templates.repository import TemplateRepository


class TemplateUpdate(BaseModel):
    subject: str | None = Field(default=None, max_length=1000, description="email subject / push title")
    body: str = Field(min_length=1, max_length=100_000, description="plain text (email text part, SMS, push)")
    html: str | None = Field(default=None, max_length=500_000, description="email HTML part (autoescaped)")


class TemplateOut(TemplateUpdate):
    name: str
    version: int
    updated_at: datetime
    warnings: list[str] = []  # on saving: what renders for some people only


class TemplateVersionOut(TemplateUpdate):
    version: int
    checksum: str
    created_at: datetime


def _source(subject: str | None, body: str, html: str | None) -> str:
    return "\n".join(part for part in (subject, body, html) if part)


def _checksum(update: TemplateUpdate) -> str:
    return hashlib.sha256(json.dumps([update.subject, update.body, update.html]).encode()).hexdigest()


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
        problems = []
        for field in ("subject", "body", "html"):
            source = getattr(update, field)
            if source:
                problems += [Problem(field, p) for p in TemplateCatalog({name: source}).problems(name)]
        if problems:
            raise InvalidInput(problems[0].message, problems)
        checksum = _checksum(update)
        current = await self.repo.checksum(name)
        if current is None or current[1] != checksum:
            version = 1 if current is None else current[0] + 1
            await self.repo.add_version(name, version, update.subject, update.body, update.html, checksum)
        catalog = TemplateCatalog({name: _source(update.subject, update.body, update.html)})
        return (await self.get(name)).model_copy(update={"warnings": catalog.warnings(name)})

    async def get(self, name: str) -> TemplateOut:
        template = await self.repo.get(name)
        if template is None:
            raise NotFound(f"no template named {name!r}")
        return TemplateOut(
            name=template.name,
            version=template.version,
            subject=template.subject,
            body=template.body,
            html=template.html,
            updated_at=template.updated_at,
        )

    async def versions(self, name: str) -> list[TemplateVersionOut]:
        rows = await self.repo.versions(name)
        if not rows:
            raise NotFound(f"no template named {name!r}")
        return [
            TemplateVersionOut(
                version=row.version,
                subject=row.subject,
                body=row.body,
                html=row.html,
                checksum=row.checksum,
                created_at=row.created_at,
            )
            for row in rows
        ]

    async def list(self) -> list[TemplateOut]:
        return [await self.get(t.name) for t in await self.repo.all()]
