"""Message templates (Jinja2, sandboxed). A template with a syntax error or an unknown variable is refused."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.auth import AdminDep
from api.deps import SessionDep
from engine.templates.service import TemplateOut, TemplateService, TemplateUpdate

router = APIRouter(prefix="/api/templates", tags=["templates"], dependencies=[AdminDep])
TemplateName = Path(pattern=r"^[A-Za-z0-9_.-]{1,200}$")


@router.get("")
async def list_templates(session: SessionDep) -> list[TemplateOut]:
    """Every template."""
    return await TemplateService(session).list()


@router.put("/{name}")
async def put_template(update: TemplateUpdate, session: SessionDep, name: str = TemplateName) -> TemplateOut:
    """Create or replace a template."""
    return await TemplateService(session).put(name, update)


@router.get("/{name}")
async def get_template(session: SessionDep, name: str = TemplateName) -> TemplateOut:
    """One template."""
    return await TemplateService(session).get(name)
