"""Sandboxed Jinja2 rendering: templates cannot reach Python internals, and an undefined variable is an
error (never an empty gap in a customer's email)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from engine.templates.filters import FILTERS

# What every message sees (docs/journeys.md, Templates); publishing refuses a template using anything else.
CONTEXT_ROOTS = frozenset({"profile", "event", "entry", "journey", "variant", "unsubscribe_url"})


def _environment(autoescape: bool) -> SandboxedEnvironment:
    environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape)
    environment.filters.update(FILTERS)
    return environment


TEXT = _environment(autoescape=False)
HTML = _environment(autoescape=True)


@lru_cache(maxsize=2048)
def _compiled(source: str, autoescape: bool) -> Template:
    """Compiling costs ~0.5 ms a template, rendering a few µs: each source (a template version's
    subject, body, html; a webhook's strings) is compiled once per process. Keyed by the text itself,
    so an edited template is simply a new entry."""
    return (HTML if autoescape else TEXT).from_string(source)


def render_text(source: str, context: dict[str, Any]) -> str:
    return _compiled(source, autoescape=False).render(context)


def render_html(source: str, context: dict[str, Any]) -> str:
    return _compiled(source, autoescape=True).render(context)


def render_parts(
    subject: str | None, body: str, html: str | None, context: dict[str, Any]
) -> dict[str, str | None]:
    return {
        "subject": render_text(subject, context) if subject else None,
        "body": render_text(body, context),
        "html": _compiled(html, autoescape=True).render(context) if html else None,
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
