from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Template


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str) -> Template | None:
        return await self.session.get(Template, name)

    async def all(self) -> Sequence[Template]:
        return (await self.session.execute(select(Template).order_by(Template.name))).scalars().all()

    async def put(self, name: str, subject: str | None, body: str, html: str | None) -> None:
        statement = insert(Template).values(name=name, subject=subject, body=body, html=html)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Template.name],
                set_={"subject": subject, "body": body, "html": html, "updated_at": func.now()},
            )
        )
