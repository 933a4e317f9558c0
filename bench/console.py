"""Console benchmark, in Chromium (Debian's, driven by Playwright) against the API on a real port:

- the journey page of a 50-node journey until its whole graph is drawn, against the same bundle's empty
  page (a route that fetches nothing), alternated, as milliseconds since navigation began;
- the report page over N exposures (default 1,000,000): its data's arrival (the report request's
  Resource Timing) and the page until its variant table shows;
- the built bundle: each file's size gzipped, the first page's JavaScript beside the lazy chunks.

    .venv/bin/python -m bench.console [--exposures 1000000] [--repeat 15]
"""

from __future__ import annotations

import asyncio
import gzip
import statistics
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
import yaml
from playwright.async_api import Page, async_playwright

from api.app import create_app
from bench.common import embedded_postgres, options, report, say, summary
from bench.report import seed_exposures
from engine.db.session import create_engine, create_sessionmaker
from engine.journeys.bundled import EXAMPLES
from engine.journeys.service import JourneyService
from engine.settings import Settings, to_asyncpg_dsn
from runtime import migrate
from runtime.devstack.ports import free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
DIST = Path("console/dist")
KINDS = ("wait", "send", "branch", "wait_for_event", "update_profile")


def big_journey(size: int) -> dict[str, Any]:
    """A chain of `size` nodes of every kind, branches skipping one ahead."""
    nodes: dict[str, Any] = {}
    for i in range(size - 1):
        after, skip = f"n{i + 1}", f"n{min(i + 2, size - 1)}"
        kind = KINDS[i % len(KINDS)]
        nodes[f"n{i}"] = {
            "wait": {"type": "wait", "duration": "1h", "next": after},
            "send": {"type": "send", "channel": "stored", "template": "t", "next": after},
            "branch": {
                "type": "branch",
                "cases": [{"when": {"signal": "cart_value", "op": "gte", "value": 100}, "next": skip}],
                "default": after,
            },
            "wait_for_event": {
                "type": "wait_for_event",
                "event": "order_completed",
                "timeout": "1d",
                "on_event": skip,
                "on_timeout": after,
            },
            "update_profile": {"type": "update_profile", "set": {"stage": i}, "next": after},
        }[kind]
    nodes[f"n{size - 1}"] = {"type": "exit"}
    return {
        "key": "big",
        "name": "Fifty nodes",
        "entry": {"event": "signed_up"},
        "start": "n0",
        "nodes": nodes,
    }


def bundle() -> list[dict[str, Any]]:
    if not (DIST / "index.html").is_file():
        raise SystemExit("the console is not built: run scripts/bootstrap.sh")
    rows = []
    for path in sorted((DIST / "assets").iterdir()):
        raw = path.read_bytes()
        rows.append(
            {
                "file": path.name,
                "kb": round(len(raw) / 1024, 1),
                "gzip_kb": round(len(gzip.compress(raw)) / 1024, 1),
            }
        )
    return rows


async def until_drawn(page: Page, url: str, condition: str) -> float:
    await page.goto(url)
    await page.wait_for_function(condition, polling="raf", timeout=30_000)
    elapsed: float = await page.evaluate("performance.now()")
    return elapsed


async def measure(url: str, exposures: int, repeat: int) -> None:
    settings = Settings(
        database_url=url, temporal_address="127.0.0.1:1", admin_token="bench", console_dir=DIST
    )
    say("applying migrations")
    await migrate.upgrade(settings)
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        cart = yaml.safe_load((EXAMPLES / "abandoned-cart.yaml").read_text())
        await JourneyService(session).publish("abandoned-cart", cart, "bench")
        await JourneyService(session).publish("big", big_journey(50), "bench")
    await engine.dispose()
    connection = await asyncpg.connect(to_asyncpg_dsn(url))
    journey_id = await connection.fetchval("SELECT id FROM journeys WHERE key = 'abandoned-cart'")
    await seed_exposures(connection, journey_id, exposures)
    await connection.execute("VACUUM ANALYZE")
    await connection.close()

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.05)
    origin = f"http://127.0.0.1:{port}"
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(f"{origin}/console/")
            signed_in = await page.request.post(f"{origin}/api/session", data={"token": "bench"})
            assert signed_in.ok, await signed_in.text()
            empty, journey, report_data, report_page = [], [], [], []
            say(f"timing the journey page and the empty page, alternated ({repeat} runs each, 2 warm-up)")
            for run in range(repeat + 2):
                blank = await until_drawn(
                    page,
                    f"{origin}/console/nothing-here",
                    "() => document.body.innerText.includes('No such page.')",
                )
                drawn = await until_drawn(
                    page,
                    f"{origin}/console/journeys/big",
                    "() => document.querySelectorAll('[data-node]').length >= 50",
                )
                if run >= 2:
                    empty.append(blank)
                    journey.append(drawn)
            say(f"timing the report page over {exposures:,} exposures ({repeat} runs, 2 warm-up)")
            for run in range(repeat + 2):
                shown = await until_drawn(
                    page,
                    f"{origin}/console/journeys/abandoned-cart/report",
                    "() => document.querySelector('[data-variant=discount]') !== null",
                )
                fetched: float = await page.evaluate(
                    "performance.getEntriesByType('resource').filter(e => e.name.includes('/report?scale'))"
                    ".map(e => e.responseEnd - e.startTime)[0]"
                )
                if run >= 2:
                    report_page.append(shown)
                    report_data.append(fetched)
            await browser.close()
    finally:
        server.should_exit = True
        await serving
    files = bundle()
    first = [row for row in files if row["file"].startswith("index-") and row["file"].endswith(".js")]
    rows = [
        {"what": "baseline: the empty page of the same bundle", **summary(empty)},
        {"what": "journey page, 50 nodes, until the graph is drawn", **summary(journey)},
        {"what": f"report page: its data arrived ({exposures:,} exposures)", **summary(report_data)},
        {"what": "report page: until the variant table shows", **summary(report_page)},
    ]
    report(
        "console",
        rows,
        {
            "exposures": exposures,
            "journey_vs_empty": round(statistics.median(journey) / statistics.median(empty), 2),
            "first_page_js_gzip_kb": sum(row["gzip_kb"] for row in first),
            "bundle": files,
            "target": "journey page ≤ 1 s; report data ≤ 300 ms; first page's JS ≤ 500 KB gzipped",
        },
    )


def main() -> None:
    args = options(__doc__, exposures=1_000_000, repeat=15)
    with embedded_postgres() as postgres:
        asyncio.run(measure(postgres.url, args.exposures, args.repeat))


if __name__ == "__main__":
    main()
