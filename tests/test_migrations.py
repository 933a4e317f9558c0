"""The migrations are the schema: they must create every table the models describe, exactly."""

import asyncio

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.db.models import Base
from engine.db.session import create_engine
from engine.settings import Settings
from runtime import migrate
from runtime.devstack.postgres import EmbeddedPostgres

CORE_TABLES = {
    "journeys",
    "journey_versions",
    "profiles",
    "identities",
    "events",
    "outbox",
    "enrollments",
    "enrollment_steps",
    "deliveries",
    "exposures",
    "outcomes",
}


async def test_core_tables_exist(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    assert tables >= CORE_TABLES | {"alembic_version"}


async def test_migrations_match_the_models(db_engine: AsyncEngine) -> None:
    def diff(sync_connection):
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db_engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_downgrade_to_base_and_upgrade_again(postgres: EmbeddedPostgres) -> None:
    """On a scratch database, so the shared test database is never left half-migrated."""
    admin = await asyncpg.connect(host="127.0.0.1", port=postgres.port, user="postgres", database="postgres")
    await admin.execute("DROP DATABASE IF EXISTS migration_roundtrip")
    await admin.execute("CREATE DATABASE migration_roundtrip")
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/migration_roundtrip"
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    try:
        await migrate.upgrade(settings)
        await migrate.downgrade(settings, "base")
        async with engine.connect() as connection:
            left = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert set(left) <= {"alembic_version"}
        await migrate.upgrade(settings)
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert tables >= CORE_TABLES
    finally:
        await engine.dispose()
        await asyncio.sleep(0)
        await admin.execute("DROP DATABASE migration_roundtrip WITH (FORCE)")
        await admin.close()
