"""Every benchmark, one after another, each on its own embedded stack, then one summary table of the
figures against their targets (each figure relative to a baseline measured in the same run), written
to bench/results/summary.json beside each benchmark's own JSON, and all of them to bench/RESULTS.md.

    .venv/bin/python -m bench [--quick] [--only ingest,journey,...]

--quick runs every benchmark smaller (minutes instead of most of an hour: capacity with 5,000
enrollments instead of 100,000); its figures are indicative only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import results_file
from bench.common import RESULTS, say

SETTLE_SECONDS = 10

# name → (full arguments, --quick arguments)
RUNS: dict[str, tuple[list[str], list[str]]] = {
    "ingest": (["--events", "8000"], ["--events", "2000"]),
    "read_path": (["--seconds", "15"], ["--seconds", "5"]),
    "journey": ([], ["--enrollments", "150", "--waiting", "60"]),
    "report": (["--exposures", "1000000"], ["--exposures", "200000"]),
    "capacity": ([], ["--enrollments", "5000", "--baseline", "1000"]),
}


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
    median = r["rows"][1]["median_ms"]
    return [(f"report over {r['exposures']:,} exposures: {median} ms median", "≤ 300 ms", median <= 300)]


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


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[tuple[str, str, bool]]]] = {
    "ingest": _ingest,
    "read_path": _read_path,
    "journey": _journey,
    "report": _report,
    "capacity": _capacity,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs, indicative figures")
    parser.add_argument("--only", default=",".join(RUNS), help=f"comma-separated subset of {', '.join(RUNS)}")
    args = parser.parse_args()
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(RUNS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    lines: list[tuple[str, str, bool]] = []
    for index, name in enumerate(names, 1):
        if index > 1:
            # The previous benchmark's dirty pages are still being written back (its PostgreSQL and
            # Temporal are just gone): measured at once, the next one's tail latencies pay for it.
            os.sync()
            time.sleep(SETTLE_SECONDS)
        say(f"[{index}/{len(names)}] bench.{name}")
        started = time.perf_counter()
        arguments = RUNS[name][1 if args.quick else 0]
        subprocess.run([sys.executable, "-m", f"bench.{name}", *arguments], check=True)
        say(f"[{index}/{len(names)}] bench.{name} done in {time.perf_counter() - started:.0f} s")
        lines += SUMMARIES[name](json.loads((RESULTS / f"{name}.json").read_text()))
    width = max(len(line[0]) for line in lines)
    print("\nsummary" + (" (--quick: indicative only)" if args.quick else ""))
    for figure, target, met in lines:
        print(f"  {figure.ljust(width)}  target {target:<20} {'met' if met else 'NOT met'}")
    summary = [{"figure": f, "target": t, "met": m} for f, t, m in lines]
    (RESULTS / "summary.json").write_text(json.dumps({"quick": args.quick, "summary": summary}, indent=2))
    say(f"results written to {results_file.write()}")


if __name__ == "__main__":
    main()
