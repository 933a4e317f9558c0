"""Built-in live signals computed from events in one query, as of a given time (the workflow's time,
so time-skipping tests and replays see consistent values)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from engine.db.models import CustomSignal
from engine.db.session import driver_fetch
from engine.enrollments.repository import RECORDED_SQL
from engine.predictions.features import RAW_SQL
from engine.predictions.scoring import PREDICTIVE_SIGNALS
from engine.profiles.repository import CURRENT_SQL, RESOLVE_SQL
from engine.signals.custom import aggregate_sql
from engine.signals.numbers import numeric_sql

# A property that is not a number is left out of a numeric signal (engine.signals.numbers), never cast.
# Segment's e-commerce spec: `Checkout Started` carries `value`, `Order Completed` `revenue` (or `total`).
_TOTAL = numeric_sql("e.properties->>'total'")
_VALUE = numeric_sql("e.properties->>'value'")
_PAID = numeric_sql("e.properties->>'revenue'")
_CART = f"coalesce({_TOTAL}, {_VALUE})"
_REVENUE = f"coalesce({_PAID}, {_TOTAL})"
# Each built-in signal as an aggregate over the profile's events `e` (ts = :as_of).
_EXPRESSIONS: dict[str, str] = {
    "cart_value": f"coalesce((array_agg({_CART} ORDER BY e.timestamp DESC)"
    f" FILTER (WHERE e.name_key IN ('cart_updated', 'checkout_started') AND {_CART} IS NOT NULL))[1], 0)",
    "orders_count": "count(*) FILTER (WHERE e.name_key = 'order_completed')",
    "lifetime_value": f"coalesce(sum({_REVENUE}) FILTER (WHERE e.name_key = 'order_completed'), 0)",
    "days_since_last_order": "floor(extract(epoch FROM :as_of - max(e.timestamp)"
    " FILTER (WHERE e.name_key = 'order_completed')) / 86400)",
    "logins_7d": "count(*) FILTER (WHERE e.name_key IN ('logged_in', 'signed_in')"
    " AND e.timestamp > :as_of - interval '7 days')",
    "days_since_last_login": "floor(extract(epoch FROM :as_of - max(e.timestamp)"
    " FILTER (WHERE e.name_key IN ('logged_in', 'signed_in'))) / 86400)",
    "open_tickets": "greatest(count(*) FILTER (WHERE e.name_key = 'ticket_opened')"
    " - count(*) FILTER (WHERE e.name_key = 'ticket_closed'), 0)",
    # Every event in the last 90 days counts 1, halving every 7 days; 10 fresh events ≈ 100.
    "engagement_score": "least(100, round(10 * coalesce(sum(power(0.5,"
    " extract(epoch FROM :as_of - e.timestamp) / 604800.0))"
    " FILTER (WHERE e.timestamp > :as_of - interval '90 days'), 0)))",
    "email_opens_30d": "count(*) FILTER (WHERE e.name_key = 'email_opened'"
    " AND e.timestamp > :as_of - interval '30 days')",
}


_CUSTOM_NAMES = select(CustomSignal.name)


@dataclass
class LiveRead:
    profile_id: str | None  # None: nobody has that id
    custom_names: list[str]
    values: dict[str, Any]
    prediction: Prediction | None = None  # asked for predictive signals: what scores them


@dataclass
class Prediction:
    """What engine.predictions.live scores a person with: the latest model and their features now."""

    model_key: str | None  # "<id>@<trained_at>"; None: no model trained yet
    features: dict[str, Any]

    @property
    def model_id(self) -> int | None:
        return int(self.model_key.split("@")[0]) if self.model_key else None


@dataclass
class PersonRead:
    """A profile as journeys read it: the survivor of any merge's traits and timezone, signals."""

    traits: dict[str, Any]
    timezone: str | None
    values: dict[str, Any]
    recorded: bool  # whether the enrollment asked about has its row (False if none was asked about)
    prediction: Prediction | None = None
    segments: list[str] = field(default_factory=list)  # the keys of the segments they are in
    survivor: str | None = None  # the profile read (None: nobody holds the id asked about)


