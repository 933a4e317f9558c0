"""Where journeys may send HTTP requests (webhook nodes): public addresses, and private, loopback or
link-local ones only when their host is allow-listed (SSRF: a journey must not reach the metadata
service or an internal admin port because someone typed its URL into a journey)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit


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


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def _addresses(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Destination:
    """Where a webhook connects: its URL with the host replaced by the address checked, so a DNS answer
    that changes between the check and the call (rebinding to an internal address) cannot redirect it;
    the name still goes in the Host header and, for https, in TLS's SNI and certificate check."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


async def destination(
    url: str, allowed_hosts: list[str], resolve: Resolver = _addresses
) -> Destination | str:
    """The Destination to call, or why this URL may not be called."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return f"{url!r} is not an http(s) URL"
    if host in allowed_hosts:
        return Destination(url)  # the operator trusts this name, wherever it points
    if allowed_hosts and "*" not in allowed_hosts:
        return f"host {host!r} is not in JOURNEYS_WEBHOOK_ALLOWED_HOSTS"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except OSError:
        return Destination(url)  # unresolvable now: the call fails too and is retried (DNS may recover)
    internal = sorted({address for address in addresses if _internal(address)})
    if internal:
        return (
            f"host {host!r} resolves to an internal address ({', '.join(internal)}); allow-list it to call it"
        )
    if not addresses:
        return Destination(url)
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit(parts._replace(netloc=netloc))
    host_header = f"{host}:{parts.port}" if parts.port else host
    sni = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Destination(pinned, {"Host": host_header}, sni)
