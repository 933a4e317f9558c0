"""Predictive signals on the live read: the person's features come with their other signals (one
statement, engine.signals.repository), scored here with the latest model version. A version's parameters
never change, so they are kept in memory by its key (id and training time); the key itself is read with
every request, so a retrained model is used from the next read on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from engine.predictions.repository import PredictionRepository
from engine.predictions.scoring import PREDICTIVE_SIGNALS, predict

_PARAMS: dict[str, dict[str, Any]] = {}


async def params(session: AsyncSession, model_key: str) -> dict[str, Any] | None:
    if model_key not in _PARAMS:
        version = await PredictionRepository(session).version(int(model_key.split("@")[0]))
        if version is None:
            return None
        _PARAMS[model_key] = version.params
    return _PARAMS[model_key]


async def predictive(
    session: AsyncSession,
    model_key: str | None,
    raw: dict[str, Any] | None,
    now: datetime,
    names: list[str],
    explain: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The predictive signals in `names` (None before any model is trained) and their explanations."""
    model = await params(session, model_key) if model_key is not None else None
    if model is None or raw is None:
        return dict.fromkeys(names), {}
    signals, explanations = predict(model, raw, now, explain)
    wanted = set(names)
    return (
        {name: signals[name] for name in names if name in PREDICTIVE_SIGNALS},
        {name: why for name, why in explanations.items() if name in wanted},
    )
