"""`journeys dev`: embedded PostgreSQL + Temporal, migrations, then the API and the worker as separate
child processes (one busy event loop must not starve the other), supervised until Ctrl-C.

Every failure the operator can fix at start (busy port, missing binary, crashing child) ends as a
one-line `StartupError`; whatever was started is stopped in reverse order on every exit path. Once the
stack is ready, a process that dies (the API, the worker, PostgreSQL, Temporal) is restarted with a
growing delay and a line saying so; one that keeps dying stops the stack with one line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType

import httpx

from engine.errors import JourneysError, StartupError
from engine.settings import Settings
from runtime import migrate
from runtime.api_client import publish_examples
from runtime.devstack.ports import require_free
from runtime.devstack.postgres import EmbeddedPostgres
from runtime.devstack.temporal import EmbeddedTemporal

READY_TIMEOUT_SECONDS = 60
RESTARTS = 5  # deaths of one process within RESTART_WINDOW_SECONDS before the stack gives up
RESTART_WINDOW_SECONDS = 120.0
POLL_SECONDS = 0.5


class Stop(Exception):
    """Raised by the SIGINT/SIGTERM handler to unwind the supervisor wherever it is."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


def _explanation(path: Path) -> str:
    """The child's own one-line explanation (`journeys: ...`) if it gave one, else its last log line."""
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    own = [line.removeprefix("journeys: ") for line in lines if line.startswith("journeys: ")]
    return (own or lines or [""])[-1][:300]


class Child:
    """An API or worker process: `python -m runtime.cli <command>` with the stack's environment."""

    def __init__(self, name: str, env: dict[str, str], log_file: Path) -> None:
        self.name = name
        self.log_file = log_file
        with log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "runtime.cli", name],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            detail = _explanation(self.log_file)
            raise StartupError(
                f"the {self.name} process exited with code {code}"
                + (f": {detail}" if detail else "")
                + f" (log: {self.log_file})"
            )

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Watched:
    """A process the supervisor keeps running once the stack is ready."""

    name: str
    alive: Callable[[], bool]
    restart: Callable[[], None]
    log_file: Path
    deaths: deque[float] = field(default_factory=deque)

    def delay(self, now: float) -> float | None:
        """Seconds to wait before restarting it after this death; None once it died too often."""
        self.deaths.append(now)
        while self.deaths and self.deaths[0] < now - RESTART_WINDOW_SECONDS:
            self.deaths.popleft()
        if len(self.deaths) > RESTARTS:
            return None
        return float(min(30, 2 ** (len(self.deaths) - 1)))


