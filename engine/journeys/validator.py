"""Validation that reports **every** problem at once, each with a JSON path and a plain message.

Structure (types, unknown fields, bad durations) comes from the Pydantic models; the graph, the
catalogs (signals, templates) and satisfiability are checked on the raw document, so they are reported
even when some other part of the document does not parse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from engine.errors import Problem
from engine.journeys.conditions import leaves
from engine.journeys.dsl import NODE_TYPES, WAITING_TYPES, JourneyDefinition, edges
from engine.journeys.satisfiability import contradiction
from engine.journeys.templates import TemplateCatalog


def problem_path(location: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for index, part in enumerate(location):
        if isinstance(part, str) and part.startswith("<"):
            continue  # union tags we introduced, not part of the document
        if index == 2 and location[0] == "nodes" and part in NODE_TYPES:
            continue  # pydantic's discriminator tag for the node's type
        parts.append(f"[{part}]" if isinstance(part, int) else (f".{part}" if parts else str(part)))
    return "".join(parts) or "(document)"


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "union_tag_invalid":
        return f"unknown node type {error['ctx']['tag']!r} (expected one of: {', '.join(NODE_TYPES)})"
    if kind == "union_tag_not_found":
        return f"node has no `type` (expected one of: {', '.join(NODE_TYPES)})"
    return str(error["msg"]).removeprefix("Value error, ")


def structural_problems(document: Any) -> tuple[JourneyDefinition | None, list[Problem]]:
    try:
        return JourneyDefinition.model_validate(document), []
    except ValidationError as error:
        return None, [Problem(problem_path(tuple(e["loc"])), _message(e)) for e in error.errors()]


def _nodes(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    nodes = document.get("nodes")
    if not isinstance(nodes, Mapping):
        return {}
    return {str(k): v for k, v in nodes.items() if isinstance(v, Mapping)}


def graph_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    nodes = _nodes(document)
    if not nodes:
        return
    start = document.get("start")
    if isinstance(start, str) and start not in nodes:
        yield Problem("start", f"no node named {start!r}")
    graph: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        graph[node_id] = []
        for edge_path, target in edges(node):
            if target not in nodes:
                yield Problem(f"nodes.{node_id}.{edge_path}", f"no node named {target!r}")
            else:
                graph[node_id].append(target)
    if isinstance(start, str) and start in nodes:
        reached, stack = {start}, [start]
        while stack:
            for target in graph[stack.pop()]:
                if target not in reached:
                    reached.add(target)
                    stack.append(target)
        for node_id in nodes:
            if node_id not in reached:
                yield Problem(
                    f"nodes.{node_id}", f"unreachable: no path leads here from the start node {start!r}"
                )
    yield from _cycles_without_wait(graph, nodes)


def _cycles_without_wait(
    graph: dict[str, list[str]], nodes: Mapping[str, Mapping[str, Any]]
) -> Iterator[Problem]:
    """A loop through nodes that never wait would spin forever inside one workflow task."""
    instant = {n for n in graph if nodes[n].get("type") not in WAITING_TYPES}
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> Iterator[Problem]:
        state[node] = 1
        trail.append(node)
        for target in graph[node]:
            if target not in instant:
                continue
            if state.get(target) == 1:
                cycle = trail[trail.index(target) :]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    loop = " → ".join([*cycle, target])
                    yield Problem(
                        f"nodes.{target}", f"cycle {loop} has no wait: an enrollment would loop forever"
                    )
            elif target not in state:
                yield from visit(target, trail)
        trail.pop()
        state[node] = 2

    for node in sorted(instant):
        if node not in state:
            yield from visit(node, [])


def split_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    variant_names: set[str] = set()
    for node_id, node in _nodes(document).items():
        if node.get("type") != "split" or not isinstance(node.get("variants"), list):
            continue
        variants = [v for v in node["variants"] if isinstance(v, Mapping)]
        weights = [v.get("weight") for v in variants]
        if all(isinstance(w, int) for w in weights) and sum(weights) != 100:  # type: ignore[arg-type]
            yield Problem(f"nodes.{node_id}.variants", f"weights add up to {sum(weights)}, not 100")  # type: ignore[arg-type]
        seen: set[str] = set()
        for index, variant in enumerate(node["variants"]):
            name = variant.get("name") if isinstance(variant, Mapping) else None
            if isinstance(name, str) and name in seen:
                yield Problem(f"nodes.{node_id}.variants[{index}].name", f"duplicate variant name {name!r}")
            if isinstance(name, str):
                seen.add(name)
        control = node.get("control")
        if isinstance(control, str) and control not in seen:
            yield Problem(
                f"nodes.{node_id}.control",
                f"{control!r} is not one of the variants: {', '.join(sorted(seen))}",
            )
        if isinstance(node.get("adaptive"), Mapping) and not isinstance(document.get("goal"), Mapping):
            yield Problem(
                f"nodes.{node_id}.adaptive",
                "adaptive allocation learns from the goal: give the journey a `goal`",
            )
        variant_names |= seen
    for node_id, node in _nodes(document).items():
        content = node.get("content")
        if node.get("type") == "send" and isinstance(content, Mapping):
            for variant in content:
                if variant not in variant_names:
                    yield Problem(
                        f"nodes.{node_id}.content.{variant}", f"no split has a variant named {variant!r}"
                    )


def conditions(document: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    """(path, raw condition, whether it may look at an event) for every condition in the document."""
    entry = document.get("entry")
    if isinstance(entry, Mapping):
        if "when" in entry:
            yield "entry.when", entry["when"], True
        if "audience" in entry:
            yield "entry.audience", entry["audience"], False
    goal = document.get("goal")
    if isinstance(goal, Mapping) and "when" in goal:
        yield "goal.when", goal["when"], True
    criteria = document.get("exit_when")
    if isinstance(criteria, list):
        for index, criterion in enumerate(criteria):
            if isinstance(criterion, Mapping) and "when" in criterion:
                yield f"exit_when[{index}].when", criterion["when"], "event" in criterion
    for node_id, node in _nodes(document).items():
        if isinstance(node.get("cases"), list):
            for index, case in enumerate(node["cases"]):
                if isinstance(case, Mapping) and "when" in case:
                    yield f"nodes.{node_id}.cases[{index}].when", case["when"], True


def condition_problems(document: Mapping[str, Any], known_signals: set[str]) -> Iterator[Problem]:
    for path, condition, sees_event in conditions(document):
        for leaf_path, leaf in leaves(condition, path):
            signal = leaf.get("signal")
            field = leaf.get("field")
            key = "signal"
            if isinstance(field, str) and field.startswith("profile.signals."):
                signal, key = field.removeprefix("profile.signals."), "field"
            if isinstance(signal, str) and signal not in known_signals:
                yield Problem(
                    f"{leaf_path}.{key}",
                    f"unknown signal {signal!r} (known: {', '.join(sorted(known_signals))})",
                )
            if not sees_event and isinstance(field, str) and field.startswith(("event.", "entry.")):
                yield Problem(
                    f"{leaf_path}.field",
                    f"{field!r}: this condition is about the profile; no event is in scope",
                )
        found = contradiction(condition)
        if found is not None and path in ("entry.when", "entry.audience"):
            yield Problem(path, f"the entry can never match: {found}")


def entry_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    entry, criteria = document.get("entry"), document.get("exit_when")
    if not isinstance(entry, Mapping) or not isinstance(criteria, list):
        return
    for index, criterion in enumerate(criteria):
        if (
            isinstance(criterion, Mapping)
            and criterion.get("event") == entry.get("event")
            and "when" not in criterion
        ):
            yield Problem(
                f"exit_when[{index}].event",
                "the entry event is also an unconditional exit: every entrant would leave at once",
            )


def goal_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    """A goal matched to the entry must use the entry's `correlate` path: after an enrollment ends, the
    correlation is all that is kept of its entry, and goals inside the window still count then."""
    goal, entry = document.get("goal"), document.get("entry")
    if not isinstance(goal, Mapping) or not isinstance(goal.get("match"), Mapping):
        return
    correlate = entry.get("correlate") if isinstance(entry, Mapping) else None
    for path, want in goal["match"].items():
        if isinstance(want, Mapping) and want.get("entry") != correlate:
            yield Problem(
                f"goal.match.{path}",
                f"a goal can be matched to the entry's `correlate` path only ({correlate or 'none set'})",
            )


def _templates_used(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, template name) of every template a send node may render."""
    for node_id, node in _nodes(document).items():
        if node.get("type") != "send":
            continue
        names = [("template", node.get("template"))]
        if isinstance(node.get("content"), Mapping):
            names += [(f"content.{variant}", name) for variant, name in node["content"].items()]
        for field, name in names:
            if isinstance(name, str):
                yield f"nodes.{node_id}.{field}", name


