"""Where journeys may send HTTP requests (webhook nodes): public addresses, and private, loopback or
link-local ones only when their host is allow-listed (SSRF: a journey must not reach the metadata
service or an internal admin port because someone typed its URL into a journey)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


async def refusal(url: str, allowed_hosts: list[str]) -> str | None:
    """Why this URL may not be called (None: it may)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return f"{url!r} is not an http(s) URL"
    if host in allowed_hosts:
        return None
    if allowed_hosts and "*" not in allowed_hosts:
        return f"host {host!r} is not in JOURNEYS_WEBHOOK_ALLOWED_HOSTS"
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return None  # unresolvable now: the request itself fails and is retried (DNS may recover)
    internal = sorted({str(info[4][0]) for info in infos if _internal(str(info[4][0]))})
    if internal:
        return (
            f"host {host!r} resolves to an internal address ({', '.join(internal)}); allow-list it to call it"
        )
    return None
