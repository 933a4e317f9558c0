"""Alembic migrations; the only way tables are created (see engine/migrate.py)."""
