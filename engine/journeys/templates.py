"""What the journey validator needs to know about message templates: that they exist, parse, use only
filters that exist and variables the renderer provides. Rendering itself is sandboxed."""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import TemplateSyntaxError, meta, nodes

from engine.templates.rendering import CONTEXT_ROOTS, TEXT


class TemplateCatalog:
    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = dict(sources)

    def problems(self, name: str) -> list[str]:
        source = self._sources.get(name)
        if source is None:
            return [f"no template named {name!r}"]
        try:
            tree = TEXT.parse(source)
            TEXT.compile(tree)  # unknown filters and tests surface here, not at send time
        except TemplateSyntaxError as error:
            return [f"template {name!r} line {error.lineno}: {error.message}"]
        undefined = sorted(meta.find_undeclared_variables(tree) - CONTEXT_ROOTS)
        available = ", ".join(sorted(CONTEXT_ROOTS))
        return [
            f"template {name!r} uses undefined variable {variable!r} (available: {available})"
            for variable in undefined
        ] + [
            f"template {name!r} line {line} reaches for the internal attribute {attribute!r}"
            for line, attribute in _private_attributes(tree)
        ]


def _private_attributes(tree: nodes.Template) -> list[tuple[int, str]]:
    """`x.__class__`, `x['_secret']`: the sandbox would refuse them when sending; refuse them now."""
    found = [(node.lineno, node.attr) for node in tree.find_all(nodes.Getattr) if node.attr.startswith("_")]
    for item in tree.find_all(nodes.Getitem):
        key = item.arg
        if isinstance(key, nodes.Const) and isinstance(key.value, str) and key.value.startswith("_"):
            found.append((item.lineno, key.value))
    return found
