"""enrollments: the entry lock and the previous enrollment in one round trip

Every entry (an event that enters a journey, a manual enrollment, an enrollment beginning that its
enrolling transaction did not record) took the advisory lock on its (journey, profile, correlation),
then read the latest enrollment of that key: two round trips. `enrollment_entry_previous` does both.
It is a VOLATILE plpgsql function so that its read, a statement of its own, takes its snapshot after the
lock is granted: in one plain SQL statement the snapshot would be taken before the lock and miss an
enrollment committed by the transaction that held it. The lock key is the one `lock_entry` took, so
code from before this revision and after it exclude each other during a rolling deploy.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION enrollment_entry_previous(journey integer, profile text, correlated text)"
        " RETURNS SETOF enrollments LANGUAGE plpgsql VOLATILE AS $$ BEGIN"
        " PERFORM pg_advisory_xact_lock("
        "hashtextextended(journey || chr(31) || profile || chr(31) || coalesce(correlated, ''), 0));"
        " RETURN QUERY SELECT * FROM enrollments WHERE journey_id = journey AND profile_id = profile"
        " AND correlation IS NOT DISTINCT FROM correlated"
        " ORDER BY status = 'active' DESC, started_at DESC LIMIT 1;"
        " END $$"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION enrollment_entry_previous(integer, text, text)")
