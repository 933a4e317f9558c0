from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from engine.durations import parse_duration
from engine.errors import Conflict
from engine.predictions import live
from engine.predictions.scoring import PREDICTIVE_SIGNALS
from engine.signals.catalog import BUILTIN_SIGNALS
from engine.signals.custom import CustomSignal, CustomSignalCreate
from engine.signals.repository import SignalRepository


class SignalService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = SignalRepository(session)

    async def values(self, profile_id: str, names: list[str], as_of: datetime) -> dict[str, Any]:
        """Built-in, custom and predictive signals of a person as of a moment."""
        out = await self.repo.compute(profile_id, [n for n in names if n not in PREDICTIVE_SIGNALS], as_of)
        wanted = [n for n in names if n in PREDICTIVE_SIGNALS]
        if wanted:
            found = await self.repo.prediction_inputs(profile_id, as_of)
            scored, _ = await live.predictive(
                self.session, found.model_key, found.features, as_of, wanted, explain=False
            )
            out |= scored
        return out

    async def known(self) -> set[str]:
        return set(BUILTIN_SIGNALS) | set(PREDICTIVE_SIGNALS) | set(await self.repo.custom_names())

    async def declare(self, name: str, request: CustomSignalCreate) -> CustomSignal:
        if name in BUILTIN_SIGNALS or name in PREDICTIVE_SIGNALS:
            raise Conflict(f"{name!r} is a built-in signal")
        window = int(parse_duration(request.window).total_seconds()) if request.window else None
        await self.repo.put_custom(
            {
                "name": name,
                "kind": request.kind,
                "event": request.event,
                "property": request.property,
                "window_seconds": window,
                "description": request.description,
            }
        )
        return CustomSignal(name=name, **request.model_dump())

    async def list(self) -> list[CustomSignal]:
        out = []
        for signal in await self.repo.custom():
            window = f"{signal.window_seconds}s" if signal.window_seconds else None
            out.append(
                CustomSignal(
                    name=signal.name,
                    kind=signal.kind,
                    event=signal.event,
                    property=signal.property,
                    window=window,
                    description=signal.description,
                )
            )
        return out
