"""Histories recorded from the runtime tests, replayed against the current workflow code: a change
that would break in-flight enrollments (non-determinism) fails here. Re-record deliberately with
`JOURNEYS_RECORD_HISTORIES=1 ./scripts/test.sh tests/runtime` and review the diff."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from runtime.worker import SANDBOX
from tests.runtime.harness import HISTORIES
from workflows.journey import JourneyWorkflow

# Top level: the current code; before-*/: histories of older workflow code still replayed (patches,
# contracts.REVISION).
RECORDED = sorted(HISTORIES.rglob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(RECORDED) >= 10, "replay fixtures are missing: re-record them (see module docstring)"


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: str(p.relative_to(HISTORIES).with_suffix("")))
async def test_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    replayer = Replayer(
        workflows=[JourneyWorkflow], workflow_runner=SANDBOX, data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path}: {result.replay_failure}"