class DevStack:
    def __init__(self, settings: Settings, say: Callable[[str], None]) -> None:
        self.settings = settings
        self.say = say
        self.state_dir = settings.state_dir.resolve()
        self.logs = self.state_dir / "logs"

    def preflight(self) -> None:
        s = self.settings
        require_free(s.api_port, "API", "JOURNEYS_API_PORT")
        require_free(s.worker_metrics_port, "worker metrics", "JOURNEYS_WORKER_METRICS_PORT")
        if s.embedded_database:
            require_free(s.pg_port, "embedded PostgreSQL", "JOURNEYS_PG_PORT")
        if s.embedded_temporal:
            require_free(s.temporal_port, "embedded Temporal", "JOURNEYS_TEMPORAL_PORT")
            require_free(s.temporal_ui_port, "Temporal UI", "JOURNEYS_TEMPORAL_UI_PORT")

    def run(self) -> None:
        """Start everything, wait for Ctrl-C or a crash, stop everything. Raises StartupError on failure."""
        self.logs.mkdir(parents=True, exist_ok=True)
        previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            with ExitStack() as stack:
                try:
                    self._start(stack)
                    self._supervise()
                except Stop:
                    self.say("stopping…")
                # Ignore a second Ctrl-C while we stop children in order.
                for sig in previous:
                    signal.signal(sig, signal.SIG_IGN)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start(self, stack: ExitStack) -> None:
        s = self.settings
        self.say(f"state folder: {self.state_dir}")
        self.preflight()
        # The dev stack is a machine of one's own: its children may use the development secrets.
        # Development: secrets of everyone's knowledge, and any website may send events with the client key.
        env = self.env = {
            "JOURNEYS_CORS_ORIGINS": "*",
            "JOURNEYS_CLIENT_WRITE_KEYS": "dev-client-key",
            **os.environ,
            "JOURNEYS_ALLOW_DEV_SECRETS": "true",
        }
        self.watched: list[Watched] = []
        ui_url = None
        if s.embedded_database:
            self.say(f"starting PostgreSQL on 127.0.0.1:{s.pg_port}")
            postgres = EmbeddedPostgres(self.state_dir / "pgdata", s.pg_port)
            stack.callback(postgres.stop)
            postgres.start()
            env["DATABASE_URL"] = postgres.url
            self.watched.append(Watched("PostgreSQL", postgres.running, postgres.start, postgres.log_file))
        if s.embedded_temporal:
            self.say(f"starting Temporal dev server on 127.0.0.1:{s.temporal_port}")
            temporal = EmbeddedTemporal(
                self.state_dir / "temporal.db",
                s.temporal_port,
                s.temporal_ui_port,
                self.logs / "temporal.log",
            )
            stack.callback(temporal.stop)
            temporal.start()
            env["TEMPORAL_ADDRESS"] = temporal.address
            ui_url = temporal.ui_url
            self.watched.append(
                Watched("the Temporal dev server", temporal.running, temporal.start, temporal.log_file)
            )
        child_settings = s.model_copy(
            update={"database_url": env.get("DATABASE_URL"), "temporal_address": env.get("TEMPORAL_ADDRESS")}
        )
        self.say("applying database migrations")
        asyncio.run(migrate.upgrade(child_settings))

        self.children: dict[str, Child] = {}
        stack.callback(self._stop_children)
        for name in ("worker", "api"):
            self.say(f"starting the {name}")
            self._start_child(name)
            self.watched.append(
                Watched(
                    f"the {name} process",
                    partial(self._child_alive, name),
                    partial(self._start_child, name),
                    self.logs / f"{name}.log",
                )
            )
        api_url = f"http://{s.api_host}:{s.api_port}"
        self._wait_ready(f"{api_url}/ready", ui_url)
        self._publish_examples_once()
        self.say("")
        self.say(f"  API          {api_url}")
        self.say(f"  Console      {api_url}/console")
        self.say(f"  OpenAPI docs {api_url}/docs")
        if ui_url:
            self.say(f"  Temporal UI  {ui_url}")
        self.say(f"  logs         {self.logs}")
        self.say("")
        self.say("journeys is ready; press Ctrl-C to stop")

    def _stop_children(self) -> None:
        for child in reversed(self.children.values()):
            child.stop()

    def _child_alive(self, name: str) -> bool:
        return self.children[name].process.poll() is None

    def _start_child(self, name: str) -> None:
        self.children[name] = Child(name, self.env, self.logs / f"{name}.log")

    def _publish_examples_once(self) -> None:
        """On first start only: a marketer who archived an example does not want it back."""
        marker = self.state_dir / "examples-published"
        if marker.exists():
            return
        try:
            published = publish_examples(self.settings)
        except JourneysError as error:
            raise StartupError(f"publishing the example journeys failed: {error.message}") from error
        marker.write_text("\n".join(published) + "\n")
        self.say(f"published the example journeys: {', '.join(published)}")

    def _wait_ready(self, ready_url: str, ui_url: str | None) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        pending = [ready_url] + ([ui_url] if ui_url else [])
        last_error = ""
        with httpx.Client(timeout=2) as http:
            while pending:
                for child in self.children.values():
                    child.check_alive()
                url = pending[0]
                with suppress(httpx.HTTPError):
                    response = http.get(url)
                    if response.status_code == 200:
                        pending.pop(0)
                        continue
                    last_error = response.text[:200]
                if time.monotonic() > deadline:
                    raise StartupError(f"{url} not ready after {READY_TIMEOUT_SECONDS}s {last_error}".strip())
                time.sleep(0.2)

    def _supervise(self) -> None:
        while True:
            for watched in self.watched:
                if not watched.alive():
                    self._revive(watched)
            time.sleep(POLL_SECONDS)

    def _revive(self, watched: Watched) -> None:
        delay = watched.delay(time.monotonic())
        detail = _explanation(watched.log_file)
        if delay is None:
            raise StartupError(
                f"{watched.name} keeps stopping ({RESTARTS + 1} times in {RESTART_WINDOW_SECONDS:.0f} s)"
                + (f": {detail}" if detail else "")
                + f" (log: {watched.log_file})"
            )
        self.say(f"{watched.name} stopped; restarting it in {delay:.0f} s (log: {watched.log_file})")
        time.sleep(delay)
        try:
            watched.restart()
        except StartupError as error:  # counted as another death at the next look
            self.say(f"{watched.name} did not restart: {error.message}")
            return
        self.say(f"{watched.name} restarted")
