"""enrollments: the journey check at commit, no workflow_id index

Every enrollment's row checked its journey as it was inserted, locking the journey's row (FOR KEY
SHARE) until the enrolling transaction committed, which is after Temporal answered the start: with
many entries of one journey in flight, every check joined a multixact of all the lockers of that one
row (PostgreSQL time of the insert 0.72 ms against 0.30-0.36 without the check, in the journey
benchmark). Checked at commit, the lock lasts the commit only. Journeys are never deleted; the check
stays for any writer that names a journey that is not there.

Nothing looks enrollments up by workflow id (it is reused by re-entries; `journey_id, profile_id,
correlation` finds them): the index was written on every insert and every end of an enrollment for no
reader.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE enrollments ALTER CONSTRAINT fk_enrollments_journey_id_journeys"
        " DEFERRABLE INITIALLY DEFERRED"
    )
    op.drop_index("ix_enrollments_workflow_id", table_name="enrollments")


def downgrade() -> None:
    op.create_index("ix_enrollments_workflow_id", "enrollments", ["workflow_id"])
    op.execute("ALTER TABLE enrollments ALTER CONSTRAINT fk_enrollments_journey_id_journeys NOT DEFERRABLE")
