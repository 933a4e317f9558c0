"""The rooms' rules, checked on every run: which layer may import which (docs/architecture.md), and
the journey workflow answering to the names the engine starts, signals and queries it by."""

import ast
from pathlib import Path

import pytest
from temporalio import workflow

from engine.enrollments.contracts import EVENT_SIGNAL, EXIT_SIGNAL, JOURNEY_WORKFLOW, VIEW_QUERY
from workflows.journey import JourneyWorkflow

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("engine", "api", "workflows", "activities", "runtime")
# What each layer must never import: the domain knows no transport, worker or process wiring; only
# runtime/ assembles processes from all of them.
FORBIDDEN = {
    "engine": {"api", "workflows", "activities", "runtime"},
    "api": {"workflows", "activities", "runtime"},
    "activities": {"api", "workflows", "runtime"},
    "workflows": {"api", "runtime"},
}
MAX_LINES = 400


def imported_layers(path: Path) -> set[tuple[int, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found |= {
            (getattr(node, "lineno", 0), name.split(".")[0]) for name in names if name.split(".")[0] in LAYERS
        }
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_one_it_must_not(layer):
    edges = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, target in imported_layers(path)
        if target in FORBIDDEN[layer]
    ]
    assert edges == []


def test_the_walk_sees_an_upward_import(tmp_path):
    # The check above must be able to fail: a module importing the workflow is caught.
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom workflows.journey import JourneyWorkflow\n")
    assert imported_layers(module) == {(2, "workflows")}


def test_source_files_stay_small():
    large = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    ]
    assert large == []


def test_journey_workflow_answers_to_the_names_the_engine_uses():
    definition = workflow._Definition.must_from_class(JourneyWorkflow)
    assert definition.name == JOURNEY_WORKFLOW
    assert {EVENT_SIGNAL, EXIT_SIGNAL} <= set(definition.signals)
    assert VIEW_QUERY in definition.queries
