"""SQL for sending a message: what the send checks, read in one statement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from engine.db.models import Consent, Profile, Template


@dataclass(frozen=True)
class SendFacts:
    template: Template
    profile: Profile | None  # the survivor of the person's merges; None once erased
    consents: dict[str, bool]  # the person's choices per channel (none: subscribed to all)


_SURVIVOR = aliased(Profile)
_CONSENTS = (
    select(func.jsonb_object_agg(Consent.channel, Consent.subscribed))
    .where(Consent.profile_id == _SURVIVOR.id)
    .scalar_subquery()
)
# Built once. The template, the person and their consents were three statements (and ORM loads by primary
# key): one round trip now, for every message sent.
_FACTS = (
    select(Template, _SURVIVOR, func.coalesce(_CONSENTS, literal_column("'{}'::jsonb")))
    .select_from(Template)
    .outerjoin(Profile, Profile.id == bindparam("profile_id"))
    .outerjoin(_SURVIVOR, _SURVIVOR.id == func.coalesce(Profile.merged_into, Profile.id))
    .where(Template.name == bindparam("template"))
)


class SendRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def facts(self, template: str, profile_id: str) -> SendFacts | None:
        """None if there is no such template."""
        row = (await self.session.execute(_FACTS, {"template": template, "profile_id": profile_id})).first()
        return None if row is None else SendFacts(row[0], row[1], dict(row[2]))
