"""`journeys dev` as a user runs it: a subprocess on free ports, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from engine import temporal_client
from engine.settings import Settings
from runtime.devstack.ports import free_port
from runtime.stack_check import run_stack_check
from workflows.stack_check import StackCheckWorkflow

pytestmark = pytest.mark.devstack


class DevProcess:
    def __init__(self, state_dir: Path, ports: dict[str, int] | None = None, **extra_env: str) -> None:
        names = ("API", "PG", "TEMPORAL", "TEMPORAL_UI", "WORKER_METRICS")
        self.ports = ports or {name: free_port() for name in names}
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
        env.update({f"JOURNEYS_{name}_PORT": str(port) for name, port in self.ports.items()})
        env.update(
            {"JOURNEYS_STATE_DIR": str(state_dir), "JOURNEYS_ADMIN_TOKEN": "dev-admin-token", **extra_env}
        )
        self.state_dir = state_dir
        self.env = env

    def start(self) -> subprocess.Popen[str]:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "dev"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return self.process

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=f"postgresql://postgres@127.0.0.1:{self.ports['PG']}/journeys",
            temporal_address=f"127.0.0.1:{self.ports['TEMPORAL']}",
        )

    def wait_ready(self, timeout: float = 60) -> float:
        started = time.monotonic()
        ready = ui = False
        while time.monotonic() - started < timeout and not (ready and ui):
            assert self.process.poll() is None, self.process.communicate()
            try:
                ready = ready or httpx.get(f"http://127.0.0.1:{self.ports['API']}/ready").status_code == 200
                ui = ui or httpx.get(f"http://127.0.0.1:{self.ports['TEMPORAL_UI']}/").status_code == 200
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert ready, "/ready did not answer 200 in time"
        assert ui, "the Temporal UI did not answer in time"
        return time.monotonic() - started

    def processes(self) -> list[psutil.Process]:
        """The supervisor's descendants, plus the postgres server (pg_ctl detaches it from us)."""
        found = psutil.Process(self.process.pid).children(recursive=True)
        for proc in psutil.process_iter(["cmdline"]):
            if any(str(self.state_dir) in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        return found

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out, err


def assert_all_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], f"left behind: {alive}"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


async def test_dev_starts_serves_stops_and_keeps_its_state(state_dir: Path) -> None:
    dev = DevProcess(state_dir)
    dev.start()
    try:
        seconds = dev.wait_ready()
        assert seconds < 60
        # The examples are published right after the API answers: give that step a moment.
        journeys: list[dict[str, object]] = []
        for _ in range(100):
            journeys = httpx.get(
                f"http://127.0.0.1:{dev.ports['API']}/api/journeys",
                headers={"Authorization": "Bearer dev-admin-token"},
            ).json()
            if len(journeys) == 3:
                break
            await asyncio.sleep(0.1)
        assert [(j["key"], j["latest_version"]) for j in journeys] == [
            ("abandoned-cart", 1),
            ("churn-rescue", 1),
            ("onboarding", 1),
        ]
        probe = await run_stack_check(dev.settings)  # the worker child really executes workflows
        worker_metrics = httpx.get(f"http://127.0.0.1:{dev.ports['WORKER_METRICS']}/metrics").text
        assert "temporal_" in worker_metrics  # the SDK's own metrics, served by the worker
        assert probe.database == "journeys"
        client = await temporal_client.connect(dev.settings)
        workflow_id = f"persisted-{uuid.uuid4()}"
        await client.execute_workflow(StackCheckWorkflow.run, id=workflow_id, task_queue="journeys")
        children = dev.processes()
        assert len(children) >= 4  # temporal, worker, api, postgres (+ its helpers)
    finally:
        code, out, err = dev.stop(signal.SIGINT)
    assert code == 0, err
    assert "journeys is ready" in out
    assert "published the example journeys: abandoned-cart v1, churn-rescue v1, onboarding v1" in out
    assert "Traceback" not in err
    assert_all_gone(children)

    # A second start, at once and on the same ports, reuses the state: the workflow run before the
    # restart is still known to Temporal.
    dev = DevProcess(state_dir, ports=dev.ports)
    dev.start()
    try:
        dev.wait_ready()
        client = await temporal_client.connect(dev.settings)
        description = await client.get_workflow_handle(workflow_id).describe()
        assert description.status is not None
        assert description.status.name == "COMPLETED"
        children = dev.processes()
    finally:
        code, out, err = dev.stop(signal.SIGTERM)
    assert code == 0, err
    assert "published the example journeys" not in out  # first start only
    assert_all_gone(children)


def test_busy_port_gives_one_line_and_non_zero_exit(state_dir: Path) -> None:
    dev = DevProcess(state_dir)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", dev.ports["API"]))
        blocker.listen()
        result = subprocess.run(
            [sys.executable, "-m", "runtime.cli", "dev"],
            env=dev.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"journeys: port {dev.ports['API']} (API) is busy: stop whatever uses it or set JOURNEYS_API_PORT"
    )


