"""enrollments: an entry finds the person's enrollment begun under a profile since merged into theirs

A visitor enrolled for a cart as `anon-A`, identified as `U`, updated the same cart: the entry looked for
an enrollment of (journey, U, cart) only and admitted a second one, so the person got two reminders.
`enrollment_entry_previous` now reads the latest enrollment among the profile and every profile merged
into it. The lock key is unchanged.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = (
    "CREATE OR REPLACE FUNCTION enrollment_entry_previous(journey integer, profile text, correlated text)"
    " RETURNS SETOF enrollments LANGUAGE plpgsql VOLATILE AS $$ BEGIN"
    " PERFORM pg_advisory_xact_lock("
    "hashtextextended(journey || chr(31) || profile || chr(31) || coalesce(correlated, ''), 0));"
    " RETURN QUERY SELECT * FROM enrollments WHERE journey_id = journey AND profile_id = ANY(ARRAY("
    "SELECT profile UNION ALL SELECT id FROM profiles WHERE merged_into = profile))"
    " AND correlation IS NOT DISTINCT FROM correlated"
    " ORDER BY status = 'active' DESC, started_at DESC LIMIT 1;"
    " END $$"
)


def upgrade() -> None:
    op.execute(_FUNCTION)


def downgrade() -> None:
    across = "ANY(ARRAY(SELECT profile UNION ALL SELECT id FROM profiles WHERE merged_into = profile))"
    op.execute(_FUNCTION.replace(f"profile_id = {across}", "profile_id = profile"))
