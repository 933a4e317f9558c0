"""Run Alembic programmatically, so migrations work from an installed package and from any directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations
from engine.settings import Settings


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def _upgrade(database_url: str, revision: str) -> None:
    command.upgrade(alembic_config(database_url), revision)


def _downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade(settings: Settings, revision: str = "head") -> None:
    # env.py runs its own event loop (asyncio.run), so it must run in a thread of its own.
    await asyncio.to_thread(_upgrade, settings.sqlalchemy_url, revision)


async def downgrade(settings: Settings, revision: str) -> None:
    await asyncio.to_thread(_downgrade, settings.sqlalchemy_url, revision)