def test_crashing_child_gives_one_line_and_stops_everything(state_dir: Path) -> None:
    dev = DevProcess(state_dir, TEMPORAL_NAMESPACE="no-such-namespace")
    dev.start()
    _out, err = dev.process.communicate(timeout=90)
    assert dev.process.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("journeys: the worker process exited with code 1")
    assert "no-such-namespace" in lines[0]
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(str(state_dir) in a for a in p.info["cmdline"] or [])
    ]
    assert_all_gone(leftovers)


def find(dev: DevProcess, *words: str) -> psutil.Process:
    """The one process of the stack whose command line has all these words."""
    matching = [
        p
        for p in dev.processes()
        if p.is_running()
        and p.status() != psutil.STATUS_ZOMBIE
        and all(any(word in part for part in p.cmdline()) for word in words)
    ]
    assert len({p.pid for p in matching}) == 1, [p.cmdline() for p in matching]
    return matching[0]


def wait_for_line(dev: DevProcess, lines: list[str], text: str, timeout: float = 90) -> None:
    """Reads the supervisor's stdout until a line contains `text` (collecting what it read)."""
    assert dev.process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = dev.process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if text in line:
            return
    raise AssertionError(f"no line with {text!r} in: {lines}")


ADMIN_DEV = {"Authorization": "Bearer dev-admin-token"}


class OrderDrill(threading.Thread):
    """Posts `Order Completed` events one after another, each with its own messageId, retrying each until
    it is answered 200; counts the acknowledged ones and the failed attempts."""

    def __init__(self, api: str) -> None:
        super().__init__(daemon=True)
        self.api, self.user = api, f"drill-{uuid.uuid4().hex[:8]}"
        self.acknowledged = self.failures = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop_event.is_set():
                body = {"userId": self.user, "event": "Order Completed", "messageId": uuid.uuid4().hex}
                while True:
                    try:
                        answer = client.post(f"{self.api}/v1/track", json=body, auth=("dev-write-key", ""))
                        if answer.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    self.failures += 1
                    time.sleep(0.05)
                self.acknowledged += 1

    def stop(self) -> int:
        self._stop_event.set()
        self.join(timeout=60)
        assert not self.is_alive()
        return self.acknowledged


async def test_every_process_killed_with_sigkill_is_restarted(state_dir: Path) -> None:
    dev = DevProcess(state_dir)
    dev.start()
    out: list[str] = []
    api = f"http://127.0.0.1:{dev.ports['API']}"
    try:
        wait_for_line(dev, out, "journeys is ready")
        # All along, a shop's server posts orders as an SDK does: each retried with its messageId
        # until it gets a 200, however the stack fails meanwhile.
        drill = OrderDrill(api)
        drill.start()
        for name, words in (
            ("the worker process", ("runtime.cli", "worker")),
            ("the api process", ("runtime.cli", "api")),
            ("PostgreSQL", ("postgres", "-D")),
            ("the Temporal dev server", ("server", "start-dev")),
        ):
            victim = find(dev, *words)
            victim.send_signal(signal.SIGKILL)
            wait_for_line(dev, out, f"{name} stopped; restarting it")
            wait_for_line(dev, out, f"{name} restarted")
            assert find(dev, *words).pid != victim.pid
            dev.wait_ready()  # the API answers /ready again: PostgreSQL and Temporal reachable
        acknowledged = drill.stop()
        assert drill.failures > 0, "the drill met no failure: the kills came between its calls"
        # Every order acknowledged is stored once: none lost while PostgreSQL was down, none twice.
        orders = httpx.get(f"{api}/api/profiles/{drill.user}/signals?names=orders_count", headers=ADMIN_DEV)
        assert orders.json()["signals"]["orders_count"] == acknowledged
        # The stack as a whole works again: an event posted now enrolls its sender.
        body = {"userId": "after-kills", "event": "Signed Up"}
        posted = httpx.post(f"{api}/v1/track", json=body, auth=("dev-write-key", ""))
        assert posted.status_code == 200
        headers = ADMIN_DEV
        enrolled: list[object] = []
        for _ in range(300):
            enrolled = httpx.get(f"{api}/api/profiles/after-kills/enrollments", headers=headers).json()
            if enrolled:
                break
            await asyncio.sleep(0.1)
        assert len(enrolled) == 1
        children = dev.processes()
    finally:
        code, _, err = dev.stop(signal.SIGINT)
    assert code == 0, err
    assert_all_gone(children)


def test_a_process_that_keeps_dying_stops_the_stack_with_one_line(state_dir: Path) -> None:
    dev = DevProcess(state_dir)
    dev.start()
    out: list[str] = []
    wait_for_line(dev, out, "journeys is ready")
    # The worker dies as soon as it is back, again and again.
    deaths = 0
    while dev.process.poll() is None and deaths < 10:
        try:
            find(dev, "runtime.cli", "worker").send_signal(signal.SIGKILL)
            deaths += 1
        except AssertionError:
            pass  # between a death and its restart
        time.sleep(0.5)
    _, err = dev.process.communicate(timeout=120)
    assert dev.process.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("journeys: the worker process keeps stopping (6 times in 120 s)"), err
