"""Shared benchmark plumbing: an embedded PostgreSQL, timing, and the result table/JSON."""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import psutil

from bench import results_file
from runtime.devstack.ports import free_port
from runtime.devstack.postgres import EmbeddedPostgres

RESULTS = results_file.RESULTS
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class Served(NamedTuple):
    url: str
    pid: int


def _cpu(process: psutil.Process, ended_children: bool = False) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    ended = times.children_user + times.children_system if ended_children else 0.0
    return times.user + times.system + ended


def cpu_seconds(servers: dict[str, int]) -> dict[str, float]:
    """CPU time so far (user + system) of each server under test (name → pid), of PostgreSQL and of this
    load generator. Per unit of work these move far less with the machine's noise than rates and
    percentiles do.

    PostgreSQL is every process named postgres (the embedded server is the only one on a benchmark
    machine), its postmaster counting the backends that have ended as well."""
    postgres = [p for p in psutil.process_iter(["name", "ppid"]) if p.info["name"] == "postgres"]
    pids = {process.pid for process in postgres}
    return {
        **{name: _cpu(psutil.Process(pid)) for name, pid in servers.items()},
        "postgres": sum(_cpu(p, ended_children=p.info["ppid"] not in pids) for p in postgres),
        "load generator": time.process_time(),
    }


def temporal_pid(target: str) -> int:
    """The dev server the SDK started at `host:port` (a child we are not handed): found by its port."""
    port = target.rsplit(":", 1)[1]
    for folder in Path("/proc").iterdir():
        try:
            command = (folder / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in command and port.encode() in command:
            return int(folder.name)
    raise RuntimeError("Temporal dev server process not found")


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds by process between two `cpu_seconds`."""
    return {name: after[name] - before[name] for name in before}


def cpu_per(cpu: dict[str, float], units: int) -> dict[str, float]:
    """Table columns: CPU ms per unit of work (event, request), by process."""
    return {f"{name} CPU ms": round(1000 * seconds / units, 2) for name, seconds in cpu.items()}


def options(doc: str | None, **defaults: float) -> argparse.Namespace:
    """A benchmark's command line: `--name` for each default, of the default's type."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in defaults.items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    return parser.parse_args()


def say(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


@contextmanager
def no_collector_pauses() -> Iterator[None]:
    """For a load generator while it times requests: a full pass of its own garbage collector (the
    engine's modules are loaded here) stalls every request in flight for 100-250 ms, which the figures
    would then charge to the server under test. Reference counting still frees what the loop drops."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


@contextmanager
def embedded_postgres() -> Iterator[EmbeddedPostgres]:
    with tempfile.TemporaryDirectory(prefix="journeys-bench-") as folder:
        server = EmbeddedPostgres(Path(folder) / "pg", free_port(), unsafe_fast=True)
        say(f"starting PostgreSQL on port {server.port}")
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def timings(call: Callable[[], Awaitable[Any]], repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        await call()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "min_ms": round(ordered[0], 2),
    }


def p50_p99(latencies: list[float], digits: int = 1) -> dict[str, float]:
    """The median and the 99th percentile (nearest rank) of latencies in ms."""
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered), digits),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], digits),
    }


def report(name: str, rows: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    result = {"benchmark": name, "rows": rows, **extra, **results_file.provenance()}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    results_file.write()
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))
    for key, value in extra.items():
        print(f"{key}: {value}")


@contextmanager
def running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A server or worker as a process of its own, with `env` over this process's environment, stopped at
    the end (killed if its graceful shutdown is stuck, on a connection say: not a result)."""
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
