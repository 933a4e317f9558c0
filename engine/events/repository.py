"""SQL for events: stored together with their outbox rows (engine.outbox), in one statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import Event
from engine.db.session import driver_connection
from engine.outbox.repository import NOTIFY_CHANNEL


def _person(profiles: str) -> str:
    """The profiles of `profiles` (a query of ids) as the statement writes, not as its caller read them:
    locked FOR SHARE, which waits for a merge or an erasure that holds one (each locks its profiles
    first: engine.identity.repository, engine.profiles.service) and then reads the row as that left it.
    So an event read for a profile being merged away lands on the survivor, and one whose profile was
    erased meanwhile is not stored. In id order, as every statement here locks them."""
    return (
        "person AS (SELECT id, coalesce(merged_into, id) AS survivor FROM profiles"
        f" WHERE id IN ({profiles}) ORDER BY id FOR SHARE)"
    )


def _store(rows: str, route: bool = True) -> str:
    """The events of `rows` (m: message_id, p: profile_id, t: type, n: name, pr and c: properties and
    context as JSON text, ts: timestamp, o: order) on their profile's `person` row (_person), an outbox
    row for each one stored, in event order; the caller's statement then wakes the dispatcher. pg_notify
    is delivered by PostgreSQL at commit, so the dispatcher never wakes for rows it cannot see. History
    (`route=False`: /v1/import) is stored without outbox rows: it changes profiles and signals, and
    starts, advances and credits no enrollment."""
    queued = (
        "INSERT INTO outbox (event_id, profile_id) SELECT id, profile_id FROM stored ORDER BY id RETURNING 1"
        if route
        else "SELECT 1 FROM stored"
    )
    return (
        f"r AS ({rows}),"
        " stored AS (INSERT INTO events (message_id, profile_id, type, name, properties, context, timestamp)"
        " SELECT r.m, person.survivor, r.t, r.n, CAST(r.pr AS jsonb), CAST(r.c AS jsonb), r.ts"
        " FROM r JOIN person ON person.id = r.p ORDER BY r.o"
        " ON CONFLICT (message_id) DO NOTHING RETURNING id, profile_id, message_id),"
        f" queued AS ({queued})"
    )


_WAKE = f"CASE WHEN count(*) > 0 THEN pg_notify('{NOTIFY_CHANNEL}', '')::text END"

_GIVEN = (
    "WITH given AS (SELECT * FROM unnest(CAST(:message_id AS text[]), CAST(:profile_id AS text[]),"
    " CAST(:type AS text[]), CAST(:name AS text[]), CAST(:properties AS text[]),"
    " CAST(:context AS text[]), CAST(:timestamp AS timestamptz[])) WITH ORDINALITY"
    " AS g(m, p, t, n, pr, c, ts, o)), " + _person("SELECT p FROM given") + ", "
)
STORE = text(_GIVEN + _store("SELECT * FROM given") + f" SELECT count(*), {_WAKE} FROM queued")
STORE_HISTORY = text(_GIVEN + _store("SELECT * FROM given", route=False) + " SELECT count(*) FROM queued")

# The ingest hot path in one round trip, for the events of one or several requests (ingestion's group
# commit): each event's person looked up by userId/anonymousId, and a request's events stored only if none
# of its people needs a new profile, link or merge (the rule of engine.identity.service._settled, pinned to
# it by tests/ingestion/test_store_for_known.py); the other requests' callers resolve their people first.
# Answers the requests settled and the message ids stored (the others were replays). In asyncpg's own
# placeholders: it is sent straight to the driver.
STORE_FOR_KNOWN = (
    "WITH given AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::text[], $7::text[], $8::timestamptz[], $9::int[]) WITH ORDINALITY"
    " AS g(message_id, user_id, anonymous_id, type, name, properties, context, timestamp, request, n)),"
    " resolved AS (SELECT g.*, CASE"
    "  WHEN u.profile_id IS NOT NULL AND (g.anonymous_id IS NULL OR a.profile_id = u.profile_id)"
    "  THEN u.profile_id WHEN g.user_id IS NULL THEN a.profile_id END AS profile_id"
    " FROM given g LEFT JOIN identities u ON u.kind = 'user_id' AND u.value = g.user_id"
    " LEFT JOIN identities a ON a.kind = 'anonymous_id' AND a.value = g.anonymous_id), "
    + _person("SELECT profile_id FROM resolved")
    + ", settled AS (SELECT request FROM resolved LEFT JOIN person ON person.id = resolved.profile_id"
    " GROUP BY request HAVING bool_and(person.id IS NOT NULL)), "
    + _store(
        "SELECT message_id AS m, profile_id AS p, type AS t, name AS n, properties AS pr, context AS c,"
        " timestamp AS ts, n AS o FROM resolved WHERE request IN (SELECT request FROM settled)"
    )
    + f" SELECT ARRAY(SELECT request FROM settled), ARRAY(SELECT message_id FROM stored),"
    f" (SELECT {_WAKE} FROM queued)"
)


_STORE_KEYS = ("message_id", "profile_id", "type", "name", "properties", "context", "timestamp")
_STORE_FOR_KNOWN_KEYS = (
    "message_id",
    "user_id",
    "anonymous_id",
    "type",
    "name",
    "properties",
    "context",
    "timestamp",
    "request",
)


def _columns(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[list[Any]]:
    """Rows to one list per column (the statements unnest arrays), JSON values as text."""
    return [
        [json.dumps(row[key]) for row in rows]
        if key in ("properties", "context")
        else [row[key] for row in rows]
        for key in keys
    ]


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, rows: list[dict[str, Any]], history: bool = False) -> int:
        """Inserts the events (rows with a `profile_id`) and their outbox rows and wakes the dispatcher, in
        one statement. Returns how many were stored: replays of a stored messageId are skipped. Outbox rows
        follow event order, so each person's events are routed in the order they came. `history`: no
        outbox rows (_store)."""
        if not rows:
            return 0
        columns = dict(zip(_STORE_KEYS, _columns(rows, _STORE_KEYS), strict=True))
        statement = STORE_HISTORY if history else STORE
        return int((await self.session.execute(statement, columns)).scalar_one())

    async def store_for_known(self, requests: list[list[dict[str, Any]]]) -> list[int | None]:
        """`store` for the rows of several requests, naming their people by `user_id`/`anonymous_id`, in one
        round trip sent straight to asyncpg on a connection of its own, outside the session's transaction
        (it commits on its own). Per request: how many of its rows were stored (the rest were replays), or
        None, with none of them written, when someone in it needs resolving first. Message ids must be
        distinct across the requests."""
        rows = [{**row, "request": n} for n, request in enumerate(requests) for row in request]
        async with driver_connection(self.session) as driver:
            settled, stored, _ = await driver.fetchrow(
                STORE_FOR_KNOWN, *_columns(rows, _STORE_FOR_KNOWN_KEYS)
            )
        stored_ids, settled_requests = set(stored), set(settled)
        return [
            sum(row["message_id"] in stored_ids for row in request) if n in settled_requests else None
            for n, request in enumerate(requests)
        ]

    async def recent(self, profile_id: str, limit: int = 20) -> Sequence[Event]:
        query = (
            select(Event).where(Event.profile_id == profile_id).order_by(Event.timestamp.desc()).limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()