def template_problems(document: Mapping[str, Any], templates: TemplateCatalog) -> Iterator[Problem]:
    for path, name in _templates_used(document):
        for message in templates.problems(name):
            yield Problem(path, message)


def template_warnings(document: Any, templates: TemplateCatalog | None) -> list[Problem]:
    """What publishing allows but a marketer should see: templates that fail for some people."""
    if templates is None or not isinstance(document, Mapping):
        return []
    found = [
        Problem(path, message)
        for path, name in _templates_used(document)
        for message in templates.warnings(name)
    ]
    return list(dict.fromkeys(found))


def validate(
    document: Any, *, known_signals: set[str], templates: TemplateCatalog | None = None
) -> tuple[JourneyDefinition | None, list[Problem]]:
    """Returns the parsed definition (None if it has problems) and every problem found."""
    if not isinstance(document, Mapping):
        return None, [
            Problem("(document)", "a journey definition must be a mapping (an object) at the top level")
        ]
    definition, problems = structural_problems(document)
    problems += graph_problems(document)
    problems += split_problems(document)
    problems += condition_problems(document, known_signals)
    problems += entry_problems(document)
    problems += goal_problems(document)
    if templates is not None:
        problems += template_problems(document, templates)
    unique = list(dict.fromkeys(problems))
    return (definition if not unique else None), unique
