"""Message templates (Jinja2, sandboxed). A template with a syntax error or an unknown variable is refused."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.auth import AdminDep
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from engine.delivery.preview import Preview, PreviewRequest, preview
from engine.templates.service import TemplateOut, TemplateService, TemplateUpdate, TemplateVersionOut

router = APIRouter(prefix="/api/templates", tags=["templates"], dependencies=[AdminDep])
TemplateName = Path(pattern=r"^[A-Za-z0-9_.-]{1,200}$")


@router.get("")
async def list_templates(session: ReadSessionDep) -> list[TemplateOut]:
    """Every template."""
    return await TemplateService(session).list()


@router.put("/{name}")
async def put_template(update: TemplateUpdate, session: SessionDep, name: str = TemplateName) -> TemplateOut:
    """Save a template: changed content becomes a new version (unchanged content is a no-op). Refused
    with the field and the variable's name when it does not parse or uses an unknown variable."""
    return await TemplateService(session).put(name, update)


@router.get("/{name}")
async def get_template(session: ReadSessionDep, name: str = TemplateName) -> TemplateOut:
    """One template."""
    return await TemplateService(session).get(name)


@router.get("/{name}/versions")
async def template_versions(session: ReadSessionDep, name: str = TemplateName) -> list[TemplateVersionOut]:
    """Every version of a template, oldest first (deliveries name the version they used)."""
    return await TemplateService(session).versions(name)


@router.post("/{name}/preview")
async def preview_template(
    request: PreviewRequest, session: SessionDep, settings: SettingsDep, name: str = TemplateName
) -> Preview:
    """Render the current version for a real profile (live traits and signals), with sample events."""
    return await preview(session, settings, name, request)
