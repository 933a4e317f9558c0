"""What the journey validator needs to know about message templates: that they exist, parse, and use
only variables the renderer provides. Rendering itself is sandboxed (no Python internals reachable)."""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

# The render context every message gets (DESIGN.md section 6); the messaging work adds unsubscribe_url.
CONTEXT_ROOTS = frozenset({"profile", "event", "entry", "journey", "variant"})


class TemplateCatalog:
    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = dict(sources)
        self._env = SandboxedEnvironment()

    def problems(self, name: str) -> list[str]:
        source = self._sources.get(name)
        if source is None:
            return [f"no template named {name!r}"]
        try:
            tree = self._env.parse(source)
        except TemplateSyntaxError as error:
            return [f"template {name!r} line {error.lineno}: {error.message}"]
        undefined = sorted(meta.find_undeclared_variables(tree) - CONTEXT_ROOTS)
        available = ", ".join(sorted(CONTEXT_ROOTS))
        return [
            f"template {name!r} uses undefined variable {variable!r} (available: {available})"
            for variable in undefined
        ]
