"""`journeys dev`: embedded PostgreSQL + Temporal, migrations, then the API and the worker as separate
child processes (one busy event loop must not starve the other), supervised until Ctrl-C.

Every failure the operator can fix (busy port, missing binary, crashing child) ends as a one-line
`StartupError`; whatever was started is stopped in reverse order on every exit path.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
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
        env = dict(os.environ)
        ui_url = None
        if s.embedded_database:
            self.say(f"starting PostgreSQL on 127.0.0.1:{s.pg_port}")
            postgres = EmbeddedPostgres(self.state_dir / "pgdata", s.pg_port)
            stack.callback(postgres.stop)
            postgres.start()
            env["DATABASE_URL"] = postgres.url
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
        child_settings = s.model_copy(
            update={"database_url": env.get("DATABASE_URL"), "temporal_address": env.get("TEMPORAL_ADDRESS")}
        )
        self.say("applying database migrations")
        asyncio.run(migrate.upgrade(child_settings))

        self.children: list[Child] = []
        for name in ("worker", "api"):
            self.say(f"starting the {name}")
            child = Child(name, env, self.logs / f"{name}.log")
            stack.callback(child.stop)
            self.children.append(child)
        api_url = f"http://{s.api_host}:{s.api_port}"
        self._wait_ready(f"{api_url}/ready", ui_url)
        self._publish_examples_once()
        self.say("")
        self.say(f"  API          {api_url}")
        self.say(f"  OpenAPI docs {api_url}/docs")
        if ui_url:
            self.say(f"  Temporal UI  {ui_url}")
        self.say(f"  logs         {self.logs}")
        self.say("")
        self.say("journeys is ready; press Ctrl-C to stop")

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
                for child in self.children:
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
            for child in self.children:
                child.check_alive()
            time.sleep(0.5)
