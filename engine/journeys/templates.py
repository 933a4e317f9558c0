"""What the journey validator needs to know about message templates: that they exist, parse, use only
filters that exist and variables the renderer provides. Rendering itself is sandboxed."""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import TemplateSyntaxError, meta, nodes

from engine.templates.rendering import CONTEXT_ROOTS, TEXT


class TemplateCatalog:
    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = dict(sources)

    def warnings(self, name: str) -> list[str]:
        """What may fail for some people only: sending works, but not for everyone (see unguarded_traits)."""
        source = self._sources.get(name)
        try:
            tree = TEXT.parse(source) if source is not None else None
        except TemplateSyntaxError:
            return []  # a problem, reported as one
        return [
            f"template {name!r} line {line}: profile.traits.{trait} has no default; people without it"
            f" get no message (write {{{{ profile.traits.{trait} | default('…') }}}})"
            for line, trait in (unguarded_traits(tree) if tree is not None else [])
        ]

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


def _trait_name(node: nodes.Node) -> str | None:
    """`x` for `profile.traits.x` or `profile.traits['x']`."""
    if isinstance(node, nodes.Getattr):
        holder, name = node.node, node.attr
    elif (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        holder, name = node.node, node.arg.value
    else:
        return None
    if (
        isinstance(holder, nodes.Getattr)
        and holder.attr == "traits"
        and isinstance(holder.node, nodes.Name)
        and holder.node.name == "profile"
    ):
        return name
    return None


def unguarded_traits(tree: nodes.Template) -> list[tuple[int, str]]:
    """Trait references a person may lack, with neither `| default(...)` nor an `is defined` test on
    them: rendering fails for whoever lacks the trait, and the message is not sent."""
    guarded = {
        id(node.node)
        for node in tree.find_all((nodes.Filter, nodes.Test))
        if node.name in ("default", "d", "defined", "undefined")
    }
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = _trait_name(node)
        if name is not None and id(node) not in guarded:
            found.append((node.lineno, name))
    return sorted(set(found))


def _private_attributes(tree: nodes.Template) -> list[tuple[int, str]]:
    """`x.__class__`, `x['_secret']`: the sandbox would refuse them when sending; refuse them now."""
    found = [(node.lineno, node.attr) for node in tree.find_all(nodes.Getattr) if node.attr.startswith("_")]
    for item in tree.find_all(nodes.Getitem):
        key = item.arg
        if isinstance(key, nodes.Const) and isinstance(key.value, str) and key.value.startswith("_"):
            found.append((item.lineno, key.value))
    return found
