"""Each benchmark's figures against their targets, read from its results JSON (each figure relative to a
baseline measured in the same run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _ingest(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    single, batch = r["rows"][1]["events/s"], r["rows"][2]["events/s"]
    return [
        (
            f"ingest /v1/track: {single} ev/s = {r['single_vs_baseline']}× bare",
            "≥ 0.8×",
            r["single_vs_baseline"] >= 0.8,
        ),
        (f"ingest /v1/batch: {batch} ev/s", "≥ 10,000 ev/s", batch >= 10_000),
    ]


def _read_path(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    worst = max(row["p99_ms"] for row in r["rows"][1:])
    return [
        (
            f"read path p99: inbox {r['rows'][1]['p99_ms']} ms, signals {r['rows'][2]['p99_ms']} ms",
            "≤ 10 ms",
            worst <= 10,
        )
    ]


def _journey(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    through, react = r["throughput_vs_baseline"], r["reaction_p99_vs_baseline"]
    return [
        (
            f"journey throughput: {r['rows'][1]['per_s']}/s = {through}× hand-written"
            f" ({r['throughput_vs_eager_baseline']}× if it too is started eagerly)",
            "≥ 0.8×",
            through >= 0.8,
        ),
        (
            f"reaction p99 at {r['reaction_events_per_s']:g} ev/s: {r['rows'][4]['p99_ms']} ms = {react}×"
            " hand-written",
            "≤ 1.5×",
            react <= 1.5,
        ),
    ]


def _report(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The report, and (from the runs that time them) its timeseries and CSV, by the rows' names."""
    out = []
    for prefix, name in (
        ("GET /api", "report"),
        ("GET …/report/timeseries", "timeseries"),
        ("GET …/report?format", "CSV"),
    ):
        for row in r["rows"]:
            if row["what"].startswith(prefix):
                median = row["median_ms"]
                out.append(
                    (
                        f"{name} over {r['exposures']:,} exposures: {median} ms median",
                        "≤ 300 ms",
                        median <= 300,
                    )
                )
    return out


def _capacity(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    row = r["rows"][-1]
    peak = row["worker_peak_mb"]
    return [
        (
            f"capacity: {row['n']:,} waiting, worker peak {peak} MB, {row['pg_bytes_each']} B/enrollment,"
            f" started in {row['seconds']} s",
            "100,000 with ≤ 1 GB",
            peak <= 1024 and row["n"] >= 100_000,
        )
    ]


def _console(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    journey, data = r["rows"][1]["median_ms"], r["rows"][2]["median_ms"]
    return [
        (
            f"console journey page (50 nodes): {journey} ms = {r['journey_vs_empty']}× the empty page",
            "≤ 1 s",
            journey <= 1000,
        ),
        (f"console report data over {r['exposures']:,} exposures: {data} ms", "≤ 300 ms", data <= 300),
        (
            f"console first page's JavaScript: {r['first_page_js_gzip_kb']} KB gzipped",
            "≤ 500 KB",
            r["first_page_js_gzip_kb"] <= 500,
        ),
    ]


def _models(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    auc = {name: figures["auc"] for name, figures in r["held_out"].items()}
    shipped, p99 = auc[r["shipped"]], r["rows"][2]["p99_ms"]
    return [
        (
            f"models: trained on {r['customers']:,} customers in {r['training_seconds']} s",
            "≤ 60 s",
            r["training_seconds"] <= 60,
        ),
        (
            f"churn AUC held out: shipped ({r['shipped']}) {shipped}, BG/NBD {auc['bgnbd']},"
            f" recency {auc['recency']}",
            "≥ BG/NBD, > recency",
            shipped >= auc["bgnbd"] and shipped > auc["recency"],
        ),
        (f"predictive signals read p99 at 200 req/s: {p99} ms", "≤ 10 ms", p99 <= 10),
    ]


def _decide(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    p99 = r["p99_ms_at_rate"]
    return [
        (f"POST /v1/decide p99 at {r['rate']} req/s: {p99} ms (goal ≤ 10 ms)", "≤ 25 ms", p99 <= 25),
        (f"highest /v1/decide rate with p99 under 25 ms: {r['highest_rate_under_bar']}/s", "reported", True),
    ]


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[tuple[str, str, bool]]]] = {
    "ingest": _ingest,
    "read_path": _read_path,
    "journey": _journey,
    "report": _report,
    "capacity": _capacity,
    "console": _console,
    "models": _models,
    "decide": _decide,
}


def summary(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(figure, target, met) for every benchmark that has results, in the runner's order."""
    return [line for name, lines in SUMMARIES.items() if name in results for line in lines(results[name])]