def _built_in_select(names: list[str], person: str, predictive: bool = False) -> str:
    """`, <expression> AS <name>` for each built-in signal (and, for predictive signals, the latest model's
    id and the person's features), to follow a statement's other columns, and the events of `person` they
    aggregate over. Without any, no FROM either: the statement would be no aggregate then, and give a row
    per event (none at all for a person without events)."""
    if not names and not predictive:
        return ""
    columns = "".join(f", {_EXPRESSIONS[name]} AS {name}" for name in names)
    if predictive:
        # The version's id and training time: together they name it for good (ids can start over in a
        # database emptied and migrated afresh, as the tests do), so its parameters can be kept in memory.
        columns += (
            ", (SELECT id || '@' || trained_at FROM model_versions ORDER BY id DESC LIMIT 1) AS model_key"
        )
        columns += "".join(f", {expression} AS f_{name}" for name, expression in RAW_SQL.items())
    return f"{columns} FROM events e WHERE e.profile_id = {person} AND e.timestamp <= :as_of"


def _prediction(row: Any) -> Prediction:
    return Prediction(row["model_key"], {name: _plain(row[f"f_{name}"]) for name in RAW_SQL})


def _plain(value: Any) -> Any:
    """JSON-friendly numbers: Decimal → int when whole, else float; text (last/first) as is."""
    if value is None or isinstance(value, int | str):
        return value
    number = float(value)
    return int(number) if number.is_integer() else number


class SignalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def custom(self, names: list[str] | None = None) -> Sequence[CustomSignal]:
        query = select(CustomSignal).order_by(CustomSignal.name)
        if names is not None:
            query = query.where(CustomSignal.name.in_(names))
        return (await self.session.execute(query)).scalars().all()

    async def custom_names(self) -> list[str]:
        return list((await self.session.execute(_CUSTOM_NAMES)).scalars())

    async def put_custom(self, values: dict[str, Any]) -> None:
        statement = insert(CustomSignal).values(**values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[CustomSignal.name], set_={k: v for k, v in values.items() if k != "name"}
            )
        )

    async def read_by_key(
        self, key: str, built_ins: list[str], as_of: datetime, predictive: bool = False
    ) -> LiveRead:
        """The person behind `key` (as ProfileRepository.resolve finds them), every custom signal's name and
        the built-in signals in `built_ins` as of `as_of`, in one statement: the signals API's common case
        in one round trip (it was three: the person, the custom names, the values)."""
        columns = _built_in_select(built_ins, "(SELECT * FROM person)", predictive)
        statement = _statement(
            f"WITH person AS ({RESOLVE_SQL}) SELECT (SELECT * FROM person) AS profile_id,"
            f" ARRAY(SELECT name FROM custom_signals) AS custom_names{columns}"
        )
        [row] = await driver_fetch(self.session, statement, {"key": key, "as_of": as_of})
        values = {name: _plain(row[name]) for name in built_ins}
        prediction = _prediction(row) if predictive else None
        return LiveRead(row["profile_id"], list(row["custom_names"]), values, prediction)

    async def read_person(
        self, profile_id: str, names: list[str], as_of: datetime, enrollment_id: str | None = None
    ) -> PersonRead:
        """The person (merges followed) and the signals `names` as of `as_of`; with `enrollment_id`, also
        whether that enrollment has its row. Built-in signals come in one statement with the rest: a
        branch's read was two round trips (the person's ORM row, the signals), three at the start node
        with begin_enrollment's check; custom signals cost two more (`compute`)."""
        params = {"profile_id": profile_id, "as_of": as_of, "enrollment_id": enrollment_id}
        read = await self._read(CURRENT_SQL, "coalesce((SELECT id FROM person), :profile_id)", names, params)
        return read

    async def read_identity(
        self, kind: str, value: str, names: list[str], as_of: datetime
    ) -> PersonRead | None:
        """`read_person` for whoever holds a user id or anonymous id (engine.identity), in the same one
        statement; None when nobody does yet."""
        person = (
            "SELECT s.* FROM identities i JOIN profiles p ON p.id = i.profile_id"
            " JOIN profiles s ON s.id = coalesce(p.merged_into, p.id)"
            " WHERE i.kind = :kind AND i.value = :value"
        )
        params = {"kind": kind, "value": value, "as_of": as_of, "enrollment_id": None}
        read = await self._read(person, "(SELECT id FROM person)", names, params)
        return read if read.survivor is not None else None

    async def _read(
        self, person: str, person_id: str, names: list[str], params: dict[str, Any]
    ) -> PersonRead:
        built_ins = [name for name in names if name in _EXPRESSIONS]
        predictive = any(name in PREDICTIVE_SIGNALS for name in names)
        columns = _built_in_select(built_ins, person_id, predictive)
        recorded = RECORDED_SQL if params.get("enrollment_id") else "false"
        statement = _statement(
            f"WITH person AS ({person}) SELECT (SELECT id FROM person) AS survivor,"
            " (SELECT traits FROM person) AS traits, (SELECT timezone FROM person) AS timezone,"
            " ARRAY(SELECT s.key FROM segment_members m JOIN segments s ON s.id = m.segment_id"
            f" WHERE m.profile_id = {person_id}) AS segments,"
            f" {recorded} AS recorded{columns}"
        )
        [row] = await driver_fetch(self.session, statement, params)
        values = {name: _plain(row[name]) for name in built_ins}
        custom = [name for name in names if name not in _EXPRESSIONS and name not in PREDICTIVE_SIGNALS]
        survivor = row["survivor"] or params.get("profile_id")
        if custom and survivor is not None:
            values |= await self.compute(survivor, custom, params["as_of"])
        return PersonRead(
            row["traits"] or {},
            row["timezone"],
            values,
            row["recorded"],
            _prediction(row) if predictive else None,
            list(row["segments"]),
            survivor,
        )

    async def prediction_inputs(self, profile_id: str, as_of: datetime) -> Prediction:
        """The latest model's id and the person's features as of `as_of` (for predictive signals)."""
        sql = f"SELECT 1 AS one{_built_in_select([], ':profile', predictive=True)}"
        row = (
            (await self.session.execute(_statement(sql), {"profile": profile_id, "as_of": as_of}))
            .mappings()
            .one()
        )
        return _prediction(row)

    async def compute(self, profile_id: str, names: list[str], as_of: datetime) -> dict[str, Any]:
        """Built-in and custom signals in one query over the profile's events up to `as_of`."""
        columns: list[str] = []
        params: dict[str, Any] = {"profile": profile_id, "as_of": as_of}
        wanted = [name for name in names if name in _EXPRESSIONS]
        columns += [f"{_EXPRESSIONS[name]} AS {name}" for name in wanted]
        custom_names = [n for n in names if n not in _EXPRESSIONS]
        for signal in await self.custom(custom_names) if custom_names else []:
            expression, extra = aggregate_sql(
                signal.kind, signal.event, signal.property, signal.window_seconds
            )
            columns.append(f'{expression} AS "{signal.name}"')
            params.update(extra)
            wanted.append(signal.name)
        if not columns:
            return {}
        selected = ", ".join(columns)
        sql = f"SELECT {selected} FROM events e WHERE e.profile_id = :profile AND e.timestamp <= :as_of"
        row = (await self.session.execute(_statement(sql), params)).mappings().one()
        return {name: _plain(row[name]) for name in wanted}


@lru_cache(maxsize=256)
def _statement(sql: str) -> TextClause:
    """Parsing a text() for its bind parameters took ~3% of the API's CPU per signals request; the few
    distinct statements (one per set of signals asked for) are parsed once."""
    # The explicit cast keeps asyncpg from guessing `:as_of - interval` means an interval parameter.
    return text(sql.replace(":as_of", "CAST(:as_of AS timestamptz)"))
