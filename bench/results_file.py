"""bench/RESULTS.md, written from bench/results/*.json after every benchmark run: the latest figures of
each benchmark with when, on what commit and on what machine they were measured. Never edited by hand;
`python -m bench.results_file` rewrites it from the JSON files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import targets

RESULTS = Path(__file__).parent / "results"
RESULTS_MD = Path(__file__).parent / "RESULTS.md"
ORDER = ["ingest", "read_path", "journey", "report", "capacity"]


def provenance() -> dict[str, Any]:
    """Recorded in each benchmark's JSON: the figures mean little without the code and machine."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=RESULTS.parent
    ).stdout.strip()
    return {
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or "unknown",
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
    }


def _cell(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _table(rows: list[dict[str, Any]]) -> list[str]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return lines


def render(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by the benchmark runner (`python -m bench`, or any one benchmark alone) from",
        "`bench/results/*.json`; do not edit. Each figure is measured against a baseline in the same run;",
        "on these noisy 2-core machines compare ratios and medians, not rates across runs.",
        "",
    ]
    lines += ["## Against the targets", "", "| figure | target | met |", "|---|---|---|"]
    for figure, target, met in targets.summary(results):
        lines.append(f"| {figure} | {target} | {'yes' if met else 'no'} |")
    lines.append("")
    for name in sorted(results, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        result = results[name]
        lines += [f"## {name}", ""]
        origin = [result.get(key) for key in ("recorded_at", "commit", "machine")]
        if all(origin):
            lines += [f"Measured {origin[0]} on commit `{origin[1]}`, {origin[2]}.", ""]
        lines += _table(result["rows"])
        lines.append("")
        skip = {"benchmark", "rows", "recorded_at", "commit", "machine"}
        lines += [f"- {key}: {value}" for key, value in result.items() if key not in skip]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write() -> Path:
    results = {path.stem: json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))}
    RESULTS_MD.write_text(render(results))
    return RESULTS_MD


if __name__ == "__main__":
    print(f"wrote {write()}")
