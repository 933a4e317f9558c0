from __future__ import annotations

import socket
import time

from engine.errors import StartupError


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Free to listen on, as servers bind: SO_REUSEADDR ignores the TIME_WAIT connections a server
    that just stopped leaves behind, while a live listener still makes the bind fail."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_free(port: int, what: str, setting: str) -> None:
    if not port_is_free(port):
        raise StartupError(f"port {port} ({what}) is busy: stop whatever uses it or set {setting}")


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False
