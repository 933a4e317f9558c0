"""Predictive models: train them on the stored events, list their versions and how they did."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import AdminDep
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from engine.predictions.service import ModelOut, ModelService

router = APIRouter(prefix="/api/models", tags=["predictions"], dependencies=[AdminDep])


@router.post(
    "/train",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Too little data to train on; the message says what is missing"}},
)
async def train(session: SessionDep, settings: SettingsDep) -> ModelOut:
    """Train on every stored event as of now: churn risk, expected orders, lifetime value, RFM and
    clusters; the recency heuristic, BG/NBD and a supervised model compared on held-out customers, the
    best shipped; everyone scored. Takes seconds to a minute."""
    return await ModelService(session, settings).train()


@router.get("")
async def list_models(session: ReadSessionDep, settings: SettingsDep) -> list[ModelOut]:
    """Model versions, newest first: training window, customers, held-out metrics beside the baselines',
    the score distribution and the clusters."""
    return await ModelService(session, settings).list()
