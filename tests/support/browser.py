"""What the browser tests share: Debian's Chromium (Playwright never downloads a browser here), where
screenshots go, and uvicorn serving an app on a real port inside the test's event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import uvicorn

from runtime.devstack.ports import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
SCREENSHOTS = Path("test-output/screenshots")


class Served:
    """uvicorn serving an ASGI app on a free local port, in this event loop."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Served:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task
