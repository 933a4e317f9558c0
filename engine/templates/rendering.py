"""Sandboxed Jinja2 rendering: templates cannot reach Python internals, and an undefined variable is an
error (never an empty gap in a customer's email)."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from engine.db.models import Template

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


def render_text(source: str, context: dict[str, Any]) -> str:
    return _TEXT.from_string(source).render(context)


def render_template(template: Template, context: dict[str, Any]) -> dict[str, str | None]:
    return {
        "subject": render_text(template.subject, context) if template.subject else None,
        "body": render_text(template.body, context),
        "html": _HTML.from_string(template.html).render(context) if template.html else None,
    }


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Webhook bodies: every string inside a JSON structure is a template."""
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    return value
