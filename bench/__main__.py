"""Every benchmark, one after another, each on its own embedded stack, then one summary table of the
figures against their targets (each figure relative to a baseline measured in the same run), written
in bench/RESULTS.md with every figure of the latest run of each benchmark.

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

from bench import results_file
from bench.common import RESULTS, say
from bench.targets import SUMMARIES

SETTLE_SECONDS = 10

# name → (full arguments, --quick arguments)
RUNS: dict[str, tuple[list[str], list[str]]] = {
    "ingest": (["--events", "8000"], ["--events", "2000"]),
    "read_path": (["--seconds", "15"], ["--seconds", "5"]),
    "journey": ([], ["--enrollments", "150", "--waiting", "60"]),
    "report": (["--exposures", "1000000"], ["--exposures", "200000"]),
    "capacity": ([], ["--enrollments", "5000", "--baseline", "1000"]),
    "console": (["--exposures", "1000000"], ["--exposures", "200000", "--repeat", "5"]),
    "models": ([], ["--customers", "5000", "--seconds", "5"]),
    "decide": ([], ["--customers", "500", "--seconds", "5"]),
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
    say(f"results written to {results_file.write()}")


if __name__ == "__main__":
    main()
