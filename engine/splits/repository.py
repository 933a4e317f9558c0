"""SQL for adaptive splits' weights in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.experiment_tables import SplitWeights


class SplitWeightsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, journey_id: int, version: int, node_id: str) -> SplitWeights | None:
        return await self.session.get(SplitWeights, (journey_id, version, node_id))

    async def put(
        self, journey_id: int, version: int, node_id: str, weights: dict[str, float], now: datetime
    ) -> None:
        statement = insert(SplitWeights).values(
            journey_id=journey_id, version=version, node_id=node_id, weights=weights, updated_at=now
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["journey_id", "version", "node_id"],
                set_={"weights": weights, "updated_at": now},
            )
        )
