"""`RunningPlatform`: the reference platform served by uvicorn on loopback in a background thread.

For tests, benchmarks and the kiosk demo. The socket is bound here before uvicorn starts, so port 0 gives a
free port with no race, and `.url` is right as soon as the constructor returns.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Final

import uvicorn
from fastapi import FastAPI

from sync.protocol.models import Limits
from sync.server.app import Platform, create_app
from sync.server.store import PlatformStore

START_TIMEOUT_S: Final = 15.0


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP stated explicitly: asyncio turns on TCP_NODELAY for accepted connections only when the
    # listening socket says TCP, and without it every keep-alive answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Lets a restarted platform take its old port back while the previous connections sit in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class RunningPlatform:
    """Starts serving in the constructor; `stop()` (or leaving the `with` block) shuts down and closes the store."""

    def __init__(self, db_url: str, blob_dir: Path, *, platform_id: str = "zj-reference",
                 limits: Limits | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app: FastAPI = create_app(db_url, blob_dir, platform_id=platform_id, limits=limits)
        try:
            self._socket = bind_socket(host, port)
        except OSError:
            self.store.close()
            raise
        self.url = url_of(self._socket)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on",
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"platform:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the reference platform did not start")
            time.sleep(0.01)

    @property
    def platform(self) -> Platform:
        platform: Platform = self.app.state.platform
        return platform

    @property
    def store(self) -> PlatformStore:
        return self.platform.store

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()
        self.store.close()  # also done by the app's lifespan; a second dispose is harmless

    def __enter__(self) -> RunningPlatform:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
