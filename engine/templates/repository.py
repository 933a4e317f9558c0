from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Template, TemplateVersion


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str) -> Template | None:
        return await self.session.get(Template, name)

    async def all(self) -> Sequence[Template]:
        return (await self.session.execute(select(Template).order_by(Template.name))).scalars().all()

    async def versions(self, name: str) -> Sequence[TemplateVersion]:
        query = select(TemplateVersion).where(TemplateVersion.name == name).order_by(TemplateVersion.version)
        return (await self.session.execute(query)).scalars().all()

    async def checksum(self, name: str) -> tuple[int, str] | None:
        """(current version, its checksum); locks the template so two saves cannot take one number."""
        query = (
            select(Template.version, TemplateVersion.checksum)
            .join(
                TemplateVersion,
                (TemplateVersion.name == Template.name) & (TemplateVersion.version == Template.version),
            )
            .where(Template.name == name)
            .with_for_update(of=Template)
        )
        row = (await self.session.execute(query)).one_or_none()
        return (row[0], row[1]) if row else None

    async def add_version(
        self, name: str, version: int, subject: str | None, body: str, html: str | None, checksum: str
    ) -> None:
        values = {"subject": subject, "body": body, "html": html}
        if version == 1:
            self.session.add(Template(name=name, version=1, **values))
        else:
            await self.session.execute(
                update(Template)
                .where(Template.name == name)
                .values(version=version, updated_at=func.now(), **values)
            )
        await self.session.flush()
        self.session.add(TemplateVersion(name=name, version=version, checksum=checksum, **values))
        await self.session.flush()
