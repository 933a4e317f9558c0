"""The FastAPI application: built by `create_app(settings)`; engine, sessionmaker and Temporal client
are created once in the lifespan and shared by every request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.cors import IngestionCors
from api.deps import AppState
from api.docs import install_docs
from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware, MetricsMiddleware
from api.openapi import complete_openapi
from api.routes import (
    console,
    enrollments,
    experiences,
    health,
    ingest,
    journeys,
    models,
    outbox,
    profiles,
    reports,
    sdk,
    segments,
    session,
    templates,
    unsubscribe,
)
from engine import temporal_client
from engine.db.session import create_engine, create_read_sessionmaker, create_sessionmaker
from engine.experiences.decide import DecisionPath
from engine.experiences.journal import DecisionJournal
from engine.experiences.live import LiveExperiences
from engine.ingestion.group_commit import GroupCommit
from engine.ingestion.rate_limits import IngestLimits
from engine.long_lived import freeze_startup_objects
from engine.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings, fixed_pool=True)
        client = await temporal_client.connect(settings, lazy=True)
        sessionmaker = create_sessionmaker(engine)
        journal = DecisionJournal(settings.state_dir / "decisions", sessionmaker)
        await journal.start()
        app.state.journeys = AppState(
            settings,
            engine,
            sessionmaker,
            create_read_sessionmaker(engine),
            client,
            GroupCommit(sessionmaker),
            IngestLimits(settings.rate_limit_per_key, settings.rate_limit_per_ip),
            DecisionPath(sessionmaker, LiveExperiences(), journal),
        )
        console.warn_if_missing(settings.console_dir)
        freeze_startup_objects()
        try:
            yield
        finally:
            await journal.stop()
            await engine.dispose()

    app = FastAPI(
        title="journeys",
        summary="Journey orchestration: durable customer journeys on Temporal, outcomes in Postgres.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by api.docs, without a CDN
        redoc_url=None,
    )
    install_docs(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(IngestionCors, origins=settings.cors_origins)
    # Routes are matched in this order: the hot paths first.
    app.include_router(ingest.router)
    app.include_router(experiences.decide)
    app.include_router(health.router)
    app.include_router(profiles.router)
    app.include_router(profiles.own)
    app.include_router(journeys.router)
    app.include_router(enrollments.router)
    app.include_router(templates.router)
    app.include_router(reports.router)
    app.include_router(models.router)
    app.include_router(segments.router)
    app.include_router(experiences.admin)
    app.include_router(unsubscribe.router)
    app.include_router(outbox.router)
    app.include_router(sdk.router)
    app.include_router(session.router)
    app.include_router(console.router)
    complete_openapi(app)
    return app
