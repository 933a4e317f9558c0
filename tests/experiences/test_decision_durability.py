"""A decision answered is a decision recorded, once: the API process killed (SIGKILL) the moment it has
answered loses none, and its restart records nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.settings import Settings
from runtime.devstack.ports import free_port, wait_for_port
from tests.experiences.test_decide import ADMIN, HERO, WRITE


@contextmanager
def api_process(settings: Settings, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "JOURNEYS_ADMIN_TOKEN": "test-admin-token",
        "JOURNEYS_WRITE_KEYS": "test-write-key",
        "JOURNEYS_STATE_DIR": str(settings.state_dir),  # the restart finds the journal the kill left
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    try:
        assert wait_for_port(port, 30)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


async def test_decisions_survive_a_kill_right_after_the_answer(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    port = free_port()
    answered: list[str] = []
    with api_process(settings, port) as process:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (
                await client.put("/api/experiences/hero-test", json=HERO, headers=ADMIN)
            ).status_code == 201
            for n in range(5):
                body = {"userId": f"k{n}", "placements": ["homepage_hero"]}
                answer = await client.post("/v1/decide", json=body, headers=WRITE)
                answered.append(answer.json()["decisions"][0]["decision_id"])
        process.send_signal(signal.SIGKILL)  # at once: no shutdown, no flush
    with api_process(settings, port):
        pass  # started again, then stopped: nothing replays a decision
    async with db_engine.connect() as connection:
        rows = await connection.execute(text("SELECT id FROM experience_decisions"))
        recorded = [row[0] for row in rows]
    assert sorted(recorded) == sorted(answered)
