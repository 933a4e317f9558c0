"""Real-time decisions benchmark: POST /v1/decide for 2 placements with 5 rules each over live signals and
one segment, rendering a template per placement, for people of a simulated shop; at a fixed offered load
(200 requests/s, open loop), against the bare FastAPI endpoint doing one indexed select, served the same
way, in the same run, the two taking turns (the median of the turns' p99 is quoted); then at rising rates,
to find the highest whose p99 stays under 25 ms.

    .venv/bin/python -m bench.decide [--customers 2000] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
from typing import Any

import asyncpg
import httpx

from bench.common import embedded_postgres, options, report, say
from bench.ingest import server
from bench.models import WRITE_KEY, load, shop_run
from bench.read_path import ADMIN_TOKEN, offered_load, row

BAR = 25.0  # ms: the seed's bar for a decision
TURNS = 3
SIGNALS = [
    ("cart_value", 100),
    ("orders_count", 3),
    ("engagement_score", 50),
    ("logins_7d", 2),
    ("days_since_last_order", 60),
]


def experience(placement: str) -> dict[str, Any]:
    """Five rules over live signals, the last over a segment, each variation a template."""
    rules = [
        {"when": {"signal": name, "op": "gte", "value": value}, "variation": f"v{index}"}
        for index, (name, value) in enumerate(SIGNALS[:4])
    ] + [{"when": {"segment": "big-spenders"}, "variation": "v4"}]
    variations = {
        name: {
            "content": "<p>{{ profile.traits.email | default('friend') }}: "
            + name
            + " on {{ event.context.page.path }}</p>"
        }
        for name in ["v0", "v1", "v2", "v3", "v4", "standard"]
    }
    return {
        "key": placement.replace("_", "-"),
        "name": placement,
        "placement": placement,
        "rules": rules,
        "default": "standard",
        "variations": variations,
    }


async def measure(url: str, customers: int, rate: int, seconds: float) -> None:
    run = await shop_run(url, customers)
    dsn, shop, env = run.dsn, run.shop, run.env
    users = run.sample()
    bodies = [
        json.dumps(
            {
                "userId": user,
                "placements": ["homepage_hero", "cart_upsell"],
                "context": {"page": {"path": "/"}},
            }
        ).encode()
        for user in users
    ]
    rows: list[dict[str, Any]] = []
    paths = [f"/inbox/{user}" for user in users]
    decide = ["/v1/decide"]
    with server("bench.baseline_app:app", env) as base, server("api.app:create_app", env) as api:
        say(f"importing {len(shop.messages):,} events")
        await load(api.url, shop.messages)
        await publish(api.url)
        # The import's writes settle first (a checkpoint now, not in the middle of a measurement).
        connection = await asyncpg.connect(dsn)
        await connection.execute("CHECKPOINT")
        await connection.close()
        os.sync()
        await offered_load(base, paths, rate, 2)
        await offered_load(api, decide, rate, 2, bodies, WRITE_KEY)
        # The baseline and /v1/decide take turns, so that the machine's drift falls on both.
        pairs = []
        for turn in range(1, TURNS + 1):
            say(f"turn {turn} of {TURNS}: baseline, then /v1/decide, {rate} req/s for {seconds:g} s each")
            baseline = row(
                f"baseline: bare FastAPI, one indexed select (turn {turn})",
                *await offered_load(base, paths, rate, seconds),
            )
            ours = row(
                f"POST /v1/decide at {rate}/s, 2 placements × 5 rules (turn {turn})",
                *await offered_load(api, decide, rate, seconds, bodies, WRITE_KEY),
            )
            rows += [baseline, ours]
            pairs.append((baseline, ours))
        p99 = statistics.median(ours["p99_ms"] for _, ours in pairs)
        highest = 0
        # Up from the target rate while p99 stays under the bar; down from it when it does not.
        steps = (300, 400, 500, 600, 800) if p99 <= BAR else (150, 100, 50)
        for step in steps:
            say(f"POST /v1/decide: {step} req/s for {seconds:g} s")
            measured = row(
                f"POST /v1/decide at {step}/s",
                *await offered_load(api, decide, step, seconds, bodies, WRITE_KEY),
            )
            rows.append(measured)
            under = measured["p99_ms"] <= BAR and not measured["errors"]
            if under:
                highest = max(highest, step)
            if under != (steps[0] > rate):  # past the bar going up, or under it going down: done
                break
    report(
        "decide",
        rows,
        {
            "p99_ms_at_rate": p99,
            "baseline_p99_ms": statistics.median(baseline["p99_ms"] for baseline, _ in pairs),
            "cpu_ms_per_decision": statistics.median(ours["server CPU ms"] for _, ours in pairs),
            "rate": rate,
            "highest_rate_under_bar": max(highest, rate if p99 <= BAR else 0),
            "target": f"p99 ≤ 25 ms at {rate} req/s, median of {TURNS} turns (our goal: ≤ 10 ms);"
            " the highest rate under 25 ms",
        },
    )


async def publish(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        segment = {
            "name": "Big spenders",
            "condition": {"signal": "lifetime_value", "op": "gte", "value": 300},
        }
        (await client.put("/api/segments/big-spenders", json=segment)).raise_for_status()
        for placement in ("homepage_hero", "cart_upsell"):
            saved = await client.put(
                f"/api/experiences/{placement.replace('_', '-')}", json=experience(placement)
            )
            saved.raise_for_status()


def main() -> None:
    args = options(__doc__, customers=2000, rate=200, seconds=10.0)
    with embedded_postgres() as postgres:
        asyncio.run(measure(postgres.url, args.customers, args.rate, args.seconds))


if __name__ == "__main__":
    main()
