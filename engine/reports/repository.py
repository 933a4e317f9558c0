"""Sufficient statistics for the report: from the totals kept by triggers, or (for a time window) from
exposures and outcomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from engine.signals.numbers import numeric_sql


@dataclass(frozen=True)
class VariantTotals:
    node_id: str
    variant: str
    exposures: int
    conversions: int
    revenue: float
    revenue_squares: float
    covariates: Covariates | None = None  # CUPED's sums, from the kept totals only


@dataclass(frozen=True)
class Covariates:
    """Per variant: Σx, Σx² of the exposures' pre-exposure goal events (c) and value (v); Σx·y with the
    conversion and the value metric."""

    conversions: float
    conversions_squares: float
    value: float
    value_squares: float
    conversions_x: float
    value_x: float


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def totals(
        self,
        journey_id: int,
        goal: str,
        *,
        version: int | None,
        node: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Sequence[VariantTotals]:
        params: dict[str, Any] = {"journey": journey_id, "goal": goal}
        filters = []
        for column, value, op in (
            ("version", version, "="),
            ("node_id", node, "="),
            ("exposed_at", since, ">="),
            ("exposed_at", until, "<"),
        ):
            if value is not None:
                name = f"p_{len(params)}"
                filters.append(f" AND {column} {op} :{name}")
                params[name] = value
        where = "".join(filters)
        kept = since is None and until is None
        if kept:
            # The totals the triggers of migration 0011 keep: a few rows however many exposures there are.
            counts_sql = (
                "SELECT node_id, variant, sum(exposures), sum(pre_conversions), sum(pre_conversions_squares),"
                " sum(pre_value), sum(pre_value_squares) FROM variant_exposure_totals"
                f" WHERE journey_id = :journey{where} GROUP BY 1, 2 HAVING sum(exposures) > 0"
            )
            sums_sql = (
                "SELECT node_id, variant, sum(conversions), sum(revenue), sum(revenue_squares),"
                " sum(conversions_x_pre), sum(revenue_x_pre) FROM variant_outcome_totals"
                f" WHERE journey_id = :journey AND goal = :goal{where} GROUP BY 1, 2"
            )
        else:
            # A time window: from the rows, in two passes and no join. Counts per variant (an index-only
            # scan of ix_exposures_journey_id_version_node_id_variant), then outcome sums per variant
            # from the outcomes, which carry their exposure's variant. Outcomes are summed per exposure
            # first: y is that exposure's revenue, and it converted if it has any outcome.
            counts_sql = (
                "SELECT node_id, variant, count(*) FROM exposures"
                f" WHERE journey_id = :journey{where} GROUP BY 1, 2"
            )
            sums_sql = (
                "SELECT node_id, variant, count(*), sum(value), sum(value * value) FROM ("
                " SELECT node_id, variant, exposure_id, sum(value) AS value FROM outcomes"
                f" WHERE journey_id = :journey AND goal = :goal AND exposure_id IS NOT NULL{where}"
                " GROUP BY 1, 2, 3) per_exposure GROUP BY 1, 2"
            )
        counts = await self.session.execute(text(counts_sql), params)
        sums = await self.session.execute(text(sums_sql), params)
        converted = {(r[0], r[1]): tuple(r[2:]) for r in sums}
        out = []
        for row in sorted(counts, key=lambda r: (r[0], r[1])):
            node_id, variant, n = row[0], row[1], int(row[2])
            outcome = converted.get((node_id, variant), (0, 0, 0, 0, 0))
            covariates = None
            if kept:
                covariates = Covariates(
                    conversions=float(row[3]),
                    conversions_squares=float(row[4]),
                    value=float(row[5]),
                    value_squares=float(row[6]),
                    conversions_x=float(outcome[3]),
                    value_x=float(outcome[4]),
                )
            out.append(
                VariantTotals(
                    node_id, variant, n, int(outcome[0]), float(outcome[1]), float(outcome[2]), covariates
                )
            )
        return out

    async def breakdown(
        self, journey_id: int, goal: str, node: str, path: tuple[str, str], thresholds: list[float] | None
    ) -> Sequence[tuple[str, VariantTotals]]:
        """Variant totals per bucket of an attribute recorded at exposure (traits.x or signals.x)."""
        value = "x.attributes #>> :path"
        if thresholds:
            number = numeric_sql(value)
            cases = [f"WHEN {number} < :t{i} THEN :label{i}" for i in range(len(thresholds))]
            bucket = f"CASE WHEN {number} IS NULL THEN 'unknown' " + " ".join(cases) + " ELSE :last END"
        else:
            bucket = f"coalesce({value}, 'unknown')"
        params: dict[str, Any] = {"journey": journey_id, "goal": goal, "node": node, "path": list(path)}
        bounds = thresholds or []
        for i, threshold in enumerate(bounds):
            params[f"t{i}"] = threshold
            params[f"label{i}"] = f"< {threshold:g}" if i == 0 else f"{bounds[i - 1]:g}–{threshold:g}"
        if bounds:
            params["last"] = f"≥ {bounds[-1]:g}"
        rows = await self.session.execute(
            text(
                f"SELECT {bucket} AS bucket, x.variant, count(*), count(o.exposure_id),"
                " coalesce(sum(o.value), 0), coalesce(sum(o.value * o.value), 0)"
                " FROM exposures x LEFT JOIN (SELECT exposure_id, sum(value) AS value FROM outcomes"
                "   WHERE journey_id = :journey AND goal = :goal AND node_id = :node GROUP BY exposure_id) o"
                " ON o.exposure_id = x.id WHERE x.journey_id = :journey AND x.node_id = :node"
                " GROUP BY 1, 2 ORDER BY 1, 2"
            ),
            params,
        )
        return [
            (str(r[0]), VariantTotals(node, r[1], int(r[2]), int(r[3]), float(r[4]), float(r[5])))
            for r in rows
        ]

    async def by_allocation(
        self, journey_id: int, goal: str, node: str, version: int | None
    ) -> Sequence[tuple[str | None, VariantTotals]]:
        """An adaptive split's variant totals per allocation: the weights in force when each exposure
        was decided, as its enrollment recorded them with the split's decision (None when that decision
        is gone: the person was erased). Counted from the rows."""
        params: dict[str, Any] = {"journey": journey_id, "goal": goal, "node": node, "version": version}
        rows = await self.session.execute(
            text(
                "SELECT s.decision -> 'weights', x.variant, count(*), count(o.exposure_id),"
                " coalesce(sum(o.value), 0), coalesce(sum(o.value * o.value), 0)"
                " FROM exposures x"
                " LEFT JOIN enrollment_steps s ON s.enrollment_id = x.enrollment_id AND s.node_id = x.node_id"
                "  AND s.visit = 1"
                " LEFT JOIN (SELECT exposure_id, sum(value) AS value FROM outcomes"
                "   WHERE journey_id = :journey AND goal = :goal AND node_id = :node GROUP BY exposure_id) o"
                " ON o.exposure_id = x.id WHERE x.journey_id = :journey AND x.node_id = :node"
                " AND (CAST(:version AS integer) IS NULL OR x.version = :version)"
                " GROUP BY 1, 2 ORDER BY 2"
            ),
            params,
        )
        return [
            (
                json.dumps(r[0], sort_keys=True) if r[0] is not None else None,
                VariantTotals(node, r[1], int(r[2]), int(r[3]), float(r[4]), float(r[5])),
            )
            for r in rows
        ]

    async def by_period(
        self, journey_id: int, goal: str, node: str, interval: str
    ) -> Sequence[tuple[datetime, VariantTotals]]:
        """A split's variant totals per period of exposure (`interval`: hour, day or week, in UTC). By day
        or week from the daily totals the database keeps (migration 0018): a few rows a day. By hour from
        the rows: the exposures counted, the outcomes (which carry their exposure's variant and time)
        summed per exposure, without a join."""
        params: dict[str, Any] = {"journey": journey_id, "goal": goal, "node": node, "interval": interval}
        if interval == "hour":
            period = "date_trunc('hour', exposed_at, 'UTC')"
            counts_sql = (
                f"SELECT {period}, variant, count(*) FROM exposures"
                " WHERE journey_id = :journey AND node_id = :node GROUP BY 1, 2"
            )
            sums_sql = (
                f"SELECT {period}, variant, count(*), sum(value), sum(value * value) FROM ("
                " SELECT exposed_at, variant, exposure_id, sum(value) AS value FROM outcomes"
                " WHERE journey_id = :journey AND goal = :goal AND node_id = :node"
                " AND exposure_id IS NOT NULL GROUP BY 1, 2, 3) per_exposure GROUP BY 1, 2"
            )
        else:
            period = "date_trunc(:interval, CAST(day AS timestamp)) AT TIME ZONE 'UTC'"
            counts_sql = (
                f"SELECT {period}, variant, sum(exposures) FROM variant_daily_exposure_totals"
                " WHERE journey_id = :journey AND node_id = :node GROUP BY 1, 2 HAVING sum(exposures) > 0"
            )
            sums_sql = (
                f"SELECT {period}, variant, sum(conversions), sum(revenue), sum(revenue_squares)"
                " FROM variant_daily_outcome_totals"
                " WHERE journey_id = :journey AND goal = :goal AND node_id = :node GROUP BY 1, 2"
            )
        counts = await self.session.execute(text(counts_sql), params)
        sums = await self.session.execute(text(sums_sql), params)
        converted = {(r[0], r[1]): (int(r[2]), float(r[3]), float(r[4])) for r in sums}
        return [
            (at, VariantTotals(node, variant, int(n), *converted.get((at, variant), (0, 0.0, 0.0))))
            for at, variant, n in sorted(counts, key=lambda r: (r[0], r[1]))
        ]

    async def goals(self, journey_id: int) -> list[str]:
        """Every goal ever credited to one of the journey's exposures."""
        rows = await self.session.execute(
            text("SELECT DISTINCT goal FROM variant_outcome_totals WHERE journey_id = :journey ORDER BY 1"),
            {"journey": journey_id},
        )
        return [row[0] for row in rows]

    async def failed_deliveries(
        self, journey_key: str, limit: int = 20
    ) -> Sequence[tuple[str | None, str | None, int]]:
        rows = await self.session.execute(
            text(
                "SELECT template, reason, count(*) FROM deliveries"
                " WHERE journey_key = :key AND status = 'failed'"
                " GROUP BY template, reason ORDER BY count(*) DESC, template LIMIT :limit"
            ),
            {"key": journey_key, "limit": limit},
        )
        return [(template, reason, int(count)) for template, reason, count in rows]

    async def funnel(
        self, journey_id: int, version: int | None
    ) -> Sequence[tuple[str, int, int, dict[str, int]]]:
        """Per node: enrollments that entered it, are waiting there now, and ended there by status (from
        the totals the triggers of migration 0011 keep)."""
        params: dict[str, Any] = {"journey": journey_id}
        version_filter = ""
        if version is not None:
            version_filter = " AND version = :version"
            params["version"] = version
        entered = await self.session.execute(
            text(
                "SELECT node_id, sum(entered) FROM node_entry_totals"
                f" WHERE journey_id = :journey{version_filter} GROUP BY 1 HAVING sum(entered) > 0"
            ),
            params,
        )
        ended = await self.session.execute(
            text(
                "SELECT node_id, status, sum(enrollments) FROM node_status_totals"
                f" WHERE journey_id = :journey{version_filter} GROUP BY 1, 2 HAVING sum(enrollments) > 0"
            ),
            params,
        )
        by_node: dict[str, tuple[int, int, dict[str, int]]] = {}
        for node, count in entered:
            by_node[node] = (int(count), 0, {})
        for node, status, count in ended:
            entered_count, waiting, statuses = by_node.get(node, (0, 0, {}))
            if status == "active":
                waiting += int(count)
            else:
                statuses[status] = statuses.get(status, 0) + int(count)
            by_node[node] = (entered_count, waiting, statuses)
        return [(node, *values) for node, values in sorted(by_node.items())]
