from __future__ import annotations

from datetime import UTC, datetime

import httpx

from engine.simulation.shop import Simulated, simulate

WRITE = {"Authorization": "Bearer test-write-key"}
ADMIN = {"Authorization": "Bearer test-admin-token"}


async def import_shop(api: httpx.AsyncClient, customers: int = 600, seed: int = 1) -> Simulated:
    """A simulated shop's year, imported as history (it enrolls no one)."""
    shop = simulate(customers, 365, datetime.now(UTC), seed=seed)
    for start in range(0, len(shop.messages), 400):
        answer = await api.post(
            "/v1/import", json={"batch": shop.messages[start : start + 400]}, headers=WRITE
        )
        assert answer.status_code == 200, answer.text
    return shop
