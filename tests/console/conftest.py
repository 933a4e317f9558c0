"""The console in headless Chromium against the whole embedded stack (API on a real port, worker,
dispatcher, the dev Temporal server, PostgreSQL). Every test watches for a 5xx: in the responses the
browser got and in the API's error log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.async_api import Page, Response, async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from engine.settings import Settings
from tests.ingestion.conftest import Stack, event_path, stack
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS, Served
from tests.support.crm import CrmStandIn

ADMIN_TOKEN = "test-admin-token"
__all__ = ["stack"]  # the whole event path, for the API tests here too


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@dataclass
class Console:
    stack: Stack
    url: str  # the API's origin; the console is at {url}/console/
    page: Page
    server_errors: list[str] = field(default_factory=list)

    async def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)

    async def sign_in(self) -> None:
        await self.page.goto(f"{self.url}/console/")
        await self.page.get_by_label("Admin or analyst token").fill(ADMIN_TOKEN)
        await self.page.get_by_role("button", name="Sign in").click()
        await self.page.get_by_role("heading", name="Journeys").wait_for()


@pytest.fixture
async def console(
    db_engine: AsyncEngine,
    temporal_dev: WorkflowEnvironment,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    crm: CrmStandIn,
) -> AsyncIterator[Console]:
    errors = ErrorLog()
    watched = [logging.getLogger(name) for name in ("uvicorn.error", "api", "engine")]
    for logger in watched:
        logger.addHandler(errors)
    try:
        async with Served(create_app(settings)) as api:
            url = f"http://127.0.0.1:{api.port}"
            async with (
                httpx.AsyncClient(base_url=url) as client,
                event_path(client, db_engine, temporal_dev, settings, sessionmaker, crm.url) as stack,
                async_playwright() as playwright,
            ):
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = await browser.new_page(viewport={"width": 1280, "height": 800})
                console = Console(stack, url, page)

                def watch(response: Response) -> None:
                    if response.status >= 500:
                        console.server_errors.append(
                            f"{response.status} {response.request.method} {response.url}"
                        )

                page.on("response", watch)
                yield console
                await browser.close()
        assert console.server_errors == [], "the console got a 5xx"
        assert errors.records == [], "the API logged an error"
    finally:
        for logger in watched:
            logger.removeHandler(errors)
