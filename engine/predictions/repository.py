"""SQL for predictive models: customers' features as of a moment (and what they did after it), model
versions, and everyone's latest scores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.insight_tables import ModelVersion
from engine.predictions.features import ORDER, RAW, RAW_SQL

_FEATURES = ", ".join(f"{expression} AS {name}" for name, expression in RAW_SQL.items())
# A row per customer (surviving profiles) who had an event by :as_of; features see nothing after it
# (every aggregate is filtered by it); orders_after counts their orders in (:as_of, :until].
_AS_OF = text(
    f"SELECT e.profile_id, {_FEATURES}, count(*) FILTER (WHERE e.name_key = {ORDER}"
    " AND e.timestamp > :as_of) AS orders_after"
    " FROM events e WHERE e.timestamp <= :until GROUP BY e.profile_id"
    " HAVING min(e.timestamp) <= :as_of".replace(":as_of", "CAST(:as_of AS timestamptz)")
)
_SPAN = text("SELECT min(timestamp), max(timestamp), count(*), count(DISTINCT profile_id) FROM events")
_STORE = text(
    "INSERT INTO predictions (profile_id, model_id, signals, explanations, scored_at)"
    " SELECT p.profile_id, :model_id, p.signals, p.explanations, :scored_at"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS p(profile_id text, signals jsonb, explanations jsonb)"
    " JOIN profiles ON profiles.id = p.profile_id"  # someone erased meanwhile is not scored back in
    " ON CONFLICT (profile_id) DO UPDATE SET model_id = excluded.model_id, signals = excluded.signals,"
    " explanations = excluded.explanations, scored_at = excluded.scored_at"
)
_DISTRIBUTION = text(
    "SELECT width_bucket((signals->>'churn_risk')::float, 0, 1.0000001, 10) - 1 AS bucket, count(*)"
    " FROM predictions WHERE model_id = :model_id GROUP BY 1 ORDER BY 1"
)


class PredictionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def span(self) -> tuple[datetime | None, datetime | None, int, int]:
        """First and last event, events and customers."""
        first, last, events, customers = (await self.session.execute(_SPAN)).one()
        return first, last, int(events), int(customers)

    async def as_of(self, as_of: datetime, until: datetime) -> list[dict[str, Any]]:
        rows = await self.session.execute(_AS_OF, {"as_of": as_of, "until": until})
        return [
            {"profile_id": row.profile_id, "orders_after": row.orders_after}
            | {name: _plain(getattr(row, name)) for name in RAW}
            for row in rows
        ]

    async def add_version(self, **values: Any) -> ModelVersion:
        version = ModelVersion(**values)
        self.session.add(version)
        await self.session.flush()
        return version

    async def latest(self) -> ModelVersion | None:
        query = select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def version(self, model_id: int) -> ModelVersion | None:
        return await self.session.get(ModelVersion, model_id)

    async def versions(self, limit: int = 20) -> Sequence[ModelVersion]:
        query = select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit)
        return (await self.session.execute(query)).scalars().all()

    async def store(self, model_id: int, scored_at: datetime, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5000):
            chunk = json.dumps(rows[start : start + 5000])
            await self.session.execute(_STORE, {"model_id": model_id, "scored_at": scored_at, "rows": chunk})

    async def distribution(self, model_id: int) -> list[int]:
        """How many customers' churn risk falls in each tenth of [0, 1]."""
        counts = [0] * 10
        for bucket, count in await self.session.execute(_DISTRIBUTION, {"model_id": model_id}):
            if bucket is not None and 0 <= bucket < 10:
                counts[bucket] = int(count)
        return counts


def _plain(value: Any) -> Any:
    return None if value is None else float(value)
