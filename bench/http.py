"""A lean HTTP/1.1 keep-alive client for load generators: one request at a time on one connection.

httpx costs the load-generating process 3-7 ms of CPU per request on the 2-core benchmark machines: at
200 requests a second the generator alone needs most of a core, and at full speed the generator, not
the server under test, sets the rate. This client writes the request bytes and reads
the status line, the headers and a Content-Length body: what a benchmark against our own servers
(uvicorn) needs, and ~10x less CPU. Not for anything else: no chunked bodies, TLS or redirects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


class KeepAliveConnection:
    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        lines = [f"Host: {self.host}:{self.port}", *(f"{name}: {value}" for name, value in headers.items())]
        self._headers = "\r\n".join(lines)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """(status, body) of one request, once connected; a body goes as JSON."""
        reader, writer = self._reader, self._writer
        if reader is None or writer is None:
            raise RuntimeError("connect() first")
        framing = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else ""
        writer.write(f"{method} {path} HTTP/1.1\r\n{self._headers}\r\n{framing}\r\n".encode() + body)
        status = int((await reader.readline()).split(b" ", 2)[1])
        length = None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"{method} {path}: response without Content-Length")
        return status, await reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()


@asynccontextmanager
async def connected(
    base_url: str, headers: dict[str, str], count: int
) -> AsyncIterator[list[KeepAliveConnection]]:
    """`count` connections, opened before the caller starts timing and closed after."""
    connections = [KeepAliveConnection(base_url, headers) for _ in range(count)]
    await asyncio.gather(*(client.connect() for client in connections))
    try:
        yield connections
    finally:
        for client in connections:
            await client.close()
